//! Simulated annealing (Kirkpatrick, Gelatt & Vecchi 1983) by single-spin Metropolis sweeps.
//!
//! One read starts from uniformly random spins and makes `sweeps` passes over the spins in
//! order; in pass `k` spin `i` flips with the Metropolis probability
//! `min(1, exp(-beta_k dE_i))`, `dE_i = -2 s_i f_i`, where `f_i = h_i + sum_j J_ij s_j` is
//! kept up to date after each flip (`f_j -= 2 s_i J_ij` for the neighbours), so a flip costs
//! `O(degree)`. `beta_k` follows a [`Schedule`]; the default is geometric over the problem's
//! beta range, as in dwave-samplers. Reads run [`LANES`] at a time in SIMD lanes (see
//! `lanes.rs`) and the batches in parallel on the rayon pool; read `r` draws from its own
//! stream `(seed, r)`, so the results depend neither on the number of threads nor on the CPU.
//!
//! Tour moves ([`Annealer::anneal_tour`]) use the scalar test [`accept`], which skips moves
//! with `beta dE > 53 ln 2` as dwave-samplers does: they are less likely than the `2^-53`
//! resolution of the uniform draws.
//!
//! # Shapes
//! `betas`: `[sweeps]`; per read a state `[n]` of ±1; `energies`: `[reads]`.

use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::lanes::{LANES, Lane, LaneRng, lane_fields, random_spins, sweep};
use super::problem::IsingProblem;
use crate::budget;
use crate::error::{Error, Result, check};
use crate::keywords::keywords;
use crate::rng::derive_seed;
use crate::sampling::{Schedule, metropolis_acceptance};
use crate::train::Progress;

/// `53 ln 2`: above this `beta dE` a Metropolis flip is less likely than `2^-53`.
const MAX_EXPONENT: f64 = 36.736_800_569_677_1;

/// Bytes per sweep: its beta and the energy trace of the best read.
pub(crate) const SWEEP_BYTES: usize = 16;
/// Bytes per read: its final energy, the sorted copy and the histogram of the reads picture, and
/// its line in solution.json.
pub(crate) const READ_BYTES: usize = 64;

/// Stream id of the reads under the user seed.
const READ_STREAM: u64 = 0x7265_6164;
/// Stream of the random spin orders of a batch of reads.
const ORDER_STREAM: u64 = 0x4f52_4445;

/// How the temperature falls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AnnealSchedule {
    /// Geometric in `beta` (equivalently in `T`) from `beta_hot` to `beta_cold` of the beta
    /// range, as dwave-samplers' default.
    #[default]
    Geometric,
    /// Linear in temperature from `1 / beta_hot` to `1 / beta_cold`.
    Linear,
    /// `T_k = T_0 ln 2 / ln(k + 2)` from `T_0 = 1 / beta_hot`.
    Logarithmic,
    /// A schedule with its own temperatures (the beta range is not used).
    Given {
        /// The schedule.
        schedule: Schedule,
    },
}

impl std::str::FromStr for AnnealSchedule {
    type Err = Error;
    /// `geometric`, `linear`, `log` (end points from the beta range), or a full
    /// [`Schedule`]: `constant:T`, `linear:T0:T1`, `geometric:T0:T1`, `log:T0`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "geometric" | "exponential" => Ok(Self::Geometric),
            "linear" => Ok(Self::Linear),
            "log" | "logarithmic" => Ok(Self::Logarithmic),
            full => Ok(Self::Given {
                schedule: full.parse()?,
            }),
        }
    }
}

/// Settings of an annealing run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnealConfig {
    /// Sweeps (passes over all spins, or `n` moves for a tour) per read.
    pub sweeps: usize,
    /// Independent restarts.
    pub reads: usize,
    /// The shape of the schedule.
    pub schedule: AnnealSchedule,
    /// `(beta_hot, beta_cold)`; `None`: derived from the problem (see
    /// [`IsingProblem::default_beta_range`]).
    pub beta_range: Option<(f64, f64)>,
    /// Seed of every random choice.
    pub seed: u64,
    /// The order in which a sweep visits the spins.
    #[serde(default)]
    pub order: SpinOrder,
}

/// The order in which a sweep visits the spins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SpinOrder {
    /// `Random` for uniform problems (no fields, every spin with the same degree, every
    /// coupling of the same size: rings, lattices, complete graphs), `Sequential` otherwise.
    /// On a uniform problem a fixed order can lock the reads into a cycle (a 64-node ring:
    /// sequential cut 42 of 64, random 64 in 95 of 100 reads); on irregular ones (random
    /// graphs) sequential sweeps are as good or better and about a quarter faster.
    #[default]
    Auto,
    /// Spins 0, 1, ..., n - 1 in every sweep (dwave-samplers' order).
    Sequential,
    /// A fresh random permutation in every sweep (shared by the reads of one SIMD batch).
    Random,
}

keywords!(SpinOrder, "order", {
    Auto => "auto",
    Sequential => "sequential",
    Random => "random",
});

impl Default for AnnealConfig {
    /// 1,000 sweeps (dwave-samplers' default), 100 reads, geometric, derived beta range.
    fn default() -> Self {
        Self {
            sweeps: 1000,
            reads: 100,
            schedule: AnnealSchedule::Geometric,
            beta_range: None,
            seed: 0,
            order: SpinOrder::Auto,
        }
    }
}

impl AnnealConfig {
    /// Check every value; `default_range` is the problem's beta range. Returns the annealer.
    pub fn validate(&self, default_range: (f64, f64)) -> Result<Annealer> {
        check::positive_count("sweeps", self.sweeps)?;
        check::positive_count("reads", self.reads)?;
        budget::check_parts(&[
            ("sweeps", budget::bytes(&[self.sweeps, SWEEP_BYTES])),
            ("reads", budget::bytes(&[self.reads, READ_BYTES])),
        ])?;
        if let (Some(_), AnnealSchedule::Given { .. }) = (self.beta_range, &self.schedule) {
            return Err(Error::param(
                "beta-range",
                "sets the end points of a geometric, linear or log schedule; a schedule with its own temperatures cannot take it",
            ));
        }
        let (hot, cold) = self.beta_range.unwrap_or(default_range);
        // Both ends become temperatures 1 / beta, which must be finite too.
        let usable = |b: f64| b.is_finite() && b > 0.0 && (1.0 / b).is_finite();
        match self.beta_range {
            Some((hot, cold)) => {
                if !(usable(hot) && usable(cold)) {
                    return Err(Error::param(
                        "beta-range",
                        format!(
                            "needs two positive inverse temperatures whose reciprocals are finite (got {hot}:{cold})"
                        ),
                    ));
                }
                if hot > cold {
                    return Err(Error::param(
                        "beta-range",
                        format!(
                            "annealing cools: the first beta must not exceed the last (got {hot}:{cold})"
                        ),
                    ));
                }
            }
            // The problem's own range: its weights are to blame, not a setting nobody gave.
            None if !(matches!(self.schedule, AnnealSchedule::Given { .. })
                || usable(hot) && usable(cold)) =>
            {
                return Err(Error::data(
                    "the problem",
                    format!(
                        "its weights give no usable temperature range (derived beta range {hot:.3e}:{cold:.3e}; \
                         weights near the limits of floating point); rescale them, or set `beta-range` to `B0:B1`"
                    ),
                ));
            }
            None => {}
        }
        let schedule = match &self.schedule {
            AnnealSchedule::Geometric => Schedule::Geometric {
                start: 1.0 / hot,
                end: 1.0 / cold,
            },
            AnnealSchedule::Linear => Schedule::Linear {
                start: 1.0 / hot,
                end: 1.0 / cold,
            },
            AnnealSchedule::Logarithmic => Schedule::Logarithmic { start: 1.0 / hot },
            AnnealSchedule::Given { schedule } => schedule.clone(),
        };
        schedule.validate()?;
        let betas = (0..self.sweeps)
            .map(|k| schedule.beta(k, self.sweeps))
            .collect();
        Ok(Annealer {
            reads: self.reads,
            seed: self.seed,
            schedule,
            betas,
            order: self.order,
        })
    }
}

/// A validated annealing plan: the inverse temperature of every sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Annealer {
    reads: usize,
    seed: u64,
    schedule: Schedule,
    betas: Vec<f64>,
    order: SpinOrder,
}

/// What a batch of reads found.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnealOutcome<S> {
    /// The final energy of every read, in read order.
    pub energies: Vec<f64>,
    /// The read with the lowest energy (the first one on ties).
    pub best_read: usize,
    /// Its final state.
    pub best_state: S,
}

impl<S> AnnealOutcome<S> {
    /// The lowest energy.
    pub fn best_energy(&self) -> f64 {
        self.energies[self.best_read]
    }
}

impl Annealer {
    /// A plan with its own inverse temperature for every sweep (dwave-samplers'
    /// `beta_schedule`): `reads` restarts from the streams of `seed`, visiting the spins in
    /// `order`. Every beta must be positive and finite, with `1 / beta` finite. Its
    /// [`Annealer::schedule`] is only a summary: the geometric schedule between the hottest
    /// and the coldest of these temperatures; [`Annealer::betas`] is the table itself.
    pub fn from_betas(betas: Vec<f64>, reads: usize, seed: u64, order: SpinOrder) -> Result<Self> {
        check::positive_count("reads", reads)?;
        check::positive_count("sweeps", betas.len())?;
        budget::check_parts(&[
            ("sweeps", budget::bytes(&[betas.len(), SWEEP_BYTES])),
            ("reads", budget::bytes(&[reads, READ_BYTES])),
        ])?;
        if let Some(k) = betas
            .iter()
            .position(|&b| !(b.is_finite() && b > 0.0 && (1.0 / b).is_finite()))
        {
            return Err(Error::param(
                "beta-schedule",
                format!(
                    "inverse temperatures must be positive and finite (beta {k} is {})",
                    betas[k]
                ),
            ));
        }
        let temperatures = betas.iter().map(|b| 1.0 / b);
        let (start, end) = (
            temperatures.clone().fold(f64::MIN, f64::max),
            temperatures.fold(f64::MAX, f64::min),
        );
        Ok(Self {
            reads,
            seed,
            schedule: Schedule::Geometric { start, end },
            betas,
            order,
        })
    }

    /// The temperature schedule in use.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// `beta` of each sweep.
    pub fn betas(&self) -> &[f64] {
        &self.betas
    }

    /// Number of reads.
    pub fn reads(&self) -> usize {
        self.reads
    }

    /// The generator of read `r`.
    pub(crate) fn read_rng(&self, read: usize) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(derive_seed(self.seed, &[READ_STREAM, read as u64]))
    }

    /// Run the reads in parallel in batches of `width`: `batch(first read, count)` returns the
    /// final energies of its reads and the index and state of its best one.
    pub(crate) fn run_batches<S: Send>(
        &self,
        width: usize,
        progress: &dyn Progress,
        batch: impl Fn(usize, usize) -> (Vec<f64>, usize, S) + Sync,
    ) -> AnnealOutcome<S> {
        progress.start("anneal", self.reads as u64);
        // Only the best state is kept: a state per batch would cost `reads / width` states.
        let mut energies = vec![0.0; self.reads];
        let best = energies
            .par_chunks_mut(width)
            .enumerate()
            .map(|(b, slot)| {
                let (e, k, state) = batch(b * width, slot.len());
                slot.copy_from_slice(&e);
                progress.advance(slot.len() as u64);
                (e[k], b * width + k, state)
            })
            // The lowest energy; on ties the earliest read, whatever the batching.
            .reduce_with(|a, b| if (b.0, b.1) < (a.0, a.1) { b } else { a });
        progress.finish();
        let (_, best_read, best_state) =
            best.expect("reads >= 1 is checked by AnnealConfig::validate");
        AnnealOutcome {
            energies,
            best_read,
            best_state,
        }
    }

    /// The live memory of annealing `n` spins (or cities, with `tour`): the states of the
    /// batches running at once, and the best one kept.
    pub(crate) fn state_bytes(&self, n: usize, tour: bool) -> u128 {
        let (width, per) = if tour {
            (1, 8)
        } else {
            (LANES, LANE_STATE_BYTES)
        };
        let live = self.reads.div_ceil(width).min(rayon::current_num_threads()) + 1;
        budget::bytes(&[live, n, per])
    }

    /// Anneal `problem` from `reads` random starts.
    pub fn anneal(
        &self,
        problem: &IsingProblem,
        progress: &dyn Progress,
    ) -> AnnealOutcome<Vec<i8>> {
        self.run_batches(LANES, progress, |first, count| {
            let s = self.anneal_lanes(problem, first, None);
            let mut states: Vec<Vec<i8>> = (0..count).map(|l| lane_state(&s, l)).collect();
            let energies: Vec<f64> = states.iter().map(|x| problem.energy_unchecked(x)).collect();
            let k = first_min(&energies);
            (energies, k, states.swap_remove(k))
        })
    }

    /// Anneal `problem` from `reads` random starts and keep every read's final state:
    /// `(energies [reads], states [reads, n] row-major)`, in read order (what a dimod
    /// `SampleSet` holds).
    pub fn anneal_all(&self, problem: &IsingProblem) -> Result<(Vec<f64>, Vec<i8>)> {
        let n = problem.len();
        budget::check("reads", budget::bytes(&[self.reads, n.max(1) + 8]))?;
        let mut energies = vec![0.0; self.reads];
        let mut states = vec![0i8; self.reads * n];
        energies
            .par_chunks_mut(LANES)
            .zip(states.par_chunks_mut(LANES * n))
            .enumerate()
            .for_each(|(b, (e, x))| {
                let s = self.anneal_lanes(problem, b * LANES, None);
                for (l, (e, x)) in e.iter_mut().zip(x.chunks_mut(n)).enumerate() {
                    x.copy_from_slice(&lane_state(&s, l));
                    *e = problem.energy_unchecked(x);
                }
            });
        Ok((energies, states))
    }

    /// Repeat read `read` and record the energy after every sweep (the same final state as in
    /// [`Annealer::anneal`]).
    pub fn trace(&self, problem: &IsingProblem, read: usize) -> (Vec<f64>, Vec<i8>) {
        let (first, lane) = (read - read % LANES, read % LANES);
        let mut trace = Vec::with_capacity(self.betas.len());
        let s = self.anneal_lanes(problem, first, Some((&mut trace, lane)));
        (trace, lane_state(&s, lane))
    }

    /// Reads `first .. first + LANES` together; with `trace = (energies, lane)`, push that
    /// lane's energy after every sweep.
    fn anneal_lanes(
        &self,
        p: &IsingProblem,
        first: usize,
        mut trace: Option<(&mut Vec<f64>, usize)>,
    ) -> Vec<Lane> {
        let seeds =
            std::array::from_fn(|l| derive_seed(self.seed, &[READ_STREAM, (first + l) as u64]));
        let mut rng = LaneRng::from_seeds(seeds);
        let mut s = random_spins(p.len(), &mut rng);
        let mut f = lane_fields(p, &s);
        let start = trace
            .as_ref()
            .map_or(0.0, |&(_, l)| p.energy_unchecked(&lane_state(&s, l)));
        let mut moved = [0.0; LANES];
        let random = match self.order {
            SpinOrder::Random => true,
            SpinOrder::Sequential => false,
            SpinOrder::Auto => is_uniform(p),
        };
        let mut order: Vec<u32> = (0..p.len() as u32).collect();
        let mut order_rng = Xoshiro256PlusPlus::seed_from_u64(derive_seed(
            self.seed,
            &[ORDER_STREAM, first as u64],
        ));
        for &beta in &self.betas {
            if random {
                order.shuffle(&mut order_rng);
            }
            sweep(p, &mut s, &mut f, &mut rng, beta, &mut moved, &order);
            if let Some((t, l)) = trace.as_mut() {
                t.push(start + moved[*l]);
            }
        }
        s
    }
}

/// Bytes per spin of a batch of lanes: spins and fields (a [`Lane`] each), the visiting order
/// and the lanes' final states.
const LANE_STATE_BYTES: usize = 2 * std::mem::size_of::<Lane>() + 4 + LANES;

/// No fields, the same degree at every spin and the same coupling magnitude on every edge.
fn is_uniform(p: &IsingProblem) -> bool {
    let mut degree = vec![0usize; p.len()];
    for &(i, j, _) in p.edges() {
        degree[i as usize] += 1;
        degree[j as usize] += 1;
    }
    let size = p.edges().first().map_or(0.0, |e| e.2.abs());
    p.fields().iter().all(|&h| h == 0.0)
        && degree.iter().all(|&d| d == degree[0])
        && p.edges().iter().all(|e| e.2.abs() == size)
}

/// The spins of lane `l`.
fn lane_state(s: &[Lane], l: usize) -> Vec<i8> {
    s.iter()
        .map(|x| if x.0[l] > 0.0 { 1 } else { -1 })
        .collect()
}

/// Index of the first smallest value.
pub(crate) fn first_min(values: &[f64]) -> usize {
    (0..values.len()).fold(0, |b, k| if values[k] < values[b] { k } else { b })
}

/// A uniform draw in `[0, 1)` with 53 random bits.
#[inline(always)]
pub(crate) fn uniform(rng: &mut impl Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Metropolis test of a move with energy change `de` at `beta`: always for `de <= 0`,
/// never for `beta de > 53 ln 2`, else with probability `exp(-beta de)`.
#[inline(always)]
pub(crate) fn accept(de: f64, beta: f64, cutoff: f64, rng: &mut impl Rng) -> bool {
    de <= 0.0 || (de < cutoff && uniform(rng) < metropolis_acceptance(de, beta))
}

/// `MAX_EXPONENT / beta`: moves costing more are never accepted.
#[inline]
pub(crate) fn cutoff(beta: f64) -> f64 {
    MAX_EXPONENT / beta
}

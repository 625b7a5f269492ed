//! [`IsingChain`]: one Markov chain at one temperature, with the update picked by [`Algorithm`].

use crate::keywords::keywords;
use serde::{Deserialize, Serialize};

use super::checkerboard::{Checkerboard, FlipTable};
use super::lattice::{IsingModel, Lattice};
use super::multispin::{Multispin, Thresholds, multispin_supported};
use super::observables::Measurement;
use super::wolff::Wolff;
use crate::error::{Error, Result};
use crate::sampling::Sampler;

/// The update of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Single-spin Metropolis in checkerboard sweeps (multi-spin coded when `h = 0`, `J > 0`
    /// and `L` is a multiple of 128).
    #[default]
    Metropolis,
    /// Single-spin heat bath (Glauber / Gibbs) in checkerboard sweeps.
    HeatBath,
    /// Wolff cluster updates (`h = 0` only).
    Wolff,
}

impl Algorithm {
    /// Flag spelling.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Metropolis => "metropolis",
            Algorithm::HeatBath => "heat-bath",
            Algorithm::Wolff => "wolff",
        }
    }
}

keywords!(Algorithm, "algorithm", {
    Metropolis => "metropolis",
    HeatBath => "heat-bath" | "heatbath" | "glauber" | "gibbs",
    Wolff => "wolff",
});

/// How the sweeps are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// One spin per byte, checkerboard order (any rule, any field).
    Checkerboard,
    /// 64 spins per word, Metropolis at `h = 0`, `J > 0`, `L` a multiple of 128.
    Multispin,
    /// Wolff clusters on a row-major lattice.
    Wolff,
}

keywords!(Engine, "engine", {
    Multispin => "multispin",
    Checkerboard => "checkerboard",
    Wolff => "wolff",
});

#[derive(Debug, Clone)]
enum State {
    Checkerboard(Checkerboard),
    Multispin(Box<Multispin>),
    Wolff(Wolff),
}

/// A Markov chain of the Ising model at temperature `T`, starting with all spins up.
#[derive(Debug, Clone)]
pub struct IsingChain {
    model: IsingModel,
    temperature: f64,
    algorithm: Algorithm,
    seed: u64,
    state: State,
}

/// The fastest engine for `algorithm` on `model`.
pub fn default_engine(model: &IsingModel, algorithm: Algorithm) -> Engine {
    match algorithm {
        Algorithm::Wolff => Engine::Wolff,
        Algorithm::Metropolis if multispin_possible(model) => Engine::Multispin,
        _ => Engine::Checkerboard,
    }
}

fn multispin_possible(model: &IsingModel) -> bool {
    model.field == 0.0 && model.coupling > 0.0 && multispin_supported(model.size)
}

impl IsingChain {
    /// A chain with the fastest engine for `algorithm`; every random stream derives from `seed`.
    pub fn new(
        model: &IsingModel,
        temperature: f64,
        algorithm: Algorithm,
        seed: u64,
    ) -> Result<Self> {
        Self::with_engine(
            model,
            temperature,
            algorithm,
            default_engine(model, algorithm),
            seed,
        )
    }

    /// A chain with an explicit engine (to compare engines; errors if it cannot run `algorithm`).
    pub fn with_engine(
        model: &IsingModel,
        temperature: f64,
        algorithm: Algorithm,
        engine: Engine,
        seed: u64,
    ) -> Result<Self> {
        model.validate()?;
        crate::error::check::positive("temperature", temperature)?;
        check_pair(model, algorithm, engine)?;
        let start = Lattice::ordered(model.size);
        Ok(Self {
            model: *model,
            temperature,
            algorithm,
            seed,
            state: build(model, 1.0 / temperature, algorithm, engine, seed, &start),
        })
    }

    /// Restart the chain from `lattice` (same engine; the random streams restart from the seed).
    pub fn set_lattice(&mut self, lattice: &Lattice) -> Result<()> {
        if lattice.size() != self.model.size {
            return Err(Error::ShapeMismatch {
                what: "Ising lattice".into(),
                expected: vec![self.model.size, self.model.size],
                got: vec![lattice.size(), lattice.size()],
            });
        }
        let beta = 1.0 / self.temperature;
        self.state = build(
            &self.model,
            beta,
            self.algorithm,
            self.engine(),
            self.seed,
            lattice,
        );
        Ok(())
    }

    /// One sweep: `N` attempted single-spin flips, or a fixed number of Wolff clusters that
    /// flip about `N` spins in all (the first Wolff sweeps, 7 or more until the mean cluster
    /// size settles, calibrate that number and belong in the equilibration).
    pub fn sweep(&mut self) {
        match &mut self.state {
            State::Checkerboard(c) => c.sweep(),
            State::Multispin(m) => m.sweep(),
            State::Wolff(w) => w.sweep(),
        }
    }

    /// `n` sweeps.
    pub fn sweeps(&mut self, n: usize) {
        (0..n).for_each(|_| self.sweep());
    }

    /// Energy and magnetisation per spin of the current configuration.
    pub fn measure(&self) -> Measurement {
        let (bonds, m) = match &self.state {
            State::Checkerboard(c) => c.sums(),
            State::Multispin(ms) => ms.sums(),
            State::Wolff(w) => w.sums(),
        };
        let n = self.model.spins() as f64;
        Measurement {
            energy: self.model.energy_of(bonds, m) / n,
            magnetization: m as f64 / n,
        }
    }

    /// The current configuration.
    pub fn lattice(&self) -> Lattice {
        match &self.state {
            State::Checkerboard(c) => c.lattice(),
            State::Multispin(m) => m.lattice(),
            State::Wolff(w) => w.lattice().clone(),
        }
    }

    /// The engine doing the sweeps.
    pub fn engine(&self) -> Engine {
        match self.state {
            State::Checkerboard(_) => Engine::Checkerboard,
            State::Multispin(_) => Engine::Multispin,
            State::Wolff(_) => Engine::Wolff,
        }
    }

    /// The model.
    pub fn model(&self) -> &IsingModel {
        &self.model
    }

    /// The temperature `T`.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }
}

fn build(
    model: &IsingModel,
    beta: f64,
    algorithm: Algorithm,
    engine: Engine,
    seed: u64,
    lattice: &Lattice,
) -> State {
    match engine {
        Engine::Multispin => State::Multispin(Box::new(Multispin::new(
            lattice,
            Thresholds::new(model.coupling, beta),
            seed,
        ))),
        Engine::Wolff => State::Wolff(Wolff::new(lattice, model.coupling, beta, seed)),
        Engine::Checkerboard => {
            let rule = match algorithm {
                Algorithm::HeatBath => Sampler::HeatBath,
                _ => Sampler::Metropolis,
            };
            State::Checkerboard(Checkerboard::new(
                lattice,
                FlipTable::new(rule, model, beta),
                seed,
            ))
        }
    }
}

/// Reject combinations an engine cannot sample correctly.
pub(crate) fn check_pair(model: &IsingModel, algorithm: Algorithm, engine: Engine) -> Result<()> {
    if algorithm == Algorithm::Wolff && model.field != 0.0 {
        return Err(Error::param(
            "field",
            format!(
                "the Wolff cluster update samples h = 0 only (got {}); use the metropolis or heat-bath algorithm",
                model.field
            ),
        ));
    }
    let fits = match engine {
        Engine::Wolff => algorithm == Algorithm::Wolff,
        Engine::Multispin => algorithm == Algorithm::Metropolis && multispin_possible(model),
        Engine::Checkerboard => algorithm != Algorithm::Wolff,
    };
    if !fits {
        return Err(Error::param(
            "algorithm",
            format!(
                "the {engine:?} engine cannot run {} here (multi-spin coding needs metropolis, h = 0, J > 0 and a size that is a multiple of 128)",
                algorithm.name()
            ),
        ));
    }
    Ok(())
}

//! Whole commands: `hopfield store`, `recall`, `recall --modern`, `capacity`.

use crate::keywords::keywords;
use std::path::{Path, PathBuf};

use rand::RngExt;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::capacity::{
    CapacityConfig, CapacityCurve, HEBBIAN_CAPACITY, RETRIEVAL_OVERLAP, capacity_curve,
    default_loads,
};
use super::modern::ModernHopfield;
use super::network::{Hopfield, Threshold, UpdateOrder, overlap};
use super::rules::{LearningRule, memory};
use crate::data::{DataConfig, Dataset};
use crate::error::{Error, Result, check};
use crate::io::{Blob, RunDir, TensorFile};
use crate::report::{Chart, GridSpec, Series, Shade, save_chart, save_grid, write_run_report};
use crate::rng::rng_for;
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "hopfield";

/// How stored patterns are picked from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PatternChoice {
    /// The first example of each class 0, 1, ... (needs labels and at most that many patterns);
    /// otherwise as `Random`.
    #[default]
    PerClass,
    /// A seeded random choice of training examples.
    Random,
}

keywords!(PatternChoice, "choose", {
    PerClass => "per-class",
    Random => "random",
});

/// Everything that defines a stored network; saved as config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreConfig {
    /// Always `hopfield`.
    pub family: String,
    /// Where the patterns come from (binarised).
    pub data: DataConfig,
    /// How many patterns to store.
    pub patterns: usize,
    /// How they are picked.
    pub choose: PatternChoice,
    /// The learning rule.
    pub rule: LearningRule,
    /// How thresholds are set.
    pub threshold: Threshold,
    /// Seed of the pattern choice and of recall.
    pub seed: u64,
    /// Indices of the stored training examples (filled in by `store`).
    #[serde(default)]
    pub indices: Vec<usize>,
    /// Image shape of a pattern (filled in by `store`).
    #[serde(default)]
    pub image_shape: [usize; 2],
}

/// What `hopfield store` reports.
#[derive(Debug, Clone, Serialize)]
pub struct StoreSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Units `N`.
    pub units: usize,
    /// Stored patterns `P`.
    pub patterns: usize,
    /// `P / N`.
    pub load: f64,
    /// Stored patterns that are fixed points of the network.
    pub fixed_points: usize,
}

/// The image shape of examples of width `dim`: the data's own, or square.
fn square_shape(data: &Dataset, flag: &'static str) -> Result<[usize; 2]> {
    if let Some(s) = data.image_shape() {
        return Ok(s);
    }
    let side = (data.dim() as f64).sqrt().round() as usize;
    if side * side != data.dim() {
        return Err(Error::param(
            flag,
            format!(
                "patterns of width {} are not square images (need N = k x k units)",
                data.dim()
            ),
        ));
    }
    Ok([side, side])
}

/// `hopfield store`: pick patterns, learn the weights, save the network.
pub fn store(mut cfg: StoreConfig, out: Option<&Path>) -> Result<StoreSummary> {
    check::positive_count("patterns", cfg.patterns)?;
    let split = cfg.data.load(cfg.seed)?;
    let train = &split.train;
    train.require_unit_interval("Hopfield units are 0/1 (set `binarize` to `threshold`)")?;
    cfg.image_shape = square_shape(train, "data")?;
    let n = train.dim();
    if cfg.rule == LearningRule::PseudoInverse && cfg.patterns > n {
        // More patterns than units are linearly dependent: X X^T is singular.
        return Err(Error::param(
            "patterns",
            format!(
                "the pseudo-inverse rule stores at most N = {n} independent patterns (got {})",
                cfg.patterns
            ),
        ));
    }
    crate::budget::check("patterns", memory(cfg.rule, n, cfg.patterns))?;
    cfg.indices = choose_patterns(train, cfg.patterns, cfg.choose, cfg.seed, "patterns")?;
    cfg.family = FAMILY.into();
    let patterns: Vec<f32> = cfg
        .indices
        .iter()
        .flat_map(|&i| train.row(i).iter().map(|&v| f32::from(v > 0.5)))
        .collect();
    let net = Hopfield::store(&patterns, n, cfg.rule, cfg.threshold)?;
    let fixed_points = count_fixed_points(&net, &patterns, n);
    RunDir::create_filled(out, FAMILY, |run| {
        run.write_json("config.json", &cfg)?;
        save_network(run, &net, &patterns, cfg.patterns)?;
        save_grid(
            &run.file("patterns.png"),
            &patterns,
            GridSpec::for_count(cfg.patterns, cfg.image_shape),
            Shade::Unit,
        )?;
        run.add_figure(
            "patterns.png",
            &format!(
                "the {} stored patterns ({} rule)",
                cfg.patterns,
                cfg.rule.name()
            ),
        )?;
        let summary = StoreSummary {
            run_dir: run.path().to_path_buf(),
            units: n,
            patterns: cfg.patterns,
            load: cfg.patterns as f64 / n as f64,
            fixed_points,
        };
        run.write_json("eval.json", &summary)?;
        write_run_report(run)?;
        Ok(summary)
    })
}

/// `p` training examples picked `how`; `name` is the parameter that asked for `p`.
fn choose_patterns(
    data: &Dataset,
    p: usize,
    how: PatternChoice,
    seed: u64,
    name: &'static str,
) -> Result<Vec<usize>> {
    if p > data.len() {
        return Err(Error::param(
            name,
            format!(
                "{p} patterns asked for, the data have {} examples",
                data.len()
            ),
        ));
    }
    if how == PatternChoice::PerClass
        && let Some(labels) = data.labels()
    {
        let picked: Option<Vec<usize>> = (0..p as u32)
            .map(|c| labels.iter().position(|&l| l == c))
            .collect();
        if let Some(idx) = picked {
            return Ok(idx);
        }
    }
    let mut idx: Vec<usize> = (0..data.len()).collect();
    idx.shuffle(&mut rng_for(seed, &[0x5041_5454]));
    idx.truncate(p);
    Ok(idx)
}

fn count_fixed_points(net: &Hopfield, patterns: &[f32], n: usize) -> usize {
    patterns
        .chunks(n)
        .filter(|p| {
            let u: Vec<u8> = p.iter().map(|&v| v as u8).collect();
            net.inputs(&u)
                .iter()
                .zip(&u)
                .all(|(x, &ui)| (ui == 1 && *x >= 0.0) || (ui == 0 && *x <= 0.0))
        })
        .count()
}

fn save_network(run: &RunDir, net: &Hopfield, patterns: &[f32], p: usize) -> Result<()> {
    let n = net.len();
    let mut f = TensorFile::default();
    f.put_blob(
        "weight",
        Blob {
            shape: vec![n, n],
            data: net.weights().to_vec(),
        },
    );
    f.put_blob(
        "threshold",
        Blob {
            shape: vec![n],
            data: net.thresholds().to_vec(),
        },
    );
    f.put_blob(
        "input",
        Blob {
            shape: vec![n],
            data: net.input().to_vec(),
        },
    );
    f.put_blob(
        "patterns",
        Blob {
            shape: vec![p, n],
            data: patterns.to_vec(),
        },
    );
    f.metadata.insert("family".into(), FAMILY.into());
    f.save(&run.file("model.safetensors"))
}

/// Open a stored network: its config, the network and the stored patterns (`[P, N]`, 0/1).
pub fn open(dir: &Path) -> Result<(RunDir, StoreConfig, Hopfield, Vec<f32>)> {
    let run = RunDir::open(dir, FAMILY)?;
    let cfg: StoreConfig = run.read_json("config.json")?;
    let path = run.file("model.safetensors");
    let f = TensorFile::load(&path)?;
    let blob = |name: &str| {
        f.tensors
            .get(name)
            .map(|b| b.data.clone())
            .ok_or_else(|| Error::bad_file(&path, format!("tensor `{name}` is missing")))
    };
    let net = Hopfield::new(blob("weight")?, blob("threshold")?, blob("input")?)?;
    Ok((run, cfg, net, blob("patterns")?))
}

/// A side of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// Rows from the top.
    Top,
    /// Rows from the bottom.
    Bottom,
    /// Columns from the left.
    Left,
    /// Columns from the right.
    Right,
}

/// How a recall cue is made from a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Corruption {
    /// Flip this fraction of the units (chosen at random).
    Flip(f64),
    /// Set this fraction of the image, from one side, to 0.
    Occlude(Side, f64),
}

impl std::str::FromStr for Corruption {
    type Err = Error;
    /// `flip:0.2` or `occlude:bottom:0.5`.
    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split(':').collect();
        let frac = |t: Option<&&str>| -> Result<f64> {
            let v: f64 = t
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| Error::param("corrupt", format!("`{s}` lacks a fraction")))?;
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::param(
                    "corrupt",
                    format!("fraction {v} must lie in [0, 1]"),
                ));
            }
            Ok(v)
        };
        match parts[0] {
            "flip" => Ok(Corruption::Flip(frac(parts.get(1))?)),
            "occlude" => {
                let side = match parts.get(1).copied() {
                    Some("top") => Side::Top,
                    Some("bottom") => Side::Bottom,
                    Some("left") => Side::Left,
                    Some("right") => Side::Right,
                    _ => {
                        return Err(Error::param(
                            "corrupt",
                            format!("`{s}`: side must be top, bottom, left or right"),
                        ));
                    }
                };
                Ok(Corruption::Occlude(side, frac(parts.get(2))?))
            }
            _ => Err(Error::param(
                "corrupt",
                format!("`{s}` is not flip:F or occlude:SIDE:F"),
            )),
        }
    }
}

impl Corruption {
    /// Apply to a 0/1 image of `shape`; `mask` receives 1 for every unit the cue does not know.
    pub fn apply(self, u: &mut [u8], shape: [usize; 2], rng: &mut impl rand::Rng) -> Vec<bool> {
        let [h, w] = shape;
        let mut hidden = vec![false; u.len()];
        match self {
            Corruption::Flip(f) => {
                for (x, m) in u.iter_mut().zip(hidden.iter_mut()) {
                    if rng.random::<f64>() < f {
                        *x = 1 - *x;
                        *m = true;
                    }
                }
            }
            Corruption::Occlude(side, f) => {
                let rows = (h as f64 * f).round() as usize;
                let cols = (w as f64 * f).round() as usize;
                for r in 0..h {
                    for c in 0..w {
                        let covered = match side {
                            Side::Top => r < rows,
                            Side::Bottom => r >= h - rows,
                            Side::Left => c < cols,
                            Side::Right => c >= w - cols,
                        };
                        if covered {
                            u[r * w + c] = 0;
                            hidden[r * w + c] = true;
                        }
                    }
                }
            }
        }
        hidden
    }
}

/// Which pattern a recall starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cue {
    /// Stored pattern `k`.
    Stored(usize),
    /// Test-set example `k` (a pattern the network has not stored).
    New(usize),
}

/// What `hopfield recall` runs.
#[derive(Debug, Clone)]
pub struct RecallRequest {
    /// Where the cue comes from.
    pub cue: Cue,
    /// How it is corrupted.
    pub corruption: Corruption,
    /// Asynchronous or synchronous updates.
    pub order: UpdateOrder,
    /// Sweeps before giving up.
    pub max_sweeps: usize,
    /// Seed of the corruption and the update order.
    pub seed: u64,
}

/// What `hopfield recall` reports.
#[derive(Debug, Clone, Serialize)]
pub struct RecallSummary {
    /// Overlap of the corrupted cue with the original (±1 form).
    pub overlap_start: f64,
    /// Overlap of the final state with the original.
    pub overlap_end: f64,
    /// The stored pattern closest to the final state, and its overlap.
    pub nearest_stored: usize,
    /// Overlap with that stored pattern.
    pub nearest_overlap: f64,
    /// Sweeps run.
    pub sweeps: usize,
    /// Units that changed.
    pub flips: usize,
    /// Whether a fixed point was reached.
    pub converged: bool,
    /// Energy of the cue.
    pub energy_start: f64,
    /// Energy of the final state.
    pub energy_end: f64,
    /// Pictures written.
    pub files: Vec<PathBuf>,
}

/// `hopfield recall`: corrupt a pattern, let the network settle, draw the trajectory and energy.
pub fn recall(dir: &Path, req: &RecallRequest) -> Result<RecallSummary> {
    check::positive_count("max-sweeps", req.max_sweeps)?;
    let (run, cfg, net, patterns) = open(dir)?;
    let n = net.len();
    let p = patterns.len() / n;
    let original: Vec<u8> = match req.cue {
        Cue::Stored(k) if k < p => patterns[k * n..(k + 1) * n]
            .iter()
            .map(|&v| v as u8)
            .collect(),
        Cue::Stored(k) => {
            return Err(Error::param(
                "pattern",
                format!("pattern {k} does not exist (the network stores {p})"),
            ));
        }
        Cue::New(k) => {
            let split = cfg.data.load(cfg.seed)?;
            if k >= split.test.len() || split.test.dim() != n {
                return Err(Error::param(
                    "new",
                    format!("test example {k} is not available for this network"),
                ));
            }
            split
                .test
                .row(k)
                .iter()
                .map(|&v| u8::from(v > 0.5))
                .collect()
        }
    };
    let mut rng = rng_for(req.seed, &[0x5245_4341]);
    let mut u = original.clone();
    req.corruption.apply(&mut u, cfg.image_shape, &mut rng);
    let cue = u.clone();
    let trace = net.recall(&mut u, req.order, req.max_sweeps, &mut rng);
    let (nearest_stored, nearest_overlap) = (0..p)
        .map(|k| {
            let s: Vec<u8> = patterns[k * n..(k + 1) * n]
                .iter()
                .map(|&v| v as u8)
                .collect();
            (k, overlap(&u, &s))
        })
        .fold(
            (0, f64::NEG_INFINITY),
            |best, x| if x.1 > best.1 { x } else { best },
        );
    let files = draw_recall(&run, &cfg, &cue, &original, &trace, req)?;
    write_run_report(&run)?;
    Ok(RecallSummary {
        overlap_start: overlap(&cue, &original),
        overlap_end: overlap(&u, &original),
        nearest_stored,
        nearest_overlap,
        sweeps: trace.sweeps,
        flips: trace.flips,
        converged: trace.converged,
        energy_start: trace.energies[0],
        energy_end: *trace.energies.last().unwrap_or(&f64::NAN),
        files,
    })
}

fn draw_recall(
    run: &RunDir,
    cfg: &StoreConfig,
    cue: &[u8],
    original: &[u8],
    trace: &super::network::Recall,
    req: &RecallRequest,
) -> Result<Vec<PathBuf>> {
    let tag = match req.cue {
        Cue::Stored(k) => format!("stored-{k}"),
        Cue::New(k) => format!("new-{k}"),
    };
    // The cue, the snapshots until the state stops changing (at most 12), the end, the original.
    let mut tiles: Vec<f32> = cue.iter().map(|&v| v as f32).collect();
    let mut last: &[u8] = cue;
    for s in trace.snapshots.iter().skip(1).take(12) {
        if s.as_slice() != last {
            tiles.extend(s.iter().map(|&v| v as f32));
            last = s;
        }
    }
    tiles.extend(original.iter().map(|&v| v as f32));
    let count = tiles.len() / cue.len();
    let traj = run.file(&format!("recall-{tag}.png"));
    let spec = GridSpec {
        cols: count,
        scale: 3,
        ..GridSpec::for_count(count, cfg.image_shape)
    };
    save_grid(&traj, &tiles, spec, Shade::Unit)?;
    run.add_figure(
        traj.file_name().and_then(|f| f.to_str()).unwrap_or("recall.png"),
        &format!("recall of {tag}: the cue, the state as it settles ({:?} updates), the original (right)", req.order),
    )?;
    let points: Vec<(f64, f64)> = trace
        .energies
        .iter()
        .enumerate()
        .map(|(i, &e)| (i as f64, e))
        .collect();
    let x_label = match req.order {
        UpdateOrder::Asynchronous => "single-unit update",
        UpdateOrder::Synchronous => "sweep",
    };
    let chart = Chart {
        title: format!("energy during recall of {tag}"),
        x_label: x_label.into(),
        y_label: "energy E".into(),
        series: vec![Series::line("", points)],
        integer_x: true,
        ..Default::default()
    };
    let energy = run.file(&format!("energy-{tag}.png"));
    save_chart(&energy, &chart, 720, 360)?;
    run.add_figure(
        energy
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("energy.png"),
        &format!("energy per update while recalling {tag}"),
    )?;
    Ok(vec![traj, energy])
}

/// What `hopfield capacity` reports.
#[derive(Debug, Clone, Serialize)]
pub struct CapacitySummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Critical load of the Hebbian rule at the largest size measured (or of the first rule).
    pub critical_load: Option<f64>,
    /// Critical loads of every rule and size.
    pub critical_loads: Vec<CriticalLoad>,
    /// The theory's Hebbian value.
    pub theory: f64,
}

/// One measured critical load.
#[derive(Debug, Clone, Serialize)]
pub struct CriticalLoad {
    /// The rule.
    pub rule: LearningRule,
    /// Units.
    pub n: usize,
    /// Load where the mean overlap falls below 0.95 (`None`: it never did on the grid).
    pub critical_load: Option<f64>,
}

/// `hopfield capacity`: sweep the load for every rule and size; plot overlap against load.
pub fn capacity(
    cfg: &CapacityConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<CapacitySummary> {
    cfg.validate()?;
    RunDir::create_filled(out, "hopfield-capacity", |run| {
        run.write_json(
            "config.json",
            &serde_json::json!({ "family": FAMILY, "command": "capacity", "capacity": cfg }),
        )?;
        let total: usize = cfg
            .rules
            .iter()
            .map(|r| default_loads(*r).len() * cfg.sizes.len())
            .sum();
        progress.start("capacity", total as u64);
        let mut curves: Vec<CapacityCurve> = Vec::new();
        for &rule in &cfg.rules {
            for &n in &cfg.sizes {
                let curve = capacity_curve(rule, n, &default_loads(rule), cfg, progress)?;
                progress.line(&format!(
                    "{:>14} N = {n:>5}: critical load {}",
                    rule.name(),
                    curve
                        .critical_load
                        .map_or("> grid".into(), |c| format!("{c:.3}"))
                ));
                curves.push(curve);
            }
        }
        progress.finish();
        run.write_json("capacity.json", &curves)?;
        draw_capacity(run, &curves)?;
        let critical_loads: Vec<CriticalLoad> = curves
            .iter()
            .map(|c| CriticalLoad {
                rule: c.rule,
                n: c.n,
                critical_load: c.critical_load,
            })
            .collect();
        let headline = curves
            .iter()
            .filter(|c| c.rule == LearningRule::Hebbian)
            .max_by_key(|c| c.n)
            .or(curves.first())
            .and_then(|c| c.critical_load);
        let summary = CapacitySummary {
            run_dir: run.path().to_path_buf(),
            critical_load: headline,
            critical_loads,
            theory: HEBBIAN_CAPACITY,
        };
        run.write_json("eval.json", &summary)?;
        write_run_report(run)?;
        Ok(summary)
    })
}

fn draw_capacity(run: &RunDir, curves: &[CapacityCurve]) -> Result<()> {
    for rule in LearningRule::ALL {
        let series: Vec<Series> = curves
            .iter()
            .filter(|c| c.rule == rule)
            .map(|c| {
                let mut s = Series::line(
                    format!("N = {}", c.n),
                    c.points.iter().map(|p| (p.load, p.mean_overlap)).collect(),
                );
                s.markers = true;
                s
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        let chart = Chart {
            title: format!("storage capacity, {} rule", rule.name()),
            x_label: "load P / N".into(),
            y_label: "mean overlap after recall".into(),
            series,
            hlines: vec![(RETRIEVAL_OVERLAP, "overlap 0.95".into())],
            vlines: vec![(HEBBIAN_CAPACITY, "0.138 (Hebbian theory)".into())],
            ..Default::default()
        };
        let file = format!("capacity-{}.png", rule.name());
        save_chart(&run.file(&file), &chart, 800, 450)?;
        run.add_figure(&file, &format!("mean overlap with the stored pattern after asynchronous recall started at it, {} rule", rule.name()))?;
    }
    Ok(())
}

/// What `hopfield recall --modern` runs.
#[derive(Debug, Clone)]
pub struct ModernRequest {
    /// The data the patterns come from (binarised).
    pub data: DataConfig,
    /// Patterns stored.
    pub stored: usize,
    /// Stored patterns used as (occluded) queries.
    pub queries: usize,
    /// Inverse temperature.
    pub beta: f64,
    /// Updates per query.
    pub steps: usize,
    /// How the queries are corrupted.
    pub corruption: Corruption,
    /// Seed of the choice of patterns.
    pub seed: u64,
}

/// What `hopfield recall --modern` reports.
#[derive(Debug, Clone, Serialize)]
pub struct ModernSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Units `N`.
    pub units: usize,
    /// Stored patterns `P`.
    pub stored: usize,
    /// `P / N` (compare with 0.138).
    pub load: f64,
    /// Fraction of queries whose retrieved state is nearest to their own pattern.
    pub accuracy: f64,
    /// Fraction of the hidden pixels restored correctly.
    pub hidden_pixel_accuracy: f64,
    /// The same for a classical Hebbian network storing the same patterns.
    pub classical_accuracy: f64,
    /// Queries evaluated.
    pub queries: usize,
}

/// `hopfield recall --modern`: store many digits, retrieve them from occluded queries.
pub fn recall_modern(req: &ModernRequest, out: Option<&Path>) -> Result<ModernSummary> {
    check::positive_count("stored", req.stored)?;
    check::positive_count("queries", req.queries)?;
    check::positive_count("steps", req.steps)?;
    let split = req.data.load(req.seed)?;
    let train = &split.train;
    train.require_unit_interval("Hopfield units are 0/1 (set `binarize` to `threshold`)")?;
    let shape = square_shape(train, "data")?;
    let n = train.dim();
    // The classical network compared with, and the queries' similarities to every pattern.
    crate::budget::check(
        "stored",
        crate::budget::total(&[
            memory(LearningRule::Hebbian, n, req.stored),
            crate::budget::bytes(&[req.queries.min(req.stored), req.stored, 8]),
        ]),
    )?;
    let idx = choose_patterns(train, req.stored, PatternChoice::Random, req.seed, "stored")?;
    let q = req.queries.min(req.stored);
    let stored01: Vec<f32> = idx
        .iter()
        .flat_map(|&i| train.row(i).iter().map(|&v| f32::from(v > 0.5)))
        .collect();
    let bipolar: Vec<f32> = stored01.iter().map(|&v| 2.0 * v - 1.0).collect();
    let net = ModernHopfield::new(bipolar.clone(), n, req.beta)?;
    // Queries: the first q stored patterns, corrupted; unknown pixels are 0 in ±1 form.
    let mut rng = rng_for(req.seed, &[0x4d4f_4445]);
    let mut queries = Vec::with_capacity(q * n);
    let mut cues01 = Vec::with_capacity(q * n);
    let mut hidden = Vec::with_capacity(q * n);
    for k in 0..q {
        let mut u: Vec<u8> = stored01[k * n..(k + 1) * n]
            .iter()
            .map(|&v| v as u8)
            .collect();
        let mask = req.corruption.apply(&mut u, shape, &mut rng);
        queries.extend(
            u.iter()
                .zip(&mask)
                .map(|(&x, &m)| if m { 0.0 } else { 2.0 * x as f32 - 1.0 }),
        );
        cues01.extend(u);
        hidden.extend(mask);
    }
    let retrieved = net.retrieve(&queries, req.steps);
    let nearest = net.nearest(&retrieved);
    let accuracy = nearest.iter().enumerate().filter(|(k, j)| k == *j).count() as f64 / q as f64;
    let (mut right, mut total) = (0usize, 0usize);
    for ((r, t), h) in retrieved.iter().zip(&bipolar[..q * n]).zip(&hidden) {
        if *h {
            total += 1;
            right += usize::from((*r >= 0.0) == (*t > 0.0));
        }
    }
    let classical = classical_accuracy(&stored01, n, &cues01, q, req.seed)?;
    RunDir::create_filled(out, "hopfield-modern", |run| {
        run.write_json(
            "config.json",
            &serde_json::json!({
                "family": FAMILY, "command": "recall --modern", "stored": req.stored, "beta": req.beta,
                "steps": req.steps, "corruption": req.corruption, "data": req.data, "seed": req.seed,
            }),
        )?;
        draw_modern(run, &queries, &retrieved, &bipolar, n, shape, q.min(10))?;
        let summary = ModernSummary {
            run_dir: run.path().to_path_buf(),
            units: n,
            stored: req.stored,
            load: req.stored as f64 / n as f64,
            accuracy,
            hidden_pixel_accuracy: right as f64 / total.max(1) as f64,
            classical_accuracy: classical,
            queries: q,
        };
        run.write_json("eval.json", &summary)?;
        write_run_report(run)?;
        Ok(summary)
    })
}

/// Retrieval accuracy of a classical Hebbian network on the same cues (0/1 form).
fn classical_accuracy(stored01: &[f32], n: usize, cues: &[u8], q: usize, seed: u64) -> Result<f64> {
    let net = Hopfield::store(stored01, n, LearningRule::Hebbian, Threshold::Balanced)?;
    let p = stored01.len() / n;
    let stored_u8: Vec<u8> = stored01.iter().map(|&v| v as u8).collect();
    let hits = (0..q)
        .into_par_iter()
        .filter(|&k| {
            let mut u = cues[k * n..(k + 1) * n].to_vec();
            let mut input = net.inputs(&u);
            net.settle(
                &mut u,
                &mut input,
                30,
                &mut rng_for(seed, &[0x434c_4153, k as u64]),
            );
            let best = (0..p).max_by(|&a, &b| {
                overlap(&u, &stored_u8[a * n..(a + 1) * n])
                    .total_cmp(&overlap(&u, &stored_u8[b * n..(b + 1) * n]))
            });
            best == Some(k)
        })
        .count();
    Ok(hits as f64 / q as f64)
}

fn draw_modern(
    run: &RunDir,
    queries: &[f32],
    retrieved: &[f32],
    stored: &[f32],
    n: usize,
    shape: [usize; 2],
    rows: usize,
) -> Result<()> {
    // Per row: the query, the retrieved state, the stored original (±1 mapped to [0, 1]).
    let to_unit = |v: f32| 0.5 * (v.clamp(-1.0, 1.0) + 1.0);
    let mut tiles = Vec::with_capacity(rows * 3 * n);
    for k in 0..rows {
        for src in [queries, retrieved, stored] {
            tiles.extend(src[k * n..(k + 1) * n].iter().map(|&v| to_unit(v)));
        }
    }
    let spec = GridSpec {
        cols: 3,
        scale: 2,
        ..GridSpec::for_count(rows * 3, shape)
    };
    save_grid(&run.file("modern-recall.png"), &tiles, spec, Shade::Unit)?;
    run.add_figure("modern-recall.png", "modern Hopfield network: occluded query (unknown = grey), retrieved state, stored original")
}

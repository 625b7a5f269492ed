//! `helmholtz hopfield store|recall|capacity`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::energy::hopfield::{
    self, CapacityConfig, CapacitySummary, Corruption, Cue, LearningRule, ModernRequest,
    RecallRequest, StoreConfig,
};

use crate::common::{Global, binary_data, emit, refuse_unused, write_run};

/// Hopfield networks: store patterns, recall them from corrupted cues, measure capacity.
#[derive(Debug, Subcommand)]
pub enum HopfieldCommand {
    /// Store binarised images as attractors of a network and save it as a run directory.
    Store(StoreArgs),
    /// Corrupt a stored (or new) pattern and let a stored network settle; with --modern,
    /// retrieve many stored digits from occluded queries with a modern Hopfield network.
    Recall(RecallArgs),
    /// Measure the storage capacity: overlap after recall against load P/N for random patterns.
    Capacity(CapacityArgs),
}

/// Flags of `hopfield store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Data: `digits` (embedded), `fashion-mnist`, or a folder of IDX files / a .npy file of images.
    #[arg(
        long,
        default_value = "digits",
        value_name = "digits|fashion-mnist|PATH"
    )]
    data: String,

    /// Number of patterns to store.
    #[arg(long, default_value_t = 3, value_name = "P")]
    patterns: usize,

    /// How patterns are picked: `per-class` (the first example of classes 0, 1, ...) or `random`.
    #[arg(long, default_value = "per-class", value_parser = ["per-class", "random"])]
    choose: String,

    /// Learning rule: `hebbian` (the reference article's dw_ij = 4(u_i - 1/2)(u_j - 1/2)), `pseudo-inverse`
    /// (stores correlated patterns such as digits), or `storkey`.
    #[arg(
        long,
        default_value = "pseudo-inverse",
        value_parser = ["hebbian", "pseudo-inverse", "storkey"]
    )]
    rule: String,

    /// Thresholds: `balanced` (theta_i = sum_j w_ij / 2, the classical ±1 network) or `zero`.
    #[arg(long, default_value = "balanced", value_parser = ["balanced", "zero"])]
    threshold: String,
}

/// Flags of `hopfield recall`.
#[derive(Debug, Args)]
pub struct RecallArgs {
    /// Run directory of a stored network (not with --modern).
    #[arg(required_unless_present = "modern")]
    run: Option<PathBuf>,

    /// Start from stored pattern K.
    #[arg(long, value_name = "K", conflicts_with = "new")]
    pattern: Option<usize>,

    /// Start from test example K instead (a pattern the network has not stored).
    #[arg(long, value_name = "K")]
    new: Option<usize>,

    /// Corruption of the cue: `flip:F` (flip a fraction F of the units) or
    /// `occlude:top|bottom|left|right:F` (blank a fraction F of the image from one side)
    /// [default: flip:0.2; with --modern, occlude:bottom:0.5].
    #[arg(long, value_name = "flip:F|occlude:SIDE:F")]
    corrupt: Option<String>,

    /// Update order: `async` (random order, energy never rises) or `sync` (all at once).
    #[arg(long, default_value = "async", value_parser = ["async", "sync"])]
    order: String,

    /// Sweeps before recall gives up.
    #[arg(long, default_value_t = 20, value_name = "N")]
    max_sweeps: usize,

    /// Use a modern continuous Hopfield network (Ramsauer et al. 2020) storing --stored digits.
    #[arg(long)]
    modern: bool,

    /// Patterns stored by the modern network (far more than 0.138 N).
    #[arg(long, default_value_t = 1000, value_name = "P")]
    stored: usize,

    /// Occluded queries evaluated by the modern network.
    #[arg(long, default_value_t = 200, value_name = "Q")]
    queries: usize,

    /// Inverse temperature of the modern network's softmax.
    #[arg(long, default_value_t = 0.5, value_name = "B")]
    beta: f64,

    /// Updates per query of the modern network.
    #[arg(long, default_value_t = 1, value_name = "N")]
    steps: usize,

    /// Data of the modern network's patterns.
    #[arg(
        long,
        default_value = "digits",
        value_name = "digits|fashion-mnist|PATH"
    )]
    data: String,
}

/// Flags of `hopfield capacity`.
#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// Network sizes N (comma-separated).
    #[arg(long = "n", default_value = "100,200,500,1000", value_delimiter = ',')]
    sizes: Vec<usize>,

    /// Learning rules (comma-separated).
    #[arg(
        long,
        default_value = "hebbian,pseudo-inverse,storkey",
        value_delimiter = ','
    )]
    rules: Vec<String>,

    /// Independent random pattern sets per load.
    #[arg(long, default_value_t = 4, value_name = "N")]
    trials: usize,

    /// Stored patterns probed per set.
    #[arg(long, default_value_t = 50, value_name = "N")]
    probes: usize,
}

/// Run a `hopfield` subcommand.
pub fn run(cmd: HopfieldCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        HopfieldCommand::Store(a) => store(a, g),
        HopfieldCommand::Recall(a) => recall(a, g),
        HopfieldCommand::Capacity(a) => capacity(a, g),
    }
}

fn store(a: StoreArgs, g: &Global) -> anyhow::Result<()> {
    let data = binary_data(&a.data)?;
    let cfg = StoreConfig {
        family: hopfield::FAMILY.into(),
        data,
        patterns: a.patterns,
        choose: a.choose.parse()?,
        rule: a.rule.parse()?,
        threshold: a.threshold.parse()?,
        seed: g.seed(),
        indices: Vec::new(),
        image_shape: [0, 0],
    };
    let s = hopfield::store(cfg, g.out.as_deref())?;
    let human = format!(
        "stored {} patterns in {} units (load {:.3}); {} of them are fixed points -> {}",
        s.patterns,
        s.units,
        s.load,
        s.fixed_points,
        s.run_dir.display()
    );
    emit(g.json, &human, &s)
}

/// Flags only recall from a stored network uses, and flags only `--modern` uses.
const CLASSICAL_ONLY: [&str; 4] = ["pattern", "new", "order", "max-sweeps"];
const MODERN_ONLY: [&str; 5] = ["stored", "queries", "beta", "steps", "data"];

fn recall(a: RecallArgs, g: &Global) -> anyhow::Result<()> {
    if a.modern {
        if a.run.is_some() {
            return Err(helmholtz::Error::param(
                "modern",
                "stores its own patterns and takes no run directory; drop RUN or --modern",
            )
            .into());
        }
        refuse_unused(
            &CLASSICAL_ONLY,
            "is for recall from a stored network, not --modern",
        )?;
    } else {
        refuse_unused(&MODERN_ONLY, "is only used with --modern")?;
    }
    let default = if a.modern {
        "occlude:bottom:0.5"
    } else {
        "flip:0.2"
    };
    let corruption: Corruption = a.corrupt.as_deref().unwrap_or(default).parse()?;
    if a.modern {
        let req = ModernRequest {
            data: binary_data(&a.data)?,
            stored: a.stored,
            queries: a.queries,
            beta: a.beta,
            steps: a.steps,
            corruption,
            seed: g.seed(),
        };
        let s = hopfield::recall_modern(&req, g.out.as_deref())?;
        let human = format!(
            "modern Hopfield network, {} patterns in {} units (load {:.2}, {:.0}x the 0.138 N of a classical one): \
             {:.1}% of {} occluded queries retrieved (hidden pixels {:.1}% right); a Hebbian network on the \
             same patterns: {:.1}% -> {}",
            s.stored,
            s.units,
            s.load,
            s.load / 0.138,
            100.0 * s.accuracy,
            s.queries,
            100.0 * s.hidden_pixel_accuracy,
            100.0 * s.classical_accuracy,
            s.run_dir.display()
        );
        return emit(g.json, &human, &s);
    }
    let run = a.run.ok_or_else(|| {
        helmholtz::Error::param(
            "run",
            "give the run directory of a stored network (or --modern)",
        )
    })?;
    let cue = match (a.pattern, a.new) {
        (_, Some(k)) => Cue::New(k),
        (Some(k), None) => Cue::Stored(k),
        (None, None) => Cue::Stored(0),
    };
    let req = RecallRequest {
        cue,
        corruption,
        order: a.order.parse()?,
        max_sweeps: a.max_sweeps,
        seed: g.seed(),
    };
    let s = hopfield::recall(&run, &req)?;
    let human = format!(
        "overlap {:.3} -> {:.3} in {} sweeps ({} flips, {}); energy {:.2} -> {:.2}; nearest stored pattern {} (overlap {:.3})",
        s.overlap_start,
        s.overlap_end,
        s.sweeps,
        s.flips,
        if s.converged {
            "fixed point"
        } else {
            "not converged"
        },
        s.energy_start,
        s.energy_end,
        s.nearest_stored,
        s.nearest_overlap
    );
    emit(g.json, &human, &s)
}

fn capacity(a: CapacityArgs, g: &Global) -> anyhow::Result<()> {
    let rules = a
        .rules
        .iter()
        .map(|r| {
            // The rule parser speaks of --rule (store's flag); this is --rules.
            r.parse::<LearningRule>().map_err(|e| match e {
                helmholtz::Error::InvalidParam { reason, .. } => {
                    helmholtz::Error::param("rules", reason)
                }
                e => e,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cfg = CapacityConfig {
        sizes: a.sizes,
        rules,
        trials: a.trials,
        probes: a.probes,
        seed: g.seed(),
        ..CapacityConfig::default()
    };
    write_run(g, &cfg, hopfield::capacity, capacity_line)
}

fn capacity_line(s: &CapacitySummary) -> String {
    let lines: Vec<String> = s
        .critical_loads
        .iter()
        .map(|c| {
            format!(
                "{} N={}: {}",
                c.rule.name(),
                c.n,
                c.critical_load
                    .map_or("beyond the grid".into(), |v| format!("{v:.3}"))
            )
        })
        .collect();
    format!(
        "critical loads (mean overlap < 0.95): {} (theory for Hebbian: 0.138) -> {}",
        lines.join("; "),
        s.run_dir.display()
    )
}

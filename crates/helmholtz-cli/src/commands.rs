//! The verbs every trainable family shares, generic over [`Family`]: train (or resume) through
//! the run driver, then print the one summary shape.

use std::path::{Path, PathBuf};

use clap::Args;
use helmholtz::data::{Binarize, DataConfig};
use helmholtz::run::{
    self, CodesRequest, CodesSummary, EvalTarget, Family, RunOptions, SampleRequest, SampleSummary,
    Summary,
};
use helmholtz::train::TrainConfig;
use serde::Serialize;

use crate::common::{CommonArgs, Global, TableArgs, emit, interrupt_flag, progress_bar};

/// `<family> train`: a new run from `config`, or `--resume DIR` (then `epochs` may raise the
/// total); a progress bar on stderr and Ctrl-C saving a checkpoint.
pub fn train<F: Family>(
    g: &Global,
    resume: Option<&Path>,
    epochs: Option<usize>,
    no_eval: bool,
    config: impl FnOnce() -> anyhow::Result<F::Config>,
) -> anyhow::Result<Summary<F::Eval>> {
    if let (Some(dir), Some(out)) = (resume, &g.out) {
        return Err(helmholtz::Error::param(
            "out",
            format!(
                "cannot be combined with --resume: the resumed run stays in {} (got {})",
                dir.display(),
                out.display()
            ),
        )
        .into());
    }
    let bar = progress_bar();
    let opts = RunOptions {
        progress: &bar,
        interrupt: Some(interrupt_flag()),
        stop_after: None,
        skip_eval: no_eval,
        command_line: std::env::args().collect(),
    };
    Ok(match resume {
        Some(dir) => run::resume::<F>(dir, epochs, &opts)?,
        None => run::train::<F>(config()?, g.out.as_deref(), &opts)?,
    })
}

/// Print a training summary: `trained <family> for N epochs in S s -> DIR` and the family's
/// evaluation line, or with `--json` the summary object
/// (`{"family", "run_dir", "epochs", "train_seconds", "eval", "last_epoch"}`).
pub fn print_summary<E: Serialize>(
    json: bool,
    summary: &Summary<E>,
    eval_line: impl Fn(&E) -> String,
) -> anyhow::Result<()> {
    let head = format!(
        "trained {} for {} epochs in {:.1} s -> {}",
        summary.family,
        summary.epochs,
        summary.train_seconds,
        summary.run_dir.display()
    );
    let human = match &summary.eval {
        Some(e) => format!("{head}\n{}", eval_line(e)),
        None => head,
    };
    emit(json, &human, summary)
}

/// The training-loop flags of every trainable family that trains on data.
#[derive(Debug, Args)]
pub struct LoopArgs {
    /// Continue the run in DIR from its last checkpoint (model flags are ignored; --epochs may
    /// raise the total).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,

    /// Passes over the training data [default: rbm 30, vae 50, gan 100, bnn --method bbb per
    /// example; with --resume, the run's own total].
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,

    /// Examples per mini-batch [default: rbm 100, vae 128, gan 64, bnn per example and
    /// method].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,

    /// Skip the final evaluation (the summary then has no `eval`).
    #[arg(long)]
    pub no_eval: bool,
}

impl LoopArgs {
    /// [`train`] with these flags: a new run from `config`, or `--resume`.
    pub fn train<F: Family>(
        &self,
        g: &Global,
        config: impl FnOnce() -> anyhow::Result<F::Config>,
    ) -> anyhow::Result<Summary<F::Eval>> {
        train::<F>(g, self.resume.as_deref(), self.epochs, self.no_eval, config)
    }

    /// Epochs and batch size from the flags, else from `defaults` (a family's
    /// `XxxParams::default().train`), with the run's `seed`.
    pub fn train_config(&self, defaults: &TrainConfig, seed: u64) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs.unwrap_or(defaults.epochs),
            batch_size: self.batch_size.unwrap_or(defaults.batch_size),
            seed,
        }
    }
}

/// The data flags of a command that fits on a data set: the source, the table (CSV / `.npy`)
/// options and a cap on the training examples.
#[derive(Debug, Args)]
pub struct DataArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub table: TableArgs,

    /// Train on the first N training examples only.
    #[arg(long, value_name = "N")]
    pub train_examples: Option<usize>,
}

impl DataArgs {
    /// The data configuration of these flags, binarised by `binarize`.
    pub fn data_config(&self, binarize: Binarize) -> anyhow::Result<DataConfig> {
        Ok(DataConfig {
            train_examples: self.train_examples,
            ..self.common.data_config(binarize, &self.table)?
        })
    }
}

/// The flags of a family that trains on a data set on the run driver: the data and the
/// training loop.
#[derive(Debug, Args)]
pub struct DataTrainArgs {
    #[command(flatten)]
    pub data: DataArgs,

    #[command(flatten)]
    pub train_loop: LoopArgs,
}

impl DataTrainArgs {
    /// The data configuration of these flags, binarised by `binarize`.
    pub fn data_config(&self, binarize: Binarize) -> anyhow::Result<DataConfig> {
        self.data.data_config(binarize)
    }

    /// The loop flags over a family's `defaults`, with the run's seed.
    pub fn train_config(&self, defaults: &TrainConfig, g: &Global) -> TrainConfig {
        self.train_loop.train_config(defaults, g.seed())
    }
}

/// Flags of a `sample` verb that draws from a trained run.
#[derive(Debug, Args)]
pub struct RunSampleArgs {
    /// The run directory of the trained model.
    pub run: PathBuf,

    /// Number of samples (tiles in the grid).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub n: usize,
}

/// The `--data` flag of the `eval` verbs.
#[derive(Debug, Args)]
pub struct EvalDataArgs {
    /// Evaluate on other data of the same width (same forms as for training) [default: the run's].
    #[arg(long, value_name = "digits|fashion-mnist|PATH")]
    pub data: Option<String>,
}

impl EvalDataArgs {
    /// What the evaluation reads (`--data`, or the run's data), with `--seed` and `--device`.
    pub fn target(&self, g: &Global) -> anyhow::Result<EvalTarget> {
        Ok(EvalTarget {
            source: self.data.as_deref().map(str::parse).transpose()?,
            seed: g.seed,
            device: g.device_kind()?,
        })
    }
}

/// Flags of the verbs that write codes (`rbm transform`, `vae encode`).
#[derive(Debug, Args)]
pub struct CodesArgs {
    /// The run directory of a trained model.
    pub run: PathBuf,

    /// Encode other data of the same width (same forms as for training) [default: the run's
    /// test set].
    #[arg(long, value_name = "digits|fashion-mnist|PATH")]
    pub data: Option<String>,
}

/// A family's verb that writes codes: run directory, `--data`, device, `--out`.
type CodesFn = fn(&Path, &CodesRequest) -> helmholtz::Result<CodesSummary>;

impl CodesArgs {
    /// Write the codes with `codes` (`rbm::transform_run`, `vae::encode_run`) and print
    /// `wrote FILE (N examples x W <what>)`.
    pub fn write(&self, g: &Global, what: &str, codes: CodesFn) -> anyhow::Result<()> {
        let request = CodesRequest {
            source: self.data.as_deref().map(str::parse).transpose()?,
            device: g.device_kind()?,
            out: g.out.clone(),
        };
        let s = codes(&self.run, &request)?;
        let human = format!(
            "wrote {} ({} examples x {} {what})",
            s.file.display(),
            s.examples,
            s.width
        );
        emit(g.json, &human, &s)
    }
}

/// A family's `sample` verb on a run directory: the request, `--out`.
type SampleFn = fn(&Path, &SampleRequest) -> helmholtz::Result<SampleSummary>;

/// `<family> sample RUN --n N` of a family whose samples are a grid of draws
/// (`gan::sample_run`, `vae::sample_run`): prints `wrote FILE (N samples <what>)`.
pub fn sample(g: &Global, run: &Path, n: usize, what: &str, draw: SampleFn) -> anyhow::Result<()> {
    let request = SampleRequest {
        n,
        seed: g.seed(),
        device: g.device_kind()?,
        out: g.out.clone(),
    };
    let s = draw(run, &request)?;
    emit(
        g.json,
        &format!("wrote {} ({} samples {what})", s.file.display(), s.n),
        &s,
    )
}

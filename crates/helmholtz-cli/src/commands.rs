//! The verbs every trainable family shares, generic over [`Family`]: train (or resume) through
//! the run driver, then print the one summary shape.

use std::path::Path;

use helmholtz::run::{self, Family, RunOptions, Summary};
use serde::Serialize;

use crate::common::{RunFlags, emit, interrupt_flag, progress_bar};

/// `<family> train`: a new run from `config`, or `--resume DIR` (then `epochs` may raise the
/// total); a progress bar on stderr and Ctrl-C saving a checkpoint.
pub fn train<F: Family>(
    flags: &RunFlags,
    resume: Option<&Path>,
    epochs: Option<usize>,
    no_eval: bool,
    config: impl FnOnce() -> anyhow::Result<F::Config>,
) -> anyhow::Result<Summary<F::Eval>> {
    flags.init()?;
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
        None => run::train::<F>(config()?, flags.out.as_deref(), &opts)?,
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

//! `helmholtz runs [DIR]` and `helmholtz runs compare RUN...`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use helmholtz::run::listing::{self, RunEntry, RunsComparison, Status};

use crate::common::{Global, emit};

/// Flags of `runs`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RunsArgs {
    #[command(subcommand)]
    cmd: Option<RunsCommand>,

    /// The folder of run directories.
    #[arg(default_value = "runs", value_name = "DIR")]
    dir: PathBuf,
}

/// `runs` subcommands.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Draw the per-epoch metric curves of several runs overlaid, one picture per metric, in
    /// one report.
    Compare {
        /// Run directories (at least two).
        #[arg(required = true, num_args = 2.., value_name = "RUN")]
        runs: Vec<PathBuf>,
    },
}

/// Run `runs`.
pub fn run(a: RunsArgs, g: &Global) -> anyhow::Result<()> {
    match a.cmd {
        Some(RunsCommand::Compare { runs }) => {
            let c = listing::compare(&runs, g.out.as_deref())?;
            emit(g.json, &compared(&c), &c)
        }
        None => {
            let runs = listing::list(&a.dir)?;
            emit(g.json, &table(&runs), &serde_json::json!({ "runs": runs }))
        }
    }
}

fn table(runs: &[RunEntry]) -> String {
    let mut out = format!(
        "{:<40} {:<10} {:<16} {:>6}  {:<12} headline\n",
        "run", "family", "started (UTC)", "epochs", "status"
    );
    for r in runs {
        let status = match r.status {
            Status::Finished => "finished",
            Status::Interrupted => "interrupted",
            Status::Failed => "failed",
        };
        out.push_str(&format!(
            "{:<40} {:<10} {:<16} {:>6}  {:<12} {}\n",
            r.dir.display(),
            r.family,
            r.started,
            r.epochs
                .map(|e| e.to_string())
                .unwrap_or_else(|| "-".into()),
            status,
            r.headline
                .as_ref()
                .map(|(k, v)| format!("{k} {v:.4}"))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!("{} runs", runs.len()));
    out
}

fn compared(c: &RunsComparison) -> String {
    format!(
        "{} runs, {} metrics overlaid ({}) -> {}",
        c.runs.len(),
        c.metrics.len(),
        c.metrics.join(", "),
        c.run_dir.display()
    )
}

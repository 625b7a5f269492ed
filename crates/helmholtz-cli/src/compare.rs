//! `helmholtz compare`: one table in nats.

use std::path::PathBuf;

use clap::Args;
use helmholtz::compare::{self, CompareConfig, CompareSummary};

use crate::common::{Global, write_run};

/// Flags of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Train small versions of every model (a few minutes in all) instead of the full ones.
    #[arg(long, conflicts_with = "runs")]
    quick: bool,

    /// Tabulate these finished runs (rbm, vae, gan, hm, baseline, pc --mode unsupervised)
    /// instead of training.
    #[arg(long, num_args = 1.., value_name = "DIR")]
    runs: Vec<PathBuf>,
}

/// Run `compare`.
pub fn run(a: CompareArgs, g: &Global) -> anyhow::Result<()> {
    let cfg = CompareConfig {
        family: compare::FAMILY.into(),
        quick: a.quick,
        runs: a.runs,
        seed: g.seed(),
    };
    write_run(g, &cfg, |c, out, p| compare::compare(c, out, p), table)
}

fn table(s: &CompareSummary) -> String {
    format!("{}-> {}", s.table(), s.run_dir.display())
}

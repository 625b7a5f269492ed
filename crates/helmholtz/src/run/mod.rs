//! The run driver: one way to train, resume and evaluate every trainable family into a run
//! directory.
//!
//! A family describes itself once by implementing [`Family`] (its run configuration, how its
//! data are prepared, how its [`Fit`](crate::train::Fit) is built and how it is evaluated);
//! [`train`] and [`resume`] then own everything around it:
//!
//! 1. validation and data loading, before the run directory exists (bad input leaves nothing);
//! 2. `config.json`, the family's configuration inside the [`Envelope`] (family, version,
//!    command line, UTC start time, seed, threads);
//! 3. the training loop ([`crate::train::Trainer`]) with progress, Ctrl-C, checkpoints and
//!    `metrics.jsonl`;
//! 4. the final evaluation in `eval.json` (later evaluations go beside it, see [`record_eval`]),
//!    and `report.html`;
//! 5. one cleanup policy: a run that failed before its first checkpoint is removed, a run with a
//!    checkpoint is kept and can be resumed;
//! 6. one [`Summary`], printed by the command line as the last line of `train --json`.

mod driver;
mod envelope;
mod finite;
pub mod listing;
mod samples;
mod summary;

pub use driver::{
    CodesRequest, CodesSummary, Family, FamilyTypes, RunConfig, RunOptions, TrainingData,
    eval_stem, open, open_model, record_eval, record_eval_at, refuse_non_finite, register_picture,
    resume, save_model, train, write_codes, write_eval,
};
pub(crate) use driver::{family, run_config};
pub use envelope::Envelope;
pub use finite::first_non_finite;
pub use samples::{
    EvalTarget, SAMPLE_BYTES, SampleRequest, SampleSummary, check_samples, save_samples,
};
pub use summary::Summary;

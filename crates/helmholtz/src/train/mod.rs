//! Training infrastructure shared by every family: the fit loop, checkpoints, run directories
//! and progress reporting.

mod checkpoint;
mod progress;
mod run_dir;
mod trainer;

pub use checkpoint::{Blob, TensorFile};
pub use progress::{Progress, Silent};
pub use run_dir::{Figure, Position, RunDir, utc_timestamp, write_atomic};
pub use trainer::{
    Fit, FitReport, Metrics, Step, TrainConfig, Trainer, discard_if_unsaved, resume, resume_epochs,
};

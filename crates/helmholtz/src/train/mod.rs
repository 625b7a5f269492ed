//! The fit loop shared by every family, its checkpoints, and progress reporting.

mod progress;
mod trainer;

pub use progress::{Progress, Silent};
pub use trainer::{
    Fit, FitReport, Metrics, Step, TrainConfig, Trainer, discard_if_unsaved, resume,
};

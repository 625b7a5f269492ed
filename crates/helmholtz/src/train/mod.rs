//! The fit loop shared by every family, its checkpoints, and progress reporting.

mod progress;
mod trainer;

pub use progress::{Progress, Silent};
pub use trainer::{
    EpochData, Fit, FitReport, Metrics, PictureAt, Step, TrainConfig, Trainer, Updates,
    discard_if_unsaved, mini_batch, resume,
};

//! The one summary every trained family reports.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

/// What `train` (and `train --resume`) reports, the same shape for every family:
///
/// ```json
/// {"family": "vae", "run_dir": "runs/vae-...", "epochs": 50, "train_seconds": 13.3,
///  "eval": {...}, "last_epoch": {...}}
/// ```
/// `eval` is absent when no evaluation ran; a figure that was not computed is never shown as 0.
#[derive(Debug, Clone, Serialize)]
pub struct Summary<E> {
    /// The family.
    pub family: String,
    /// The run directory.
    pub run_dir: PathBuf,
    /// Epochs trained in total (over every call on this run).
    pub epochs: usize,
    /// Seconds spent training in this call (evaluation excluded).
    pub train_seconds: f64,
    /// The final evaluation, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval: Option<E>,
    /// Metrics of the last epoch, as in `metrics.jsonl`.
    pub last_epoch: Map<String, Value>,
}

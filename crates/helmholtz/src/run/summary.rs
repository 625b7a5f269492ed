//! The one summary every trained family reports.

use std::path::PathBuf;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// `value` as JSON without the `null` fields of its objects, at any depth.
fn without_nulls<S: Serializer, E: Serialize>(value: &Option<E>, s: S) -> Result<S::Ok, S::Error> {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|_, x| !x.is_null());
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(value).map_err(serde::ser::Error::custom)?;
    strip(&mut v);
    v.serialize(s)
}

/// What `train` (and `train --resume`) reports, the same shape for every family:
///
/// ```json
/// {"family": "vae", "run_dir": "runs/vae-...", "epochs": 50, "train_seconds": 13.3,
///  "eval": {...}, "last_epoch": {...}}
/// ```
/// `eval` is absent when no evaluation ran; a figure that was not computed is never shown as 0.
#[derive(Debug, Clone, Serialize)]
#[serde(bound(serialize = "E: Serialize"))]
pub struct Summary<E> {
    /// The family.
    pub family: String,
    /// The run directory.
    pub run_dir: PathBuf,
    /// Epochs trained in total (over every call on this run).
    pub epochs: usize,
    /// Seconds spent training in this call (evaluation excluded).
    pub train_seconds: f64,
    /// The final evaluation, when it ran; its figures that were not computed (`None`) are left
    /// out, not written as `null`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "without_nulls"
    )]
    pub eval: Option<E>,
    /// Metrics of the last epoch, as in `metrics.jsonl`.
    pub last_epoch: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Eval {
        ll: f64,
        entropy: Option<f64>,
        held_out: Inner,
    }

    #[derive(Serialize)]
    struct Inner {
        accuracy: Option<f64>,
        rmse: Option<f64>,
    }

    #[test]
    fn figures_that_were_not_computed_are_absent() -> serde_json::Result<()> {
        // (serde_json maps keep their keys sorted: `held_out` before `ll`.)
        let summary = Summary {
            family: "toy".into(),
            run_dir: PathBuf::from("runs/toy"),
            epochs: 1,
            train_seconds: 0.5,
            eval: Some(Eval {
                ll: -1.5,
                entropy: None,
                held_out: Inner {
                    accuracy: Some(0.9),
                    rmse: None,
                },
            }),
            last_epoch: Map::new(),
        };
        let text = serde_json::to_string(&summary)?;
        assert!(!text.contains("null") && !text.contains("entropy") && !text.contains("rmse"));
        assert!(
            text.contains(r#""eval":{"held_out":{"accuracy":0.9},"ll":-1.5}"#),
            "{text}"
        );
        Ok(())
    }
}

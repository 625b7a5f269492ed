//! `config.json`: a family's run configuration inside the envelope every run shares.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::{RunDir, utc_timestamp};

/// What every `config.json` holds, with the family's own configuration flattened beside it.
///
/// ```json
/// {"family": "rbm", "helmholtz_version": "0.1.0", "command_line": ["helmholtz", "rbm", "train"],
///  "started_utc": "20261128-203410", "seed": 0, "threads": 2, "model": {...}, "train": {...}}
/// ```
/// Runs written before the envelope existed have only `family` and `helmholtz_version`; the
/// other fields then read as empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<C> {
    /// The family (`rbm`, `vae`, ...).
    pub family: String,
    /// The helmholtz version that created the run.
    #[serde(default)]
    pub helmholtz_version: String,
    /// The command that created the run, when it came from the command line.
    #[serde(default)]
    pub command_line: Vec<String>,
    /// When the run was created, `YYYYMMDD-HHMMSS` in UTC.
    #[serde(default)]
    pub started_utc: String,
    /// The run's seed.
    #[serde(default)]
    pub seed: u64,
    /// Worker threads the run was created with.
    #[serde(default)]
    pub threads: usize,
    /// The family's configuration.
    #[serde(flatten)]
    pub config: C,
}

impl<C> Envelope<C> {
    /// A new envelope for `config`, stamped now.
    pub fn new(family: &str, seed: u64, command_line: Vec<String>, config: C) -> Self {
        Self {
            family: family.to_owned(),
            helmholtz_version: env!("CARGO_PKG_VERSION").to_owned(),
            command_line,
            started_utc: utc_timestamp(),
            seed,
            threads: rayon::current_num_threads(),
            config,
        }
    }
}

impl<C: Serialize + serde::de::DeserializeOwned> Envelope<C> {
    /// Read `config.json` of `run`.
    pub fn read(run: &RunDir) -> Result<Self> {
        run.read_json("config.json")
    }

    /// Write `config.json` of `run`.
    pub fn write(&self, run: &RunDir) -> Result<()> {
        if self.family.is_empty() {
            return Err(Error::Internal(
                "a run configuration without a family".into(),
            ));
        }
        run.write_json("config.json", self)
    }
}

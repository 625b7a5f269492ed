//! The run directory: everything a training run leaves behind.
//!
//! ```text
//! config.json         what is needed to rebuild the model (family, model, training, data)
//! metrics.jsonl       one JSON object per finished epoch
//! model.safetensors   the parameters (names documented per family in the README)
//! trainer.safetensors optimiser / sampler state for --resume (momentum, persistent chains)
//! checkpoint.json     position of the checkpoint: epochs done, batches done in the next epoch
//! figures.json        the pictures, with captions, in the order the report shows them
//! eval.json           the last evaluation summary
//! *.png, report.html  pictures and the self-contained report
//! ```
//! Every file is written to a temporary name and renamed into place.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::write_atomic;
use crate::error::{Error, IoContext, Result};

/// A picture in the run directory and what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// File name inside the run directory.
    pub file: String,
    /// One-line caption.
    pub caption: String,
}

/// Position of a checkpoint in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Position {
    /// Epochs fully done.
    pub epochs_done: usize,
    /// Batches of the next epoch already done (non-zero after an interruption).
    pub batches_done: usize,
}

/// A run directory on disk.
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
}

/// The family-independent part of `config.json`.
#[derive(Debug, Clone, Deserialize)]
struct Envelope {
    family: String,
}

impl RunDir {
    /// Create a new, empty run directory (parents included). Fails if `path` exists and is not empty.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        if path.exists() && !path.is_dir() {
            return Err(Error::bad_file(
                &path,
                "exists and is not a directory (a run directory is a folder of its own)",
            ));
        }
        if path.exists() {
            let empty = std::fs::read_dir(&path).at(&path)?.next().is_none();
            if !empty {
                return Err(Error::bad_file(
                    &path,
                    "output directory already exists and is not empty (choose another, or resume the run in it)",
                ));
            }
        }
        std::fs::create_dir_all(&path).map_err(|e| {
            Error::bad_file(&path, format!("cannot create the run directory here ({e})"))
        })?;
        Ok(Self { path })
    }

    /// A fresh directory `root/<family>-<UTC timestamp>` (suffixed `-2`, `-3`, ... if taken).
    pub fn create_default(root: impl AsRef<Path>, family: &str) -> Result<Self> {
        let stamp = utc_timestamp();
        let base = root.as_ref().join(format!("{family}-{stamp}"));
        let mut candidate = base.clone();
        let mut k = 2;
        while candidate.exists() {
            candidate = PathBuf::from(format!("{}-{k}", base.display()));
            k += 1;
        }
        Self::create(candidate)
    }

    /// Where a command on this run writes its output: `out`, or `RUN/<default_name>`. An `out`
    /// that is one of the run's own files (its model, checkpoint, configuration, metrics,
    /// evaluation or report) is refused: nothing a user made is overwritten.
    pub fn output(&self, out: Option<&Path>, default_name: &str) -> Result<PathBuf> {
        const OWN: [&str; 8] = [
            "config.json",
            "checkpoint.json",
            "model.safetensors",
            "trainer.safetensors",
            "metrics.jsonl",
            "eval.json",
            "figures.json",
            "report.html",
        ];
        let Some(out) = out else {
            return Ok(self.file(default_name));
        };
        let name = out.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let same_dir = match (parent.canonicalize(), self.path.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same_dir && OWN.contains(&name) {
            return Err(Error::param(
                "out",
                format!(
                    "{} is the run's own {name}; write the output to another file",
                    out.display()
                ),
            ));
        }
        Ok(out.to_path_buf())
    }

    /// The family recorded in `config.json`, if it is there.
    pub fn family(&self) -> Option<String> {
        let config: serde_json::Value = self.read_json("config.json").ok()?;
        Some(config.get("family")?.as_str()?.to_owned())
    }

    /// Paths of the checkpoint's model and trainer files (for the errors of their readers).
    pub fn checkpoint_paths(&self) -> (PathBuf, PathBuf) {
        (
            self.file("model.safetensors"),
            self.file("trainer.safetensors"),
        )
    }

    /// The run directory `out`, or a fresh `runs/<family>-<UTC timestamp>` when none is given.
    pub fn create_at(out: Option<&Path>, family: &str) -> Result<Self> {
        match out {
            Some(p) => Self::create(p),
            None => Self::create_default("runs", family),
        }
    }

    /// Create the run directory as [`RunDir::create_at`] does, let `fill` write it, and remove
    /// it again when `fill` fails: a one-shot run (no checkpoint to resume) is either complete
    /// or absent.
    pub fn create_filled<T>(
        out: Option<&Path>,
        family: &str,
        fill: impl FnOnce(&RunDir) -> Result<T>,
    ) -> Result<T> {
        let run = Self::create_at(out, family)?;
        let result = fill(&run);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(run.path());
        }
        result
    }

    /// Open an existing run of `family`; the error says what is missing or which family it holds.
    pub fn open(path: impl Into<PathBuf>, family: &str) -> Result<Self> {
        let path = path.into();
        if !path.is_dir() {
            return Err(Error::NotARun {
                path,
                reason: "no such directory".into(),
            });
        }
        let config = path.join("config.json");
        if !config.is_file() {
            return Err(Error::NotARun {
                path,
                reason: "config.json is missing".into(),
            });
        }
        let text = std::fs::read_to_string(&config).at(&config)?;
        let env: Envelope = serde_json::from_str(&text)
            .map_err(|e| Error::bad_file(&config, format!("not a helmholtz config ({e})")))?;
        if env.family != family {
            return Err(Error::WrongFamily {
                path,
                expected: family.into(),
                found: env.family,
            });
        }
        if !path.join("model.safetensors").is_file() {
            return Err(Error::NotARun {
                path,
                reason: "model.safetensors is missing (training never finished an epoch)".into(),
            });
        }
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `path/name`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Write `value` as pretty JSON to `name`.
    pub fn write_json(&self, name: &str, value: &impl Serialize) -> Result<()> {
        let text =
            serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
        write_atomic(&self.file(name), text.as_bytes())
    }

    /// Read `name` as JSON.
    pub fn read_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        let path = self.file(name);
        let text = std::fs::read_to_string(&path).at(&path)?;
        serde_json::from_str(&text)
            .map_err(|e| Error::bad_file(&path, format!("invalid JSON ({e})")))
    }

    /// The per-epoch metrics recorded so far.
    pub fn metrics(&self) -> Result<Vec<Value>> {
        let path = self.file("metrics.jsonl");
        if !path.exists() {
            return Ok(Vec::new());
        }
        let text = std::fs::read_to_string(&path).at(&path)?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .map_err(|e| Error::bad_file(&path, format!("invalid JSON line ({e})")))
            })
            .collect()
    }

    /// Replace metrics.jsonl with `rows` (atomic; used to append and to truncate on resume).
    pub fn write_metrics(&self, rows: &[Value]) -> Result<()> {
        let mut text = String::new();
        for r in rows {
            text.push_str(&r.to_string());
            text.push('\n');
        }
        write_atomic(&self.file("metrics.jsonl"), text.as_bytes())
    }

    /// The pictures registered so far.
    pub fn figures(&self) -> Result<Vec<Figure>> {
        if !self.file("figures.json").exists() {
            return Ok(Vec::new());
        }
        self.read_json("figures.json")
    }

    /// Register (or re-caption) a picture.
    pub fn add_figure(&self, file: &str, caption: &str) -> Result<()> {
        let mut figs = self.figures()?;
        match figs.iter_mut().find(|f| f.file == file) {
            Some(f) => f.caption = caption.to_owned(),
            None => figs.push(Figure {
                file: file.to_owned(),
                caption: caption.to_owned(),
            }),
        }
        self.write_json("figures.json", &figs)
    }

    /// Where the last checkpoint stands (zero when there is none).
    pub fn position(&self) -> Result<Position> {
        if !self.file("checkpoint.json").exists() {
            return Ok(Position::default());
        }
        self.read_json("checkpoint.json")
    }
}

/// `YYYYMMDD-HHMMSS` in UTC.
pub fn utc_timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2000-03-01 is day 11017; 2024-02-29 is day 19782.
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}

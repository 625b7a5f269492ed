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
//! checkpoints/NNNNNN/ the newest committed checkpoint generation (model, trainer, position)
//! .lock               held by the one process writing the run
//! ```
//! Every file is written to a temporary name and renamed into place.
//!
//! A checkpoint is one *generation*: `checkpoints/NNNNNN.partial/` is filled and flushed, then
//! committed by one rename to `checkpoints/NNNNNN/`; only then are the previous generations
//! removed and the top-level `model.safetensors`, `trainer.safetensors` and `checkpoint.json`
//! replaced by links to the new one (each by a rename). A crash or a failed write at any moment
//! leaves the previous generation whole; opening the run again publishes the newest committed
//! generation and removes leftovers (partial generations, stale temporary files).
//!
//! One process writes a run at a time: creating or opening a run takes an exclusive OS lock on
//! `.lock` (released when the process ends, however it ends); a second writer is refused,
//! naming the holder.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{TensorFile, faults, sync_dir, write_atomic, write_synced};
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

/// A run directory on disk, locked for writing while this value (or a clone) lives.
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
    _lock: Option<Arc<File>>,
}

/// The checkpoint files, in the order a generation is written.
const CHECKPOINT_FILES: [&str; 3] = [
    "model.safetensors",
    "trainer.safetensors",
    "checkpoint.json",
];

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
            // Left by a process that died while creating the run: a lock, temporary files.
            let leftover = |e: &std::fs::DirEntry| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name == ".lock" || (name.starts_with('.') && name.ends_with(".tmp"))
            };
            let empty = std::fs::read_dir(&path)
                .at(&path)?
                .flatten()
                .all(|e| leftover(&e));
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
        let lock = lock_run(&path)?;
        remove_stale_temporaries(&path);
        Ok(Self { path, _lock: lock })
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
        let path = run.path().to_path_buf();
        unfinished().push(path.clone());
        let result = fill(&run);
        unfinished().retain(|p| *p != path);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(run.path());
        }
        result
    }

    /// Remove the one-shot runs that [`RunDir::create_filled`] is filling right now; called by
    /// a signal handler just before the process exits, so that an interrupted one-shot command
    /// leaves nothing behind.
    pub fn discard_unfinished() {
        for path in unfinished().drain(..) {
            // The filling thread may still be adding files: try a few times.
            for _ in 0..5 {
                if std::fs::remove_dir_all(&path).is_ok() || !path.exists() {
                    break;
                }
            }
        }
    }

    /// Open an existing run of `family`; the error says what is missing or which family it holds.
    pub fn open(path: impl Into<PathBuf>, family: &str) -> Result<Self> {
        let path = path.into();
        let found = Self::family_at(&path)?;
        if found != family {
            return Err(Error::WrongFamily {
                path,
                expected: family.into(),
                found,
            });
        }
        let run = Self {
            _lock: lock_run(&path)?,
            path,
        };
        run.recover()?;
        if !run.file("model.safetensors").is_file() {
            return Err(Error::NotARun {
                path: run.path,
                reason: "model.safetensors is missing (training never finished an epoch)".into(),
            });
        }
        Ok(run)
    }

    /// The family of the run in `path`, from its `config.json` (without opening the run); the
    /// error says what is missing.
    pub fn family_at(path: &Path) -> Result<String> {
        if !path.is_dir() {
            return Err(Error::NotARun {
                path: path.to_path_buf(),
                reason: "no such directory".into(),
            });
        }
        let config = path.join("config.json");
        if !config.is_file() {
            return Err(Error::NotARun {
                path: path.to_path_buf(),
                reason: "config.json is missing".into(),
            });
        }
        let text = std::fs::read_to_string(&config).at(&config)?;
        let env: Envelope = serde_json::from_str(&text)
            .map_err(|e| Error::bad_file(&config, format!("not a helmholtz config ({e})")))?;
        Ok(env.family)
    }

    /// Open a run of `family` to continue it: as [`RunDir::open`], but a run interrupted before
    /// its first checkpoint (no model yet) is accepted too; it resumes from the start.
    pub fn open_to_resume(path: impl Into<PathBuf>, family: &str) -> Result<Self> {
        match Self::open(path, family) {
            Err(Error::NotARun { path, .. }) if path.join("config.json").is_file() => {
                let run = Self {
                    _lock: lock_run(&path)?,
                    path,
                };
                run.recover()?;
                Ok(run)
            }
            other => other,
        }
    }

    /// Whether a checkpoint has been committed (training finished at least one save).
    pub fn has_checkpoint(&self) -> bool {
        self.newest_generation().is_some() || self.file("model.safetensors").is_file()
    }

    /// Commit a checkpoint: the model and trainer state at `pos`, as a new generation (see the
    /// module documentation), then publish it as the run's top-level files.
    pub fn commit_checkpoint(
        &self,
        model: &TensorFile,
        trainer: &TensorFile,
        pos: Position,
    ) -> Result<()> {
        let root = self.file("checkpoints");
        std::fs::create_dir_all(&root).at(&root)?;
        let next = self.newest_generation().map_or(1, |(g, _)| g + 1);
        let partial = root.join(format!("{next:06}.partial"));
        if partial.exists() {
            std::fs::remove_dir_all(&partial).at(&partial)?;
        }
        std::fs::create_dir(&partial).at(&partial)?;
        let position =
            serde_json::to_string_pretty(&pos).map_err(|e| Error::Internal(e.to_string()))?;
        let contents = [
            model.to_bytes()?,
            trainer.to_bytes()?,
            position.into_bytes(),
        ];
        let generation = root.join(format!("{next:06}"));
        let committed = (|| {
            for (name, bytes) in CHECKPOINT_FILES.iter().zip(&contents) {
                write_synced(&partial.join(name), bytes)
                    .map_err(|e| e.at_path(&self.file(name)))?;
            }
            sync_dir(&partial);
            faults::hit()?;
            std::fs::rename(&partial, &generation).at(&generation)
        })();
        if committed.is_err() {
            // Best effort (a full disk may still refuse); the next open removes it anyway.
            let _ = std::fs::remove_dir_all(&partial);
        }
        committed?;
        sync_dir(&root);
        self.publish(&generation)?;
        self.remove_old_generations(next);
        Ok(())
    }

    /// Bring the run to its newest committed checkpoint: publish it as the top-level files if
    /// they lag behind (a crash between the commit and the publication), and remove partial or
    /// older generations and stale temporary files. Done on every open.
    pub fn recover(&self) -> Result<()> {
        remove_stale_temporaries(&self.path);
        remove_stale_temporaries(&self.file("evals"));
        let Some((g, generation)) = self.newest_generation() else {
            return Ok(());
        };
        // The position is published last: when it is the committed one, so are the tensors.
        let published = std::fs::read(self.file("checkpoint.json")).ok();
        let committed = std::fs::read(generation.join("checkpoint.json")).ok();
        let missing = CHECKPOINT_FILES.iter().any(|f| !self.file(f).is_file());
        if published != committed || missing {
            self.publish(&generation)?;
        }
        self.remove_old_generations(g);
        Ok(())
    }

    /// The newest committed generation: its number and folder.
    fn newest_generation(&self) -> Option<(u64, PathBuf)> {
        let root = self.file("checkpoints");
        std::fs::read_dir(&root)
            .ok()?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_owned();
                let g: u64 = (name.len() == 6 && name.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| name.parse().ok())??;
                let dir = e.path();
                CHECKPOINT_FILES
                    .iter()
                    .all(|f| dir.join(f).is_file())
                    .then_some((g, dir))
            })
            .max_by_key(|(g, _)| *g)
    }

    /// Replace the top-level checkpoint files by links to (or copies of) `generation`'s, each
    /// by one rename; the position goes last, so it never runs ahead of the tensors.
    fn publish(&self, generation: &Path) -> Result<()> {
        for name in CHECKPOINT_FILES {
            let target = self.file(name);
            let tmp = self.file(&format!(".{name}.{}.tmp", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            let source = generation.join(name);
            let linked = faults::hit().and_then(|()| {
                std::fs::hard_link(&source, &tmp)
                    .or_else(|_| std::fs::copy(&source, &tmp).map(|_| ()))
                    .at(&target)
            });
            let renamed = linked.and_then(|()| std::fs::rename(&tmp, &target).at(&target));
            if renamed.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            renamed?;
        }
        sync_dir(&self.path);
        Ok(())
    }

    /// Remove every generation but `keep`, and partial ones (best effort: a leftover is
    /// removed again on the next open).
    fn remove_old_generations(&self, keep: u64) {
        let root = self.file("checkpoints");
        let keep = format!("{keep:06}");
        for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            if e.file_name().to_str() != Some(keep.as_str()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
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

/// Remove `.<name>.<pid>.tmp` files left in `dir` by a process that died while writing (only
/// the holder of the run's lock writes there, so any such file is stale).
fn remove_stale_temporaries(dir: &Path) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") && e.path().is_file() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// One-shot runs being filled (see [`RunDir::discard_unfinished`]).
fn unfinished() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    UNFINISHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run directories this process holds the lock of, so that opening one twice shares the lock.
static HELD: Mutex<Vec<(PathBuf, Weak<File>)>> = Mutex::new(Vec::new());

/// Take the exclusive lock of the run in `dir` (`dir/.lock`), writing this process's id and
/// command line into it; refused when another process holds it. A folder where no lock file
/// can be made (read-only) is opened without one: nothing can be written there anyway.
fn lock_run(dir: &Path) -> Result<Option<Arc<File>>> {
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    held.retain(|(_, w)| w.strong_count() > 0);
    if let Some(f) = held
        .iter()
        .find(|(p, _)| *p == key)
        .and_then(|(_, w)| w.upgrade())
    {
        return Ok(Some(f));
    }
    let path = dir.join(".lock");
    let mut file = match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
    {
        Ok(f) => f,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another process".to_owned()
            } else {
                holder.to_owned()
            };
            return Err(Error::bad_file(
                dir,
                format!(
                    "the run is in use by {holder}; wait for it to finish (one writer at a time)"
                ),
            ));
        }
        // A file system without locks: go on unlocked rather than refuse every run.
        Err(std::fs::TryLockError::Error(_)) => {}
    }
    let command: Vec<String> = std::env::args().collect();
    let command: String = command.join(" ").chars().take(120).collect();
    let holder = format!("process {} ({command})", std::process::id());
    let _ = file.set_len(0);
    let _ = file.write_all(holder.as_bytes());
    let file = Arc::new(file);
    held.push((key, Arc::downgrade(&file)));
    Ok(Some(file))
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

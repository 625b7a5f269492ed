//! Files on disk: atomic writes, named tensors in safetensors files, and run directories.
//!
//! The lowest layer of the crate after [`crate::error`]: data readers, pictures, the training
//! loop and the run driver all write through [`write_atomic`], so a crash never leaves a
//! half-written file under its final name.

use std::io::Write;
use std::path::Path;

use crate::error::{IoContext, Result};

mod run_dir;
mod tensor_file;

pub use run_dir::{Figure, Position, RunDir, utc_timestamp};
pub use tensor_file::{Blob, TensorFile};

/// Write `bytes` to `path` atomically: a temporary file in the same folder, flushed, renamed.
/// Errors name `path` (the temporary file is an implementation detail, removed on failure).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // Every failure is reported against `path`: the temporary name is ours, not the user's.
    let result = (|| {
        write_synced(&tmp, bytes).map_err(|e| e.at_path(path))?;
        faults::hit()?;
        std::fs::rename(&tmp, path).at(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Write `bytes` to `path` (created or truncated) and flush them to the disk before returning.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    faults::hit()?;
    let mut f = std::fs::File::create(path).at(path)?;
    f.write_all(bytes).at(path)?;
    f.sync_all().at(path)
}

/// Flush a folder's entries (a rename or a new file in it) to the disk. Best effort: some file
/// systems cannot open a folder for syncing.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Fault injection for the crash-safety tests: every file write and rename of the crate calls
/// [`faults::hit`], and a test can make the `k`-th of them on its thread fail.
pub(crate) mod faults {
    use crate::error::Result;

    #[cfg(test)]
    thread_local! {
        static PLAN: std::cell::Cell<(usize, Option<usize>)> = const { std::cell::Cell::new((0, None)) };
    }

    /// Count one write on this thread; fails when it is the one [`arm`] chose.
    #[cfg(test)]
    pub(crate) fn hit() -> Result<()> {
        PLAN.with(|p| {
            let (count, fail_at) = p.get();
            p.set((count + 1, fail_at));
            if fail_at == Some(count + 1) {
                Err(crate::error::Error::io(
                    "injected-fault",
                    std::io::Error::other("injected write failure"),
                ))
            } else {
                Ok(())
            }
        })
    }

    /// Start counting writes on this thread from zero; the `fail_at`-th one (1-based) fails.
    #[cfg(test)]
    pub(crate) fn arm(fail_at: Option<usize>) {
        PLAN.with(|p| p.set((0, fail_at)));
    }

    /// Writes counted on this thread since [`arm`].
    #[cfg(test)]
    pub(crate) fn count() -> usize {
        PLAN.with(|p| p.get().0)
    }

    #[cfg(not(test))]
    #[inline(always)]
    pub(crate) fn hit() -> Result<()> {
        Ok(())
    }
}

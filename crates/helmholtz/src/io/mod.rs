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
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // Every failure is reported against `path`: the temporary name is ours, not the user's.
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })()
    .at(path);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

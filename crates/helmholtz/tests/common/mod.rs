//! Helpers shared by the library's test files.

#![allow(dead_code)]

pub mod prose;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use helmholtz::data::IdxArray;
use helmholtz::io::TensorFile;
use helmholtz::run::{self, Family, RunOptions};
use helmholtz::train::{Progress, Silent};
use helmholtz::{Error, Result};

/// A progress sink that raises the interrupt flag after `at` updates, as Ctrl-C would.
pub struct InterruptAt {
    pub flag: Arc<AtomicBool>,
    pub at: u64,
    pub done: AtomicU64,
}

impl Progress for InterruptAt {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, n: u64) {
        if self.done.fetch_add(n, Ordering::SeqCst) + n >= self.at {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
    fn set_position(&self, _: u64) {}
    fn message(&self, _: String) {}
    fn line(&self, _: &str) {}
    fn finish(&self) {}
}

fn quiet(stop_after: Option<usize>) -> RunOptions<'static> {
    RunOptions {
        progress: &Silent,
        stop_after,
        skip_eval: true,
        ..RunOptions::default()
    }
}

fn tensors(dir: &Path, file: &str) -> Result<TensorFile> {
    TensorFile::load(&dir.join(file))
}

/// The run driver's resume contract for family `F`: a run stopped after `stop_after` epochs
/// and resumed, and a run interrupted (Ctrl-C) after `interrupt_at` updates and resumed, end
/// with model and trainer tensors identical to an uninterrupted run's, and with one metrics row
/// per epoch. `cfg` must train for more than `stop_after` epochs.
pub fn check_resume<F: Family>(cfg: F::Config, stop_after: usize, interrupt_at: u64) -> Result<()> {
    let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let full = tmp.path().join("full");
    let epochs = run::train::<F>(cfg.clone(), Some(&full), &quiet(None))?.epochs;
    let split = tmp.path().join("split");
    run::train::<F>(cfg.clone(), Some(&split), &quiet(Some(stop_after)))?;
    run::resume::<F>(&split, None, &quiet(None))?;
    let mid = tmp.path().join("mid");
    let flag = Arc::new(AtomicBool::new(false));
    let progress = InterruptAt {
        flag: flag.clone(),
        at: interrupt_at,
        done: AtomicU64::new(0),
    };
    let opts = RunOptions {
        progress: &progress,
        interrupt: Some(flag),
        ..quiet(None)
    };
    let err = run::train::<F>(cfg, Some(&mid), &opts).err();
    assert!(
        matches!(err, Some(Error::Interrupted { .. })),
        "expected an interruption, got {err:?}"
    );
    run::resume::<F>(&mid, None, &quiet(None))?;
    for file in ["model.safetensors", "trainer.safetensors"] {
        let reference = tensors(&full, file)?.tensors;
        assert!(
            reference == tensors(&split, file)?.tensors,
            "{file}: stop + resume differs"
        );
        assert!(
            reference == tensors(&mid, file)?.tensors,
            "{file}: Ctrl-C + resume differs"
        );
    }
    for dir in [&full, &split, &mid] {
        let metrics = std::fs::read_to_string(dir.join("metrics.jsonl"))
            .map_err(|e| Error::io("metrics.jsonl", e))?;
        assert_eq!(metrics.lines().count(), epochs, "{}", dir.display());
    }
    Ok(())
}

/// `n` small valid IDX images (`[n, 3, 2]`, every byte value).
pub fn images(n: usize) -> IdxArray {
    IdxArray {
        dims: vec![n, 3, 2],
        data: (0..n * 6).map(|i| (i * 37 % 256) as u8).collect(),
    }
}

/// `n` valid IDX labels (digits 0-9 in turn).
pub fn labels(n: usize) -> IdxArray {
    IdxArray {
        dims: vec![n],
        data: (0..n).map(|i| (i % 10) as u8).collect(),
    }
}

//! Process-wide compute settings: the thread pool, denormal flushing and the device.

use crate::keywords::keywords;
use std::sync::OnceLock;

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

static THREADS: OnceLock<usize> = OnceLock::new();

/// The most worker threads ever asked for: beyond, threads only wait on one another (and a
/// typo such as `--threads 1000` would start a thousand).
pub const MAX_THREADS: usize = 256;

/// The most worker threads this machine takes: 4 per core, at most [`MAX_THREADS`].
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    (4 * cores).min(MAX_THREADS)
}

/// A thread count `n` asked for with parameter `name`: at least 1, at most [`max_threads`].
pub fn check_thread_count(name: &'static str, n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::param(name, "must be at least 1 (got 0)"));
    }
    if n > max_threads() {
        return Err(Error::param(
            name,
            format!(
                "{n} is more than the {} this machine can use (4 per core, at most {MAX_THREADS})",
                max_threads()
            ),
        ));
    }
    Ok(())
}

/// Size the global rayon pool (used by burn's flex backend, gemm and our kernels) once per
/// process, and flush denormals to zero on every pool thread and the calling thread.
///
/// `None` keeps rayon's default (one thread per core); more than [`max_threads`] is refused.
/// Returns the number of threads in use;
/// a second call with a different request keeps the first pool.
pub fn init_threads(threads: Option<usize>) -> Result<usize> {
    if let Some(t) = threads {
        check_threads("threads", t)?;
    }
    let n = *THREADS.get_or_init(|| {
        let mut builder = rayon::ThreadPoolBuilder::new().start_handler(|_| flush_denormals_here());
        if let Some(t) = threads {
            builder = builder.num_threads(t);
        }
        // Fails only if a pool already exists (someone else built it); then use that one.
        if builder.build_global().is_err() {
            rayon::broadcast(|_| flush_denormals_here());
        }
        rayon::current_num_threads()
    });
    flush_denormals_here();
    Ok(n)
}

/// What a worker thread costs in the memory budget: its stack and per-thread buffers.
pub(crate) const THREAD_BYTES: usize = 8 << 20;

/// Refuse `threads` threads (the parameter `name`) beyond [`max_threads`] or when their stacks
/// do not fit the budget.
pub(crate) fn check_threads(name: &'static str, threads: usize) -> Result<()> {
    check_thread_count(name, threads)?;
    crate::budget::check(name, crate::budget::bytes(&[threads, THREAD_BYTES]))
}

/// Run `work` on a thread of the pool that [`init_threads`] built (the caller waits). Parallel
/// sections inside it then wake `threads - 1` other threads instead of all of them, which
/// matters when an epoch is hundreds of short parallel sections; what is computed does not
/// change.
pub fn in_pool<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    rayon::join(work, || ()).0
}

/// Set flush-to-zero and denormals-are-zero on this thread.
///
/// Denormal floats (below 1.2e-38) appear in sigmoids of large negative inputs and in decaying
/// momentum buffers; the CPU handles them in microcode, which doubled burn's epoch time here.
/// No quantity we report depends on values that small.
pub fn flush_denormals_here() {
    #[cfg(target_arch = "x86_64")]
    {
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr/ldmxcsr read and write the SSE control register of this thread only;
        // bits 15 (FTZ) and 6 (DAZ) change denormal handling and nothing else.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            csr |= 0x8040;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack));
        }
    }
}

/// Which device tensors live on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// burn's flex CPU backend (default).
    #[default]
    Cpu,
    /// burn's CUDA backend, GPU 0 (needs the `cuda` feature).
    Cuda,
}

keywords!(DeviceKind, "device", {
    Cpu => "cpu",
    Cuda => "cuda" | "gpu",
});

impl DeviceKind {
    /// The burn device, seeded with `seed` for burn's own random ops.
    pub fn device(self, seed: u64) -> Result<Device> {
        let device = match self {
            DeviceKind::Cpu => Device::flex(),
            #[cfg(feature = "cuda")]
            DeviceKind::Cuda => cuda_device()?,
            #[cfg(not(feature = "cuda"))]
            DeviceKind::Cuda => {
                return Err(Error::param(
                    "device",
                    "this build has no CUDA support; rebuild with `cargo build --release --features cuda`",
                ));
            }
        };
        device.seed(seed);
        Ok(device)
    }
}

/// CUDA device 0, checked: cubecl panics (on its device thread, then on ours) when the CUDA
/// driver library or a GPU is missing, so the first use runs under `catch_unwind` with a quiet
/// panic hook and a failure becomes an ordinary error.
#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Device> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::panic::catch_unwind(|| {
        let device = Device::cuda(0);
        let t = burn::tensor::Tensor::<1>::zeros([1], &device);
        let _ = t.into_data();
        device
    });
    std::panic::set_hook(hook);
    probe.map_err(|_| {
        Error::param(
            "device",
            "CUDA is not usable on this machine (no CUDA driver library or no GPU found); use cpu",
        )
    })
}

//! CPU kernels for the hot paths of the energy models.
//!
//! burn's flex backend runs every tensor op as its own pass, single-threaded for element-wise
//! work, and its gemm splits small-`m` products poorly over threads. A Gibbs half-step is one
//! matrix product and a chain `sigmoid(alpha * x + shift) -> compare with uniform noise`; fusing
//! that chain into one pass and splitting the product by hand is what makes CD-k, PCD and AIS
//! run near the machine's sgemm rate. These kernels work on the host buffers of flex tensors
//! (zero-copy, through burn's `extension` API); on any other device [`ops`] falls back to the
//! equivalent burn tensor expressions.
//!
//! Randomness here is counter-based: element `i` of a call keyed by `key` draws
//! `splitmix64(key + i * gamma)`, so results do not depend on how rows are split over threads.
//! The splits themselves, and the order of every sum over them, depend on the problem's shape
//! only, never on the number of threads ([`split`]): the same seed gives the same bits on one
//! thread and on many.

pub(crate) mod gemm;
pub mod linalg;
pub mod math;
pub(crate) mod noise;
pub mod ops;
pub(crate) mod rows;
pub mod runtime;
pub mod special;
pub(crate) mod split;
pub(crate) mod xoshiro;

/// Define `fn $name` that runs its body compiled for AVX-512 (x86-64-v4) or AVX2+FMA when the
/// CPU has them, and for the baseline otherwise. The body must only call `#[inline(always)]`
/// helpers for them to be vectorised with the wider instruction set.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,bmi2")]
                unsafe fn v4($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                #[target_feature(enable = "avx2,fma,bmi2")]
                unsafe fn v3($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                if $crate::kernels::has_avx512() {
                    // SAFETY: the CPU supports every feature v4 is compiled for.
                    return unsafe { v4($($arg),*) };
                }
                if $crate::kernels::has_avx2() {
                    // SAFETY: the CPU supports every feature v3 is compiled for.
                    return unsafe { v3($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// True when the CPU has AVX2 and FMA (everything `v3` in [`multiversion!`] is compiled for).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
        && std::arch::is_x86_feature_detected!("bmi2")
}

/// True when the CPU also has the AVX-512 subsets our kernels use (everything `v4` in
/// [`multiversion!`] is compiled for).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx512() -> bool {
    has_avx2()
        && std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("avx512bw")
}

/// Index of the largest value: the first one on ties; NaN never wins (`0` when every value is
/// NaN or `values` is empty).
pub fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best: Option<(usize, T)> = None;
    for (i, &v) in values.iter().enumerate() {
        if v.partial_cmp(&v).is_some() && best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map_or(0, |(i, _)| i)
}

//! `C = A B` for `f32` on the host, split over rayon's threads by hand.
//!
//! The `gemm` crate (the one burn's flex backend uses) runs one thread per call well, but its
//! own threading splits products with a small `m` (a mini-batch of 100 rows) badly: measured
//! here, a 100x784x500 product ran slower on two threads than on one. We cut the larger of
//! `m` and `n` into blocks and run each block single-threaded.
//!
//! # Determinism
//! The blocks depend on the shape `(m, k, n)` only, never on the number of threads (the rule
//! of [`super::split`]). The gemm crate chooses its k-blocking and its kernel from the shape
//! of the block it is handed (for `k > 512`, a block of at most 64 x 64 sums in other chunks
//! of `k` than a larger one), so each element's rounding depends on the block it falls in:
//! blocks cut one per thread gave different bits on one thread and on two. A product of
//! `m * n * k` multiply-adds is cut into [`split::block_count`] blocks of the larger of `m`
//! and `n` (rows balanced, columns at multiples of 16); rayon only decides which thread runs
//! which block, and on one thread the blocks run in turn.

use rayon::prelude::*;

use super::split;

/// A read-only strided matrix view into a slice.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// Backing storage.
    pub data: &'a [f32],
    /// Index of element (0, 0).
    pub offset: usize,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between rows, in elements.
    pub row_stride: usize,
    /// Distance between columns, in elements.
    pub col_stride: usize,
}

impl MatRef<'_> {
    /// True when every element the view addresses lies inside `data`.
    pub fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last =
            self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        last < self.data.len()
    }
}

/// Raw pointer that may cross threads; each thread writes a disjoint block.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: used only to hand disjoint output blocks to worker threads.
unsafe impl Send for SendPtr {}
// SAFETY: as above; no two threads write the same element.
unsafe impl Sync for SendPtr {}

/// `C[m, n] = A[m, k] B[k, n]`, written row-major into a new vector.
///
/// # Panics
/// If the inner dimensions differ or a view reaches outside its slice (caller bugs).
pub fn matmul(a: MatRef<'_>, b: MatRef<'_>) -> Vec<f32> {
    let (m, n) = (a.rows, b.cols);
    let mut c: Vec<f32> = Vec::with_capacity(m * n);
    let op = Gemm::new(SendPtr(c.as_mut_ptr()), n, a, b, Scale::ASSIGN);
    // SAFETY: with `read_dst = false` gemm writes every element of the m x n output without
    // reading it; the buffer is only exposed as a slice after `set_len`.
    unsafe {
        op.run();
        c.set_len(m * n);
    }
    c
}

/// `C <- alpha C + beta A B` in place on a row-major `C` with `ldc` columns
/// (`alpha` is ignored and `C` not read when `read_dst` is false).
///
/// # Panics
/// If shapes disagree or a view reaches outside its slice (caller bugs).
pub fn gemm_into(
    c: &mut [f32],
    a: MatRef<'_>,
    b: MatRef<'_>,
    alpha: f32,
    beta: f32,
    read_dst: bool,
) {
    let op = Gemm::over(c, a, b, Scale::new(alpha, beta, read_dst));
    // SAFETY: `c` holds exactly m x n initialised elements and the views are in bounds.
    unsafe { op.run() };
}

/// `C <- alpha C + beta A B` on the calling thread only (for callers that already split the
/// work over threads themselves).
///
/// # Panics
/// If shapes disagree or a view reaches outside its slice (caller bugs).
pub fn gemm_single(
    c: &mut [f32],
    a: MatRef<'_>,
    b: MatRef<'_>,
    alpha: f32,
    beta: f32,
    read_dst: bool,
) {
    let op = Gemm::over(c, a, b, Scale::new(alpha, beta, read_dst));
    // SAFETY: `c` holds exactly rows x cols elements and the views are in bounds.
    unsafe { op.block(0..a.rows, 0..b.cols) };
}

/// The scalars of `C <- alpha C + beta A B`; C is not read (and `alpha` ignored) when
/// `read_dst` is false.
#[derive(Clone, Copy)]
struct Scale {
    alpha: f32,
    beta: f32,
    read_dst: bool,
}

impl Scale {
    /// `C <- A B`.
    const ASSIGN: Self = Self::new(0.0, 1.0, false);

    const fn new(alpha: f32, beta: f32, read_dst: bool) -> Self {
        Self {
            alpha,
            beta,
            read_dst,
        }
    }
}

/// One product `C <- alpha C + beta A B`, to be run block by block.
#[derive(Clone, Copy)]
struct Gemm<'a> {
    a: MatRef<'a>,
    b: MatRef<'a>,
    dst: SendPtr,
    ldc: usize,
    scale: Scale,
}

impl<'a> Gemm<'a> {
    /// The product into `dst`, a row-major buffer with `ldc` columns.
    ///
    /// # Panics
    /// If the inner dimensions differ or a view reaches outside its slice (caller bugs).
    fn new(dst: SendPtr, ldc: usize, a: MatRef<'a>, b: MatRef<'a>, scale: Scale) -> Self {
        assert_eq!(a.cols, b.rows, "matmul: inner dimensions differ");
        assert!(
            a.in_bounds() && b.in_bounds(),
            "matmul: view outside its storage"
        );
        Self {
            a,
            b,
            dst,
            ldc,
            scale,
        }
    }

    /// The product into all of `c`, which must hold exactly `a.rows x b.cols` elements.
    ///
    /// # Panics
    /// As [`Gemm::new`], and if `c` has another size.
    fn over(c: &mut [f32], a: MatRef<'a>, b: MatRef<'a>, scale: Scale) -> Self {
        assert_eq!(c.len(), a.rows * b.cols, "gemm: output size");
        Self::new(SendPtr(c.as_mut_ptr()), b.cols, a, b, scale)
    }

    /// All of C, in blocks that depend on the shape only, run in parallel.
    ///
    /// # Safety
    /// `dst` must point at `a.rows * ldc` writable floats (readable too when `read_dst`).
    unsafe fn run(&self) {
        let (m, k, n) = (self.a.rows, self.a.cols, self.b.cols);
        if m == 0 || n == 0 {
            return;
        }
        let split_rows = m >= n;
        let len = if split_rows { m } else { n };
        let count = split::block_count(len, m.saturating_mul(n).saturating_mul(k));
        if count == 1 {
            // SAFETY: forwarded from the caller.
            unsafe { self.block(0..m, 0..n) };
            return;
        }
        // Column cuts on cache lines of C; row cuts balanced (the RBM's Gibbs products on a
        // 100-row batch ran 6% faster cut 50 + 50 than 48 + 52).
        let align = if split_rows { 1 } else { split::ALIGN };
        split::blocks(len, count, align)
            .into_par_iter()
            .for_each(|r| {
                let (rows, cols) = if split_rows { (r, 0..n) } else { (0..m, r) };
                // SAFETY: blocks are disjoint, so no element of C is touched by two threads.
                unsafe { self.block(rows, cols) };
            });
    }

    /// The block `rows x cols` of C, on this thread.
    ///
    /// # Safety
    /// `dst` must point at a row-major `m x ldc` buffer and the views must be in bounds.
    unsafe fn block(&self, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) {
        let (a, b, scale) = (self.a, self.b, self.scale);
        let (m, n, k) = (rows.len(), cols.len(), a.cols);
        if k == 0 {
            // An empty product: C <- alpha C (or 0).
            for r in rows {
                for j in cols.clone() {
                    // SAFETY: (r, j) lies inside the m x ldc buffer.
                    unsafe {
                        let p = self.dst.0.add(r * self.ldc + j);
                        *p = if scale.read_dst {
                            scale.alpha * *p
                        } else {
                            0.0
                        };
                    }
                }
            }
            return;
        }
        // SAFETY: offsets stay inside the views, which the caller checked.
        unsafe {
            let a_ptr = a.data.as_ptr().add(a.offset + rows.start * a.row_stride);
            let b_ptr = b.data.as_ptr().add(b.offset + cols.start * b.col_stride);
            let c_ptr = self.dst.0.add(rows.start * self.ldc + cols.start);
            gemm::gemm(
                m,
                n,
                k,
                c_ptr,
                1,
                self.ldc as isize,
                scale.read_dst,
                a_ptr,
                a.col_stride as isize,
                a.row_stride as isize,
                b_ptr,
                b.col_stride as isize,
                b.row_stride as isize,
                scale.alpha,
                scale.beta,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::noise;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|l| a[i * k + l] as f64 * b[l * n + j] as f64)
                    .sum::<f64>() as f32;
            }
        }
        c
    }

    fn view(data: &[f32], rows: usize, cols: usize, transposed: bool) -> MatRef<'_> {
        // `transposed`: data holds the cols x rows matrix row-major and we view its transpose.
        let (row_stride, col_stride) = if transposed { (1, rows) } else { (cols, 1) };
        MatRef {
            data,
            offset: 0,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    #[test]
    fn matches_naive_for_all_layouts_and_split_shapes() {
        for &(m, k, n) in &[(3, 5, 4), (100, 784, 50), (300, 64, 100), (17, 1000, 333)] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 104729) % 17) as f32 / 17.0 - 0.5)
                .collect();
            let want = naive(&a, &b, m, k, n);
            // Transposed copies for the strided cases.
            let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
            let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
            for (av, bv) in [
                (view(&a, m, k, false), view(&b, k, n, false)),
                (view(&at, m, k, true), view(&b, k, n, false)),
                (view(&a, m, k, false), view(&bt, k, n, true)),
            ] {
                let got = matmul(av, bv);
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() < 1e-4 * (k as f32).sqrt(),
                        "{m}x{k}x{n}: {g} vs {w}"
                    );
                }
                // C <- 0.5 C + 2 A B on a C that holds the product already: 2.5 A B.
                let mut c = got.clone();
                gemm_into(&mut c, av, bv, 0.5, 2.0, true);
                for (g, w) in c.iter().zip(&want) {
                    assert!(
                        (g - 2.5 * w).abs() < 3e-4 * (k as f32).sqrt(),
                        "{m}x{k}x{n}: {g} vs 2.5 * {w}"
                    );
                }
            }
        }
    }

    /// The product in a pool of `threads` threads, as bits.
    fn bits_in_pool(threads: usize, f: impl Fn() -> Vec<f32> + Send + Sync) -> Vec<u32> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        pool.install(|| f().iter().map(|v| v.to_bits()).collect())
    }

    #[test]
    fn products_are_bit_identical_on_one_two_and_three_threads() {
        let mut differ = Vec::new();
        // Shapes around the gemm crate's own switches (m, n <= 64: another k-blocking;
        // m * n <= 256: the horizontal kernel) and the benchmark networks' shapes. With one
        // block per thread, the first three differed on two threads, and 16x2000x256 on three.
        for (m, k, n) in [
            (100, 784, 64),
            (128, 784, 64),
            (64, 784, 100),
            (100, 784, 500),
            (128, 400, 784),
            (784, 128, 400),
            (16, 2000, 256),
            (300, 1000, 33),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| noise::normal(1, i as u64)).collect();
            let b: Vec<f32> = (0..k * n).map(|i| noise::normal(2, i as u64)).collect();
            let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
            let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
            for (layout, (av, bv)) in [
                (view(&a, m, k, false), view(&b, k, n, false)),
                (view(&at, m, k, true), view(&b, k, n, false)),
                (view(&a, m, k, false), view(&bt, k, n, true)),
            ]
            .into_iter()
            .enumerate()
            {
                let product = || {
                    let mut c = matmul(av, bv);
                    gemm_into(&mut c, av, bv, 0.5, -2.0, true);
                    c
                };
                let one = bits_in_pool(1, product);
                for threads in [2, 3] {
                    let many = bits_in_pool(threads, product);
                    let n_diff = one.iter().zip(&many).filter(|(x, y)| x != y).count();
                    if n_diff > 0 {
                        differ.push(format!(
                            "{m}x{k}x{n} (layout {layout}), {threads} threads: {n_diff} elements"
                        ));
                    }
                }
            }
        }
        assert!(differ.is_empty(), "not the bits of one thread: {differ:#?}");
    }
}

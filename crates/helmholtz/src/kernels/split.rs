//! How work is cut into blocks for the thread pool: by the problem's shape, never by the
//! number of threads.
//!
//! Floating-point addition is not associative, so the same seed gives the same bits on one
//! thread and on many only if everything that fixes the order of a sum depends on the shape
//! of the problem alone:
//! - **block boundaries**: a matrix product's rounding depends on the shape of the block it is
//!   computed in, because the gemm crate picks its k-blocking (`kc`) and its kernel (packed,
//!   horizontal, gemv) from the block's `m`, `n` and `k`;
//! - **random streams**: keyed by an element's position in the whole problem
//!   ([`super::rows::Stream`]), never by block or thread;
//! - **reductions**: partial results are combined in block order on one thread
//!   ([`ordered_sum`]), never by rayon's `sum`/`reduce`, whose tree follows the work stealing.
//!
//! rayon then only decides which thread runs which block, and on one thread the blocks run in
//! turn. Block counts are powers of two, so that two, four or eight threads get equal shares.
//! Each block costs a little (a gemm call packs the operand it does not split once per block),
//! so problems are cut in two once they pay for a second thread, and into more blocks only
//! while each stays long ([`block_count`]): the products of the benchmark networks (a few
//! hundred rows or columns) are cut in two, as fast on two threads as a cut per thread was. The
//! price of the same bits everywhere: on more threads than blocks, some threads idle.

use std::ops::Range;

use rayon::prelude::*;

/// Column cuts through a row-major matrix fall on multiples of this: 16 `f32` are one cache
/// line, so no two threads write the same line of the output.
pub(crate) const ALIGN: usize = 16;

/// Fewest units of work (multiply-adds) in a block: waking a thread costs a few microseconds,
/// so problems under twice this run as one block.
const MIN_BLOCK_WORK: usize = 1 << 19;

/// Fewest rows or columns in a block.
const MIN_BLOCK_LEN: usize = 16;

/// Past two blocks, each block must be at least this long. Every block is a gemm call of its
/// own that packs the operand that is not split once more, so the overhead grows as blocks
/// shrink: measured on two threads with the benchmark networks' products (a few hundred rows
/// or columns), four blocks ran 0-5% slower than two and eight up to 10%.
const LONG_BLOCK: usize = 256;

/// Most blocks in one split.
const MAX_BLOCKS: usize = 16;

/// The number of blocks for `len` rows or columns costing `work` in all: two once the work
/// pays for a second thread, more (a power of two, at most `MAX_BLOCKS`) only while every
/// block stays `LONG_BLOCK` long, never blocks shorter than `MIN_BLOCK_LEN` or lighter than
/// `MIN_BLOCK_WORK`.
pub(crate) fn block_count(len: usize, work: usize) -> usize {
    let wanted = (len / LONG_BLOCK).clamp(2, MAX_BLOCKS);
    let n = wanted
        .min(work / MIN_BLOCK_WORK)
        .min(len / MIN_BLOCK_LEN)
        .max(1);
    1 << n.ilog2()
}

/// `0..len` cut into `count` consecutive blocks at `i * len / count` rounded to the nearest
/// multiple of `align` (1: balanced; [`ALIGN`] for column cuts), empty blocks dropped.
pub(crate) fn blocks(len: usize, count: usize, align: usize) -> Vec<Range<usize>> {
    let (count, align) = (count.max(1), align.max(1));
    let mut cuts: Vec<usize> = (0..count)
        .map(|i| ((i * len / count + align / 2) / align * align).min(len))
        .collect();
    cuts.push(len);
    cuts.windows(2)
        .map(|w| w[0]..w[1])
        .filter(|r| !r.is_empty())
        .collect()
}

/// The sum of a parallel iterator's items, added in index order on the calling thread (the
/// same bits whatever the thread count, unlike rayon's `sum`).
pub(crate) fn ordered_sum(items: impl IndexedParallelIterator<Item = f64>) -> f64 {
    let parts: Vec<f64> = items.collect();
    parts.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_range() {
        for len in [1, 15, 16, 100, 500, 784] {
            for count in [1, 2, 4, 8] {
                for align in [1, ALIGN] {
                    let b = blocks(len, count, align);
                    assert_eq!(b.first().map(|r| r.start), Some(0));
                    assert_eq!(b.last().map(|r| r.end), Some(len));
                    for w in b.windows(2) {
                        assert_eq!(w[0].end, w[1].start);
                        assert_eq!(w[1].start % align, 0);
                    }
                }
            }
        }
        assert_eq!(blocks(100, 2, 1), vec![0..50, 50..100]);
        assert_eq!(blocks(500, 2, ALIGN), vec![0..256, 256..500]);
    }

    #[test]
    fn block_counts_follow_length_and_work() {
        let big = 1 << 30;
        // The benchmark networks' products: two blocks.
        for len in [100, 128, 256, 400, 500, 784] {
            assert_eq!(block_count(len, big), 2, "{len}");
        }
        assert_eq!(block_count(1024, big), 4);
        assert_eq!(block_count(3000, big), 8);
        assert_eq!(block_count(1 << 20, big), 16);
        assert_eq!(block_count(1024, 3 << 19), 2);
        assert_eq!(block_count(784, (1 << 20) - 1), 1);
        assert_eq!(block_count(20, big), 1);
    }

    #[test]
    fn ordered_sum_is_the_sequential_sum() {
        let x: Vec<f64> = (0..10_000).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let want: f64 = x.iter().sum();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            let got = pool.install(|| ordered_sum(x.par_iter().copied()));
            assert_eq!(got.to_bits(), want.to_bits());
        }
    }
}

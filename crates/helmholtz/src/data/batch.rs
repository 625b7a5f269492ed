//! Seeded shuffling and mini-batching.
//!
//! The order of epoch `e` depends only on `(seed, e)`, so a run resumed at any batch sees
//! exactly the batches an uninterrupted run would have seen.

use rand::seq::SliceRandom;

use crate::rng::rng_for;

/// The permutation of `0..n` used in epoch `epoch` (1-based) of a run seeded with `seed`.
pub fn epoch_permutation(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rng_for(seed, &[0x5348_5546, epoch as u64]));
    idx
}

/// The mini-batches of one epoch: consecutive slices of the epoch permutation; the last
/// batch is smaller when `batch_size` does not divide `n`.
#[derive(Debug, Clone)]
pub struct BatchOrder {
    order: Vec<usize>,
    batch_size: usize,
}

impl BatchOrder {
    /// The batches of epoch `epoch` (1-based).
    pub fn new(n: usize, batch_size: usize, seed: u64, epoch: usize) -> Self {
        Self {
            order: epoch_permutation(n, seed, epoch),
            batch_size: batch_size.max(1),
        }
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// True when there is nothing to iterate.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Indices of batch `b` (0-based).
    pub fn batch(&self, b: usize) -> &[usize] {
        let start = b * self.batch_size;
        &self.order[start..(start + self.batch_size).min(self.order.len())]
    }
}

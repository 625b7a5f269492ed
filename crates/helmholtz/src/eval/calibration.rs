//! Calibration of a classifier's predictive probabilities: confidence bins (the reliability
//! diagram) and the expected calibration error (Guo et al. 2017).
//!
//! # Shapes
//! `probs` is `[n, classes]` row-major, `labels` is `[n]`.

use crate::kernels::argmax;

/// One confidence bin of a classifier's predictions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ConfidenceBin {
    /// Predictions in the bin.
    pub count: usize,
    /// Sum of their confidences (largest class probability).
    pub confidence: f64,
    /// How many were right.
    pub correct: f64,
}

/// Predictions grouped by confidence (the largest class probability) into `bins` equal-width
/// bins on `[0, 1]` (a confidence of exactly `k/bins` falls in bin `k - 1`).
pub fn confidence_bins(
    probs: &[f64],
    classes: usize,
    labels: &[u32],
    bins: usize,
) -> Vec<ConfidenceBin> {
    let mut out = vec![ConfidenceBin::default(); bins];
    for (row, &label) in probs.chunks(classes).zip(labels) {
        let k = argmax(row);
        let b = &mut out[((row[k] * bins as f64).ceil() as usize).clamp(1, bins) - 1];
        b.count += 1;
        b.confidence += row[k];
        b.correct += f64::from(u8::from(k == label as usize));
    }
    out
}

/// `Σ_b |B_b|/n · |acc(B_b) - conf(B_b)|` over [`confidence_bins`].
pub fn expected_calibration_error(
    probs: &[f64],
    classes: usize,
    labels: &[u32],
    bins: usize,
) -> f64 {
    let bins = confidence_bins(probs, classes, labels, bins);
    let n = bins.iter().map(|b| b.count).sum::<usize>().max(1) as f64;
    bins.iter()
        .map(|b| (b.correct - b.confidence).abs() / n)
        .sum()
}

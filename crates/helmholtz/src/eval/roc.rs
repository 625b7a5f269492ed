//! The area under the ROC curve of a score.

/// The area under the ROC curve of `scores` for the labels `positive`: the probability that a
/// random positive scores higher than a random negative, ties counting one half (the
/// Mann-Whitney U statistic over `n_pos * n_neg`, with average ranks). `None` without both
/// classes.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 || scores.len() != positive.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1..=j+1 share their average.
        let avg = (i + j + 2) as f64 / 2.0;
        rank_sum += order[i..=j].iter().filter(|&&k| positive[k]).count() as f64 * avg;
        i = j + 1;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ordered_pairs_and_half_ties() {
        // Positives {3, 2}, negatives {1, 2}: pairs (3>1, 3>2, 2>1, 2=2) = 3.5 / 4.
        let auc = roc_auc(&[3.0, 2.0, 1.0, 2.0], &[true, true, false, false]);
        assert_eq!(auc, Some(0.875));
        assert_eq!(roc_auc(&[1.0, 2.0], &[false, true]), Some(1.0));
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, false]), Some(0.0));
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, true]), None);
    }
}

//! Principal components, for two-dimensional pictures of codes and features.

/// Project `n` rows of width `w` onto their first two principal components (power iteration
/// with deflation on the covariance); also returns the fraction of variance they explain.
pub fn principal_components(x: &[f64], n: usize, w: usize) -> (Vec<(f64, f64)>, f64) {
    if n == 0 || w == 0 {
        return (Vec::new(), 0.0);
    }
    let mut mean = vec![0f64; w];
    for row in x.chunks_exact(w) {
        mean.iter_mut()
            .zip(row)
            .for_each(|(m, v)| *m += v / n as f64);
    }
    let mut cov = vec![0f64; w * w];
    for row in x.chunks_exact(w) {
        let c: Vec<f64> = row.iter().zip(&mean).map(|(v, m)| v - m).collect();
        for i in 0..w {
            for j in 0..w {
                cov[i * w + j] += c[i] * c[j] / n as f64;
            }
        }
    }
    let total: f64 = (0..w).map(|i| cov[i * w + i]).sum();
    let mut components = Vec::new();
    let mut explained = 0.0;
    for k in 0..2.min(w) {
        let orthonormal = |mut u: Vec<f64>, found: &[Vec<f64>]| -> (Vec<f64>, f64) {
            // Orthogonal to the components found so far (rounding leaves their directions in
            // the deflated covariance), then unit length.
            for c in found {
                let dot: f64 = u.iter().zip(c).map(|(a, b)| a * b).sum();
                u.iter_mut().zip(c).for_each(|(a, b)| *a -= dot * b);
            }
            let norm = u.iter().map(|a| a * a).sum::<f64>().sqrt();
            if norm > 0.0 {
                u.iter_mut().for_each(|a| *a /= norm);
            }
            (u, norm)
        };
        let start: Vec<f64> = (0..w)
            .map(|i| 1.0 + ((i * 7 + k * 3) % 11) as f64 * 0.1)
            .collect();
        let (mut v, _) = orthonormal(start, &components);
        let mut lambda = 0.0;
        for _ in 0..300 {
            let u: Vec<f64> = (0..w)
                .map(|i| (0..w).map(|j| cov[i * w + j] * v[j]).sum())
                .collect();
            let (u, norm) = orthonormal(u, &components);
            if norm <= 1e-12 * total {
                lambda = 0.0;
                break;
            }
            lambda = norm;
            v = u;
        }
        explained += lambda / total.max(1e-300);
        // Deflate: cov -= lambda v v^T.
        for i in 0..w {
            for j in 0..w {
                cov[i * w + j] -= lambda * v[i] * v[j];
            }
        }
        components.push(v);
    }
    let project = |row: &[f64], k: usize| -> f64 {
        components.get(k).map_or(0.0, |v| {
            row.iter()
                .zip(&mean)
                .zip(v)
                .map(|((a, m), c)| (a - m) * c)
                .sum()
        })
    };
    let points = x
        .chunks_exact(w)
        .map(|row| (project(row, 0), project(row, 1)))
        .collect();
    (points, explained.min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_components_of_a_line() {
        // Points on the line y = 2x: all variance on the first component.
        let x: Vec<f64> = (0..10).flat_map(|i| [i as f64, 2.0 * i as f64]).collect();
        let (p, explained) = principal_components(&x, 10, 2);
        assert!((explained - 1.0).abs() < 1e-9, "{explained}");
        assert!(p.iter().all(|(_, b)| b.abs() < 1e-6));
        // Distances along the line are preserved: |p_9 - p_0| = 9 sqrt(5).
        assert!(((p[9].0 - p[0].0).abs() - 9.0 * 5f64.sqrt()).abs() < 1e-9);
    }
}

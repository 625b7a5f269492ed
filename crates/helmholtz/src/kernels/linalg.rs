//! Small dense linear algebra in `f64`: dot products, matrix-vector products, the Cholesky factor and what it gives (log-determinant,
//! triangular solves, inverse) for matrices of a few dozen rows.

/// `x . y`, with four independent partial sums so that the loop vectorises.
#[inline]
pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0.0f64; 4];
    let chunks = n / 4;
    for k in 0..chunks {
        for j in 0..4 {
            acc[j] += x[4 * k + j] * y[4 * k + j];
        }
    }
    let mut tail = 0.0;
    for k in chunks * 4..n {
        tail += x[k] * y[k];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `out = M x` for a row-major `[rows, x.len()]` matrix.
#[inline]
pub fn matvec(m: &[f64], x: &[f64], out: &mut [f64]) {
    let cols = x.len();
    for (r, o) in out.iter_mut().enumerate() {
        *o = dot(&m[r * cols..(r + 1) * cols], x);
    }
}

/// In-place Cholesky `C = L L^T` of a row-major `p x p` matrix (the lower triangle of `c` becomes
/// `L`; the upper triangle is left as it was); `None` when a pivot is `<= floor` (not positive
/// definite, or too close to singular for the caller).
pub fn cholesky(c: &mut [f64], p: usize, floor: f64) -> Option<&[f64]> {
    for j in 0..p {
        let mut d = c[j * p + j];
        for k in 0..j {
            d -= c[j * p + k] * c[j * p + k];
        }
        if d <= floor || d.is_nan() {
            return None;
        }
        let d = d.sqrt();
        c[j * p + j] = d;
        for i in j + 1..p {
            let mut s = c[i * p + j];
            for k in 0..j {
                s -= c[i * p + k] * c[j * p + k];
            }
            c[i * p + j] = s / d;
        }
    }
    Some(c)
}

/// `ln |C| = 2 sum_i ln L_ii` from the lower Cholesky factor `l` of `C`.
pub fn log_det_from_cholesky(l: &[f64], p: usize) -> f64 {
    2.0 * (0..p).map(|i| l[i * p + i].ln()).sum::<f64>()
}

/// `L^-1` of a lower-triangular `p x p` factor, lower triangular (zeros above).
pub fn lower_inverse(l: &[f64], p: usize) -> Vec<f64> {
    let mut inv = vec![0.0; p * p];
    for j in 0..p {
        inv[j * p + j] = 1.0 / l[j * p + j];
        for i in j + 1..p {
            let mut s = 0.0;
            for k in j..i {
                s -= l[i * p + k] * inv[k * p + j];
            }
            inv[i * p + j] = s / l[i * p + i];
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_factor_reproduces_the_matrix() {
        // C = [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt 2]] (lower triangle used).
        let mut c = vec![4.0, 2.0, 2.0, 3.0];
        let l = cholesky(&mut c, 2, 0.0)
            .expect("positive definite")
            .to_vec();
        for (k, want) in [(0, 2.0), (2, 1.0), (3, 2f64.sqrt())] {
            assert!((l[k] - want).abs() < 1e-12, "{l:?}");
        }
        assert!((log_det_from_cholesky(&l, 2) - 8f64.ln()).abs() < 1e-12);
        let inv = lower_inverse(&l, 2);
        // L^-1 L = I.
        let prod = [inv[0] * l[0], inv[2] * l[0] + inv[3] * l[2], inv[3] * l[3]];
        for (got, want) in prod.iter().zip([1.0, 0.0, 1.0]) {
            assert!((got - want).abs() < 1e-12);
        }
        assert!(cholesky(&mut [1.0, 2.0, 2.0, 1.0], 2, 0.0).is_none());
    }
}

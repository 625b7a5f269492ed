//! What a VAE has learned, as pictures: reconstructions beside their inputs, samples from the
//! prior, the decoded manifold of a 2-D latent (or a scatter of test codes on their first two
//! principal components, coloured by label) and an interpolation between two test images.

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::{Rng, RngExt};

use super::config::{Latent, Likelihood};
use super::model::{Posterior, Vae};
use crate::data::Dataset;
use crate::error::Result;
use crate::kernels::ops;
use crate::latent::gumbel;
use crate::report::{GridSpec, Scatter, Shade, save_grid, save_scatter};
use crate::train::RunDir;

/// Test examples shown in the pictures, and how to map model values back to data units.
#[derive(Debug, Clone)]
pub struct PictureData {
    /// Test examples (with labels when the data have them); the first ones are reconstructed.
    pub examples: Dataset,
    /// Per-column `(mean, std)` used to standardise (Gaussian likelihood), to undo in pictures.
    pub unstandardize: Option<(Vec<f64>, Vec<f64>)>,
}

/// Tiles in the sample grid.
pub const SAMPLE_TILES: usize = 100;
/// Side of the manifold grid.
const MANIFOLD_SIDE: usize = 20;
/// Interpolation steps between (and including) the two codes.
const INTERPOLATION_STEPS: usize = 10;
/// Reconstructed examples (two rows of inputs, each above its reconstructions).
const RECON_COLS: usize = 10;

/// Write every picture into `run` and register it with a caption.
pub fn write_pictures(
    vae: &Vae,
    data: &PictureData,
    run: &RunDir,
    rng: &mut impl Rng,
) -> Result<()> {
    let planar = matches!(vae.config().latent, Latent::Gaussian { dim: 2 });
    if let Some(shape) = data.examples.image_shape() {
        let shade = shade_for(vae);
        let recon = reconstructions(vae, data);
        let grid = GridSpec {
            cols: RECON_COLS,
            ..GridSpec::for_count(recon.len() / (shape[0] * shape[1]), shape)
        };
        save_grid(&run.file("reconstructions.png"), &recon, grid, shade)?;
        run.add_figure(
            "reconstructions.png",
            "test inputs (rows 1 and 3) above their reconstructions E[x | z = mode of q(z | x)] (rows 2 and 4)",
        )?;
        let samples = samples(vae, data, SAMPLE_TILES, rng);
        save_grid(
            &run.file("samples.png"),
            &samples,
            GridSpec::for_count(SAMPLE_TILES, shape),
            shade,
        )?;
        run.add_figure(
            "samples.png",
            &format!("E[x | z] for {SAMPLE_TILES} draws z ~ p(z) from the prior"),
        )?;
        if planar {
            let manifold = manifold(vae, data);
            save_grid(
                &run.file("manifold.png"),
                &manifold,
                GridSpec {
                    cols: MANIFOLD_SIDE,
                    ..GridSpec::for_count(MANIFOLD_SIDE * MANIFOLD_SIDE, shape)
                },
                shade,
            )?;
            run.add_figure(
                "manifold.png",
                "the learned 2-D manifold: E[x | z] over a grid of z at the standard normal's quantiles 2.5%..97.5%",
            )?;
        }
        if let Some(strip) = interpolation(vae, data) {
            save_grid(
                &run.file("interpolation.png"),
                &strip,
                GridSpec {
                    cols: INTERPOLATION_STEPS + 2,
                    ..GridSpec::for_count(INTERPOLATION_STEPS + 2, shape)
                },
                shade,
            )?;
            run.add_figure(
                "interpolation.png",
                "interpolation between two test images: the inputs at both ends, E[x | z] along the straight line between their codes",
            )?;
        }
    }
    if !planar {
        let scatter = latent_scatter(vae, &data.examples);
        save_scatter(&run.file("latent.png"), &scatter, 640, 520)?;
        run.add_figure(
            "latent.png",
            "test codes (posterior means; class probabilities for categorical latents) on their first two principal components, coloured by label",
        )?;
    }
    Ok(())
}

fn shade_for(vae: &Vae) -> Shade {
    match vae.config().likelihood {
        Likelihood::Bernoulli => Shade::Unit,
        Likelihood::Gaussian => Shade::MinMax,
    }
}

/// Model values back to data units (undoing standardisation).
fn data_units(t: Tensor<2>, data: &PictureData) -> Vec<f32> {
    crate::energy::rbm::data_units(t, data.unstandardize.as_ref())
}

/// The mode of `q(z | x)` as a decoder input: `mu`, or the one-hot argmax of each group.
pub fn mode_code(post: &Posterior) -> Tensor<2> {
    match post {
        Posterior::Gaussian { mu, .. } => mu.clone(),
        Posterior::Categorical { logits } => {
            let [n, g, k] = logits.dims();
            gumbel::one_hot_argmax(logits).reshape([n, g * k])
        }
    }
}

/// `n` codes from the prior: `N(0, I)`, or uniform one-hot categories.
pub fn prior_codes(vae: &Vae, n: usize, rng: &mut impl Rng) -> Tensor<2> {
    let device = vae.device();
    match vae.config().latent {
        Latent::Gaussian { dim } => super::objective::standard_normal([n, dim], &device, rng),
        Latent::Categorical { groups, classes } => {
            let mut v = vec![0f32; n * groups * classes];
            for cell in v.chunks_exact_mut(classes) {
                cell[rng.random_range(0..classes)] = 1.0;
            }
            Tensor::from_data(TensorData::new(v, [n, groups * classes]), &device)
        }
    }
}

/// `E[x | z]` for `n` prior draws, in data units.
pub fn samples(vae: &Vae, data: &PictureData, n: usize, rng: &mut impl Rng) -> Vec<f32> {
    let z = prior_codes(vae, n, rng);
    data_units(vae.mean(vae.decode(z)), data)
}

fn reconstructions(vae: &Vae, data: &PictureData) -> Vec<f32> {
    let ex = &data.examples;
    let n = (2 * RECON_COLS).min(ex.len());
    let x = ex.head(n);
    let device = vae.device();
    let recon = data_units(
        vae.mean(vae.decode(mode_code(&vae.encode(x.to_tensor(&device))))),
        data,
    );
    let inputs = data_units(x.to_tensor(&device), data);
    let d = ex.dim();
    let mut out = Vec::with_capacity(2 * n * d);
    for start in (0..n).step_by(RECON_COLS) {
        let end = (start + RECON_COLS).min(n);
        out.extend_from_slice(&inputs[start * d..end * d]);
        out.extend_from_slice(&recon[start * d..end * d]);
    }
    out
}

fn manifold(vae: &Vae, data: &PictureData) -> Vec<f32> {
    let q: Vec<f64> = (0..MANIFOLD_SIDE)
        .map(|i| inverse_normal_cdf(0.025 + 0.95 * i as f64 / (MANIFOLD_SIDE - 1) as f64))
        .collect();
    let mut z = Vec::with_capacity(2 * MANIFOLD_SIDE * MANIFOLD_SIDE);
    // Rows from top (high z_2) to bottom, columns left (low z_1) to right.
    for r in 0..MANIFOLD_SIDE {
        for c in 0..MANIFOLD_SIDE {
            z.push(q[c] as f32);
            z.push(q[MANIFOLD_SIDE - 1 - r] as f32);
        }
    }
    let z = Tensor::from_data(
        TensorData::new(z, [MANIFOLD_SIDE * MANIFOLD_SIDE, 2]),
        &vae.device(),
    );
    data_units(vae.mean(vae.decode(z)), data)
}

/// Two test images (the first, and the first with another label), and the decoded straight
/// line between their codes (posterior means; class probabilities for categorical latents).
fn interpolation(vae: &Vae, data: &PictureData) -> Option<Vec<f32>> {
    let ex = &data.examples;
    if ex.len() < 2 {
        return None;
    }
    let other = match ex.labels() {
        Some(l) => (1..ex.len()).find(|&i| l[i] != l[0]).unwrap_or(1),
        None => 1,
    };
    let pair = ex.select(&[0, other]);
    let device = vae.device();
    let codes = ops::to_f32_vec(vae.encode(pair.to_tensor(&device)).mean_code());
    let w = codes.len() / 2;
    let mut line = Vec::with_capacity(INTERPOLATION_STEPS * w);
    for s in 0..INTERPOLATION_STEPS {
        let t = s as f32 / (INTERPOLATION_STEPS - 1) as f32;
        line.extend((0..w).map(|j| (1.0 - t) * codes[j] + t * codes[w + j]));
    }
    let z = Tensor::from_data(TensorData::new(line, [INTERPOLATION_STEPS, w]), &device);
    let decoded = data_units(vae.mean(vae.decode(z)), data);
    let inputs = data_units(pair.to_tensor(&device), data);
    let d = ex.dim();
    let mut strip = inputs[..d].to_vec();
    strip.extend(decoded);
    strip.extend_from_slice(&inputs[d..]);
    Some(strip)
}

fn latent_scatter(vae: &Vae, ex: &Dataset) -> Scatter {
    let codes = vae.encode(ex.to_tensor(&vae.device())).mean_code();
    let [n, w] = codes.dims();
    let values = ops::to_f64_vec(codes);
    let (points, explained) = principal_components(&values, n, w);
    Scatter {
        title: format!(
            "test codes, first two principal components ({:.0}% of variance)",
            100.0 * explained
        ),
        x_label: "PC 1".into(),
        y_label: "PC 2".into(),
        points,
        labels: ex.labels().map(<[u32]>::to_vec),
    }
}

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

/// The standard normal quantile function (Acklam's rational approximation, relative error
/// below 1.2e-9), for `p` in (0, 1).
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_match_tables() {
        // Phi^{-1}(0.975) = 1.959963984540054, Phi^{-1}(0.5) = 0, Phi^{-1}(0.01) = -2.326347874040841.
        assert!((inverse_normal_cdf(0.975) - 1.959_963_984_540_054).abs() < 1e-8);
        assert!(inverse_normal_cdf(0.5).abs() < 1e-12);
        assert!((inverse_normal_cdf(0.01) + 2.326_347_874_040_841).abs() < 1e-8);
    }

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

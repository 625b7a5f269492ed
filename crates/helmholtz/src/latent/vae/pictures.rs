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
use crate::eval::pca::principal_components;
use crate::io::RunDir;
use crate::kernels::math::inverse_normal_cdf;
use crate::kernels::ops;
use crate::latent::gumbel;
use crate::report::{GridSpec, Scatter, Shade, save_grid, save_scatter};

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
    crate::data::data_units(t, data.unstandardize.as_ref())
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

//! The two networks: a generator `G(z)` from noise to images and a discriminator `D(x)` from
//! images to the logit of "x is real".
//!
//! Inside, both work on images scaled to `[-1, 1]` (`x' = 2x - 1`; the generator ends in `tanh`):
//! centred inputs keep the discriminator's first layer well conditioned, and with `[0, 1]`
//! inputs and a sigmoid output the default networks collapse onto one digit (so do PyTorch's).
//! [`Gan::generate`] and [`Gan::discriminate`] take and give `[0, 1]` images.

use std::path::Path;

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::TensorData;
use burn::tensor::activation::{leaky_relu, tanh};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::config::{Arch, GanConfig};
use crate::api::Persist;
use crate::error::Result;
use crate::io::TensorFile;
use crate::kernels::ops;
use crate::nn::layers::{Dense, LayerShape, dense_shapes, get_shaped, layers, put_layers};

/// A generator and a discriminator.
///
/// Parameters (safetensors names; weights `[in, out]`, biases 1-D): `generator.{i}.weight`,
/// `generator.{i}.bias` for `i` over the generator's layers (the last one is the output layer),
/// `discriminator.{i}.{weight,bias}` likewise (the last has one output, the logit).
#[derive(Debug, Clone)]
pub struct Gan {
    config: GanConfig,
    generator: Vec<Dense>,
    discriminator: Vec<Dense>,
}

impl Gan {
    /// Freshly initialised networks (PyTorch's default initialisation, drawn from `rng`).
    pub fn new(config: GanConfig, device: &Device, rng: &mut impl Rng) -> Result<Self> {
        config.validate()?;
        let generator = layers(&config.generator_shapes(), device, rng);
        let discriminator = layers(&config.discriminator_shapes(), device, rng);
        Ok(Self {
            config,
            generator,
            discriminator,
        })
    }

    /// The architecture.
    pub fn config(&self) -> &GanConfig {
        &self.config
    }

    /// The device holding the parameters.
    pub fn device(&self) -> Device {
        self.generator[0].weight.device()
    }

    /// `G(z)` in `[0, 1]` for noise `z: [n, noise_dim]`; `[n, input]`.
    pub fn generate(&self, z: Tensor<2>) -> Tensor<2> {
        (self.generate_centred(z) + 1.0) * 0.5
    }

    /// `G(z)` in `[-1, 1]` (the `tanh` output), `[n, input]`.
    pub(crate) fn generate_centred(&self, z: Tensor<2>) -> Tensor<2> {
        let slope = self.config.leaky_slope;
        let g = &self.generator;
        let last = g.len() - 1;
        if self.config.arch == Arch::Mlp {
            let h = g[..last]
                .iter()
                .fold(z, |h, l| leaky_relu(l.forward(h), slope));
            return tanh(g[last].forward(h));
        }
        // Dense to [n, c, q, q], then transposed convolutions doubling the side.
        let n = z.dims()[0];
        let q = self.config.image_side() / 4;
        let c = self.config.generator_hidden[0];
        let h = leaky_relu(g[0].forward(z), slope).reshape([n, c, q, q]);
        let h = g[1..last]
            .iter()
            .fold(h, |h, l| leaky_relu(l.conv_up(h), slope));
        tanh(g[last].conv_up(h)).reshape([n, self.config.input])
    }

    /// The discriminator's logit of "x is real" for `[0, 1]` images `x: [n, input]` (no
    /// dropout); `[n, 1]`.
    pub fn discriminate(&self, x: Tensor<2>) -> Tensor<2> {
        self.discriminate_centred(x * 2.0 - 1.0, false)
    }

    /// The logit for `[-1, 1]` images, with dropout after the hidden layers when `train`.
    pub(crate) fn discriminate_centred(&self, x: Tensor<2>, train: bool) -> Tensor<2> {
        let d = &self.discriminator;
        let last = d.len() - 1;
        let (slope, p) = (self.config.leaky_slope, self.config.dropout);
        let p = if train { p } else { 0.0 };
        if self.config.arch == Arch::Mlp {
            let h = d[..last]
                .iter()
                .fold(x, |h, l| dropout(leaky_relu(l.forward(h), slope), p));
            return d[last].forward(h);
        }
        // Strided convolutions halving the side, then a dense logit.
        let n = x.dims()[0];
        let side = self.config.image_side();
        let h = d[..last]
            .iter()
            .fold(x.reshape([n, 1, side, side]), |h, l| {
                dropout(leaky_relu(l.conv_down(h), slope), p)
            });
        d[last].forward(h.reshape([n as i64, -1]))
    }

    /// `n` noise vectors `z ~ N(0, I)` drawn on the CPU from `rng`; `[n, noise_dim]`.
    pub fn noise(&self, n: usize, rng: &mut impl Rng) -> Tensor<2> {
        let d = self.config.noise_dim;
        let v: Vec<f32> = (0..n * d).map(|_| rng.sample(StandardNormal)).collect();
        Tensor::from_data(TensorData::new(v, [n, d]), &self.device())
    }

    /// `n` samples `G(z)`, generated in chunks, as host values `[n * input]`.
    pub fn sample_values(&self, n: usize, rng: &mut impl Rng) -> Vec<f32> {
        let mut out = Vec::with_capacity(n * self.config.input);
        let mut done = 0;
        while done < n {
            let m = (n - done).min(1000);
            out.extend(ops::to_f32_vec(self.generate(self.noise(m, rng))));
            done += m;
        }
        out
    }

    pub(crate) fn generator_layers_mut(&mut self) -> &mut Vec<Dense> {
        &mut self.generator
    }

    pub(crate) fn discriminator_layers_mut(&mut self) -> &mut Vec<Dense> {
        &mut self.discriminator
    }

    pub(crate) fn generator_layers(&self) -> &[Dense] {
        &self.generator
    }

    pub(crate) fn discriminator_layers(&self) -> &[Dense] {
        &self.discriminator
    }

    /// Number of scalar parameters of (generator, discriminator).
    pub fn num_parameters(&self) -> (usize, usize) {
        let count = |ls: &[Dense]| {
            ls.iter()
                .map(|l| l.weight.dims()[0] * l.weight.dims()[1] + l.bias.dims()[1])
                .sum()
        };
        (count(&self.generator), count(&self.discriminator))
    }

    /// Name of the first parameter holding a NaN or infinity, if any.
    pub fn non_finite_parameter(&self) -> Option<String> {
        for (prefix, layers) in [
            ("generator", &self.generator),
            ("discriminator", &self.discriminator),
        ] {
            for (i, l) in layers.iter().enumerate() {
                if !ops::all_finite(&l.weight) {
                    return Some(format!("{prefix}.{i}.weight"));
                }
                if !ops::all_finite(&l.bias) {
                    return Some(format!("{prefix}.{i}.bias"));
                }
            }
        }
        None
    }
}

impl Persist for Gan {
    crate::api::persist_accessors!(GanConfig);

    /// The parameters as a safetensors file.
    fn to_file(&self) -> TensorFile {
        let mut file = TensorFile::default();
        put_layers(&mut file, "generator", &self.generator);
        put_layers(&mut file, "discriminator", &self.discriminator);
        file
    }

    /// Load parameters saved by [`Gan::to_file`]; every name and shape is checked.
    fn from_file(
        config: GanConfig,
        file: &TensorFile,
        device: &Device,
        path: &Path,
    ) -> Result<Self> {
        config.validate()?;
        let generator = get_shaped(file, "generator", &config.generator_shapes(), device, path)?;
        let discriminator = get_shaped(
            file,
            "discriminator",
            &config.discriminator_shapes(),
            device,
            path,
        )?;
        Ok(Self {
            config,
            generator,
            discriminator,
        })
    }
}

/// Inverted dropout with probability `p` (none when `p = 0`).
fn dropout<const R: usize>(h: Tensor<R>, p: f64) -> Tensor<R> {
    if p <= 0.0 {
        return h;
    }
    let keep = h
        .random_like(Distribution::Default)
        .greater_equal_elem(p)
        .float();
    h * keep / (1.0 - p)
}

impl GanConfig {
    /// Side of the (square) images of the convolutional pair.
    pub fn image_side(&self) -> usize {
        self.input.isqrt()
    }

    /// Stored shapes of the generator's layers.
    ///
    /// `mlp`: dense layers through [`GanConfig::generator_widths`]. `conv` with channels
    /// `c_1, .., c_k` (`generator_hidden`) and side `s`: dense `noise -> c_1 (s/2^k)^2`, then
    /// 4x4 stride-2 transposed convolutions `c_i -> c_{i+1}` and `c_k -> 1` (weights `[c_in,
    /// c_out * 16]`).
    pub(crate) fn generator_shapes(&self) -> Vec<LayerShape> {
        if self.arch == Arch::Mlp {
            return dense_shapes(&self.generator_widths());
        }
        let k = self.generator_hidden.len();
        let q = self.image_side() >> k;
        let c = &self.generator_hidden;
        let mut shapes = vec![LayerShape::dense(self.noise_dim, c[0] * q * q)];
        let outs = c[1..].iter().copied().chain([1]);
        for (&c_in, c_out) in c.iter().zip(outs) {
            shapes.push(LayerShape {
                weight: [c_in, c_out * 16],
                bias: c_out,
                fan_in: c_in * 4,
            });
        }
        shapes
    }

    /// Stored shapes of the discriminator's layers.
    ///
    /// `mlp`: dense layers through [`GanConfig::discriminator_widths`]. `conv` with channels
    /// `c_1, .., c_k` (`discriminator_hidden`): 4x4 stride-2 convolutions `1 -> c_1 -> .. ->
    /// c_k` (weights `[c_out, c_in * 16]`), then dense `c_k (s/2^k)^2 -> 1`.
    pub(crate) fn discriminator_shapes(&self) -> Vec<LayerShape> {
        if self.arch == Arch::Mlp {
            return dense_shapes(&self.discriminator_widths());
        }
        let c = &self.discriminator_hidden;
        let q = self.image_side() >> c.len();
        let ins = [1].into_iter().chain(c.iter().copied());
        let mut shapes: Vec<LayerShape> = ins
            .zip(c)
            .map(|(c_in, &c_out)| LayerShape {
                weight: [c_out, c_in * 16],
                bias: c_out,
                fan_in: c_in * 16,
            })
            .collect();
        shapes.push(LayerShape::dense(c[c.len() - 1] * q * q, 1));
        shapes
    }

    /// Layer widths of the generator, noise to data.
    pub fn generator_widths(&self) -> Vec<usize> {
        let mut w = vec![self.noise_dim];
        w.extend(&self.generator_hidden);
        w.push(self.input);
        w
    }

    /// Layer widths of the discriminator, data to logit.
    pub fn discriminator_widths(&self) -> Vec<usize> {
        let mut w = vec![self.input];
        w.extend(&self.discriminator_hidden);
        w.push(1);
        w
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn values(t: Tensor<4>) -> Vec<f32> {
        ops::to_f32_vec(t.reshape([-1]))
    }

    #[test]
    fn conv_up_is_the_adjoint_of_conv_down() {
        // With zero bias, <conv_down(x), y> = <x, conv_up(y)> for the same stored kernel: the
        // two layouts ([c_out, c_in 16] read as conv and as transposed conv) agree.
        let device = Device::flex();
        let mut rng = StdRng::seed_from_u64(1);
        let shape = LayerShape {
            weight: [3, 2 * 16],
            bias: 3,
            fan_in: 32,
        };
        let mut layer = Dense::init_shaped(shape, &device, &mut rng);
        layer.bias = layer.bias.zeros_like();
        let x = Tensor::<4>::random([2, 2, 8, 8], Distribution::Default, &device);
        let y = Tensor::<4>::random([2, 3, 4, 4], Distribution::Default, &device);
        let down = layer.conv_down(x.clone());
        assert_eq!(down.dims(), [2, 3, 4, 4]);
        let transposed = Dense {
            weight: layer.weight.clone(),
            bias: Tensor::zeros([1, 2], &device),
        };
        let up = transposed.conv_up(y.clone());
        assert_eq!(up.dims(), [2, 2, 8, 8]);
        let dot = |a: Vec<f32>, b: Vec<f32>| -> f64 {
            a.iter().zip(&b).map(|(a, b)| f64::from(a * b)).sum()
        };
        let (lhs, rhs) = (dot(values(down), values(y)), dot(values(x), values(up)));
        assert!(
            (lhs - rhs).abs() < 1e-4 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
    }

    #[test]
    fn conv_pair_shapes_and_checkpoint_round_trip() {
        let device = Device::flex();
        let config = GanConfig::conv(784);
        let gan = Gan::new(config.clone(), &device, &mut StdRng::seed_from_u64(2)).expect("gan");
        let z = gan.noise(3, &mut StdRng::seed_from_u64(3));
        let x = gan.generate(z.clone());
        assert_eq!(x.dims(), [3, 784]);
        let v = ops::to_f32_vec(x.clone());
        assert!(v.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(gan.discriminate(x).dims(), [3, 1]);
        let copy = Gan::from_file(config, &gan.to_file(), &device, Path::new("t")).expect("load");
        assert_eq!(ops::to_f32_vec(copy.generate(z)), v);
        // G: 100 -> 64*7*7 dense, 64 -> 32 and 32 -> 1 transposed convolutions.
        let g = 100 * 3136 + 3136 + 64 * 32 * 16 + 32 + 32 * 16 + 1;
        // D: 1 -> 32 and 32 -> 64 convolutions, 64*7*7 -> 1 dense.
        let d = 32 * 16 + 32 + 64 * 32 * 16 + 64 + 3136 + 1;
        assert_eq!(gan.num_parameters(), (g, d));
    }
}

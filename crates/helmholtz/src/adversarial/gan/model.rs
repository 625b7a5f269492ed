//! The two networks: a generator `G(z)` from noise to `[0, 1]` images and a discriminator
//! `D(x)` from images to the logit of "x is real".

use std::path::Path;

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::{leaky_relu, relu, sigmoid};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::config::GanConfig;
use crate::error::Result;
use crate::kernels::ops;
use crate::train::{Blob, TensorFile};

/// A fully connected layer `y = x W + b`, `W: [in, out]`, `b` kept as `[1, out]`.
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    pub weight: Tensor<2>,
    pub bias: Tensor<2>,
}

impl Dense {
    /// PyTorch's `nn.Linear` initialisation: `W, b ~ U(-1/sqrt(in), 1/sqrt(in))`.
    pub fn init(inputs: usize, outputs: usize, device: &Device, rng: &mut impl Rng) -> Self {
        let bound = 1.0 / (inputs as f64).sqrt();
        let mut uniform = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| ((rng.random::<f64>() * 2.0 - 1.0) * bound) as f32)
                .collect()
        };
        Self {
            weight: Tensor::from_data(
                TensorData::new(uniform(inputs * outputs), [inputs, outputs]),
                device,
            ),
            bias: Tensor::from_data(TensorData::new(uniform(outputs), [1, outputs]), device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        ops::matmul(&x, &self.weight) + self.bias.clone()
    }
}

/// Layers of an MLP with the given widths, initialised from `rng`.
pub(crate) fn mlp(widths: &[usize], device: &Device, rng: &mut impl Rng) -> Vec<Dense> {
    widths
        .windows(2)
        .map(|w| Dense::init(w[0], w[1], device, rng))
        .collect()
}

/// Save the layers as `{prefix}.{i}.weight [in, out]` and `{prefix}.{i}.bias [out]`.
pub(crate) fn put_layers(file: &mut TensorFile, prefix: &str, layers: &[Dense]) {
    for (i, l) in layers.iter().enumerate() {
        let (w, b) = stored_pair(l);
        file.put_blob(&format!("{prefix}.{i}.weight"), w);
        file.put_blob(&format!("{prefix}.{i}.bias"), b);
    }
}

/// Host copies of a layer's tensors in their stored shapes (bias 1-D).
pub(crate) fn stored_pair(l: &Dense) -> (Blob, Blob) {
    let w = Blob::from_tensor(&l.weight);
    let mut b = Blob::from_tensor(&l.bias);
    b.shape = vec![b.shape[1]];
    (w, b)
}

/// Load layers of the given widths saved by [`put_layers`].
pub(crate) fn get_layers(
    file: &TensorFile,
    prefix: &str,
    widths: &[usize],
    device: &Device,
    path: &Path,
) -> Result<Vec<Dense>> {
    widths
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let weight = file.get(&format!("{prefix}.{i}.weight"), [w[0], w[1]], device, path)?;
            let bias: Tensor<1> = file.get(&format!("{prefix}.{i}.bias"), [w[1]], device, path)?;
            Ok(Dense {
                weight,
                bias: bias.reshape([1, w[1]]),
            })
        })
        .collect()
}

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
        let generator = mlp(&config.generator_widths(), device, rng);
        let discriminator = mlp(&config.discriminator_widths(), device, rng);
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
        let last = self.generator.len() - 1;
        let h = self.generator[..last]
            .iter()
            .fold(z, |h, l| relu(l.forward(h)));
        sigmoid(self.generator[last].forward(h))
    }

    /// The discriminator's logit of "x is real" for `x: [n, input]`; `[n, 1]`.
    pub fn discriminate(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.discriminator.len() - 1;
        let slope = self.config.leaky_slope;
        let h = self.discriminator[..last]
            .iter()
            .fold(x, |h, l| leaky_relu(l.forward(h), slope));
        self.discriminator[last].forward(h)
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

    /// The parameters as a safetensors file.
    pub fn to_file(&self) -> TensorFile {
        let mut file = TensorFile::default();
        put_layers(&mut file, "generator", &self.generator);
        put_layers(&mut file, "discriminator", &self.discriminator);
        file
    }

    /// Load parameters saved by [`Gan::to_file`]; every name and shape is checked.
    pub fn from_file(
        config: GanConfig,
        file: &TensorFile,
        device: &Device,
        path: &Path,
    ) -> Result<Self> {
        config.validate()?;
        let generator = get_layers(file, "generator", &config.generator_widths(), device, path)?;
        let discriminator = get_layers(
            file,
            "discriminator",
            &config.discriminator_widths(),
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

impl GanConfig {
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

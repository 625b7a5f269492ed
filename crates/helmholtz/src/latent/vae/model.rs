//! The VAE's networks: an MLP encoder to the parameters of `q(z | x)` and an MLP decoder to the
//! parameters of `p(x | z)`.

use std::path::Path;

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::{relu, sigmoid};
use rand::{Rng, RngExt};

use super::config::{Latent, Likelihood, VaeConfig};
use crate::api::Persist;
use crate::error::Result;
use crate::io::TensorFile;
use crate::kernels::ops;

/// A fully connected layer `y = x W + b`, `W: [in, out]`, `b` kept as `[1, out]` to broadcast.
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    pub weight: Tensor<2>,
    pub bias: Tensor<2>,
}

impl Dense {
    /// PyTorch's `nn.Linear` initialisation: `W, b ~ U(-1/sqrt(in), 1/sqrt(in))`.
    fn init(inputs: usize, outputs: usize, device: &Device, rng: &mut impl Rng) -> Self {
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

    fn zeros(inputs: usize, outputs: usize, device: &Device) -> Self {
        Self {
            weight: Tensor::zeros([inputs, outputs], device),
            bias: Tensor::zeros([1, outputs], device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        // ops::matmul is the host gemm on plain CPU tensors and burn's matmul otherwise
        // (autodiff tensors included).
        ops::matmul(&x, &self.weight) + self.bias.clone()
    }
}

/// The approximate posterior `q(z | x)` of a batch.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a short-lived value; boxing would only add an allocation
pub enum Posterior {
    /// `N(mu, diag exp(log_var))`; both `[n, dim]`.
    Gaussian {
        /// Means.
        mu: Tensor<2>,
        /// Log-variances.
        log_var: Tensor<2>,
    },
    /// Independent categoricals `softmax(logits)` over the last axis; `[n, groups, classes]`.
    Categorical {
        /// Unnormalised log-probabilities.
        logits: Tensor<3>,
    },
}

impl Posterior {
    /// A deterministic code for pictures and projections: `mu`, or the class probabilities
    /// flattened to `[n, groups * classes]`.
    pub fn mean_code(&self) -> Tensor<2> {
        match self {
            Posterior::Gaussian { mu, .. } => mu.clone(),
            Posterior::Categorical { logits } => {
                let [n, g, k] = logits.dims();
                burn::tensor::activation::softmax(logits.clone(), 2).reshape([n, g * k])
            }
        }
    }
}

/// A variational autoencoder: encoder, latent prior and decoder.
///
/// Parameters (safetensors names, stored shapes; weights are `[in, out]`, `x W + b`):
/// `encoder.{i}.weight [in, h_i]`, `encoder.{i}.bias [h_i]` for the hidden layers;
/// `encoder.mu.{weight,bias}` and `encoder.log_var.{weight,bias}` (Gaussian latents) or
/// `encoder.logits.{weight,bias}` with `groups * classes` outputs, group-major (categorical);
/// `decoder.{i}.{weight,bias}` for the decoder's hidden layers; `decoder.out.{weight,bias}`
/// with `input` outputs (logits, or means); `decoder.log_sigma [input]` (Gaussian likelihood).
#[derive(Debug, Clone)]
pub struct Vae {
    config: VaeConfig,
    encoder: Vec<Dense>,
    heads: Vec<Dense>,
    decoder: Vec<Dense>,
    out: Dense,
    log_sigma: Option<Tensor<2>>,
}

impl Vae {
    /// A freshly initialised VAE (PyTorch's default initialisation, drawn from `rng`).
    pub fn new(config: VaeConfig, device: &Device, rng: &mut impl Rng) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config, device, |i, o, d| {
            Dense::init(i, o, d, rng)
        }))
    }

    /// A VAE of the given shape with every parameter zero (to be loaded into).
    fn zeros(config: VaeConfig, device: &Device) -> Self {
        Self::build(config, device, Dense::zeros)
    }

    fn build(
        config: VaeConfig,
        device: &Device,
        mut layer: impl FnMut(usize, usize, &Device) -> Dense,
    ) -> Self {
        let mut widths = vec![config.input];
        widths.extend(&config.hidden);
        let encoder = widths
            .windows(2)
            .map(|w| layer(w[0], w[1], device))
            .collect();
        let last = *widths.last().unwrap_or(&config.input);
        let heads = match config.latent {
            Latent::Gaussian { dim } => vec![layer(last, dim, device), layer(last, dim, device)],
            Latent::Categorical { groups, classes } => vec![layer(last, groups * classes, device)],
        };
        let mut back = vec![config.latent.code_width()];
        back.extend(config.hidden.iter().rev());
        let decoder = back.windows(2).map(|w| layer(w[0], w[1], device)).collect();
        let out = layer(*back.last().unwrap_or(&1), config.input, device);
        let log_sigma = (config.likelihood == Likelihood::Gaussian)
            .then(|| Tensor::zeros([1, config.input], device));
        Self {
            config,
            encoder,
            heads,
            decoder,
            out,
            log_sigma,
        }
    }

    /// The architecture.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// The device holding the parameters.
    pub fn device(&self) -> Device {
        self.out.weight.device()
    }

    /// `q(z | x)` for a batch `x: [n, input]`.
    pub fn encode(&self, x: Tensor<2>) -> Posterior {
        let h = self
            .encoder
            .iter()
            .fold(x, |h, layer| relu(layer.forward(h)));
        match self.config.latent {
            Latent::Gaussian { .. } => Posterior::Gaussian {
                mu: self.heads[0].forward(h.clone()),
                log_var: self.heads[1].forward(h),
            },
            Latent::Categorical { groups, classes } => {
                let n = h.dims()[0];
                Posterior::Categorical {
                    logits: self.heads[0].forward(h).reshape([n, groups, classes]),
                }
            }
        }
    }

    /// The decoder's output for codes `z: [n, code_width]`: Bernoulli logits or Gaussian means,
    /// `[n, input]`.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        let h = self
            .decoder
            .iter()
            .fold(z, |h, layer| relu(layer.forward(h)));
        self.out.forward(h)
    }

    /// The last hidden activations of the decoder, `[n, h]` (the input of `decoder.out`).
    pub(crate) fn decode_hidden(&self, z: Tensor<2>) -> Tensor<2> {
        self.decoder
            .iter()
            .fold(z, |h, layer| relu(layer.forward(h)))
    }

    /// The output layer of the decoder.
    pub(crate) fn output_layer(&self) -> &Dense {
        &self.out
    }

    /// `E[x | z]` from the decoder's output: `sigmoid(logits)` or the means.
    pub fn mean(&self, decoded: Tensor<2>) -> Tensor<2> {
        match self.config.likelihood {
            Likelihood::Bernoulli => sigmoid(decoded),
            Likelihood::Gaussian => decoded,
        }
    }

    /// `log sigma_j` of the Gaussian decoder, floored at `log min_sigma`, `[1, input]`.
    pub fn log_sigma(&self) -> Option<Tensor<2>> {
        self.log_sigma
            .as_ref()
            .map(|s| s.clone().clamp_min(self.config.min_sigma.ln()))
    }

    /// `log p(x | z)` per row, from the decoder's output `decoded` (`[n, input]` each); `[n]`.
    pub fn log_likelihood(&self, x: Tensor<2>, decoded: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        let per_pixel = match self.log_sigma() {
            None => super::objective::bce_with_logits(x, decoded).neg(),
            Some(log_sigma) => {
                let z = (x - decoded) * log_sigma.clone().neg().exp();
                (z.square().mul_scalar(-0.5) - log_sigma)
                    .sub_scalar(0.5 * (2.0 * std::f64::consts::PI).ln())
            }
        };
        per_pixel.sum_dim(1).reshape([n])
    }

    /// Named parameters in a fixed order (biases as `[1, out]`).
    pub(crate) fn params(&self) -> Vec<(String, &Tensor<2>)> {
        self.param_names().into_iter().zip(self.tensors()).collect()
    }

    /// Parameter names, in the order of [`Vae::tensors`] and [`Vae::tensors_mut`].
    pub(crate) fn param_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut dense = |prefix: String| {
            names.push(format!("{prefix}.weight"));
            names.push(format!("{prefix}.bias"));
        };
        for i in 0..self.encoder.len() {
            dense(format!("encoder.{i}"));
        }
        match self.config.latent {
            Latent::Gaussian { .. } => {
                dense("encoder.mu".into());
                dense("encoder.log_var".into());
            }
            Latent::Categorical { .. } => dense("encoder.logits".into()),
        }
        for i in 0..self.decoder.len() {
            dense(format!("decoder.{i}"));
        }
        dense("decoder.out".into());
        if self.log_sigma.is_some() {
            names.push("decoder.log_sigma".into());
        }
        names
    }

    /// Parameters in the order of [`Vae::param_names`].
    pub(crate) fn tensors(&self) -> Vec<&Tensor<2>> {
        self.encoder
            .iter()
            .chain(&self.heads)
            .chain(&self.decoder)
            .chain(std::iter::once(&self.out))
            .flat_map(|d| [&d.weight, &d.bias])
            .chain(self.log_sigma.as_ref())
            .collect()
    }

    /// Mutable parameters in the order of [`Vae::params`].
    pub(crate) fn tensors_mut(&mut self) -> Vec<&mut Tensor<2>> {
        self.encoder
            .iter_mut()
            .chain(&mut self.heads)
            .chain(&mut self.decoder)
            .chain(std::iter::once(&mut self.out))
            .flat_map(|d| [&mut d.weight, &mut d.bias])
            .chain(self.log_sigma.as_mut())
            .collect()
    }

    /// The same model with `f` applied to every parameter (e.g. to track gradients).
    pub(crate) fn map(&self, mut f: impl FnMut(Tensor<2>) -> Tensor<2>) -> Self {
        let mut m = self.clone();
        for t in m.tensors_mut() {
            *t = f(t.clone());
        }
        m
    }

    /// The parameters with autodiff enabled and gradients required (for one update).
    pub fn tracked(&self) -> Self {
        self.map(|t| t.autodiff().require_grad())
    }

    /// Number of scalar parameters.
    pub fn num_parameters(&self) -> usize {
        self.tensors()
            .iter()
            .map(|t| t.dims().iter().product::<usize>())
            .sum()
    }

    /// Name of the first parameter holding a NaN or infinity, if any.
    pub fn non_finite_parameter(&self) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(_, t)| !ops::all_finite(*t))
            .map(|(n, _)| n)
    }
}

impl Persist for Vae {
    crate::api::persist_accessors!(VaeConfig);

    /// The parameters as a safetensors file (biases and `log_sigma` stored 1-D).
    fn to_file(&self) -> TensorFile {
        let mut file = TensorFile::default();
        for (name, t) in self.params() {
            file.put_blob(&name, stored(&name, t));
        }
        file
    }

    /// Load parameters saved by [`Vae::to_file`]; every name and shape is checked.
    fn from_file(
        config: VaeConfig,
        file: &TensorFile,
        device: &Device,
        path: &Path,
    ) -> Result<Self> {
        config.validate()?;
        let mut vae = Self::zeros(config, device);
        let names = vae.param_names();
        for (name, slot) in names.iter().zip(vae.tensors_mut()) {
            *slot = load_param(file, name, slot.dims(), device, path)?;
        }
        Ok(vae)
    }
}

/// Whether a parameter is stored 1-D (biases, `log_sigma`).
fn is_vector(name: &str) -> bool {
    !name.ends_with(".weight")
}

/// The host copy of a parameter in its stored shape.
pub(crate) fn stored(name: &str, t: &Tensor<2>) -> crate::io::Blob {
    let mut blob = crate::io::Blob::from_tensor(t);
    if is_vector(name) {
        blob.shape = vec![blob.shape[1]];
    }
    blob
}

/// Load the parameter `name` of in-memory shape `dims` from `file`.
pub(crate) fn load_param(
    file: &TensorFile,
    name: &str,
    dims: [usize; 2],
    device: &Device,
    path: &Path,
) -> Result<Tensor<2>> {
    if is_vector(name) {
        let v: Tensor<1> = file.get(name, [dims[1]], device, path)?;
        Ok(v.reshape(dims))
    } else {
        file.get(name, dims, device, path)
    }
}

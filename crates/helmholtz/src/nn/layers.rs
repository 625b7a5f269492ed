//! Dense layers as burn tensors: the autodiff (reference and GPU) path of the network kit.
//!
//! `y = x W + b` with `W: [in, out]` (the layout of burn's `Linear`) and `b` kept as `[1, out]`;
//! stored in safetensors as `{prefix}.{i}.weight [in, out]` and `{prefix}.{i}.bias [out]`.

use std::path::Path;

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use rand::{Rng, RngExt};

use crate::error::Result;
use crate::io::{Blob, TensorFile};
use crate::kernels::ops;

/// A fully connected layer `y = x W + b`, `W: [in, out]`, `b` kept as `[1, out]`.
#[derive(Debug, Clone)]
pub struct Dense {
    pub weight: Tensor<2>,
    pub bias: Tensor<2>,
}

/// The stored shape of a layer: its weight as a matrix and the width of its bias, with the
/// fan-in of the initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerShape {
    pub weight: [usize; 2],
    pub bias: usize,
    pub fan_in: usize,
}

impl LayerShape {
    /// A fully connected layer `inputs -> outputs`.
    pub fn dense(inputs: usize, outputs: usize) -> Self {
        Self {
            weight: [inputs, outputs],
            bias: outputs,
            fan_in: inputs,
        }
    }
}

impl Dense {
    /// PyTorch's initialisation: `W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))` in the given
    /// shape.
    pub fn init_shaped(shape: LayerShape, device: &Device, rng: &mut impl Rng) -> Self {
        let bound = 1.0 / (shape.fan_in as f64).sqrt();
        let mut uniform = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| ((rng.random::<f64>() * 2.0 - 1.0) * bound) as f32)
                .collect()
        };
        let [a, b] = shape.weight;
        Self {
            weight: Tensor::from_data(TensorData::new(uniform(a * b), [a, b]), device),
            bias: Tensor::from_data(
                TensorData::new(uniform(shape.bias), [1, shape.bias]),
                device,
            ),
        }
    }

    /// A 4x4 convolution with stride 2 and padding 1 (`[n, c_in, h, w] -> [n, c_out, h/2,
    /// w/2]`); the weight is kept as `[c_out, c_in * 16]`.
    pub fn conv_down(&self, x: Tensor<4>) -> Tensor<4> {
        let [c_out, k] = self.weight.dims();
        let w = self.weight.clone().reshape([c_out, k / 16, 4, 4]);
        let b = self.bias.clone().reshape([c_out]);
        conv2d(x, w, Some(b), ConvOptions::new([2, 2], [1, 1], [1, 1], 1))
    }

    /// A 4x4 transposed convolution with stride 2 and padding 1 (`[n, c_in, h, w] -> [n,
    /// c_out, 2h, 2w]`); the weight is kept as `[c_in, c_out * 16]`.
    pub fn conv_up(&self, x: Tensor<4>) -> Tensor<4> {
        let [c_in, k] = self.weight.dims();
        let w = self.weight.clone().reshape([c_in, k / 16, 4, 4]);
        let b = self.bias.clone().reshape([k / 16]);
        let options = ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1);
        conv_transpose2d(x, w, Some(b), options)
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        ops::matmul(&x, &self.weight) + self.bias.clone()
    }
}

/// Layers of an MLP with the given widths, initialised from `rng`.
pub fn mlp(widths: &[usize], device: &Device, rng: &mut impl Rng) -> Vec<Dense> {
    layers(&dense_shapes(widths), device, rng)
}

/// Layers of the given shapes, initialised from `rng`.
pub fn layers(shapes: &[LayerShape], device: &Device, rng: &mut impl Rng) -> Vec<Dense> {
    shapes
        .iter()
        .map(|&s| Dense::init_shaped(s, device, rng))
        .collect()
}

/// Shapes of the fully connected layers between consecutive `widths`.
pub fn dense_shapes(widths: &[usize]) -> Vec<LayerShape> {
    widths
        .windows(2)
        .map(|w| LayerShape::dense(w[0], w[1]))
        .collect()
}

/// Save the layers as `{prefix}.{i}.weight [in, out]` and `{prefix}.{i}.bias [out]`.
pub fn put_layers(file: &mut TensorFile, prefix: &str, layers: &[Dense]) {
    for (i, l) in layers.iter().enumerate() {
        let (w, b) = stored_pair(l);
        file.put_blob(&format!("{prefix}.{i}.weight"), w);
        file.put_blob(&format!("{prefix}.{i}.bias"), b);
    }
}

/// Host copies of a layer's tensors in their stored shapes (bias 1-D).
pub fn stored_pair(l: &Dense) -> (Blob, Blob) {
    let w = Blob::from_tensor(&l.weight);
    let mut b = Blob::from_tensor(&l.bias);
    b.shape = vec![b.shape[1]];
    (w, b)
}

/// Load layers of the given widths saved by [`put_layers`].
pub fn get_layers(
    file: &TensorFile,
    prefix: &str,
    widths: &[usize],
    device: &Device,
    path: &Path,
) -> Result<Vec<Dense>> {
    get_shaped(file, prefix, &dense_shapes(widths), device, path)
}

/// Load layers of the given shapes saved by [`put_layers`].
pub fn get_shaped(
    file: &TensorFile,
    prefix: &str,
    shapes: &[LayerShape],
    device: &Device,
    path: &Path,
) -> Result<Vec<Dense>> {
    shapes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let weight = file.get(&format!("{prefix}.{i}.weight"), s.weight, device, path)?;
            let bias: Tensor<1> =
                file.get(&format!("{prefix}.{i}.bias"), [s.bias], device, path)?;
            Ok(Dense {
                weight,
                bias: bias.reshape([1, s.bias]),
            })
        })
        .collect()
}

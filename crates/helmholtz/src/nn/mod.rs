//! The network kit: dense layers, multi-layer perceptrons and Adam, on two paths.
//!
//! - The host path ([`dense`], [`mlp`], [`stochastic`], [`bayes_dense`]): forward and backward
//!   passes written by hand over the split sgemm and fused element-wise kernels of
//!   [`crate::kernels`], with a vectorised Adam. On the CPU it is what the VAE, the GAN, the
//!   coverage classifier and Bayes by Backprop train with by default.
//! - The tensor path ([`layers`]): the same layers as burn tensors, differentiated by burn's
//!   autodiff. It is the reference the host path is checked against and the GPU path.
//!
//! [`Engine`] is the user's choice between them; [`bridge`] moves a model's parameters and Adam
//! state between the two, and [`adam_state`] checkpoints that state.
//!
//! # Shapes
//! Activations are row-major `[batch, features]`; a dense layer's weight is `[in, out]` and its
//! bias `[out]` (kept as `[1, out]` on the tensor path).

pub mod adam_state;
pub mod bayes_dense;
pub mod bridge;
pub mod dense;
pub mod layers;
pub mod mlp;
pub mod stochastic;

use crate::keywords::keywords;
use serde::{Deserialize, Serialize};

/// Which code computes the training updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// The host kit on the CPU where the model has a host implementation, burn's autodiff
    /// otherwise.
    #[default]
    Auto,
    /// Always burn's autodiff (the reference; any device).
    Tensor,
}

keywords!(Engine, "engine", {
    Auto => "auto",
    Tensor => "tensor" | "burn",
});

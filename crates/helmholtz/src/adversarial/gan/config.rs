//! Configuration of a GAN (the two networks) and of its adversarial training.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::nn::dense::AdamSettings;

/// Network family of the generator and discriminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// Fully connected networks (the paper's MNIST setting).
    #[default]
    Mlp,
    /// DCGAN-style convolutional networks for square images (side divisible by `2^k` for
    /// `k` hidden layers): transposed 4x4 stride-2 convolutions up, strided ones down.
    Conv,
}

impl std::str::FromStr for Arch {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mlp" => Ok(Arch::Mlp),
            "conv" => Ok(Arch::Conv),
            _ => Err(Error::param(
                "arch",
                format!("`{s}` is not one of mlp, conv"),
            )),
        }
    }
}

/// The generator's loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum GanLoss {
    /// Maximise `log D(G(z))` (the paper's practical choice: strong gradients early on).
    #[default]
    NonSaturating,
    /// Minimise `log(1 - D(G(z)))` (the value function of the minimax game itself).
    Minimax,
}

impl std::fmt::Display for GanLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GanLoss::NonSaturating => "non-saturating",
            GanLoss::Minimax => "minimax",
        })
    }
}

impl std::str::FromStr for GanLoss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "non-saturating" | "ns" => Ok(GanLoss::NonSaturating),
            "minimax" | "saturating" => Ok(GanLoss::Minimax),
            _ => Err(Error::param(
                "loss",
                format!("`{s}` is not one of non-saturating, minimax"),
            )),
        }
    }
}

/// The two networks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanConfig {
    /// Width of the data (filled in from the data).
    pub input: usize,
    /// Dimensions of the noise `z ~ N(0, I)`.
    pub noise_dim: usize,
    /// Hidden widths of the generator, from the noise side.
    pub generator_hidden: Vec<usize>,
    /// Hidden widths of the discriminator, from the data side.
    pub discriminator_hidden: Vec<usize>,
    /// Negative slope of the LeakyReLUs of both networks.
    pub leaky_slope: f64,
    /// Dropout probability after each hidden layer of the discriminator (training only; the
    /// paper's discriminator used dropout too). Without it the discriminator wins early and the
    /// generator collapses onto a few images.
    pub dropout: f64,
    /// Network family.
    pub arch: Arch,
}

impl GanConfig {
    /// The defaults: G 100-256-512-input (LeakyReLU 0.2, tanh output), D input-512-256-1
    /// (LeakyReLU 0.2, dropout 0.3, logit output); both networks see images scaled to
    /// `[-1, 1]`.
    pub fn new(input: usize) -> Self {
        Self {
            input,
            noise_dim: 100,
            generator_hidden: vec![256, 512],
            discriminator_hidden: vec![512, 256],
            leaky_slope: 0.2,
            dropout: 0.3,
            arch: Arch::Mlp,
        }
    }

    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("noise-dim", self.noise_dim)?;
        if self.arch == Arch::Conv {
            self.validate_conv()?;
        }
        if self.generator_hidden.contains(&0) {
            return Err(Error::param(
                "generator-hidden",
                "every hidden layer needs at least 1 unit",
            ));
        }
        if self.discriminator_hidden.contains(&0) {
            return Err(Error::param(
                "discriminator-hidden",
                "every hidden layer needs at least 1 unit",
            ));
        }
        if !(self.leaky_slope.is_finite() && (0.0..1.0).contains(&self.leaky_slope)) {
            return Err(Error::param(
                "leaky-slope",
                format!("must be in [0, 1) (got {})", self.leaky_slope),
            ));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return Err(Error::param(
                "dropout",
                format!("must be in [0, 1) (got {})", self.dropout),
            ));
        }
        if self.arch == Arch::Mlp {
            crate::budget::check_parts(&self.costs())?;
        }
        Ok(())
    }

    /// The parameters of the two MLPs by parameter (`noise-dim`, `generator-hidden`, `data`,
    /// `discriminator-hidden`; see [`crate::budget::network`]), for
    /// [`crate::budget::check_parts`].
    pub fn costs(&self) -> Vec<(&'static str, u128)> {
        use crate::budget::{PARAM_BYTES, network};
        let mut generator = vec![("noise-dim", self.noise_dim)];
        generator.extend(
            self.generator_hidden
                .iter()
                .map(|&h| ("generator-hidden", h)),
        );
        generator.push(("data", self.input));
        let mut discriminator = vec![("data", self.input)];
        discriminator.extend(
            self.discriminator_hidden
                .iter()
                .map(|&h| ("discriminator-hidden", h)),
        );
        discriminator.push(("discriminator-hidden", 1));
        let mut costs = network(&generator, PARAM_BYTES);
        costs.extend(network(&discriminator, PARAM_BYTES));
        costs
    }
}

impl GanConfig {
    /// The DCGAN-style pair for `input = side^2` images: G noise -> 64 x (side/4)^2 -> 32 x
    /// (side/2)^2 -> 1 x side^2, D 1 -> 32 -> 64 channels -> logit.
    pub fn conv(input: usize) -> Self {
        Self {
            generator_hidden: vec![64, 32],
            discriminator_hidden: vec![32, 64],
            arch: Arch::Conv,
            ..Self::new(input)
        }
    }

    fn validate_conv(&self) -> Result<()> {
        let side = self.input.isqrt();
        let (g, d) = (self.generator_hidden.len(), self.discriminator_hidden.len());
        if g == 0 || d == 0 {
            return Err(Error::param(
                "arch",
                "`conv` needs at least one hidden layer in each network",
            ));
        }
        let depth = g.max(d).min(usize::BITS as usize - 1) as u32;
        if self.input > 1 && (side * side != self.input || !side.is_multiple_of(1 << depth)) {
            return Err(Error::param(
                "arch",
                format!(
                    "`conv` needs square images with a side divisible by {} (got {} values per example)",
                    1 << depth,
                    self.input
                ),
            ));
        }
        Ok(())
    }
}

/// The adversarial objective and the optimiser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanObjective {
    /// Generator loss.
    pub loss: GanLoss,
    /// Discriminator steps per generator step (Algorithm 1's `k`).
    #[serde(alias = "k")]
    pub d_steps: usize,
    /// Adam learning rate (both networks).
    pub lr: f64,
    /// Adam's beta1.
    pub adam_beta1: f64,
    /// Adam's beta2.
    pub adam_beta2: f64,
    /// Adam's epsilon.
    pub adam_epsilon: f64,
    /// Target of real examples for the discriminator (1 = none; 0.9 = one-sided smoothing).
    pub label_smoothing: f64,
    /// Which code computes the updates: `auto` (the host engine on the CPU) or `tensor`
    /// (burn's autodiff).
    #[serde(default)]
    pub engine: crate::nn::Engine,
}

impl Default for GanObjective {
    /// Radford et al.'s Adam settings (lr 2e-4, beta1 0.5), `k = 1`, non-saturating loss.
    fn default() -> Self {
        Self {
            loss: GanLoss::NonSaturating,
            d_steps: 1,
            lr: 2e-4,
            adam_beta1: 0.5,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            label_smoothing: 1.0,
            engine: crate::nn::Engine::Auto,
        }
    }
}

impl GanObjective {
    /// Adam's settings.
    pub fn adam(&self) -> AdamSettings {
        AdamSettings::new(self.lr, self.adam_beta1, self.adam_beta2, self.adam_epsilon)
    }

    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("d-steps", self.d_steps)?;
        check::positive("lr", self.lr)?;
        // Named as the command line's flag (`--beta1`); beta2 has no flag of its own.
        for (name, b) in [("beta1", self.adam_beta1), ("beta2", self.adam_beta2)] {
            if !(b.is_finite() && (0.0..1.0).contains(&b)) {
                return Err(Error::param(name, format!("must be in [0, 1) (got {b})")));
            }
        }
        check::positive("adam-epsilon", self.adam_epsilon)?;
        let s = self.label_smoothing;
        if !(s.is_finite() && s > 0.5 && s <= 1.0) {
            return Err(Error::param(
                "label-smoothing",
                format!("the real target must be in (0.5, 1] (got {s})"),
            ));
        }
        Ok(())
    }
}

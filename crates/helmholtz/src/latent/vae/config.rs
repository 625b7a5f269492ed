//! Configuration of a VAE (architecture) and of its ELBO training (objective and optimiser).

use crate::keywords::keywords;
use crate::nn::dense::AdamSettings;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::latent::gumbel::TauSchedule;
pub use crate::nn::Engine;

/// The latent variables and their prior.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Latent {
    /// `z ~ N(0, I)` of `dim` dimensions, `q(z | x) = N(mu(x), diag sigma^2(x))`.
    Gaussian {
        /// Latent dimensions.
        dim: usize,
    },
    /// `groups` independent categorical variables of `classes` categories each, uniform prior,
    /// relaxed with Gumbel-Softmax in training.
    Categorical {
        /// Number of categorical variables (N).
        groups: usize,
        /// Categories per variable (K).
        classes: usize,
    },
}

impl Default for Latent {
    fn default() -> Self {
        Latent::Gaussian { dim: 20 }
    }
}

impl Latent {
    /// Width of the decoder's input: `dim`, or `groups * classes` (one-hot codes).
    pub fn code_width(&self) -> usize {
        match *self {
            Latent::Gaussian { dim } => dim,
            Latent::Categorical { groups, classes } => groups * classes,
        }
    }

    /// True for categorical latents.
    pub fn is_categorical(&self) -> bool {
        matches!(self, Latent::Categorical { .. })
    }
}

impl std::fmt::Display for Latent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Latent::Gaussian { dim } => write!(f, "gaussian:{dim}"),
            Latent::Categorical { groups, classes } => write!(f, "categorical:{groups}x{classes}"),
        }
    }
}

impl std::str::FromStr for Latent {
    type Err = Error;
    /// `gaussian:D`, `D`, or `categorical:NxK`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::param("latent", format!("`{s}`: {why}"));
        let count = |v: &str| -> Result<usize> {
            v.trim()
                .parse::<usize>()
                .map_err(|_| bad("expected gaussian:D or categorical:NxK with whole numbers"))
        };
        let (kind, spec) = s.split_once(':').unwrap_or(("gaussian", s));
        let latent = match kind {
            "gaussian" | "normal" => Latent::Gaussian { dim: count(spec)? },
            "categorical" | "gumbel" => {
                let (n, k) = spec
                    .split_once(['x', 'X'])
                    .ok_or_else(|| bad("categorical latents are written categorical:NxK"))?;
                Latent::Categorical {
                    groups: count(n)?,
                    classes: count(k)?,
                }
            }
            _ => return Err(bad("the kind must be gaussian or categorical")),
        };
        latent.validate()?;
        Ok(latent)
    }
}

impl Latent {
    /// Every size must be at least 1 (and a categorical needs 2 classes to carry information).
    pub fn validate(&self) -> Result<()> {
        match *self {
            Latent::Gaussian { dim } => {
                if dim == 0 {
                    return Err(Error::param(
                        "latent",
                        "the latent size must be at least 1 (got gaussian:0)",
                    ));
                }
            }
            Latent::Categorical { groups, classes } => {
                if groups == 0 || classes < 2 {
                    return Err(Error::param(
                        "latent",
                        format!(
                            "categorical:NxK needs N >= 1 and K >= 2 (got categorical:{groups}x{classes})"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The decoder's distribution `p(x | z)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    /// Independent Bernoulli pixels with logits `l(z)`: `log p(x | z) = sum_j x_j l_j - softplus(l_j)`.
    #[default]
    Bernoulli,
    /// Independent Gaussians `N(m_j(z), sigma_j^2)` with a learned per-dimension `sigma_j`
    /// (floored at `min_sigma`); the data are standardised per column first.
    Gaussian,
}

keywords!(Likelihood, "likelihood", {
    Bernoulli => "bernoulli" | "binary",
    Gaussian => "gaussian" | "normal",
});

/// Architecture of a VAE: an MLP encoder `x -> hidden -> q(z | x)` and the mirrored decoder
/// `z -> reversed hidden -> p(x | z)`, ReLU between layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaeConfig {
    /// Width of the data (filled in from the data by the run).
    pub input: usize,
    /// Hidden layer widths of the encoder (the decoder uses them in reverse).
    pub hidden: Vec<usize>,
    /// The latent variables.
    pub latent: Latent,
    /// The decoder's distribution.
    pub likelihood: Likelihood,
    /// Smallest decoder standard deviation (Gaussian likelihood; standardised units).
    pub min_sigma: f64,
}

impl VaeConfig {
    /// The reference VAE (`input`-400-20, Bernoulli decoder) of the PyTorch example.
    pub fn new(input: usize) -> Self {
        Self {
            input,
            hidden: vec![400],
            latent: Latent::default(),
            likelihood: Likelihood::Bernoulli,
            min_sigma: 0.01,
        }
    }

    /// Check every value; names in errors are the CLI flags.
    pub fn validate(&self) -> Result<()> {
        if self.input == 0 {
            return Err(Error::param("data", "the data have zero columns"));
        }
        if self.hidden.contains(&0) {
            return Err(Error::param(
                "hidden",
                format!(
                    "every hidden layer needs at least 1 unit (got {:?})",
                    self.hidden
                ),
            ));
        }
        self.latent.validate()?;
        check::positive("min-sigma", self.min_sigma)?;
        crate::budget::check_parts(&self.costs())
    }

    /// The parameters of the encoder and the mirrored decoder by parameter (`data`, `hidden`,
    /// `latent`; see [`crate::budget::network`]), for [`crate::budget::check_parts`].
    pub fn costs(&self) -> Vec<(&'static str, u128)> {
        let mut widths = vec![("data", self.input)];
        widths.extend(self.hidden.iter().map(|&h| ("hidden", h)));
        widths.push(("latent", self.latent_width()));
        crate::budget::network(&widths, 2 * crate::budget::PARAM_BYTES)
    }

    /// Units of the latent layer: mean and log-variance per Gaussian dimension, or the logits
    /// of every categorical group.
    pub fn latent_width(&self) -> usize {
        match self.latent {
            Latent::Gaussian { dim } => dim.saturating_mul(2),
            Latent::Categorical { groups, classes } => groups.saturating_mul(classes),
        }
    }
}

/// Parse `--hidden`: a comma-separated list of layer widths (`400`, `512,256`).
pub fn parse_hidden(s: &str) -> Result<Vec<usize>> {
    let widths = s
        .split(',')
        .map(|w| {
            w.trim().parse::<usize>().map_err(|_| {
                Error::param(
                    "hidden",
                    format!("`{s}` is not a comma-separated list of layer widths"),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if widths.contains(&0) {
        return Err(Error::param(
            "hidden",
            format!("every hidden layer needs at least 1 unit (got `{s}`)"),
        ));
    }
    Ok(widths)
}

/// How training maximises the ELBO: the weight of the KL term, its warm-up, the relaxation of
/// categorical latents and the optimiser (Adam).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElboConfig {
    /// Weight of the KL term (`beta`-VAE; 1 is the ELBO).
    pub beta: f64,
    /// KL warm-up: the KL weight rises linearly from 0 to `beta` over this many epochs.
    pub warmup_epochs: f64,
    /// Adam learning rate.
    pub lr: f64,
    /// Adam `epsilon` (PyTorch's default 1e-8; burn's own default is 1e-5).
    pub adam_epsilon: f64,
    /// Adam `beta_1`.
    pub adam_beta1: f64,
    /// Adam `beta_2`.
    pub adam_beta2: f64,
    /// Gumbel-Softmax temperature schedule (categorical latents).
    pub tau: TauSchedule,
    /// Straight-through Gumbel-Softmax: one-hot samples forward, relaxed gradients backward.
    pub straight_through: bool,
    /// Binarise every training batch afresh: pixel `x` becomes 1 with probability `x`.
    pub dynamic_binarization: bool,
    /// Which code computes the updates.
    #[serde(default)]
    pub engine: Engine,
}

impl Default for ElboConfig {
    fn default() -> Self {
        Self {
            beta: 1.0,
            warmup_epochs: 0.0,
            lr: 1e-3,
            adam_epsilon: 1e-8,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            tau: TauSchedule::default(),
            straight_through: false,
            dynamic_binarization: false,
            engine: Engine::Auto,
        }
    }
}

impl ElboConfig {
    /// Adam's settings.
    pub fn adam(&self) -> AdamSettings {
        AdamSettings::new(self.lr, self.adam_beta1, self.adam_beta2, self.adam_epsilon)
    }

    /// Check every value; names in errors are the CLI flags.
    pub fn validate(&self) -> Result<()> {
        check::non_negative("beta", self.beta)?;
        check::non_negative("warmup", self.warmup_epochs)?;
        check::positive("lr", self.lr)?;
        check::positive("adam-epsilon", self.adam_epsilon)?;
        check::unit_interval_open("adam-beta1", self.adam_beta1)?;
        check::unit_interval_open("adam-beta2", self.adam_beta2)?;
        self.tau.validate()
    }

    /// The KL weight at training progress `epochs_done` (fractional epochs completed).
    pub fn kl_weight(&self, epochs_done: f64) -> f64 {
        if self.warmup_epochs > 0.0 {
            self.beta * (epochs_done / self.warmup_epochs).clamp(0.0, 1.0)
        } else {
            self.beta
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latent_specs_parse_and_reject_zero() -> Result<()> {
        assert_eq!("gaussian:2".parse::<Latent>()?, Latent::Gaussian { dim: 2 });
        assert_eq!("20".parse::<Latent>()?, Latent::Gaussian { dim: 20 });
        assert_eq!(
            "categorical:20x10".parse::<Latent>()?,
            Latent::Categorical {
                groups: 20,
                classes: 10
            }
        );
        for bad in [
            "gaussian:0",
            "categorical:0x10",
            "categorical:3x1",
            "categorical:3",
            "foo:3",
            "gaussian:x",
        ] {
            let e = bad.parse::<Latent>().expect_err(bad);
            assert!(e.is_usage() && e.to_string().starts_with("latent:"), "{e}");
        }
        Ok(())
    }

    #[test]
    fn hidden_lists_parse() -> Result<()> {
        assert_eq!(parse_hidden("400")?, vec![400]);
        assert_eq!(parse_hidden("512, 256")?, vec![512, 256]);
        assert!(parse_hidden("0").is_err());
        assert!(parse_hidden("a").is_err());
        Ok(())
    }

    #[test]
    fn warmup_ramps_the_kl_weight() {
        let c = ElboConfig {
            beta: 2.0,
            warmup_epochs: 4.0,
            ..ElboConfig::default()
        };
        assert_eq!(c.kl_weight(0.0), 0.0);
        assert_eq!(c.kl_weight(1.0), 0.5);
        assert_eq!(c.kl_weight(9.0), 2.0);
        assert_eq!(ElboConfig::default().kl_weight(0.0), 1.0);
    }
}

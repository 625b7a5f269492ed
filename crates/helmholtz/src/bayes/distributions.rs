//! Scalar probability distributions in f64: `sample`, reparameterised `rsample` where one exists
//! (a deterministic map of standard noise, so gradients flow through it), `log_prob`, moments,
//! and closed-form KL divergences.
//!
//! | distribution | `log_prob(x)` | `rsample` | KL |
//! | --- | --- | --- | --- |
//! | `Normal(μ, σ)` | `-(x-μ)²/2σ² - ln σ - ½ ln 2π` | `μ + σ ε`, `ε ~ N(0,1)` | `ln(σ₂/σ₁) + (σ₁² + (μ₁-μ₂)²)/2σ₂² - ½` |
//! | `LogNormal(μ, σ)` | `Normal(μ, σ).log_prob(ln x) - ln x` | `exp(μ + σ ε)` | as the Normals of `ln x` |
//! | `Uniform(a, b)` | `-ln(b - a)` on `[a, b]` | `a + (b - a) u`, `u ~ U(0,1)` | `ln((b₂-a₂)/(b₁-a₁))` if `[a₁,b₁] ⊆ [a₂,b₂]`, else ∞ |
//! | `Bernoulli(p)` (logit `l`) | `x l - softplus(l)` | none (discrete) | `p ln(p/q) + (1-p) ln((1-p)/(1-q))` |
//! | `Categorical(logits)` | `l_k - logsumexp(l)` | none (discrete) | `Σ p_k (ln p_k - ln q_k)` |

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use crate::error::{Error, Result};

/// `ln(2π) / 2`.
pub(crate) const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// `ln(1 + e^x)` without overflow.
pub fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

pub use crate::kernels::special::log_sum_exp;

fn positive(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::param(
            name,
            format!("must be positive and finite (got {v})"),
        ))
    }
}

fn finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::param(name, format!("must be finite (got {v})")))
    }
}

/// `Φ(z) = ½ erfc(-z/√2)`, with the Chebyshev fit of `erfc` from Numerical Recipes
/// (§6.2, `erfcc`): fractional error below 1.2e-7 everywhere.
pub fn standard_normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z * std::f64::consts::FRAC_1_SQRT_2)
}

/// The complementary error function (fractional error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    const C: [f64; 10] = [
        -1.265_512_23,
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = C.iter().rev().fold(0.0, |acc, c| c + t * acc);
    let r = t * (-z * z + poly).exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// `N(loc, scale²)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normal {
    /// Mean `μ`.
    pub loc: f64,
    /// Standard deviation `σ > 0`.
    pub scale: f64,
}

impl Normal {
    /// `N(loc, scale²)`; `scale` must be positive.
    pub fn new(loc: f64, scale: f64) -> Result<Self> {
        finite("loc", loc)?;
        positive("scale", scale)?;
        Ok(Self { loc, scale })
    }

    /// One draw.
    pub fn sample(&self, rng: &mut impl Rng) -> f64 {
        self.rsample(rng.sample(StandardNormal))
    }

    /// The reparameterised draw `μ + σ ε` for standard normal `eps`.
    pub fn rsample(&self, eps: f64) -> f64 {
        self.loc + self.scale * eps
    }

    /// `ln p(x)`.
    pub fn log_prob(&self, x: f64) -> f64 {
        let z = (x - self.loc) / self.scale;
        -0.5 * z * z - self.scale.ln() - HALF_LN_2PI
    }

    /// `P(X <= x)`.
    pub fn cdf(&self, x: f64) -> f64 {
        standard_normal_cdf((x - self.loc) / self.scale)
    }

    /// `d ln p(x) / dx = -(x - μ)/σ²`.
    pub fn score(&self, x: f64) -> f64 {
        -(x - self.loc) / (self.scale * self.scale)
    }

    /// Mean.
    pub fn mean(&self) -> f64 {
        self.loc
    }

    /// Variance.
    pub fn variance(&self) -> f64 {
        self.scale * self.scale
    }

    /// Entropy `ln σ + ½ ln 2πe`.
    pub fn entropy(&self) -> f64 {
        self.scale.ln() + HALF_LN_2PI + 0.5
    }

    /// `KL(self ‖ other)`.
    pub fn kl(&self, other: &Normal) -> f64 {
        let r = self.scale / other.scale;
        let d = (self.loc - other.loc) / other.scale;
        -r.ln() + 0.5 * (r * r + d * d) - 0.5
    }
}

/// `ln x ~ N(loc, scale²)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    /// Mean of `ln x`.
    pub loc: f64,
    /// Standard deviation of `ln x`.
    pub scale: f64,
}

impl LogNormal {
    /// `ln x ~ N(loc, scale²)`.
    pub fn new(loc: f64, scale: f64) -> Result<Self> {
        Normal::new(loc, scale)?;
        Ok(Self { loc, scale })
    }

    fn normal(&self) -> Normal {
        Normal {
            loc: self.loc,
            scale: self.scale,
        }
    }

    /// One draw.
    pub fn sample(&self, rng: &mut impl Rng) -> f64 {
        self.rsample(rng.sample(StandardNormal))
    }

    /// `exp(μ + σ ε)`.
    pub fn rsample(&self, eps: f64) -> f64 {
        self.normal().rsample(eps).exp()
    }

    /// `ln p(x)` (`-∞` for `x ≤ 0`).
    pub fn log_prob(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return f64::NEG_INFINITY;
        }
        self.normal().log_prob(x.ln()) - x.ln()
    }

    /// Mean `exp(μ + σ²/2)`.
    pub fn mean(&self) -> f64 {
        (self.loc + 0.5 * self.scale * self.scale).exp()
    }

    /// Variance `(exp(σ²) - 1) exp(2μ + σ²)`.
    pub fn variance(&self) -> f64 {
        let s2 = self.scale * self.scale;
        s2.exp_m1() * (2.0 * self.loc + s2).exp()
    }

    /// `KL(self ‖ other)`, equal to the KL of the two Normals of `ln x`.
    pub fn kl(&self, other: &LogNormal) -> f64 {
        self.normal().kl(&other.normal())
    }
}

/// Uniform on `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uniform {
    /// Lower end.
    pub low: f64,
    /// Upper end (`> low`).
    pub high: f64,
}

impl Uniform {
    /// Uniform on `[low, high]`, `low < high`.
    pub fn new(low: f64, high: f64) -> Result<Self> {
        finite("low", low)?;
        finite("high", high)?;
        if high <= low {
            return Err(Error::param(
                "high",
                format!("must exceed low (got [{low}, {high}])"),
            ));
        }
        Ok(Self { low, high })
    }

    /// One draw.
    pub fn sample(&self, rng: &mut impl Rng) -> f64 {
        self.rsample(rng.random::<f64>())
    }

    /// `a + (b - a) u` for `u` in `[0, 1)`.
    pub fn rsample(&self, u: f64) -> f64 {
        self.low + (self.high - self.low) * u
    }

    /// `ln p(x)`: `-ln(b - a)` inside, `-∞` outside.
    pub fn log_prob(&self, x: f64) -> f64 {
        if (self.low..=self.high).contains(&x) {
            -(self.high - self.low).ln()
        } else {
            f64::NEG_INFINITY
        }
    }

    /// Mean.
    pub fn mean(&self) -> f64 {
        0.5 * (self.low + self.high)
    }

    /// Variance `(b - a)²/12`.
    pub fn variance(&self) -> f64 {
        (self.high - self.low).powi(2) / 12.0
    }

    /// `KL(self ‖ other)`: finite only when `self`'s support lies inside `other`'s.
    pub fn kl(&self, other: &Uniform) -> f64 {
        if self.low >= other.low && self.high <= other.high {
            ((other.high - other.low) / (self.high - self.low)).ln()
        } else {
            f64::INFINITY
        }
    }
}

/// `P(x = 1) = sigmoid(logit)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bernoulli {
    /// `ln(p / (1 - p))`.
    pub logit: f64,
}

impl Bernoulli {
    /// From a probability in `[0, 1]`.
    pub fn from_prob(p: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::param("p", format!("must be in [0, 1] (got {p})")));
        }
        Ok(Self {
            logit: p.ln() - (-p).ln_1p(),
        })
    }

    /// From a logit.
    pub fn from_logit(logit: f64) -> Self {
        Self { logit }
    }

    /// `p = sigmoid(logit)`.
    pub fn prob(&self) -> f64 {
        1.0 / (1.0 + (-self.logit).exp())
    }

    /// One draw, 0 or 1.
    pub fn sample(&self, rng: &mut impl Rng) -> u8 {
        u8::from(rng.random::<f64>() < self.prob())
    }

    /// `ln p(x) = x l - softplus(l)`, from the logit.
    pub fn log_prob(&self, x: u8) -> f64 {
        f64::from(x) * self.logit - softplus(self.logit)
    }

    /// Mean `p`.
    pub fn mean(&self) -> f64 {
        self.prob()
    }

    /// Variance `p (1 - p)`.
    pub fn variance(&self) -> f64 {
        let p = self.prob();
        p * (1.0 - p)
    }

    /// `KL(self ‖ other)`.
    pub fn kl(&self, other: &Bernoulli) -> f64 {
        let p = self.prob();
        // ln p = -softplus(-l), ln(1 - p) = -softplus(l): exact at the ends too.
        let term = |w: f64, a: f64, b: f64| if w > 0.0 { w * (a - b) } else { 0.0 };
        term(p, -softplus(-self.logit), -softplus(-other.logit))
            + term(1.0 - p, -softplus(self.logit), -softplus(other.logit))
    }
}

/// A distribution over `0..K` given by logits.
#[derive(Debug, Clone, PartialEq)]
pub struct Categorical {
    /// Normalised log-probabilities.
    log_probs: Vec<f64>,
}

impl Categorical {
    /// From unnormalised logits (at least one finite).
    pub fn from_logits(logits: &[f64]) -> Result<Self> {
        let z = log_sum_exp(logits);
        if logits.is_empty() || !z.is_finite() || logits.iter().any(|l| l.is_nan()) {
            return Err(Error::param(
                "logits",
                "need at least one finite logit and no NaN",
            ));
        }
        Ok(Self {
            log_probs: logits.iter().map(|l| l - z).collect(),
        })
    }

    /// From probabilities (non-negative; normalised here).
    pub fn from_probs(probs: &[f64]) -> Result<Self> {
        if probs.iter().any(|&p| !(p >= 0.0 && p.is_finite())) {
            return Err(Error::param("probs", "must be non-negative and finite"));
        }
        Self::from_logits(&probs.iter().map(|p| p.ln()).collect::<Vec<_>>())
    }

    /// Number of categories.
    pub fn len(&self) -> usize {
        self.log_probs.len()
    }

    /// Whether there are no categories (never, by construction).
    pub fn is_empty(&self) -> bool {
        self.log_probs.is_empty()
    }

    /// Probabilities.
    pub fn probs(&self) -> Vec<f64> {
        self.log_probs.iter().map(|l| l.exp()).collect()
    }

    /// One draw by inverting the cumulative distribution.
    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        let u = rng.random::<f64>();
        let mut c = 0.0;
        for (k, l) in self.log_probs.iter().enumerate() {
            c += l.exp();
            if u < c {
                return k;
            }
        }
        self.log_probs
            .iter()
            .rposition(|l| l.is_finite())
            .unwrap_or(0)
    }

    /// `ln p(k)` (`-∞` outside `0..K`).
    pub fn log_prob(&self, k: usize) -> f64 {
        self.log_probs.get(k).copied().unwrap_or(f64::NEG_INFINITY)
    }

    /// Entropy `-Σ p ln p`.
    pub fn entropy(&self) -> f64 {
        -self
            .log_probs
            .iter()
            .filter(|l| l.is_finite())
            .map(|l| l.exp() * l)
            .sum::<f64>()
    }

    /// `KL(self ‖ other)` (categories must match in number).
    pub fn kl(&self, other: &Categorical) -> Result<f64> {
        if self.len() != other.len() {
            return Err(Error::param(
                "other",
                format!("{} categories against {}", self.len(), other.len()),
            ));
        }
        Ok(self
            .log_probs
            .iter()
            .zip(&other.log_probs)
            .filter(|(p, _)| p.is_finite())
            .map(|(p, q)| p.exp() * (p - q))
            .sum())
    }
}

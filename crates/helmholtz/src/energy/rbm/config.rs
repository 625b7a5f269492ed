//! Configuration of an RBM and of its contrastive-divergence training.

use crate::keywords::keywords;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};

/// Type of the visible units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum VisibleKind {
    /// Binary units, `p(v_i = 1 | h) = sigmoid(b_i + W_i h)`.
    #[default]
    Bernoulli,
    /// Unit-variance Gaussian units, `v_i | h ~ N(b_i + W_i h, 1)` (data are standardised).
    Gaussian,
}

keywords!(VisibleKind, "visible", {
    Bernoulli => "bernoulli" | "binary",
    Gaussian => "gaussian",
});

/// Architecture of an RBM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RbmConfig {
    /// Number of visible units (the data width).
    pub visible: usize,
    /// Number of hidden units.
    pub hidden: usize,
    /// Visible unit type.
    pub visible_kind: VisibleKind,
    /// Standard deviation of the initial weights (Hinton's guide: 0.01).
    pub init_std: f64,
}

impl RbmConfig {
    /// An RBM with `visible` Bernoulli units, `hidden` hidden units, weights ~ N(0, 0.01^2).
    pub fn new(visible: usize, hidden: usize) -> Self {
        Self {
            visible,
            hidden,
            visible_kind: VisibleKind::Bernoulli,
            init_std: 0.01,
        }
    }

    /// Check every value; names in errors are the CLI flags.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("hidden", self.hidden)?;
        if self.visible == 0 {
            return Err(Error::param("data", "the data have zero columns"));
        }
        // The weights, their gradient and velocity, and the copies the engines keep.
        crate::budget::check(
            "hidden",
            crate::budget::bytes(&[self.visible, self.hidden, 24]),
        )?;
        check::positive("init-std", self.init_std)?;
        Ok(())
    }
}

/// How the negative phase is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NegativePhase {
    /// CD-k: k Gibbs steps from each training example (Hinton 2002).
    Cd,
    /// PCD: k Gibbs steps on persistent chains carried across updates (Tieleman 2008).
    #[default]
    Pcd,
}

/// How the learning rate changes over training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// `lr` throughout.
    Constant,
    /// From `lr` down to 0 linearly over all updates.
    #[default]
    Linear,
    /// From `lr` down to 0 along a half cosine.
    Cosine,
}

keywords!(LrSchedule, "lr-schedule", {
    Constant => "constant",
    Linear => "linear",
    Cosine => "cosine",
});

impl LrSchedule {
    /// Multiplier of the base rate at training progress `t` in [0, 1].
    pub fn factor(self, t: f64) -> f64 {
        let t = t.clamp(0.0, 1.0);
        match self {
            Self::Constant => 1.0,
            Self::Linear => 1.0 - t,
            Self::Cosine => 0.5 * (1.0 + (std::f64::consts::PI * t).cos()),
        }
    }
}

/// Contrastive-divergence training: the estimator of the negative phase and the optimiser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdConfig {
    /// Gibbs steps per update (the k of CD-k / PCD-k).
    pub k: usize,
    /// CD or PCD.
    pub negative: NegativePhase,
    /// Persistent chains (PCD only).
    pub chains: usize,
    /// Base learning rate.
    pub lr: f64,
    /// Learning-rate schedule.
    pub lr_schedule: LrSchedule,
    /// Momentum in the first `momentum_warmup` epochs (Hinton's guide: 0.5).
    pub initial_momentum: f64,
    /// Momentum afterwards (0.5; Hinton's guide uses 0.9 with CD, which slows PCD's chains).
    pub momentum: f64,
    /// Epochs run with `initial_momentum`.
    pub momentum_warmup: usize,
    /// L2 weight decay on the weights (not the biases).
    pub weight_decay: f64,
}

impl Default for CdConfig {
    fn default() -> Self {
        Self {
            k: 1,
            negative: NegativePhase::Pcd,
            chains: 100,
            lr: 0.05,
            lr_schedule: LrSchedule::Linear,
            initial_momentum: 0.5,
            momentum: 0.5,
            momentum_warmup: 5,
            weight_decay: 1e-4,
        }
    }
}

impl CdConfig {
    /// Check every value; names in errors are the CLI flags.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("cd-k", self.k)?;
        check::positive_count("chains", self.chains)?;
        check::positive("lr", self.lr)?;
        check::unit_interval_open("momentum", self.momentum)?;
        check::unit_interval_open("initial-momentum", self.initial_momentum)?;
        check::non_negative("weight-decay", self.weight_decay)?;
        Ok(())
    }

    /// Momentum used in epoch `epoch` (1-based).
    pub fn momentum_at(&self, epoch: usize) -> f64 {
        self.momentum_schedule(epoch)
    }

    /// True when no update ever uses a velocity: no momentum in any epoch and no weight decay
    /// (plain gradient ascent, which the CPU engine then applies straight to the weights).
    pub fn without_velocity(&self) -> bool {
        let warm = self.momentum_warmup > 0 && self.initial_momentum != 0.0;
        self.momentum == 0.0 && !warm && self.weight_decay == 0.0
    }

    fn momentum_schedule(&self, epoch: usize) -> f64 {
        if epoch <= self.momentum_warmup {
            self.initial_momentum
        } else {
            self.momentum
        }
    }
}

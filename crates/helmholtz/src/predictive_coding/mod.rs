//! Predictive coding: perception as the minimisation of precision-weighted prediction errors,
//! which bound the free energy (Friston 2005; Bogacz 2017; Rao & Ballard 1999; Whittington &
//! Bogacz 2017).
//!
//! ```text
//! F = Σ_k ½ (v_k - μ_k(v_{k-1}))^T Σ_k^-1 (v_k - μ_k(v_{k-1})) + ½ ln |Σ_k| + const  ≥  -ln p(data)
//! inference:  dv/dt = -∂F/∂v          learning:  ΔW ∝ -∂F/∂W  (pre-synaptic × error)
//! ```
//!
//! [`tutorial`]: Bogacz's scalar model (his exercises 1, 2, 3 and 5). [`network`]: a
//! hierarchical network of Gaussian layers, as a classifier (labels clamped at the top) or a
//! generative model of binary images scored by importance sampling. [`run`]: the run
//! directories of `helmholtz pc`.

pub mod network;
pub mod run;
pub mod tutorial;

pub use network::{Inference, Learning, PcNetwork, Source, Target};
pub use run::{
    Exercise, Mode, PcActivation, PcParams, PcRunConfig, PcSummary, TutorialConfig,
    TutorialSummary, train_pc, tutorial,
};
pub use tutorial::{Perception, Trajectory, VarianceLearning, learned_variance};

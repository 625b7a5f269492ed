//! Hopfield networks (Hopfield 1982): binary units, symmetric weights, an energy that
//! asynchronous updates never raise, and stored patterns as its local minima.
//!
//! `E(u) = -sum_{i<j} w_ij u_i u_j - sum_i (s_i - theta_i) u_i` with `u_i in {0, 1}`, external
//! input `s` and threshold `theta`; a unit turns on when its input
//! `I_i = sum_j w_ij u_j + s_i - theta_i` is positive and off when it is negative. Weights come
//! from the seed's Hebbian rule `dw_ij = 4 (u_i - 1/2)(u_j - 1/2)`, the pseudo-inverse rule or
//! Storkey's rule ([`LearningRule`]). The modern continuous network of Ramsauer et al. (2020)
//! ([`ModernHopfield`]) replaces the quadratic energy by a log-sum-exp and stores exponentially
//! many patterns.
//!
//! # Shapes
//! Weights `[N, N]`; states, thresholds, inputs `[N]`; pattern sets `[P, N]` (0/1).
//!
//! # Example
//! ```
//! use helmholtz::energy::hopfield::{Hopfield, LearningRule, Threshold, UpdateOrder, overlap};
//! use rand::SeedableRng;
//! # fn main() -> helmholtz::Result<()> {
//! // Two 0/1 patterns of 16 units.
//! let a: Vec<f32> = (0..16).map(|i| (i % 2) as f32).collect();
//! let b: Vec<f32> = (0..16).map(|i| (i < 8) as u8 as f32).collect();
//! let net = Hopfield::store(&[a.clone(), b].concat(), 16, LearningRule::Hebbian, Threshold::Balanced)?;
//! // Corrupt two units of `a` and let the network settle.
//! let target: Vec<u8> = a.iter().map(|&v| v as u8).collect();
//! let mut u = target.clone();
//! u[0] ^= 1;
//! u[5] ^= 1;
//! let trace = net.recall(&mut u, UpdateOrder::Asynchronous, 10, &mut rand::rngs::StdRng::seed_from_u64(0));
//! assert!(trace.converged && overlap(&u, &target) == 1.0);
//! assert!(trace.energies.windows(2).all(|e| e[1] <= e[0]));
//! # Ok(())
//! # }
//! ```

mod capacity;
mod modern;
mod network;
mod rules;
mod run;

pub use capacity::{
    CapacityConfig, CapacityCurve, CapacityPoint, HEBBIAN_CAPACITY, RETRIEVAL_OVERLAP,
    capacity_curve, critical_load, default_loads,
};
pub use modern::ModernHopfield;
pub use network::{Hopfield, Recall, Threshold, UpdateOrder, overlap};
pub use rules::{LearningRule, learn};
pub use run::{
    CapacitySummary, Corruption, CriticalLoad, Cue, FAMILY, ModernRequest, ModernSummary,
    PatternChoice, RecallRequest, RecallSummary, Side, StoreConfig, StoreSummary, capacity, open,
    recall, recall_modern, store,
};

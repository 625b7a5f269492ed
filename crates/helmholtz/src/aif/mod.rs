//! Active inference: agents that perceive, plan and learn by minimising free energy.
//!
//! The first seed article's free-energy principle on a discrete POMDP, agreeing with pymdp's
//! NumPy agent (`pymdp.legacy`). An agent holds a generative model ([`Pomdp`]: `A`, `B`, `C`,
//! `D`, `E` and the Dirichlet `pA`, `pB`, `pD`, in pymdp's layout and JSON keys) and at each
//! step
//!
//! ```text
//! perceive   q(s)  = argmin_q F[q] = KL(q(s) || p(s)) - E_q[ln p(o | s)]       (perception)
//! plan       G(pi) = E_q(o|pi)[ln softmax(C)] + I(o; s | pi) + novelty           (planning)
//!            q(pi) = softmax(gamma G(pi) + ln E)
//! act        u ~ sum_pi q(pi) [pi_1 = u]    (deterministic: its maximum)
//! learn      pA += lr o (x) q(s),  pB += lr q(s') (x) q(s),  pD += lr q(s_1)      (learning)
//! ```
//!
//! (`G` is pymdp's negative expected free energy: larger is better.) Beyond pymdp's NumPy
//! agent: sophisticated inference ([`sophisticated`]), precision updating and forgetting
//! ([`agent`]), exact expectations of a policy's figures by enumeration ([`episodes::exact`]).
//!
//! ```
//! use helmholtz::aif::{Agent, AgentParams, EnvSpec, Environment};
//! # fn main() -> helmholtz::Result<()> {
//! let env = Environment::new(&EnvSpec::Tmaze)?;
//! let mut agent = Agent::new(&env.model, AgentParams::default())?;
//! agent.infer_states(&[0, 0, 0])?; // at the centre, no reward, a random cue
//! let plan = agent.infer_policies();
//! // The agent goes to the cue first: the information it gives beats gambling on an arm.
//! let best = plan.q_pi.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).expect("valid").0;
//! assert_eq!(agent.policies().policy(best), vec![vec![3, 0]]);
//! # Ok(())
//! # }
//! ```

pub mod agent;
pub mod envs;
pub mod episodes;
pub mod model;
pub mod perception;
pub mod planning;
pub mod run;
pub mod sophisticated;
pub mod tables;

pub use agent::{ActionSelection, Agent, AgentParams, Inference, Learning, Sampling};
pub use envs::{EnvSpec, Environment, Task};
pub use model::{Array, Pomdp};
pub use perception::{FreeEnergy, MmpConfig, StateBeliefs};
pub use planning::{EfeTerms, Policies, PolicyPosterior, action_marginals};
pub use run::{AifRunConfig, AifSummary, InferRequest, InferResult, export, infer, run};
pub use sophisticated::SophisticatedConfig;

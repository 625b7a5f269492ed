//! The active-inference agent for `helmholtz.aif.Agent`: a model in pymdp's keys and index
//! order (JSON from the Python side's numpy arrays), the library's `AgentParams` (JSON), and
//! the agent's perception, planning, action and learning steps.

use helmholtz::aif::{
    ActionSelection, Agent, AgentParams, EfeTerms, Inference, Learning, MmpConfig, Pomdp, Sampling,
    SophisticatedConfig,
};
use numpy::PyArray1;
use pyo3::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Deserialize;

use crate::common::{array1, settings_from_json, to_py, value_error};

/// The library's parameter names as pymdp's `Agent` spells them.
const NAMES: &[(&str, &str)] = &[
    ("policy-len", "policy_len"),
    ("gamma", "gamma"),
    ("alpha", "alpha"),
    ("lr-pa", "lr_pA"),
    ("lr-pb", "lr_pB"),
    ("lr-pd", "lr_pD"),
];

/// pymdp's `Agent` settings, as the Python side sends them.
#[derive(Deserialize)]
struct Settings {
    policy_len: usize,
    gamma: f64,
    alpha: f64,
    action_selection: ActionSelection,
    sampling: Sampling,
    inference: Inference,
    inference_horizon: usize,
    use_utility: bool,
    use_states_info_gain: bool,
    use_param_info_gain: bool,
    lr_pa: f64,
    lr_pb: f64,
    lr_pd: f64,
    forgetting: f64,
    /// Sophisticated inference to this many actions, when given.
    si_horizon: Option<usize>,
    update_gamma: bool,
}

impl Settings {
    fn params(self) -> AgentParams {
        let defaults = AgentParams::default();
        AgentParams {
            policy_len: self.policy_len,
            gamma: self.gamma,
            alpha: self.alpha,
            action_selection: self.action_selection,
            sampling: self.sampling,
            inference: self.inference,
            mmp: MmpConfig {
                horizon: self.inference_horizon,
                ..defaults.mmp
            },
            terms: EfeTerms {
                utility: self.use_utility,
                info_gain: self.use_states_info_gain,
                novelty: self.use_param_info_gain,
            },
            sophisticated: self.si_horizon.map(|depth| SophisticatedConfig {
                depth,
                ..SophisticatedConfig::default()
            }),
            update_gamma: self.update_gamma,
            learning: Learning {
                lr_pa: self.lr_pa,
                lr_pb: self.lr_pb,
                lr_pd: self.lr_pd,
                forgetting: self.forgetting,
            },
            ..defaults
        }
    }
}

/// An agent and the generator of its stochastic choices.
#[pyclass(name = "Agent")]
struct PyAgent {
    agent: Box<Agent>,
    rng: StdRng,
}

#[pymethods]
impl PyAgent {
    /// An agent for `model` (JSON with keys A, B, C, D, E, pA, pB, pD) with `params` (pymdp's
    /// settings as JSON); `seed` drives tie-breaking and stochastic actions.
    #[new]
    fn new(model: &str, params: &str, seed: u64) -> PyResult<Self> {
        let value: serde_json::Value = settings_from_json(model)?;
        let model =
            Pomdp::from_json(&value).map_err(|reason| value_error(format!("model: {reason}")))?;
        let settings: Settings = settings_from_json(params)?;
        let agent = Agent::new(&model, settings.params()).map_err(|e| to_py(e, NAMES))?;
        Ok(Self {
            agent: Box::new(agent),
            rng: StdRng::seed_from_u64(seed),
        })
    }

    /// Infer the states from one outcome per modality; returns `(qs per factor, vfe)`.
    fn infer_states<'py>(
        &mut self,
        py: Python<'py>,
        obs: Vec<usize>,
    ) -> PyResult<(Vec<Bound<'py, PyArray1<f64>>>, f64)> {
        self.agent.check_obs(&obs).map_err(|e| to_py(e, NAMES))?;
        let beliefs = self.agent.infer_states(&obs).map_err(|e| to_py(e, NAMES))?;
        let vfe = beliefs.vfe;
        let qs = beliefs.qs.iter().map(|q| array1(py, q.clone())).collect();
        Ok((qs, vfe))
    }

    /// Evaluate every policy: `(q_pi, neg_efe, utility, info_gain, novelty)`.
    #[allow(clippy::type_complexity)]
    fn infer_policies<'py>(
        &mut self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        if self.agent.beliefs().is_none() {
            return Err(value_error(
                "infer_policies: call infer_states with an observation first",
            ));
        }
        let p = self.agent.infer_policies();
        Ok((
            array1(py, p.q_pi.clone()),
            array1(py, p.neg_efe.clone()),
            array1(py, p.utility.clone()),
            array1(py, p.info_gain.clone()),
            array1(py, p.novelty.clone()),
        ))
    }

    /// Choose the next action (one per factor) and remember it for the next prior.
    fn sample_action(&mut self) -> PyResult<Vec<usize>> {
        if self.agent.policy_posterior().is_none() {
            return Err(value_error("sample_action: call infer_policies first"));
        }
        Ok(self.agent.sample_action(&mut self.rng))
    }

    /// Take `action` (one per factor) as the action done, for the next prior.
    fn set_action(&mut self, action: Vec<usize>) -> PyResult<()> {
        self.agent.set_action(&action).map_err(|e| to_py(e, NAMES))
    }

    /// The probability of each joint first action, per factor (the action marginals).
    fn action_marginals(&self) -> PyResult<Vec<Vec<f64>>> {
        let q_pi = &self
            .agent
            .policy_posterior()
            .ok_or_else(|| value_error("action_marginals: call infer_policies first"))?
            .q_pi;
        Ok(helmholtz::aif::action_marginals(
            self.agent.policies(),
            q_pi,
        ))
    }

    /// Dirichlet updates of pA (and pB from the last transition) with outcome `obs`.
    fn learn(&mut self, obs: Vec<usize>) -> PyResult<()> {
        self.agent.learn(&obs).map_err(|e| to_py(e, NAMES))
    }

    /// Dirichlet update of pD from the beliefs about the first state.
    fn learn_initial_state(&mut self) {
        self.agent.learn_initial_state();
    }

    /// Start a new episode (learned parameters are kept).
    fn reset(&mut self) {
        self.agent.reset();
    }

    /// Every policy as `[policy_len][factors]` actions, in pymdp's `construct_policies` order.
    fn policies(&self) -> Vec<Vec<Vec<usize>>> {
        self.agent.policies().all()
    }

    /// The model as it stands (learned parameters included), JSON with pymdp's keys.
    fn model_json(&self) -> String {
        self.agent.model().to_json().to_string()
    }

    /// The current precision of the policy posterior.
    fn gamma(&self) -> f64 {
        self.agent.gamma()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAgent>()?;
    Ok(())
}

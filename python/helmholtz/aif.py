"""Active inference on discrete POMDPs with pymdp's interface.

``Agent(A, B, C, D, ...)`` takes pymdp-shaped numpy object arrays (``A[m]`` of shape
``[obs_m, s_1, ..., s_F]``, ``B[f]`` of ``[s_f, s_f, u_f]``, ``C[m]``, ``D[f]``, ``E``, and the
Dirichlet ``pA``, ``pB``, ``pD``) and the settings of pymdp's ``Agent``; the loop is pymdp's::

    agent = Agent(A=A, B=B, C=C, D=D)
    qs = agent.infer_states(obs)          # one outcome index per modality
    q_pi, G = agent.infer_policies()      # G: negative expected free energy per policy
    action = agent.sample_action()

Perception is fixed-point iteration (``inference_algo="VANILLA"``) or marginal message passing
(``"MMP"``); planning scores every policy of ``policy_len`` steps (or, with
``sophisticated=True``, searches beliefs along each branch of actions and outcomes to
``si_horizon`` actions); ``update_A``/``update_B``/``update_D`` are Dirichlet learning. The
numbers agree with pymdp's NumPy agent to 1e-12 (bench/aif.sh).
"""

import json

import numpy as np

from . import _native

__all__ = ["Agent"]


def _arrays(x, name, vector=False):
    """pymdp's object array (or a list, or one plain array) as nested lists."""
    if x is None:
        return None
    if isinstance(x, np.ndarray) and x.dtype != object:
        x = [x]
    out = []
    for i, a in enumerate(x):
        a = np.asarray(a, dtype=np.float64)
        if vector and a.ndim != 1:
            raise ValueError(f"{name}[{i}]: has shape {a.shape}; it must be a vector")
        out.append(a.tolist())
    return out


class Agent:
    """An active-inference agent (pymdp's ``Agent`` parameters and methods).

    Parameters: ``A``, ``B``, ``C``, ``D``, ``E``, ``pA``, ``pB``, ``pD``; ``policy_len`` (1),
    ``gamma`` (16), ``alpha`` (16), ``action_selection`` ("deterministic", "stochastic"),
    ``sampling_mode`` ("marginal", "full"), ``inference_algo`` ("VANILLA", "MMP"),
    ``inference_horizon`` (2, MMP), ``use_utility``, ``use_states_info_gain``,
    ``use_param_info_gain``, ``lr_pA``, ``lr_pB``, ``lr_pD``, ``forgetting`` (0),
    ``sophisticated`` (False) with ``si_horizon`` (2), ``update_gamma`` (False), ``seed``.
    Uncontrolled factors are those with one control (``B[f].shape[2] == 1``).
    """

    def __init__(self, A, B, C=None, D=None, E=None, pA=None, pB=None, pD=None, *, policy_len=1,
                 gamma=16.0, alpha=16.0, action_selection="deterministic", sampling_mode="marginal",
                 inference_algo="VANILLA", inference_horizon=2, use_utility=True,
                 use_states_info_gain=True, use_param_info_gain=False, lr_pA=1.0, lr_pB=1.0,
                 lr_pD=1.0, forgetting=0.0, sophisticated=False, si_horizon=2, update_gamma=False,
                 seed=0):
        model = {"A": _arrays(A, "A"), "B": _arrays(B, "B"), "C": _arrays(C, "C", True),
                 "D": _arrays(D, "D", True), "pA": _arrays(pA, "pA"), "pB": _arrays(pB, "pB"),
                 "pD": _arrays(pD, "pD", True)}
        if E is not None:
            model["E"] = np.asarray(E, dtype=np.float64).ravel().tolist()
        model = {k: v for k, v in model.items() if v is not None}
        algo = {"VANILLA": "fpi", "MMP": "mmp"}.get(str(inference_algo).upper())
        if algo is None:
            raise ValueError(f"inference_algo: expected 'VANILLA' or 'MMP' (got {inference_algo!r})")
        params = {
            "policy_len": policy_len, "gamma": gamma, "alpha": alpha,
            "action_selection": action_selection, "sampling": sampling_mode, "inference": algo,
            "inference_horizon": inference_horizon, "use_utility": bool(use_utility),
            "use_states_info_gain": bool(use_states_info_gain),
            "use_param_info_gain": bool(use_param_info_gain), "lr_pa": lr_pA, "lr_pb": lr_pB,
            "lr_pd": lr_pD, "forgetting": forgetting,
            "si_horizon": si_horizon if sophisticated else None, "update_gamma": bool(update_gamma),
        }
        self._agent = _native.Agent(json.dumps(model), json.dumps(params, default=float), int(seed))
        self.qs = None
        self.F = None
        self.q_pi = None
        self.G = None
        self.action = None

    @property
    def policies(self):
        """Every policy, ``[n_policies, policy_len, n_factors]``, in pymdp's order."""
        return np.array(self._agent.policies())

    @property
    def gamma(self):
        """The current precision of the policy posterior."""
        return self._agent.gamma()

    def infer_states(self, observation):
        """Posterior over states from one outcome index per modality (an int for one
        modality); returns ``qs``, one array per factor. ``F`` holds the free energy."""
        obs = [int(o) for o in np.atleast_1d(observation)]
        self.qs, self.F = self._agent.infer_states(obs)
        return self.qs

    def infer_policies(self):
        """``(q_pi, G)``: the posterior over policies and their negative expected free
        energies (utility + information gain + novelty: ``G_utility``, ``G_info_gain``,
        ``G_novelty``)."""
        self.q_pi, self.G, self.G_utility, self.G_info_gain, self.G_novelty = self._agent.infer_policies()
        return self.q_pi, self.G

    def sample_action(self):
        """The next action, one per factor (float array, as pymdp)."""
        self.action = np.array(self._agent.sample_action(), dtype=np.float64)
        return self.action

    def action_marginals(self):
        """``p(u_f)`` of the first action, per factor."""
        return [np.array(m) for m in self._agent.action_marginals()]

    def update_A(self, observation):
        """Dirichlet update of ``pA`` (and of ``pB`` from the last transition) with the
        outcome; returns the model's ``A`` afterwards."""
        self._agent.learn([int(o) for o in np.atleast_1d(observation)])
        return self.model["A"]

    def update_D(self):
        """Dirichlet update of ``pD`` from this episode's first beliefs."""
        self._agent.learn_initial_state()

    def reset(self):
        """A new episode: beliefs back to the prior (learned parameters are kept)."""
        self._agent.reset()
        self.qs = self.q_pi = self.G = self.action = None

    @property
    def model(self):
        """The generative model now (learned parameters included) as numpy arrays."""
        m = json.loads(self._agent.model_json())
        return {k: [np.array(a) for a in v] if isinstance(v, list) and k != "E" else np.array(v)
                for k, v in m.items()}

"""The active-inference agent from Python: pymdp's T-maze numbers, Bayes' rule, and the same
results as `helmholtz aif infer` on the same model file."""

import json

import numpy as np
import pytest

from helmholtz.aif import Agent

from conftest import run_cli


def tmaze(cli, tmp_path):
    path = tmp_path / "tmaze.json"
    run_cli(cli, "aif", "model", "--env", "tmaze", "--out", path)
    model = json.loads(path.read_text())
    arrays = {k: [np.array(a) for a in v] for k, v in model.items() if k in ("A", "B", "C", "D")}
    return path, arrays


def test_tmaze_matches_pymdp_and_the_cli(cli, tmp_path):
    path, m = tmaze(cli, tmp_path)
    agent = Agent(A=m["A"], B=m["B"], C=m["C"], D=m["D"])
    agent.infer_states([0, 0, 0])
    q_pi, G = agent.infer_policies()
    # pymdp 1.0.4's NumPy agent on its TMazeEnv demo: go to the cue first.
    np.testing.assert_allclose(q_pi, [0.0, 0.1471, 0.1471, 0.7059], atol=1e-4)
    assert agent.sample_action()[0] == 3
    cli_out = json.loads(run_cli(cli, "aif", "infer", path, "--obs", "0,0,0", "--json").stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(q_pi, cli_out["q_pi"], atol=1e-12)
    np.testing.assert_allclose(G, cli_out["neg_efe"], atol=1e-12)
    # At the cue, which says the left arm: the agent goes left (location 1).
    qs = agent.infer_states([3, 0, 0])
    assert qs[1][0] > 0.9
    agent.infer_policies()
    assert agent.sample_action()[0] == 1


def test_one_factor_posterior_is_bayes_rule():
    rng = np.random.default_rng(0)
    A = rng.random((4, 5))
    A /= A.sum(axis=0)
    D = rng.random(5)
    D /= D.sum()
    B = np.eye(5)[:, :, None]
    agent = Agent(A=[A], B=[B], D=[D])
    qs = agent.infer_states([2])
    post = A[2] * D
    np.testing.assert_allclose(qs[0], post / post.sum(), atol=1e-10)
    assert agent.F == pytest.approx(-np.log(post.sum()), abs=1e-8)


def test_learning_adds_exactly_lr_of_mass_and_bad_models_are_refused():
    A = np.array([[0.9, 0.1], [0.1, 0.9]])
    B = np.eye(2)[:, :, None]
    pA = 2.0 * np.ones((2, 2))
    agent = Agent(A=[A], B=[B], pA=[pA], lr_pA=0.5)
    agent.infer_states([0])
    agent.update_A([0])
    assert agent.model["pA"][0].sum() == pytest.approx(pA.sum() + 0.5)
    with pytest.raises(ValueError, match=r"A\[0\]"):
        Agent(A=[np.array([[0.5, 0.1], [0.1, 0.9]])], B=[B])
    with pytest.raises(ValueError, match="outcome|observation|obs"):
        Agent(A=[A], B=[B]).infer_states([5])

//! Active inference against closed forms and pymdp's numbers.

use helmholtz::aif::envs::tmaze;
use helmholtz::aif::episodes::exact;
use helmholtz::aif::perception::{fpi, free_energy, log_likelihood};
use helmholtz::aif::planning::{EfeTerms, Scratch, step_terms};
use helmholtz::aif::tables::{Tables, ln_eps};
use helmholtz::aif::{
    ActionSelection, Agent, AgentParams, Array, EnvSpec, Environment, Pomdp, SophisticatedConfig,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A random column-stochastic array of `shape` (every entry > 0).
fn random_array(shape: &[usize], rng: &mut StdRng) -> Array {
    let mut a = Array::full(shape, 0.0);
    for v in a.data.iter_mut() {
        *v = rng.random::<f64>() + 0.05;
    }
    a.normalised_columns()
}

fn random_model(num_states: &[usize], num_obs: &[usize], controls: &[usize], seed: u64) -> Pomdp {
    let mut rng = StdRng::seed_from_u64(seed);
    let a = num_obs
        .iter()
        .map(|&o| {
            let mut shape = vec![o];
            shape.extend_from_slice(num_states);
            random_array(&shape, &mut rng)
        })
        .collect();
    let b = num_states
        .iter()
        .zip(controls)
        .map(|(&s, &u)| random_array(&[s, s, u], &mut rng))
        .collect();
    Pomdp {
        a,
        b,
        c: num_obs
            .iter()
            .map(|&o| (0..o).map(|_| rng.random::<f64>() * 4.0 - 2.0).collect())
            .collect(),
        d: num_states
            .iter()
            .map(|&s| random_array(&[s], &mut rng).data)
            .collect(),
        e: None,
        pa: None,
        pb: None,
        pd: None,
    }
}

#[test]
fn fixed_point_iteration_never_raises_the_free_energy() {
    for seed in 0..40 {
        let m = random_model(&[3, 4, 2], &[5, 3], &[2, 2, 1], seed);
        let t = Tables::new(&m, false);
        let obs = [(seed % 5) as usize, (seed % 3) as usize];
        let ln_prior: Vec<Vec<f64>> =
            m.d.iter()
                .map(|d| d.iter().map(|&x| ln_eps(x)).collect())
                .collect();
        let ll = log_likelihood(&t, &obs);
        let uniform: Vec<Vec<f64>> = [3, 4, 2].iter().map(|&n| vec![1.0 / n as f64; n]).collect();
        let mut previous = free_energy(&uniform, &ln_prior, Some(&ll)).vfe;
        for k in 1..=10 {
            let b = fpi(&t, &obs, &m.d, k, 0.0);
            assert!(
                b.vfe <= previous + 1e-12,
                "seed {seed}: iteration {k} raised F from {previous} to {}",
                b.vfe
            );
            previous = b.vfe;
        }
        // And F >= -ln p(o) (exact evidence by enumeration).
        let mut evidence = 0.0;
        let mut qx = Vec::new();
        helmholtz::aif::tables::joint(&m.d, &mut qx);
        for (s, q) in qx.iter().enumerate() {
            evidence += q * t.likelihood(0, obs[0])[s] * t.likelihood(1, obs[1])[s];
        }
        assert!(previous >= -evidence.ln() - 1e-12);
    }
}

#[test]
fn information_gain_is_zero_for_identical_columns_and_at_most_ln_outcomes() {
    let mut rng = StdRng::seed_from_u64(3);
    let terms = EfeTerms {
        utility: false,
        info_gain: true,
        novelty: false,
    };
    for trial in 0..20 {
        let mut m = random_model(&[4, 3], &[6], &[1, 1], trial);
        // Identical columns: outcomes say nothing about states.
        let column = random_array(&[6], &mut rng).data;
        for s in 0..12 {
            for (o, &c) in column.iter().enumerate() {
                m.a[0].data[o * 12 + s] = c;
            }
        }
        let t = Tables::new(&m, false);
        let qs = vec![
            random_array(&[4], &mut rng).data,
            random_array(&[3], &mut rng).data,
        ];
        let mut scratch = Scratch::default();
        let ig = step_terms(&t, terms, &qs, &qs, &[0, 0], &mut scratch).info_gain;
        assert!(ig.abs() < 1e-6, "identical columns: {ig}");
        // Informative A: 0 <= I <= ln |O|; a one-to-one A with uniform beliefs reaches ln |O|.
        let m = random_model(&[4, 3], &[6], &[1, 1], 100 + trial);
        let t = Tables::new(&m, false);
        let ig = step_terms(&t, terms, &qs, &qs, &[0, 0], &mut scratch).info_gain;
        assert!(ig > -1e-9 && ig <= 6f64.ln() + 1e-9, "{ig}");
    }
    let mut eye = Array::full(&[5, 5], 0.0);
    (0..5).for_each(|k| eye.data[k * 5 + k] = 1.0);
    let m = Pomdp {
        a: vec![eye],
        b: vec![Array {
            shape: vec![5, 5, 1],
            data: (0..25).map(|k| f64::from(k / 5 == k % 5)).collect(),
        }],
        c: vec![vec![0.0; 5]],
        d: vec![vec![0.2; 5]],
        e: None,
        pa: None,
        pb: None,
        pd: None,
    };
    let t = Tables::new(&m, false);
    let ig = step_terms(&t, terms, &m.d, &m.d, &[0], &mut Scratch::default()).info_gain;
    assert!((ig - 5f64.ln()).abs() < 1e-6, "{ig}");
}

#[test]
fn policy_posterior_is_unchanged_by_a_constant_added_to_c() {
    let m = random_model(&[4, 3], &[5, 3], &[3, 2], 11);
    let mut shifted = m.clone();
    shifted.c[0].iter_mut().for_each(|c| *c += 4.5);
    shifted.c[1].iter_mut().for_each(|c| *c -= 2.0);
    let params = AgentParams {
        policy_len: 2,
        ..Default::default()
    };
    let mut a = Agent::new(&m, params.clone()).expect("valid");
    let mut b = Agent::new(&shifted, params).expect("valid");
    for agent in [&mut a, &mut b] {
        agent.infer_states(&[2, 1]).expect("valid");
    }
    let (qa, qb) = (
        a.infer_policies().q_pi.clone(),
        b.infer_policies().q_pi.clone(),
    );
    assert_eq!(qa.len(), 36);
    for (x, y) in qa.iter().zip(&qb) {
        assert!((x - y).abs() < 1e-12);
    }
}

#[test]
fn dirichlet_updates_add_exactly_lr_of_mass() {
    let mut m = random_model(&[3, 2], &[4], &[2, 1], 5);
    let scale = |a: &Array| Array {
        shape: a.shape.clone(),
        data: a.data.iter().map(|x| x * 3.0).collect(),
    };
    m.pa = Some(m.a.iter().map(scale).collect());
    m.pb = Some(m.b.iter().map(scale).collect());
    m.pd = Some(
        m.d.iter()
            .map(|d| d.iter().map(|x| x * 2.0).collect())
            .collect(),
    );
    for lr in [0.25, 1.0, 3.0] {
        let params = AgentParams {
            learning: helmholtz::aif::Learning {
                lr_pa: lr,
                lr_pb: lr,
                lr_pd: lr,
                forgetting: 0.0,
            },
            ..Default::default()
        };
        let mut agent = Agent::new(&m, params).expect("valid");
        let mass = |a: &Agent| {
            let md = a.model();
            let s = |v: &[Array]| v.iter().map(|x| x.data.iter().sum::<f64>()).sum::<f64>();
            (
                s(md.pa.as_ref().expect("valid")),
                s(md.pb.as_ref().expect("valid")),
                md.pd.as_ref().expect("valid").iter().flatten().sum::<f64>(),
            )
        };
        agent.infer_states(&[1]).expect("valid");
        agent.infer_policies();
        agent.set_action(&[1, 0]).expect("valid");
        agent.infer_states(&[3]).expect("valid");
        let before = mass(&agent);
        agent.learn(&[3]).expect("valid");
        agent.learn_initial_state();
        let after = mass(&agent);
        // pA: one outcome times q(s); pB: one transition per factor (2 factors); pD: q per factor.
        assert!(
            (after.0 - before.0 - lr).abs() < 1e-12,
            "pA {before:?} {after:?}"
        );
        assert!((after.1 - before.1 - 2.0 * lr).abs() < 1e-12, "pB");
        assert!((after.2 - before.2 - 2.0 * lr).abs() < 1e-12, "pD");
    }
}

/// pymdp's enumerated figures for the T-maze, gamma = alpha = 1, stochastic actions, 3 steps
/// (bench/aif_pymdp.py enumerate on the exported tmaze.json).
#[test]
fn exact_tmaze_figures_equal_pymdps_enumeration() {
    let env = Environment::new(&EnvSpec::Tmaze).expect("valid");
    let params = AgentParams {
        gamma: 1.0,
        alpha: 1.0,
        action_selection: ActionSelection::Stochastic,
        ..Default::default()
    };
    let agent = Agent::new(&env.model, params).expect("valid");
    let (e, branches) = exact(&env, &agent, 3).expect("valid");
    assert!(
        (e.mean.cue_first - 0.3542419715539135).abs() < 1e-6,
        "{e:?}"
    );
    assert!(
        (e.mean.reward_arm - 0.8670908507056663).abs() < 1e-6,
        "{e:?}"
    );
    assert!((e.mean.rewards - 1.8965051296551818).abs() < 1e-6, "{e:?}");
    assert!(branches > 1000);
}

#[test]
fn deterministic_tmaze_agent_takes_the_cue_then_the_rewarding_arm() {
    let env = Environment::new(&EnvSpec::Tmaze).expect("valid");
    let agent = Agent::new(&env.model, AgentParams::default()).expect("valid");
    let (e, _) = exact(&env, &agent, 5).expect("valid");
    // The cue is exact, so the agent ends in the rewarding arm in every branch.
    assert!((e.mean.cue_first - 1.0).abs() < 1e-9, "{e:?}");
    assert!((e.mean.reward_arm - 1.0).abs() < 1e-9, "{e:?}");
    assert!((e.mean.rewards - 4.0 * 0.98).abs() < 1e-9, "{e:?}");
}

#[test]
fn sophisticated_inference_uses_the_cue_where_plain_expected_free_energy_gambles() {
    let env = Environment::new(&EnvSpec::TmazeAbsorbing).expect("valid");
    let plain = Agent::new(
        &env.model,
        AgentParams {
            policy_len: 2,
            ..Default::default()
        },
    )
    .expect("valid");
    let (p, _) = exact(&env, &plain, 3).expect("valid");
    let si = Agent::new(
        &env.model,
        AgentParams {
            sophisticated: Some(SophisticatedConfig {
                depth: 2,
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .expect("valid");
    let (s, _) = exact(&env, &si, 3).expect("valid");
    assert!(p.mean.cue_first.abs() < 1e-9, "plain: {p:?}");
    assert!((p.mean.reward_arm - 0.5).abs() < 1e-9, "plain: {p:?}");
    assert!(
        (s.mean.cue_first - 1.0).abs() < 1e-9,
        "sophisticated: {s:?}"
    );
    assert!(
        (s.mean.reward_arm - 1.0).abs() < 1e-9,
        "sophisticated: {s:?}"
    );
    // 2 x 0.98 rewards after the cue against 3 x 0.5 from the gamble.
    assert!(s.mean.rewards > p.mean.rewards + 0.4, "{s:?} {p:?}");
    assert!(s.mean.utility > p.mean.utility);
}

#[test]
fn learning_on_the_null_outcome_tmaze_approaches_the_true_reward_likelihood() {
    let env = Environment::new(&EnvSpec::TmazeNull).expect("valid");
    let mut agent = Agent::new(&env.model, AgentParams::default()).expect("valid");
    let error = |a: &Agent| {
        // The two columns the agent can learn about: each rewarding arm under its condition.
        [(1usize, 0usize), (2, 1)]
            .iter()
            .map(|&(l, c)| (a.model().a[1].data[(4 + l) * 2 + c] - 0.98).abs())
            .fold(0.0, f64::max)
    };
    let start = error(&agent);
    helmholtz::aif::episodes::sampled(
        &env,
        &mut agent,
        60,
        5,
        true,
        7,
        0,
        &mut |_| {},
        &mut |_, _, _| {},
    )
    .expect("valid");
    let end = error(&agent);
    assert!((start - 0.48).abs() < 1e-9, "{start}");
    assert!(
        end < 0.1,
        "learned p(reward | rewarding arm) is {} off 0.98",
        end
    );
}

#[test]
fn bad_models_name_the_array_and_index() {
    let t = tmaze([0.98, 0.02], false, false, [0.0, 3.0, -3.0], 0.0);
    let mut v = t.to_json();
    v["A"][1][0][1][0] = serde_json::json!(0.5);
    let e = Pomdp::from_json(&v).expect_err("an error");
    assert!(e.starts_with("column A[1][:, 1,0] sums to"), "{e}");
    let mut v = t.to_json();
    v["B"][0][2][1][3] = serde_json::json!(-0.1);
    let e = Pomdp::from_json(&v).expect_err("an error");
    assert!(e.contains("B[0][2,1,3] = -0.1 is negative"), "{e}");
    let m = Pomdp::from_json(&t.to_json()).expect("valid");
    let mut agent = Agent::new(&m, AgentParams::default()).expect("valid");
    let e = agent
        .infer_states(&[0, 3, 0])
        .expect_err("an error")
        .to_string();
    assert!(
        e.contains("modality 1 (A[1])") && e.contains("3 outcomes"),
        "{e}"
    );
    let e = agent.set_action(&[1, 1]).expect_err("an error").to_string();
    assert!(
        e.contains("factor 1 (B[1])") && e.contains("uncontrolled"),
        "{e}"
    );
}

#[test]
fn precision_rises_when_the_outcome_confirms_the_best_policy_and_falls_otherwise() {
    let env = Environment::new(&EnvSpec::Tmaze).expect("valid");
    let params = AgentParams {
        update_gamma: true,
        ..Default::default()
    };
    for (action, obs, rises) in [(3usize, [3, 0, 0], true), (1, [1, 1, 0], false)] {
        let mut agent = Agent::new(&env.model, params.clone()).expect("valid");
        agent.infer_states(&[0, 0, 0]).expect("valid");
        let post = agent.infer_policies().clone();
        agent.set_action(&[action, 0]).expect("valid");
        // The location outcome is certain under each policy, so q(pi | o) is one-hot on the
        // policy taken: beta' = beta_0 - (G_a - sum_k q_k G_k) / 2, with G the negative EFE.
        let expected_g: f64 = post
            .q_pi
            .iter()
            .zip(&post.neg_efe)
            .map(|(q, g)| q * g)
            .sum();
        let delta = post.neg_efe[action] - expected_g;
        let want = 1.0 / (1.0 / 16.0 - delta / 2.0);
        agent.infer_states(&obs).expect("valid");
        assert!(
            (agent.gamma() - want).abs() < 1e-9 * want,
            "{} vs {want}",
            agent.gamma()
        );
        assert_eq!(
            agent.gamma() > 16.0,
            rises,
            "action {action}: gamma {}",
            agent.gamma()
        );
    }
}

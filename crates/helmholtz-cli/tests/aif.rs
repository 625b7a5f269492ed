//! The command-line contract of `aif`: the T-maze figures, exact against sampled episodes,
//! learning, the run directory, and `aif infer`'s keys on an exported model.

mod common;

use common::{arg as s, assert_files, json, json_into, scratch};

#[test]
fn deterministic_tmaze_agent_visits_the_cue_and_ends_in_the_reward_arm_every_trial() {
    let (_tmp, out) = scratch("tmaze");
    let v = json_into(&out, &["aif", "run", "--env", "tmaze", "--trials", "100"]);
    assert_eq!(v["trials"], 100, "{v}");
    assert_eq!(v["cue_first"], 1.0, "{v}");
    assert_eq!(v["reward_arm"], 1.0, "{v}");
    // Four steps at the rewarding arm, each rewarded with probability 0.98.
    let r = v["mean_reward"].as_f64().expect("valid");
    assert!(
        (r - 3.92).abs() < 4.0 * v["mean_reward_se"].as_f64().expect("valid").max(0.02),
        "{v}"
    );
    assert_files(
        &out,
        &[
            "config.json",
            "eval.json",
            "steps.jsonl",
            "beliefs.png",
            "policies.png",
            "path.png",
            "report.html",
        ],
    );
    let steps = std::fs::read_to_string(out.join("steps.jsonl")).expect("valid");
    assert_eq!(steps.lines().count(), 100 * 5);
}

#[test]
fn sampled_figures_lie_within_four_standard_errors_of_the_exact_ones() {
    let flags = [
        "aif",
        "run",
        "--env",
        "tmaze",
        "--steps",
        "3",
        "--gamma",
        "1",
        "--alpha",
        "1",
        "--action-selection",
        "stochastic",
    ];
    let (_a, exact_dir) = scratch("exact");
    let exact = json_into(&exact_dir, &[&flags[..], &["--exact"]].concat());
    assert_eq!(exact["exact"], true);
    // pymdp's enumeration (bench/aif.sh): 0.354242, 0.867091, 1.896505.
    assert!((exact["cue_first"].as_f64().expect("valid") - 0.3542419715539135).abs() < 1e-6);
    let (_b, sampled_dir) = scratch("sampled");
    let sampled = json_into(
        &sampled_dir,
        &[&flags[..], &["--trials", "2000", "--seed", "3"]].concat(),
    );
    for key in ["cue_first", "reward_arm", "mean_reward"] {
        let (e, m) = (
            exact[key].as_f64().expect("valid"),
            sampled[key].as_f64().expect("valid"),
        );
        let se = sampled[format!("{key}_se")].as_f64().expect("valid");
        assert!(
            (m - e).abs() < 4.0 * se,
            "{key}: sampled {m} ± {se}, exact {e}"
        );
    }
}

#[test]
fn learning_writes_the_learned_model_which_infer_reads() {
    let (_tmp, out) = scratch("learn");
    let v = json_into(
        &out,
        &[
            "aif",
            "run",
            "--env",
            "tmaze-null",
            "--trials",
            "20",
            "--learn",
        ],
    );
    assert_eq!(v["trials"], 20);
    assert_files(&out, &["learned_model.json", "learning.png", "report.html"]);
    let model = out.join("learned_model.json");
    let r = json(&["aif", "infer", s(&model), "--obs", "0,0,0"]);
    for key in [
        "qs",
        "vfe",
        "policies",
        "neg_efe",
        "neg_efe_utility",
        "neg_efe_info_gain",
        "neg_efe_novelty",
        "q_pi",
        "action_marginals",
    ] {
        assert!(r.get(key).is_some_and(|x| !x.is_null()), "{key}: {r}");
    }
    assert_eq!(r["policies"].as_array().expect("valid").len(), 4);
}

#[test]
fn exported_model_infers_like_the_built_in_environment() {
    let (_tmp, file) = scratch("tmaze.json");
    json(&["aif", "model", "--env", "tmaze", "--out", s(&file)]);
    let r = json(&[
        "aif",
        "infer",
        s(&file),
        "--obs",
        "0,0,0",
        "--action",
        "3,0",
        "--obs",
        "3,0,1",
        "--policy-len",
        "2",
    ]);
    // After cue 1 (right arm rewarding) the best plan is to go right and stay.
    let q: Vec<f64> = serde_json::from_value(r["q_pi"].clone()).expect("valid");
    let best = (0..q.len())
        .max_by(|&a, &b| q[a].total_cmp(&q[b]))
        .expect("valid");
    assert_eq!(r["policies"][best], serde_json::json!([[2, 0], [2, 0]]));
    assert!(
        (r["vfe"].as_f64().expect("valid") - 2f64.ln()).abs() < 1e-9,
        "{r}"
    );
}

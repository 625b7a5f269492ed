//! `helmholtz bnn train|eval|predict`: the seed's example end to end by every method, the
//! digits classifier, held-out metrics, predictions, and bad input answered with exit 2.

mod common;

use common::{
    arg, assert_files, assert_summary, helmholtz, json, json_into, run_into, run_ok, scratch,
    train_ok, usage_error, words,
};

#[test]
fn seed_example_prints_the_posterior() {
    let dir = tempfile::tempdir().expect("tempdir");
    for method in ["svi", "bbb", "sgld", "sghmc"] {
        let run = dir.path().join(method);
        let v = json_into(
            &run,
            &["bnn", "train", "--example", "seed", "--method", method],
        );
        // The common summary shape, and what every run directory holds.
        assert_summary(&v, "bnn");
        assert_files(
            &run,
            &["config.json", "metrics.jsonl", "report.html", "eval.json"],
        );
        let config: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(run.join("config.json")).expect("config"),
        )
        .expect("json");
        assert_eq!(config["method"], method);
        assert!(config["command_line"].is_array() && config["started_utc"].is_string());
        // y = 3x + 2 + 0.5 noise: the posterior sits on the truth.
        let e = &v["eval"];
        let param = |name: &str| {
            e["posterior"]
                .as_array()
                .and_then(|a| a.iter().find(|p| p["name"] == name))
                .unwrap_or_else(|| panic!("{name} missing in {v}"))
                .clone()
        };
        let get = |k: &str| {
            e[k].as_f64()
                .unwrap_or_else(|| panic!("{k} missing in {v}"))
        };
        for (name, truth, tol) in [
            ("slope", 3.0, 0.1),
            ("intercept", 2.0, 0.25),
            ("sigma", 0.5, 0.1),
        ] {
            let p = param(name);
            let (mean, std) = (
                p["mean"].as_f64().expect("mean"),
                p["std"].as_f64().expect("std"),
            );
            assert!((mean - truth).abs() < tol, "{method} {name}: {v}");
            assert!(std > 0.0 && std < 0.2, "{method} {name} std: {v}");
        }
        assert!(run.join("interval.png").exists() && run.join("predictive.csv").exists());
        assert!(method == "bbb" || run.join("samples.csv").exists());
        // Held out: 100 fresh points of the same line.
        assert!(
            get("rmse") < 0.7 && get("test_log_likelihood") > -1.2,
            "{method}: {v}"
        );
        assert!((0.85..=1.0).contains(&get("coverage_95")), "{method}: {v}");
    }
}

#[test]
fn eval_and_predict_read_a_finished_run() {
    let (dir, run) = scratch("svi");
    train_ok(&run, "bnn", "--example seed --steps 500");
    let v = json(&["bnn", "eval", arg(&run)]);
    for k in ["rmse", "test_log_likelihood", "coverage_95"] {
        assert!(v[k].as_f64().is_some_and(f64::is_finite), "{k}: {v}");
    }
    assert_eq!(v["examples"], 100);
    // Same run, same seed: the metrics reported at training time come back.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("eval.json")).expect("eval.json"))
            .expect("json");
    assert_eq!(summary["rmse"], v["rmse"]);
    let input = dir.path().join("new.csv");
    std::fs::write(
        &input,
        "x
-1
0
2.5
",
    )
    .expect("write");
    let out = dir.path().join("pred.csv");
    run_into(&out, &["bnn", "predict", arg(&run), "--input", arg(&input)]);
    let text = std::fs::read_to_string(&out).expect("predictions");
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|c| c.parse().expect("number")).collect())
        .collect();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        // x, mean, lower, upper, y_lower, y_upper: mean ≈ 3x + 2, bands nested.
        assert!((r[1] - (3.0 * r[0] + 2.0)).abs() < 0.3, "{r:?}");
        assert!(
            r[4] < r[2] && r[2] < r[1] && r[1] < r[3] && r[3] < r[5],
            "{r:?}"
        );
    }
    usage_error(&[
        "bnn",
        "eval",
        dir.path().join("nope").to_str().expect("utf8"),
    ]);
}

#[test]
fn bbb_classifies_digits_with_calibrated_probabilities() {
    let (_tmp, run) = scratch("digits");
    let flags = "--example digits --method bbb --hidden 64 --epochs 2 --lr 0.003 --eval-draws 10";
    train_ok(&run, "bnn", flags);
    let v = json(&["bnn", "eval", arg(&run)]);
    let get = |k: &str| {
        v[k].as_f64()
            .unwrap_or_else(|| panic!("{k} missing in {v}"))
    };
    // A 784-64-10 net after two epochs: well above chance, probabilities close to calibrated.
    assert!(get("accuracy") > 0.85, "{v}");
    assert!(get("ece") >= 0.0 && get("ece") < 0.1, "{v}");
    assert!(
        get("test_log_likelihood") < 0.0 && get("test_log_likelihood") > -0.6,
        "{v}"
    );
    assert!(run.join("reliability.png").exists());
    let out = run_ok(helmholtz().args(["bnn", "predict"]).arg(&run));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2000 rows"));
}

#[test]
fn bad_input_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf8").to_string()
    };
    let good = csv("good.csv", "x,y\n1,2\n2,4\n3,6.5\n");
    let refused = |flags: &[&str]| usage_error(&[&["bnn", "train"], flags].concat());
    refused(&["--data", &good, "--target", "z"]);
    let bad = csv("bad.csv", "x,y\n1,2\nabc,3\n");
    refused(&["--data", &bad, "--target", "y"]);
    let one = csv("one.csv", "x,y\n1,2\n");
    refused(&["--data", &one, "--target", "y"]);
    for flags in [
        "--method sgld --step-size -0.1",
        "--method sghmc --steps 100 --burn-in 100",
        "--example digits --method svi",
        "--method bbb --hidden 0",
        "--method bbb --prior mixture:2,1,1",
        "--method sgld --hidden 8,8",
        "--method svi --epochs 3",
        "--method sgld --device cuda",
    ] {
        refused(&words(flags));
    }
}

/// Ctrl-C (SIGINT) during training saves a checkpoint and exits 130; `--resume` then ends with
/// the posterior draws of a run that was never interrupted, and `bnn eval` adds its metrics
/// beside the training's eval.json instead of overwriting it.
#[test]
fn ctrl_c_exits_130_and_resume_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["bnn", "train", "--method", "sgld", "--steps", "400000"];
    let full = dir.path().join("full");
    run_into(&full, &args);
    let cut = dir.path().join("cut");
    stop_with(&args, &cut, "-INT");
    run_ok(helmholtz().args(["bnn", "train", "--resume"]).arg(&cut));
    let bytes = |run: &std::path::Path, f: &str| std::fs::read(run.join(f)).expect(f);
    let draws = |run: &std::path::Path| bytes(run, "samples.csv");
    assert_eq!(draws(&full), draws(&cut), "resumed draws differ");
    let before = bytes(&cut, "eval.json");
    run_ok(
        helmholtz()
            .args(["bnn", "eval"])
            .arg(&cut)
            .args(["--n", "10"]),
    );
    assert_eq!(before, bytes(&cut, "eval.json"), "eval.json was rewritten");
    let evals: Vec<_> = std::fs::read_dir(cut.join("evals"))
        .expect("evals/")
        .collect();
    assert_eq!(evals.len(), 1);
}

/// SIGTERM (a scheduler's stop) is handled like Ctrl-C: a checkpoint, exit 130, and a run that
/// `--resume` finishes.
#[test]
fn sigterm_saves_a_checkpoint_and_the_run_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cut = dir.path().join("cut");
    stop_with(
        &["bnn", "train", "--method", "sgld", "--steps", "400000"],
        &cut,
        "-TERM",
    );
    run_ok(helmholtz().args(["bnn", "train", "--resume"]).arg(&cut));
    assert!(cut.join("eval.json").exists());
}

/// Start `helmholtz ARGS --out OUT`, send `signal` (`-INT`, `-TERM`) once the run directory
/// exists, and insist on exit 130 with a checkpoint saved.
fn stop_with(args: &[&str], out: &std::path::Path, signal: &str) {
    let mut child = helmholtz()
        .args(args)
        .arg("--out")
        .arg(out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let t0 = std::time::Instant::now();
    while !out.join("config.json").exists() && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "exit status after {signal}");
    assert!(out.join("checkpoint.json").exists());
}

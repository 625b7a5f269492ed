//! `helmholtz vae`: a tiny run end to end, the JSON summaries, and bad input exiting 2.

use std::path::Path;
use std::process::Output;

mod common;

use common::{
    arg, assert_files, assert_summary, assert_usage_error, json, last_json, output as helmholtz,
    output_into, refused_into, scratch, words,
};

/// One epoch of a 784-32-`latent` VAE on 500 digits, with `--json`.
fn tiny_run(out: &Path, latent: &str, extra: &[&str]) -> Output {
    let tiny = "vae train --json --epochs 1 --hidden 32 --train-examples 500 --eval-k 5 --latent";
    let args = [&words(tiny)[..], &[latent], extra].concat();
    output_into(out, &args)
}

#[test]
fn tiny_run_trains_evaluates_and_samples() {
    let (tmp, run) = scratch("run");
    let summary = last_json(&tiny_run(&run, "gaussian:4", &[]));
    assert_summary(&summary, "vae");
    for key in [
        "test_elbo",
        "test_elbo_se",
        "test_nll_iw",
        "test_nll_iw_se",
        "k",
    ] {
        assert!(
            summary["eval"].get(key).is_some(),
            "eval.{key} missing from {summary}"
        );
    }
    let files = [
        "config.json",
        "metrics.jsonl",
        "model.safetensors",
        "trainer.safetensors",
    ];
    assert_files(&run, &files);
    assert_files(&run, &["samples.png", "report.html"]);
    let run_s = arg(&run);
    let trained_eval = std::fs::read(run.join("eval.json")).expect("eval.json");
    let eval = json(&["vae", "eval", run_s, "--k", "10", "--examples", "200"]);
    let (elbo, nll, k) = (
        eval["test_elbo"].as_f64().expect("test_elbo"),
        eval["test_nll_iw"].as_f64().expect("test_nll_iw"),
        eval["k"].as_u64().expect("k"),
    );
    assert_eq!(k, 10);
    assert_eq!(eval["test_examples"].as_u64(), Some(200));
    // NLL is positive nats; the IW bound is tighter than the ELBO (up to noise).
    assert!(nll > 0.0 && nll < -elbo + 5.0, "NLL {nll}, ELBO {elbo}");
    assert!(eval["bound"].as_str().is_some_and(|b| b.contains("k = 10")));
    // A later evaluation goes beside the training's: eval.json is left byte for byte.
    assert_eq!(
        std::fs::read(run.join("eval.json")).expect("eval.json"),
        trained_eval
    );
    let later: Vec<_> = std::fs::read_dir(run.join("evals"))
        .expect("evals/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        later.len() == 1 && later[0].starts_with("eval-") && later[0].ends_with(".json"),
        "{later:?}"
    );

    let png = tmp.path().join("s.png");
    let s = common::json_into(&png, &["vae", "sample", run_s, "--n", "16"]);
    assert_eq!(s["n"].as_u64(), Some(16));
    assert!(png.is_file());
}

#[test]
fn categorical_straight_through_and_anomaly_holdout() {
    let (_tmp, run) = scratch("cat");
    let summary = last_json(&tiny_run(
        &run,
        "categorical:4x5",
        &["--straight-through", "--tau", "2", "--holdout-class", "3"],
    ));
    assert_eq!(summary["eval"]["latent"].as_str(), Some("categorical:4x5"));
    assert!(summary["last_epoch"]["tau"].as_f64().is_some());
    let report = json(&["vae", "anomaly", arg(&run)]);
    let auc = report["roc_auc"].as_f64().expect("roc_auc");
    assert!((0.0..=1.0).contains(&auc), "{report}");
    assert_eq!(report["holdout_class"].as_u64(), Some(3));
    assert!(
        run.join("anomaly-scores.csv").is_file() && run.join("anomaly-histogram.png").is_file()
    );
}

#[test]
fn bad_input_exits_2_with_one_line_naming_the_flag() {
    let (_tmp, out) = scratch("run");
    for (flags, needles) in [
        (
            vec!["--latent", "gaussian:0"],
            vec!["--latent", "at least 1"],
        ),
        (vec!["--latent", "categorical:3"], vec!["--latent", "NxK"]),
        (
            vec!["--latent", "categorical:3x4", "--tau", "0"],
            vec!["--tau", "positive"],
        ),
        (vec!["--tau-min", "-1"], vec!["--tau-min"]),
        (vec!["--hidden", "400,0"], vec!["--hidden"]),
        (
            vec!["--likelihood", "poisson"],
            vec!["--likelihood", "poisson"],
        ),
        (
            vec!["--binarize", "sometimes"],
            vec!["--binarize", "dynamic"],
        ),
        (
            vec!["--likelihood", "gaussian", "--binarize", "threshold"],
            vec!["--binarize"],
        ),
        (vec!["--eval-k", "0"], vec!["--eval-k"]),
        (vec!["--holdout-class", "all"], vec!["--holdout-class"]),
        (vec!["--holdout-class", "42"], vec!["--holdout-class", "42"]),
    ] {
        refused_into(&out, &[&["vae", "train"], &flags[..]].concat(), &needles);
    }
}

#[test]
fn bad_runs_and_data_exit_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A run directory of another family.
    let rbm = tmp.path().join("rbm-run");
    std::fs::create_dir_all(&rbm).expect("mkdir");
    std::fs::write(rbm.join("config.json"), r#"{"family": "rbm"}"#).expect("write");
    std::fs::write(rbm.join("model.safetensors"), b"").expect("write");
    let rbm_s = arg(&rbm);
    assert_usage_error(&helmholtz(&["vae", "eval", rbm_s]), &["rbm", "vae"]);
    assert_usage_error(&helmholtz(&["vae", "sample", rbm_s]), &["rbm"]);
    assert_usage_error(
        &helmholtz(&["vae", "eval", "/no/such/run"]),
        &["/no/such/run"],
    );

    let run = tmp.path().join("run");
    last_json(&tiny_run(&run, "gaussian:4", &[]));
    let run_s = arg(&run);
    assert_usage_error(&helmholtz(&["vae", "eval", run_s, "--k", "0"]), &["--k"]);
    assert_usage_error(&helmholtz(&["vae", "sample", run_s, "--n", "0"]), &["--n"]);
    // Data whose width differs from the checkpoint's.
    let csv = tmp.path().join("narrow.csv");
    let rows: String = (0..20).map(|i| format!("{},1,0\n", i % 2)).collect();
    std::fs::write(&csv, format!("a,b,c\n{rows}")).expect("write");
    let csv_s = arg(&csv);
    assert_usage_error(
        &helmholtz(&["vae", "eval", run_s, "--data", csv_s]),
        &["narrow.csv", "784"],
    );
    assert_usage_error(
        &helmholtz(&["vae", "anomaly", run_s, "--holdout-class", "1"]),
        &["--holdout-class"],
    );
    assert_usage_error(
        &helmholtz(&["vae", "anomaly", run_s, "--score", "iw", "--k", "0"]),
        &["--k"],
    );
}

//! `runs`: the run directories under a folder with their status, and two runs' curves
//! overlaid.

mod common;

use common::{arg, json, words};

#[test]
fn runs_lists_finished_and_interrupted_runs_and_overlays_two() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let flags = "hm train --layers 20 --epochs 2 --train-examples 1000 --eval-k 5";
    json(&[&words(flags)[..], &["--out", arg(&a)]].concat());
    // --no-eval: checkpointed, never evaluated (as after Ctrl-C).
    json(
        &[
            &words(flags)[..],
            &["--method", "ws", "--no-eval", "--out", arg(&b)],
        ]
        .concat(),
    );
    let v = json(&["runs", arg(tmp.path())]);
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2, "{v}");
    let status = |name: &str| {
        runs.iter()
            .find(|r| r["dir"].as_str().is_some_and(|d| d.ends_with(name)))
            .map(|r| {
                (
                    r["status"].clone(),
                    r["epochs"].clone(),
                    r["family"].clone(),
                )
            })
            .expect("listed")
    };
    assert_eq!(status("a"), ("finished".into(), 2.into(), "hm".into()));
    assert_eq!(status("b"), ("interrupted".into(), 2.into(), "hm".into()));
    let out = tmp.path().join("overlay");
    let c = json(&["runs", "compare", arg(&a), arg(&b), "--out", arg(&out)]);
    assert!(
        c["metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .any(|m| m == "iw_bound_k10"),
        "{c}"
    );
    assert!(out.join("iw_bound_k10.png").exists() && out.join("report.html").exists());
}

#[test]
fn a_trained_machine_samples_and_is_evaluated_again_beside_its_own_eval() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("hm");
    let first = json(
        &[
            &words("hm train --layers 10 --epochs 1 --train-examples 500 --eval-k 20")[..],
            &["--out", arg(&run)],
        ]
        .concat(),
    );
    let s = json(&["hm", "sample", arg(&run), "--n", "16"]);
    assert_eq!(s["n"], 16);
    assert!(run.join("samples-16.png").exists(), "{s}");
    // The same k and seed give the training's own figure again.
    let e = json(&["hm", "eval", arg(&run), "--k", "20"]);
    assert_eq!(
        e["test_log_likelihood"], first["eval"]["test_log_likelihood"],
        "{e}"
    );
    assert_eq!(
        std::fs::read_dir(run.join("evals")).expect("evals").count(),
        1
    );
}

//! `helmholtz gan`: a tiny run end to end, and bad input answered with exit 2 and one line.

mod common;

use common::{
    arg, assert_summary, helmholtz, json, json_into, run_ok, scratch, train_ok, usage_error, words,
};

#[test]
fn tiny_run_trains_and_evaluates() {
    let (_tmp, run) = scratch("run");
    let flags = "--train-examples 300 --epochs 2 --batch-size 50 --eval-samples 300 --threads 1";
    train_ok(&run, "gan", flags);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).expect("test setup");
    assert_eq!(metrics.lines().count(), 2);
    assert!(metrics.contains("update_seconds") && metrics.contains("d_fake"));
    assert!(run.join("fixed-noise-002.png").exists());
    let v = json(&["gan", "eval", "--n", "300", "--threads", "1", arg(&run)]);
    for key in [
        "parzen_ll",
        "parzen_se",
        "sigma",
        "class_entropy",
        "frechet_distance",
    ] {
        assert!(v[key].is_number(), "{key} missing in {v}");
    }
    assert!(run.join("nearest.png").exists() && run.join("classes.png").exists());
    // `gan eval` wrote its evaluation and pictures beside the training's.
    let later: Vec<String> = std::fs::read_dir(run.join("evals"))
        .expect("evals/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(later.len(), 3, "{later:?}"); // eval-*.json, eval-*-nearest.png, eval-*-classes.png
}

#[test]
fn conv_pair_trains_and_samples() {
    let (_tmp, run) = scratch("conv");
    let flags = "--arch conv --train-examples 128 --epochs 1 --batch-size 64 --no-eval \
                 --generator-hidden 8,4 --discriminator-hidden 4,8 --threads 1";
    let v = json_into(&run, &words(&format!("gan train {flags}")));
    // Without an evaluation the summary has no `eval`, rather than zeros.
    assert_summary(&v, "gan");
    assert!(v.get("eval").is_none() && v["epochs"] == 1, "{v}");
    run_ok(helmholtz().args(["gan", "sample", "--n", "16", "--threads", "1", arg(&run)]));
    assert!(run.join("samples-16.png").exists());
}

#[test]
fn bad_input_is_a_usage_error() {
    usage_error(&["gan", "train", "--noise-dim", "0"]);
    usage_error(&["gan", "train", "--d-steps", "0"]);
    usage_error(&["gan", "train", "--arch", "dense"]);
    usage_error(&[
        "gan",
        "train",
        "--arch",
        "conv",
        "--generator-hidden",
        "8,8,8",
    ]);
    usage_error(&["gan", "train", "--dropout", "1"]);
    usage_error(&["gan", "train", "--label-smoothing", "0.3"]);
    let (_tmp, run) = scratch("vae-run");
    let flags =
        "--train-examples 100 --epochs 1 --no-eval --hidden 8 --latent gaussian:2 --threads 1";
    train_ok(&run, "vae", flags);
    usage_error(&["gan", "eval", arg(&run)]);
}

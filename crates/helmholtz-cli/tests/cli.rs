//! The command-line contract: exit statuses, one-line errors, no half-written run directories,
//! and the JSON summaries that scripts read.

use std::path::Path;
use std::process::Output;

mod common;

use common::{assert_usage_error, last_json, output as helmholtz};

/// The whitespace-separated words of `line`, as an argument list.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn train_into(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["rbm", "train", "--out", out.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    helmholtz(&args)
}

fn write_idx(path: &Path, dims: &[u32], data: &[u8]) {
    let mut bytes = vec![0u8, 0, 8, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).expect("write");
}

fn idx_folder(dir: &Path, n_img: u32, n_lab: u32) {
    for prefix in ["train", "t10k"] {
        write_idx(
            &dir.join(format!("{prefix}-images-idx3-ubyte")),
            &[n_img, 2, 2],
            &vec![128u8; 4 * n_img as usize],
        );
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte")),
            &[n_lab],
            &vec![1u8; n_lab as usize],
        );
    }
}

#[test]
fn bad_flags_exit_2_with_one_line_and_leave_no_run_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    for (flags, needles) in [
        (vec!["--hidden", "0"], vec!["--hidden", "at least 1"]),
        (vec!["--lr", "-0.1"], vec!["--lr", "positive"]),
        (vec!["--cd-k", "0"], vec!["--cd-k"]),
        (vec!["--visible", "poisson"], vec!["--visible", "poisson"]),
        (vec!["--epochs", "0"], vec!["--epochs"]),
        (vec!["--momentum", "1.5"], vec!["--momentum"]),
    ] {
        let res = train_into(&out, &flags);
        assert_usage_error(&res, &needles);
        assert!(!out.exists(), "{flags:?} left {}", out.display());
    }
}

#[test]
fn bad_data_exits_2_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    // Truncated IDX file.
    let trunc = tmp.path().join("trunc");
    std::fs::create_dir(&trunc).expect("mkdir");
    idx_folder(&trunc, 5, 5);
    let img = trunc.join("train-images-idx3-ubyte");
    let bytes = std::fs::read(&img).expect("read");
    std::fs::write(&img, &bytes[..bytes.len() - 3]).expect("write");
    assert_usage_error(
        &train_into(&out, &["--data", trunc.to_str().expect("utf-8")]),
        &["train-images-idx3-ubyte", "truncated"],
    );
    // Wrong magic number.
    let magic = tmp.path().join("magic");
    std::fs::create_dir(&magic).expect("mkdir");
    idx_folder(&magic, 5, 5);
    std::fs::write(magic.join("t10k-images-idx3-ubyte"), b"\x1f\x8c not idx").expect("write");
    assert_usage_error(
        &train_into(&out, &["--data", magic.to_str().expect("utf-8")]),
        &["t10k-images-idx3-ubyte", "magic number"],
    );
    // Image/label count mismatch.
    let count = tmp.path().join("count");
    std::fs::create_dir(&count).expect("mkdir");
    idx_folder(&count, 5, 4);
    assert_usage_error(
        &train_into(&out, &["--data", count.to_str().expect("utf-8")]),
        &["labels-idx1-ubyte", "4 labels", "5 images"],
    );
    // A CSV cell that is not a number, and a NaN in the data.
    let csv = tmp.path().join("bad.csv");
    std::fs::write(&csv, "a,b\n0,1\n1,oops\n").expect("write");
    assert_usage_error(
        &train_into(&out, &["--data", csv.to_str().expect("utf-8")]),
        &["bad.csv", "`oops` is not a number"],
    );
    std::fs::write(&csv, "a,b\n0,1\nNaN,1\n").expect("write");
    assert_usage_error(
        &train_into(&out, &["--data", csv.to_str().expect("utf-8")]),
        &["bad.csv", "not a finite number"],
    );
    // Real-valued data for a Bernoulli RBM.
    std::fs::write(&csv, "a,b\n0,1\n7,1\n0,0\n1,1\n0,1\n").expect("write");
    assert_usage_error(
        &train_into(
            &out,
            &["--data", csv.to_str().expect("utf-8"), "--binarize", "none"],
        ),
        &["outside [0, 1]", "--visible gaussian"],
    );
    // A data path that does not exist.
    assert_usage_error(
        &train_into(&out, &["--data", "/no/such/file.npy"]),
        &["/no/such/file.npy"],
    );
    assert!(!out.exists());
}

#[test]
fn eval_refuses_non_runs_and_other_families() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_str().expect("utf-8");
    assert_usage_error(
        &helmholtz(&["rbm", "eval", dir]),
        &[dir, "not a helmholtz run directory"],
    );
    assert_usage_error(
        &helmholtz(&["rbm", "eval", "/no/such/run"]),
        &["/no/such/run", "not a helmholtz run directory"],
    );
    std::fs::write(tmp.path().join("config.json"), r#"{"family": "vae"}"#).expect("write");
    std::fs::write(tmp.path().join("model.safetensors"), b"").expect("write");
    assert_usage_error(
        &helmholtz(&["rbm", "eval", dir]),
        &[dir, "`vae` model, not a `rbm` model"],
    );
    assert_usage_error(&helmholtz(&["rbm", "sample", dir]), &["`vae` model"]);
}

#[test]
fn small_run_trains_samples_and_evaluates_with_json_summaries() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    let res = train_into(
        &out,
        &words("--hidden 12 --epochs 2 --sample-steps 20 --ais-runs 20 --ais-betas 300 --json"),
    );
    let last = last_json(&res);
    // The common summary shape of every trained family.
    assert_eq!(last["family"], "rbm");
    for key in ["run_dir", "epochs", "train_seconds", "eval", "last_epoch"] {
        assert!(last.get(key).is_some(), "summary lacks {key}: {last}");
    }
    assert!(
        last["eval"]["test_log_likelihood"]
            .as_f64()
            .expect("number")
            < 0.0
    );
    assert!(last["eval"]["test_log_likelihood_se"].as_f64().expect("se") > 0.0);
    for f in [
        "config.json",
        "metrics.jsonl",
        "model.safetensors",
        "samples.png",
        "filters.png",
        "report.html",
        "eval.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let run = out.to_str().expect("utf-8");
    let res = helmholtz(&[
        "rbm",
        "eval",
        run,
        "--ais-runs",
        "20",
        "--ais-betas",
        "300",
        "--json",
    ]);
    let v = last_json(&res);
    for key in ["test_log_likelihood", "log_z", "log_z_se", "ais_runs"] {
        assert!(v.get(key).is_some(), "eval JSON lacks {key}: {v}");
    }
    // 12 hidden units: log Z is exact, and AIS agrees with it roughly even with 300 betas.
    assert_eq!(v["log_z_method"], "exact");
    assert!(
        (v["log_z_ais"].as_f64().expect("ais") - v["log_z"].as_f64().expect("z")).abs() < 1.0,
        "{v}"
    );
    let png = tmp.path().join("s.png");
    let res = helmholtz(&[
        "rbm",
        "sample",
        run,
        "--steps",
        "10",
        "--n",
        "16",
        "--out",
        png.to_str().expect("utf-8"),
    ]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(png.is_file());
    // The output directory now exists: a second run into it is refused, and nothing changes.
    let before = std::fs::read(out.join("model.safetensors")).expect("read");
    assert_usage_error(&train_into(&out, &["--hidden", "12"]), &["already exists"]);
    assert_eq!(
        before,
        std::fs::read(out.join("model.safetensors")).expect("read")
    );
}

#[test]
fn divergence_exits_1_and_removes_a_run_that_never_checkpointed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    let res = train_into(
        &out,
        &words("--visible gaussian --lr 50 --hidden 50 --epochs 2 --no-eval"),
    );
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("diverged") && stderr.contains("--lr"),
        "{stderr}"
    );
    assert!(
        !out.exists(),
        "a run without a checkpoint must not be left behind"
    );
}

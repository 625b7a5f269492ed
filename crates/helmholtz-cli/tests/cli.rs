//! The command-line contract: exit statuses, one-line errors, no half-written run directories,
//! and the JSON summaries that scripts read.

use std::path::Path;
use std::process::Output;

mod common;

use common::{
    arg, assert_files, assert_summary, assert_usage_error, json, json_into, output as helmholtz,
    output_into, refused_into, run_into, scratch, words,
};

/// `helmholtz rbm train FLAGS --out OUT`.
fn train_into(out: &Path, flags: &str) -> Output {
    output_into(out, &words(&format!("rbm train {flags}")))
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
    let (_tmp, out) = scratch("run");
    for (flags, needles) in [
        ("--hidden 0", vec!["--hidden", "at least 1"]),
        ("--lr -0.1", vec!["--lr", "positive"]),
        ("--cd-k 0", vec!["--cd-k"]),
        ("--visible poisson", vec!["--visible", "poisson"]),
        ("--epochs 0", vec!["--epochs"]),
        ("--momentum 1.5", vec!["--momentum"]),
    ] {
        refused_into(&out, &words(&format!("rbm train {flags}")), &needles);
    }
}

#[test]
fn bad_data_exits_2_naming_the_file() {
    let (tmp, out) = scratch("run");
    let refused = |data: &Path, extra: &[&str], needles: &[&str]| {
        let args = [&["rbm", "train", "--data", arg(data)], extra].concat();
        refused_into(&out, &args, needles);
    };
    let idx = |name: &str, n_img, n_lab| {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).expect("mkdir");
        idx_folder(&dir, n_img, n_lab);
        dir
    };
    // Truncated IDX file.
    let trunc = idx("trunc", 5, 5);
    let img = trunc.join("train-images-idx3-ubyte");
    let bytes = std::fs::read(&img).expect("read");
    std::fs::write(&img, &bytes[..bytes.len() - 3]).expect("write");
    refused(&trunc, &[], &["train-images-idx3-ubyte", "truncated"]);
    // Wrong magic number.
    let magic = idx("magic", 5, 5);
    std::fs::write(magic.join("t10k-images-idx3-ubyte"), b"\x1f\x8c not idx").expect("write");
    refused(&magic, &[], &["t10k-images-idx3-ubyte", "magic number"]);
    // Image/label count mismatch.
    let count = idx("count", 5, 4);
    refused(&count, &[], &["labels-idx1-ubyte", "4 labels", "5 images"]);
    // A CSV cell that is not a number, and a NaN in the data.
    let csv = tmp.path().join("bad.csv");
    std::fs::write(&csv, "a,b\n0,1\n1,oops\n").expect("write");
    refused(&csv, &[], &["bad.csv", "`oops` is not a number"]);
    std::fs::write(&csv, "a,b\n0,1\nNaN,1\n").expect("write");
    refused(&csv, &[], &["bad.csv", "not a finite number"]);
    // Real-valued data for a Bernoulli RBM.
    std::fs::write(&csv, "a,b\n0,1\n7,1\n0,0\n1,1\n0,1\n").expect("write");
    refused(
        &csv,
        &["--binarize", "none"],
        &["outside [0, 1]", "--visible gaussian"],
    );
    // A data path that does not exist.
    let missing = Path::new("/no/such/file.npy");
    refused(missing, &[], &["/no/such/file.npy"]);
}

#[test]
fn eval_refuses_non_runs_and_other_families() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = arg(tmp.path());
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
    let (tmp, out) = scratch("run");
    let flags = "--hidden 12 --epochs 2 --sample-steps 20 --ais-runs 20 --ais-betas 300";
    let last = json_into(&out, &words(&format!("rbm train {flags}")));
    // The common summary shape of every trained family.
    assert_summary(&last, "rbm");
    assert!(
        last["eval"]["test_log_likelihood"]
            .as_f64()
            .expect("number")
            < 0.0
    );
    assert!(last["eval"]["test_log_likelihood_se"].as_f64().expect("se") > 0.0);
    let files = [
        "config.json",
        "metrics.jsonl",
        "model.safetensors",
        "eval.json",
    ];
    assert_files(&out, &files);
    assert_files(&out, &["samples.png", "filters.png", "report.html"]);
    let run = arg(&out);
    let v = json(&["rbm", "eval", run, "--ais-runs", "20", "--ais-betas", "300"]);
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
    run_into(&png, &["rbm", "sample", run, "--steps", "10", "--n", "16"]);
    assert!(png.is_file());
    // The output directory now exists: a second run into it is refused, and nothing changes.
    let before = std::fs::read(out.join("model.safetensors")).expect("read");
    assert_usage_error(&train_into(&out, "--hidden 12"), &["already exists"]);
    assert_eq!(
        before,
        std::fs::read(out.join("model.safetensors")).expect("read")
    );
}

#[test]
fn divergence_exits_1_and_removes_a_run_that_never_checkpointed() {
    let (_tmp, out) = scratch("run");
    let res = train_into(
        &out,
        "--visible gaussian --lr 50 --hidden 50 --epochs 2 --no-eval",
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

/// A tiny trained RBM run: the scratch folder, the run directory and its model file.
fn tiny_rbm_run() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let (tmp, out) = scratch("run");
    let flags = "rbm train --hidden 8 --epochs 1 --no-eval --sample-steps 2";
    run_into(&out, &words(flags));
    let model = out.join("model.safetensors");
    (tmp, out, model)
}

#[test]
fn outputs_never_overwrite_a_run_and_resume_refuses_another_out() {
    let (tmp, out, model) = tiny_rbm_run();
    let before = std::fs::read(&model).expect("model");
    // A sample or code file aimed at the run's own model is refused; the model is untouched.
    for verb in ["sample", "transform"] {
        assert_usage_error(
            &output_into(&model, &["rbm", verb, arg(&out)]),
            &["--out", "model.safetensors"],
        );
    }
    assert_eq!(std::fs::read(&model).expect("model"), before);
    // A resumed run stays in its own directory: `--out` elsewhere is refused, nothing is made.
    let other = tmp.path().join("other");
    refused_into(
        &other,
        &["rbm", "train", "--resume", arg(&out), "--epochs", "2"],
        &["--out", "--resume"],
    );
    assert_eq!(std::fs::read(&model).expect("model"), before);
}

#[test]
fn a_model_holding_nan_is_refused_by_eval_and_resume() {
    let (_tmp, out, model) = tiny_rbm_run();
    let mut file = helmholtz::io::TensorFile::load(&model).expect("model");
    let weight = file.tensors.get_mut("weight").expect("weight");
    weight.data[3] = f32::NAN;
    file.save(&model).expect("save");
    assert_usage_error(
        &helmholtz(&["rbm", "eval", arg(&out)]),
        &["model.safetensors", "`weight`", "NaN"],
    );
    assert_usage_error(
        &helmholtz(&["rbm", "train", "--resume", arg(&out), "--epochs", "2"]),
        &["model.safetensors", "`weight`", "resumed"],
    );
}

#[test]
fn an_output_directory_that_cannot_be_made_is_a_usage_error() {
    let (tmp, _) = scratch("x");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "keep me").expect("write");
    let args = words("ising run --size 8 --sweeps 10 --equilibration 5");
    assert_usage_error(&output_into(&file, &args), &["a-file", "not a directory"]);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep me");
    let inside = file.join("run");
    assert_usage_error(
        &output_into(&inside, &args),
        &["cannot create the run directory"],
    );
}

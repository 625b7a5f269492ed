//! Runs survive what a process cannot control: kill -9 at any moment, a second writer, a signal
//! in a one-shot command.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A small RBM run: eight checkpoints in about a second.
const TRAIN: &str = "rbm train --hidden 8 --epochs 8 --train-examples 3000 --batch-size 500 --no-eval --sample-steps 1 --seed 5";

fn spawn(args: &[&str], out: &Path) -> Child {
    helmholtz()
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn helmholtz")
}

fn model(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("model.safetensors")).expect("model.safetensors")
}

/// kill -9 at 20 moments spread over a run (fixed pseudo-random fractions of its length), then
/// `--resume` (or, when the run never wrote its configuration, the same command again): the
/// final model is always the uninterrupted run's, byte for byte.
#[test]
fn kill_9_at_any_moment_resumes_to_the_uninterrupted_model() {
    let (tmp, reference) = scratch("reference");
    let t0 = Instant::now();
    run_into(&reference, &words(TRAIN));
    let length = t0.elapsed();
    let expected = model(&reference);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut resumed = 0;
    for i in 0..20 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let fraction = (state >> 11) as f64 / (1u64 << 53) as f64;
        let out = tmp.path().join(format!("killed-{i}"));
        let mut child = spawn(&words(TRAIN), &out);
        std::thread::sleep(length.mul_f64(fraction));
        let _ = child.kill();
        let _ = child.wait();
        if out.join("config.json").is_file() {
            resumed += 1;
            run_ok(
                helmholtz()
                    .args(["rbm", "train", "--no-eval", "--resume"])
                    .arg(&out),
            );
        } else {
            run_into(&out, &words(TRAIN));
        }
        assert!(
            model(&out) == expected,
            "kill -9 at {fraction:.3} of the run: the resumed model differs"
        );
        let generations = std::fs::read_dir(out.join("checkpoints"))
            .expect("checkpoints")
            .count();
        assert_eq!(
            generations, 1,
            "kill at {fraction:.3}: leftover generations"
        );
    }
    assert!(
        resumed >= 10,
        "only {resumed} of 20 kills hit a started run"
    );
}

/// Two processes continuing one run at once: exactly one is refused, exit 2, one line naming
/// the holder; the other finishes.
#[test]
fn a_second_writer_of_a_run_is_refused() {
    let (_tmp, out) = scratch("run");
    run_into(&out, &words(TRAIN));
    let resume = [
        "rbm",
        "train",
        "--no-eval",
        "--resume",
        arg(&out),
        "--epochs",
        "40",
    ];
    let mut first = helmholtz()
        .args(resume)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait until the first holds the lock (its pid is written into the lock file).
    let pid = first.id().to_string();
    let t0 = Instant::now();
    while !std::fs::read_to_string(out.join(".lock")).is_ok_and(|s| s.contains(&pid)) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the first writer never locked"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = helmholtz().args(resume).output().expect("run helmholtz");
    let first = first.wait().expect("wait");
    assert!(first.success(), "the first writer failed");
    assert_usage_error(&second, &["in use", &pid]);
}

/// SIGINT in a one-shot command (no checkpoint to resume) leaves no run directory behind.
#[test]
fn an_interrupted_one_shot_command_leaves_nothing() {
    let (_tmp, out) = scratch("ising");
    let mut child = spawn(
        &words("ising run --size 256 --sweeps 100000000 --temperature 2.3"),
        &out,
    );
    let t0 = Instant::now();
    while !out.exists() && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130));
    assert!(!out.exists(), "an interrupted one-shot run was left behind");
}

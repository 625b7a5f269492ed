//! Helpers shared by the CLI test files.

#![allow(dead_code)]

/// The library tests' check that a message is prose, shared with them.
#[path = "../../../helmholtz/tests/common/prose.rs"]
pub mod prose;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `helmholtz` binary.
pub fn helmholtz() -> Command {
    Command::new(env!("CARGO_BIN_EXE_helmholtz"))
}

/// Run `cmd` and insist that it succeeds (stderr in the failure message).
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run helmholtz");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `helmholtz ARGS` must exit 2 with exactly one line on stderr.
pub fn usage_error(args: &[&str]) {
    let out = helmholtz().args(args).output().expect("run helmholtz");
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
}

/// Run `helmholtz ARGS` (with no Fashion-MNIST installed) and return what it did.
pub fn output(args: &[&str]) -> Output {
    helmholtz()
        .args(args)
        .env("HELMHOLTZ_DATA", "/nonexistent")
        .output()
        .expect("the helmholtz binary runs")
}

/// Exit status 2 and exactly one non-empty stderr line containing every `needle`, no panic.
pub fn assert_usage_error(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    for n in needles {
        assert!(lines[0].contains(n), "`{}` should contain `{n}`", lines[0]);
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Exit status 0 and the JSON object on the last stdout line.
pub fn last_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().expect("a summary line");
    serde_json::from_str(line).expect("the last line is JSON")
}

/// A fresh temporary folder (removed when dropped) and the path `name` in it, not yet created.
pub fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join(name);
    (tmp, path)
}

/// The whitespace-separated words of `line`, as an argument list.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// `p` as a command-line argument.
pub fn arg(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Run `helmholtz ARGS --out OUT` (as [`output`]) and return what it did.
pub fn output_into(out: &Path, args: &[&str]) -> Output {
    output(&[args, &["--out", arg(out)]].concat())
}

/// `helmholtz ARGS --out OUT` must succeed.
pub fn run_into(out: &Path, args: &[&str]) -> Output {
    let res = output_into(out, args);
    assert!(
        res.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    res
}

/// The JSON summary of `helmholtz ARGS --json`, which must succeed.
pub fn json(args: &[&str]) -> serde_json::Value {
    last_json(&output(&[args, &["--json"]].concat()))
}

/// The JSON summary of `helmholtz ARGS --json --out OUT`, which must succeed.
pub fn json_into(out: &Path, args: &[&str]) -> serde_json::Value {
    last_json(&output_into(out, &[args, &["--json"]].concat()))
}

/// `helmholtz ARGS --out OUT` is a usage error naming every `needle`, and leaves no OUT.
pub fn refused_into(out: &Path, args: &[&str], needles: &[&str]) {
    assert_usage_error(&output_into(out, args), needles);
    assert!(!out.exists(), "{args:?} left {}", out.display());
}

/// `helmholtz FAMILY train FLAGS --out OUT` (FLAGS whitespace-separated) must succeed.
pub fn train_ok(out: &Path, family: &str, flags: &str) -> Output {
    run_into(out, &words(&format!("{family} train {flags}")))
}

/// The JSON summary of a training run: `family` and the keys every family's summary has.
pub fn assert_summary(v: &serde_json::Value, family: &str) {
    assert_eq!(v["family"], family, "{v}");
    for key in ["run_dir", "epochs", "train_seconds", "last_epoch"] {
        assert!(v.get(key).is_some(), "summary lacks {key}: {v}");
    }
}

/// Each of `files` is a file in `dir`.
pub fn assert_files(dir: &Path, files: &[&str]) {
    for f in files {
        assert!(dir.join(f).is_file(), "{} lacks {f}", dir.display());
    }
}

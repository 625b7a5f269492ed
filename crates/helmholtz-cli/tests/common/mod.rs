//! Helpers shared by the CLI test files.

#![allow(dead_code)]

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
    Command::new(env!("CARGO_BIN_EXE_helmholtz"))
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

//! Helpers shared by the CLI test files.

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

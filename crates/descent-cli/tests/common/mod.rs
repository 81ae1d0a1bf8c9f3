//! Helpers shared by the binary's end-to-end tests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A path in the repository.
pub fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

/// Runs the binary.
pub fn descent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .output()
        .expect("the descent binary runs")
}

/// Runs descent, asserts success, returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = descent(args);
    assert!(
        out.status.success(),
        "descent {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs descent, asserts a clean failure (exit 2, no panic), returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = descent(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "descent {args:?}: {stderr}");
    assert!(
        !stderr.contains("panicked"),
        "descent {args:?} panicked: {stderr}"
    );
    stderr
}

/// Parses JSON output.
pub fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `dir/name` as a string argument.
pub fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

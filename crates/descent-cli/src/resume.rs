//! `descent train --resume PATH`: the command line of a saved run, rebuilt.
//!
//! A checkpoint records the flags its run was started with (and the folder it ran in). A
//! resumed run is that command line again, in that folder, with `--checkpoint` pointing at
//! the file resumed from and the few flags that may change ([`CHANGEABLE`]) given again on
//! top. Everything else that decides the result is fixed by the checkpoint, so a flag that
//! would change it is refused rather than silently ignored.

use anyhow::{bail, Context, Result};
use descent::checkpoint::Checkpoint;
use serde_json::{json, Value};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Flags that may be given with `--resume` (to change them); the checkpoint fixes the rest.
pub const CHANGEABLE: [&str; 9] = [
    "--resume",
    "--epochs",
    "--lr",
    "--threads",
    "--on-divergence",
    "--checkpoint-every",
    "--quiet",
    "--json",
    "--force",
];

/// The run a checkpoint belongs to, as stored in its `meta`.
pub struct RunRecord {
    /// The `train` flags (everything after `descent train`, without `--resume`).
    pub args: Vec<String>,
    /// The folder the run started in (relative paths in `args` are relative to it).
    pub cwd: PathBuf,
}

impl RunRecord {
    /// The record as JSON (the library adds the data's identity beside it).
    pub fn to_meta(&self) -> Value {
        json!({ "args": self.args, "cwd": self.cwd })
    }

    fn from_meta(meta: &Value, path: &Path) -> Result<RunRecord> {
        let args = meta
            .get("args")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(|v| v.as_str().map(String::from)).collect());
        let cwd = meta.get("cwd").and_then(Value::as_str).map(PathBuf::from);
        match (args, cwd) {
            (Some(args), Some(cwd)) => Ok(RunRecord { args, cwd }),
            _ => bail!(
                "{}: the checkpoint does not record its command line (was it written by `descent train`?)",
                path.display()
            ),
        }
    }
}

/// The `train` flags of this process's command line without `--resume PATH`, to store in a
/// checkpoint (`None` for another subcommand or arguments that are not UTF-8).
pub fn record(argv: &[OsString]) -> Result<RunRecord> {
    let (_, rest) = without_resume(argv.get(2..).unwrap_or_default());
    let args = rest
        .iter()
        .map(|arg| match arg.to_str() {
            Some(text) => Ok(text.to_string()),
            None => Err(anyhow::anyhow!(
                "the argument {} is not UTF-8 and cannot be stored in a checkpoint",
                arg.to_string_lossy()
            )),
        })
        .collect::<Result<Vec<_>>>()?;
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    Ok(RunRecord { args, cwd })
}

/// Rewrites `descent train --resume PATH [changes]` as the saved run's command line (and
/// moves to its folder); any other command line comes back unchanged.
pub fn expand(argv: Vec<OsString>) -> Result<Vec<OsString>> {
    if argv.get(1).is_none_or(|a| a != "train") {
        return Ok(argv);
    }
    let (path, changes) = without_resume(&argv[2..]);
    let path = match path {
        None => return Ok(argv),
        Some(Some(p)) => p,
        Some(None) => bail!("--resume needs the checkpoint's path"),
    };
    for arg in changes.iter().filter_map(|a| a.to_str()) {
        let flag = arg.split('=').next().unwrap_or(arg);
        if flag.starts_with("--") && !CHANGEABLE.contains(&flag) && flag != "--help" {
            bail!(
                "{flag} cannot be given with --resume: the run continues with the flags it was started with \
                 (only {} may change); start a new run to change {flag}",
                CHANGEABLE[1..].join(", ")
            );
        }
    }
    let path =
        std::path::absolute(&path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let checkpoint = Checkpoint::load(&path)?;
    let run = RunRecord::from_meta(&checkpoint.meta, &path)?;
    std::env::set_current_dir(&run.cwd).with_context(|| {
        format!(
            "the run started in {}, which is gone: its relative paths cannot be resolved",
            run.cwd.display()
        )
    })?;
    let mut expanded: Vec<OsString> = argv[..2].to_vec();
    expanded.extend(run.args.iter().map(OsString::from));
    expanded.push("--checkpoint".into());
    expanded.push(path.clone().into_os_string());
    expanded.extend(changes);
    // The path as resolved before moving to the run's folder.
    expanded.push("--resume".into());
    expanded.push(path.into_os_string());
    Ok(expanded)
}

/// `args` without `--resume PATH` / `--resume=PATH`, and that path: `None` without the flag,
/// `Some(None)` when the flag has no value.
fn without_resume(args: &[OsString]) -> (Option<Option<PathBuf>>, Vec<OsString>) {
    let (mut path, mut rest) = (None, Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--resume" {
            path = Some(args.next().map(PathBuf::from));
        } else if let Some(p) = arg.to_str().and_then(|a| a.strip_prefix("--resume=")) {
            path = Some(Some(PathBuf::from(p)));
        } else {
            rest.push(arg.clone());
        }
    }
    (path, rest)
}

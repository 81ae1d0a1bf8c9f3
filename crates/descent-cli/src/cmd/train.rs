//! `descent train`: the flags as a [`RunSpec`], [`descent::fit::fit`] on it, the results
//! printed.

use crate::config::TrainConfig;
use crate::progress::Progress;
use crate::resume;
use anyhow::{bail, Result};
use descent::engine::Evaluation;
use descent::fit::{fit, CheckpointSpec, Fitted, Hooks, Mode, RunSpec};
use descent::observe::Observer;
use descent::regime::Regime;
use descent::train::Outcome;
use serde_json::{json, Map, Value};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Raised by Ctrl-C (or SIGTERM): the run checkpoints and stops after the current update.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Runs `descent train`; `argv` is the whole command line (stored in checkpoints).
pub fn run(config: TrainConfig, argv: &[OsString]) -> Result<()> {
    if let Mode::Mpi { .. } = config.spec.mode {
        #[cfg(feature = "mpi")]
        return super::distributed::run(config);
        #[cfg(not(feature = "mpi"))]
        bail!("this descent was built without MPI: build it with `cargo build --release --features mpi` (which needs Debian's libopenmpi-dev openmpi-bin libclang-dev) and start it with mpirun");
    }
    let spec = &config.spec;
    if let (Some(path), None, false) = (&config.checkpoint, &spec.resume, spec.replace) {
        if path.exists() {
            bail!(
                "{} already exists: continue that run with `descent train --resume {}`, or pass --force to start over",
                path.display(),
                path.display()
            );
        }
    }
    let spec = RunSpec {
        checkpoint: checkpointing(&config, argv)?,
        ..config.spec.clone()
    };
    let mut progress = Progress::new(config.quiet || config.json);
    let mut failpoint = crate::failpoint::AbortAt::from_env();
    let mut observers: Vec<&mut dyn Observer> = vec![&mut progress];
    if let Some(f) = failpoint.as_mut() {
        observers.push(f);
    }
    let interrupt = if spec.mode == Mode::Hogwild {
        None
    } else {
        // A second Ctrl-C while the checkpoint is written ends the process at once.
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
        Some(&INTERRUPTED)
    };
    let fitted = fit(
        &spec,
        Hooks {
            observers,
            interrupt,
            cluster: None,
        },
    )?;
    let warning = fitted.loss_growth.map(|g| {
        format!(
            "the training loss grew {:.2e} times from the start ({:.4} → {:.4e}): the rate {} is too large for this data; try a smaller --lr (or --standardize)",
            g,
            fitted.train.loss / g,
            fitted.train.loss,
            super::shortest(spec.lr)
        )
    });
    if let Some(w) = &warning {
        eprintln!("warning: {w}");
    }
    let outcome = &fitted.outcome;
    if let Some(note) = &outcome.rule_note {
        eprintln!("note: {note}");
    }
    if config.json {
        let mut report = report(&spec, &fitted);
        report.insert(
            "streamed".into(),
            json!(matches!(spec.mode, Mode::Stream { .. })),
        );
        report.insert(
            "samples_per_second".into(),
            json!(outcome.sample_gradients as f64 / outcome.seconds.max(1e-12)),
        );
        if let Some(bytes) = peak_memory_bytes() {
            report.insert("peak_memory_bytes".into(), json!(bytes));
        }
        if let Some(w) = warning {
            report.insert("warning".into(), json!(w));
        }
        println!("{}", Value::Object(report));
    } else {
        print_summary(
            &spec,
            outcome,
            &fitted.train,
            fitted.test.as_ref(),
            fitted.load_seconds,
        );
    }
    Ok(())
}

/// Where checkpoints go: `--checkpoint` (at its interval and when interrupted), else a free
/// `descent-interrupted*.ckpt` name used only if the run is interrupted. The command line is
/// the record a resume starts from.
fn checkpointing(config: &TrainConfig, argv: &[OsString]) -> Result<Option<CheckpointSpec>> {
    if config.spec.mode == Mode::Hogwild {
        return Ok(None);
    }
    let record = match (resume::record(argv), &config.checkpoint) {
        (Ok(r), _) => r,
        (Err(e), Some(_)) => return Err(e),
        (Err(_), None) => return Ok(None),
    };
    let (path, every) = match &config.checkpoint {
        Some(path) => (path.clone(), Some(config.checkpoint_every)),
        None => {
            let path = (1..)
                .map(|k| match k {
                    1 => PathBuf::from("descent-interrupted.ckpt"),
                    k => PathBuf::from(format!("descent-interrupted-{k}.ckpt")),
                })
                .find(|p| !p.exists())
                .unwrap_or_default();
            (path, None)
        }
    };
    Ok(Some(CheckpointSpec {
        path,
        every,
        record: record.to_meta(),
    }))
}

/// The process's peak resident memory (Linux), for `--json`.
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The results `--json` prints.
pub(super) fn report(spec: &RunSpec, fitted: &Fitted) -> Map<String, Value> {
    let outcome = &fitted.outcome;
    let mut report = Map::new();
    report.insert("model".into(), json!(spec.model.label()));
    report.insert("method".into(), json!(spec.regime.to_string()));
    report.insert("sampling".into(), json!(sampling_label(spec)));
    report.insert("optimizer".into(), json!(spec.optimizer.chain().name()));
    report.insert("engine".into(), json!(fitted.engine));
    report.insert("samples".into(), json!(fitted.samples));
    report.insert("features".into(), json!(fitted.features));
    report.insert("parameters".into(), json!(fitted.parameters));
    report.insert("epochs".into(), json!(outcome.epochs));
    report.insert("updates".into(), json!(outcome.updates));
    report.insert("sample_gradients".into(), json!(outcome.sample_gradients));
    put_eval(&mut report, "train", &fitted.train);
    if let Some(e) = &fitted.test {
        put_eval(&mut report, "test", e);
    }
    report.insert("load_seconds".into(), json!(fitted.load_seconds));
    report.insert("train_seconds".into(), json!(outcome.seconds));
    report.insert("update_rule".into(), json!(outcome.update_rule.name()));
    if let Some(note) = &outcome.rule_note {
        report.insert("update_rule_note".into(), json!(note));
    }
    report
}

fn put_eval(report: &mut Map<String, Value>, prefix: &str, e: &Evaluation) {
    report.insert(format!("{prefix}_loss"), json!(e.loss));
    if let Some(a) = e.accuracy {
        report.insert(format!("{prefix}_accuracy"), json!(a));
    }
}

/// The lines a run without `--json` prints.
pub(super) fn print_summary(
    spec: &RunSpec,
    outcome: &Outcome,
    train: &Evaluation,
    test: Option<&Evaluation>,
    load_seconds: f64,
) {
    println!(
        "{} by {} ({}, {} update rule), {} epochs: {} updates, {} sample gradients in {:.3} s (loaded in {:.3} s)",
        spec.model.label(),
        spec.regime,
        sampling_label(spec).as_deref().unwrap_or("every sample"),
        outcome.update_rule,
        outcome.epochs,
        outcome.updates,
        outcome.sample_gradients,
        outcome.seconds,
        load_seconds
    );
    let line = |name: &str, e: &Evaluation| match e.accuracy {
        Some(a) => println!("{name:5} loss {:.6}  accuracy {:.4}", e.loss, a),
        None => println!("{name:5} loss {:.6}", e.loss),
    };
    line("train", train);
    if let Some(t) = test {
        line("test", t);
    }
    if let Some(path) = &spec.save {
        println!("model saved to {}", path.display());
    }
}

/// The sampling rule in effect (`None` for full batch, which uses every sample).
fn sampling_label(spec: &RunSpec) -> Option<String> {
    (spec.regime != Regime::Batch).then(|| spec.sampling.to_string())
}

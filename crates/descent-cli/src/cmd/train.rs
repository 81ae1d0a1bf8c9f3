//! `descent train`: load (or scan, to stream), encode, train, report, save.

use super::load::{load, load_test};
use crate::config::TrainConfig;
use crate::progress::Progress;
use crate::resume;
use anyhow::bail;
use anyhow::{Context, Result};
use descent::atomic::Existing;
use descent::checkpoint::{Checkpoint, Checkpointing};
use descent::data::stream::{self, Stream, StreamFile};
use descent::data::{Dataset, Scaler};
use descent::engine::{Evaluate, Evaluation};
use descent::labels::LabelEncoding;
use descent::model::SavedModel;
use descent::observe::Observer;
use descent::schedule::Schedule;
use descent::trace::{Evaluator, TraceWriter};
use descent::train::{Outcome, Trainer};
use serde_json::{json, Map, Value};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Rows per epoch in a trace when `--trace-every` is not given (in memory; a streamed run
/// writes one row per epoch, since each row re-reads the file).
const TRACE_ROWS_PER_EPOCH: u64 = 10;

/// The training data: in memory, or streamed from disk.
enum Input {
    Memory(Dataset),
    Stream(Box<Stream>, StreamFile),
}

/// Everything read before training starts.
struct Prepared {
    input: Input,
    test: Option<Dataset>,
    encoding: LabelEncoding,
    scaler: Option<Scaler>,
    feature_names: Option<Vec<String>>,
    samples: usize,
    dim: usize,
    load_seconds: f64,
}

/// Raised by Ctrl-C (or SIGTERM): the run checkpoints and stops after the current update.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Runs `descent train`; `argv` is the whole command line (stored in checkpoints).
pub fn run(config: TrainConfig, argv: &[OsString]) -> Result<()> {
    if config.mpi {
        #[cfg(feature = "mpi")]
        return super::distributed::run(config);
        #[cfg(not(feature = "mpi"))]
        bail!("this descent was built without MPI: build it with `cargo build --release --features mpi` (which needs Debian's libopenmpi-dev openmpi-bin libclang-dev) and start it with mpirun");
    }
    let existing = Existing::from_force(config.force || config.resume.is_some());
    for path in [&config.save, &config.trace].into_iter().flatten() {
        existing.check(path)?;
    }
    if let (Some(path), None, false) = (&config.checkpoint, &config.resume, config.force) {
        if path.exists() {
            bail!(
                "{} already exists: continue that run with `descent train --resume {}`, or pass --force to start over",
                path.display(),
                path.display()
            );
        }
    }
    let resume = match &config.resume {
        Some(path) => Some(Checkpoint::load(path)?),
        None => None,
    };
    let Prepared {
        mut input,
        test,
        encoding,
        scaler,
        feature_names,
        samples,
        dim,
        load_seconds,
    } = prepare(&config)?;
    // A checkpoint names its data by content (a digest of the rows, one pass over them) when
    // --checkpoint asks for one; the checkpoint a Ctrl-C writes without it, and a stream,
    // by the file's size and modification time, which cost nothing to read.
    let by_content = match &resume {
        Some(checkpoint) => checkpoint
            .meta
            .get("data")
            .is_some_and(|d| d.get("digest").is_some()),
        None => config.checkpoint.is_some(),
    };
    let data_identity = match &input {
        Input::Memory(data) if by_content => json!({
            "samples": samples,
            "features": dim,
            "digest": format!("{:016x}", data.fingerprint()),
        }),
        _ => file_identity(&config.data, samples, dim),
    };
    if let (Some(checkpoint), Some(path)) = (&resume, &config.resume) {
        let saved = checkpoint.meta.get("data");
        if saved != Some(&data_identity) {
            bail!(
                "{} was made on other data than {} has now ({} then, {} now): resume with the data the run started with",
                path.display(),
                config.data.display(),
                saved.map_or_else(|| "nothing recorded".into(), Value::to_string),
                data_identity
            );
        }
    }
    let checkpointing = checkpointing(&config, argv, data_identity)?;
    let objective = config
        .model
        .build(dim, encoding.n_classes(), config.intercept, config.l2);
    let engine = crate::config::engine(config.threads)?;
    let updates_per_epoch = config.regime.updates_per_epoch(samples);
    let schedule = Schedule::parse(&config.schedule, config.lr, config.l2, updates_per_epoch)?;
    let (train_eval, trainer, memory): (&dyn Evaluate, Trainer<'_>, Option<&Dataset>) =
        match &mut input {
            Input::Memory(data) => (&*data, Trainer::new(objective.as_ref(), data), Some(&*data)),
            Input::Stream(stream, file) => (
                &*file,
                Trainer::on_batches(objective.as_ref(), stream.as_mut()),
                None,
            ),
        };

    let mut observers: Vec<Box<dyn Observer + '_>> = Vec::new();
    if let Some(path) = &config.trace {
        let eval = Evaluator {
            engine: engine.as_ref(),
            objective: objective.as_ref(),
            train: train_eval,
            test: test.as_ref().map(|t| t as &dyn Evaluate),
        };
        let writer = trace_writer(&config, path, updates_per_epoch, eval, Some(existing))?;
        observers.push(Box::new(writer));
    }
    observers.push(Box::new(Progress::new(config.quiet || config.json)));
    if let Some(failpoint) = crate::failpoint::AbortAt::from_env() {
        observers.push(Box::new(failpoint));
    }
    let mut observer_refs: Vec<&mut dyn Observer> =
        observers.iter_mut().map(|o| o.as_mut() as _).collect();
    let outcome = if config.hogwild {
        drop(trainer);
        hogwild(&config, objective.as_ref(), memory, &mut observer_refs)?
    } else {
        // A second Ctrl-C while the checkpoint is written ends the process at once.
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
        let mut trainer = trainer
            .on_divergence(config.on_divergence)
            .interrupt(&INTERRUPTED);
        if let Some(c) = checkpointing {
            trainer = trainer.checkpoint(c);
        }
        if let Some(checkpoint) = resume {
            trainer = trainer.resume(checkpoint);
        }
        trainer
            .engine(engine.as_ref())
            .regime(config.regime)
            .sampling(config.sampling)
            .schedule(schedule)
            .optimizer(config.chain())
            .average(config.average)
            .epochs(config.epochs)
            .seed(config.seed)
            .run(&mut observer_refs)
            .with_context(|| format!("training on {} failed", config.data.display()))?
    };
    drop(observer_refs);
    drop(observers);

    let train_result = train_eval.evaluate(engine.as_ref(), objective.as_ref(), &outcome.theta)?;
    let test_result = match &test {
        Some(t) => Some(t.evaluate(engine.as_ref(), objective.as_ref(), &outcome.theta)?),
        None => None,
    };

    // A loss that grew by orders of magnitude from the start is a run that diverged without
    // reaching infinity: say so, or the user reads a huge loss as a result. The start's loss
    // is the one the trainer's divergence monitor measured (no extra pass over the data).
    let growth = outcome
        .start_loss
        .filter(|&start| start > 0.0 && train_result.loss > 100.0 * start)
        .map(|start| train_result.loss / start);
    let warning = growth.map(|g| {
        format!(
            "the training loss grew {:.2e} times from the start ({:.4} → {:.4e}): the rate {} is too large for this data; try a smaller --lr (or --standardize)",
            g,
            train_result.loss / g,
            train_result.loss,
            super::shortest(config.lr)
        )
    });
    if let Some(w) = &warning {
        eprintln!("warning: {w}");
    }
    let trained = Trained {
        config: &config,
        objective: objective.as_ref(),
        outcome: &outcome,
        train: &train_result,
        test: test_result.as_ref(),
    };
    trained.save(&encoding, scaler, feature_names, existing)?;
    let mut report = trained.report(&engine.name(), samples, load_seconds);
    report.insert("streamed".into(), json!(config.stream));
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
    report.insert("update_rule".into(), json!(outcome.update_rule.name()));
    if let Some(note) = &outcome.rule_note {
        eprintln!("note: {note}");
        report.insert("update_rule_note".into(), json!(note));
    }
    if config.json {
        println!("{}", Value::Object(report));
    } else {
        print_summary(
            &config,
            &outcome,
            &train_result,
            test_result.as_ref(),
            load_seconds,
        );
    }
    Ok(())
}

/// Reads (or scans) the data, standardizes and encodes it.
fn prepare(config: &TrainConfig) -> Result<Prepared> {
    let loading = Instant::now();
    if config.stream {
        let scan = stream::scan(&config.data, &config.read)
            .with_context(|| format!("cannot read training data {}", config.data.display()))?;
        let encoding =
            LabelEncoding::fit_labels(config.model, &config.data, scan.labels.iter().copied())?;
        let test = load_test(&config.sources(), scan.dim, None, &encoding)?;
        let (samples, dim, feature_names) = (scan.rows, scan.dim, scan.feature_names.clone());
        let stream = Stream::new(
            &config.data,
            &config.read,
            scan,
            encoding.clone(),
            config.regime,
            config.sampling,
            config.buffer,
        )?;
        let file = stream.file();
        return Ok(Prepared {
            input: Input::Stream(Box::new(stream), file),
            test,
            encoding,
            scaler: None,
            feature_names,
            samples,
            dim,
            load_seconds: loading.elapsed().as_secs_f64(),
        });
    }
    let loaded = load(&config.sources())?;
    Ok(Prepared {
        samples: loaded.train.len(),
        dim: loaded.train.dim(),
        feature_names: loaded.train.source().feature_names.clone(),
        input: Input::Memory(loaded.train),
        test: loaded.test,
        encoding: loaded.encoding,
        scaler: loaded.scaler,
        load_seconds: loaded.load_seconds,
    })
}

/// Where checkpoints go: `--checkpoint` (at its interval and when interrupted), else a free
/// `descent-interrupted*.ckpt` name used only if the run is interrupted.
fn checkpointing(
    config: &TrainConfig,
    argv: &[OsString],
    data: Value,
) -> Result<Option<Checkpointing>> {
    if config.hogwild {
        return Ok(None);
    }
    let record = match (resume::record(argv), &config.checkpoint) {
        (Ok(r), _) => r,
        (Err(e), Some(_)) => return Err(e),
        (Err(_), None) => return Ok(None),
    };
    let meta = record.to_meta(data);
    Ok(Some(match &config.checkpoint {
        Some(path) => Checkpointing {
            path: path.clone(),
            every: Some(config.checkpoint_every),
            meta,
        },
        None => {
            let path = (1..)
                .map(|k| match k {
                    1 => PathBuf::from("descent-interrupted.ckpt"),
                    k => PathBuf::from(format!("descent-interrupted-{k}.ckpt")),
                })
                .find(|p| !p.exists())
                .unwrap_or_default();
            Checkpointing {
                path,
                every: None,
                meta,
            }
        }
    }))
}

/// What identifies a data file cheaply: its size, modification time and shape.
fn file_identity(path: &Path, samples: usize, dim: usize) -> Value {
    let meta = std::fs::metadata(path).ok();
    let modified = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos().to_string());
    json!({
        "samples": samples,
        "features": dim,
        "bytes": meta.map(|m| m.len()),
        "modified": modified,
    })
}

/// The process's peak resident memory (Linux), for `--json`.
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The trace `--trace PATH` asks for, evaluating rows with `eval`: written to `path` when
/// `write` says how to treat an existing file, else only evaluated (the other processes of an
/// MPI job, whose evaluations are collective).
pub(super) fn trace_writer<'a>(
    config: &TrainConfig,
    path: &Path,
    updates_per_epoch: u64,
    eval: Evaluator<'a>,
    write: Option<Existing>,
) -> Result<TraceWriter<'a>> {
    let default_every = if config.stream {
        updates_per_epoch
    } else {
        updates_per_epoch / TRACE_ROWS_PER_EPOCH
    };
    let every = config.trace_every.unwrap_or(default_every.max(1));
    let writer = match write {
        Some(existing) => TraceWriter::new(path, every, eval, existing)
            .with_context(|| format!("cannot write the trace {}", path.display()))?,
        None => TraceWriter::silent(every, eval),
    };
    Ok(if config.trace_time {
        writer
    } else {
        writer.without_seconds()
    })
}

/// A finished run, for its outputs.
pub(super) struct Trained<'a> {
    pub config: &'a TrainConfig,
    pub objective: &'a dyn descent::objective::Objective,
    pub outcome: &'a Outcome,
    pub train: &'a Evaluation,
    pub test: Option<&'a Evaluation>,
}

impl Trained<'_> {
    /// Writes `--save` (if given).
    pub fn save(
        &self,
        encoding: &LabelEncoding,
        scaler: Option<Scaler>,
        feature_names: Option<Vec<String>>,
        existing: Existing,
    ) -> Result<()> {
        let Some(path) = &self.config.save else {
            return Ok(());
        };
        let mut model = SavedModel::new(
            self.config.model,
            self.objective,
            &self.outcome.theta,
            self.config.intercept,
            encoding,
        );
        model.feature_names = feature_names;
        model.scaler = scaler;
        model.training = self.config.training_record();
        model
            .save(path, existing)
            .with_context(|| format!("cannot save the model to {}", path.display()))
    }

    /// The results `--json` prints.
    pub fn report(&self, engine: &str, samples: usize, load_seconds: f64) -> Map<String, Value> {
        let (config, outcome) = (self.config, self.outcome);
        let mut report = Map::new();
        report.insert("model".into(), json!(config.model.label()));
        report.insert("method".into(), json!(config.regime.to_string()));
        report.insert("sampling".into(), json!(sampling_label(config)));
        report.insert("optimizer".into(), json!(config.chain().name()));
        report.insert("engine".into(), json!(engine));
        report.insert("samples".into(), json!(samples));
        report.insert("features".into(), json!(self.objective.n_features()));
        report.insert("parameters".into(), json!(self.objective.dim()));
        report.insert("epochs".into(), json!(outcome.epochs));
        report.insert("updates".into(), json!(outcome.updates));
        report.insert("sample_gradients".into(), json!(outcome.sample_gradients));
        put_eval(&mut report, "train", self.train);
        if let Some(e) = self.test {
            put_eval(&mut report, "test", e);
        }
        report.insert("load_seconds".into(), json!(load_seconds));
        report.insert("train_seconds".into(), json!(outcome.seconds));
        report
    }
}

fn put_eval(report: &mut Map<String, Value>, prefix: &str, e: &Evaluation) {
    report.insert(format!("{prefix}_loss"), json!(e.loss));
    if let Some(a) = e.accuracy {
        report.insert(format!("{prefix}_accuracy"), json!(a));
    }
}

pub(super) fn print_summary(
    config: &TrainConfig,
    outcome: &Outcome,
    train: &Evaluation,
    test: Option<&Evaluation>,
    load_seconds: f64,
) {
    println!(
        "{} by {} ({}, {} update rule), {} epochs: {} updates, {} sample gradients in {:.3} s (loaded in {:.3} s)",
        config.model.label(),
        config.regime,
        sampling_label(config).as_deref().unwrap_or("every sample"),
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
    if let Some(path) = &config.save {
        println!("model saved to {}", path.display());
    }
}

/// The sampling rule in effect (`None` for full batch, which uses every sample).
fn sampling_label(config: &TrainConfig) -> Option<String> {
    (config.regime != descent::regime::Regime::Batch).then(|| config.sampling.to_string())
}

/// Runs Hogwild and reports it as an [`Outcome`].
fn hogwild(
    config: &TrainConfig,
    objective: &dyn descent::objective::Objective,
    data: Option<&Dataset>,
    observers: &mut [&mut dyn Observer],
) -> Result<Outcome> {
    let (Some(model), Some(data)) = (objective.margin_model(), data) else {
        anyhow::bail!("--hogwild needs a linear model trained from memory");
    };
    let schedule = Schedule::parse(&config.schedule, config.lr, config.l2, data.len() as u64)?;
    let run = descent::hogwild::train(
        model,
        data,
        &schedule,
        (config.epochs, config.seed, config.threads),
        observers,
    )
    .with_context(|| format!("training on {} failed", config.data.display()))?;
    Ok(Outcome {
        iterate: run.theta.clone(),
        theta: run.theta,
        updates: run.updates,
        sample_gradients: run.updates,
        epochs: run.updates as f64 / data.len() as f64,
        seconds: run.seconds,
        start_loss: None,
        update_rule: descent::step::RuleKind::Hogwild,
        rule_note: None,
    })
}

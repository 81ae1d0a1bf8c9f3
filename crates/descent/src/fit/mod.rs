//! A whole run from files: the library's entry point for every front end.
//!
//! [`fit`] reads the training (and test) data in any supported format, or scans it to stream
//! it; standardizes it and encodes its labels for the model; trains (in memory, streamed, or
//! by Hogwild); evaluates the result; and writes the saved model, the trace and the
//! checkpoints that the [`RunSpec`] asks for. `descent train` is a translation of its flags
//! into a [`RunSpec`], over MPI too: there every process calls [`fit`] with its [`Cluster`]
//! ([`Mode::Mpi`]) and trains on its shard.
//!
//! A [`RunSpec`] holds typed values only: the schedule is a [`ScheduleSpec`], the optimizer
//! an [`Optimizer`], and where the samples come from and how the loop runs is one [`Mode`].
//!
//! ```no_run
//! use descent::fit::{fit, Hooks, RunSpec};
//! use descent::objective::ModelKind;
//! let mut spec = RunSpec::new("train.svm", ModelKind::Logistic);
//! spec.epochs = 3;
//! spec.save = Some("model.json".into());
//! let fitted = fit(&spec, Hooks::default()).unwrap();
//! println!("training loss {}", fitted.train.loss);
//! ```

mod cluster;
mod load;

pub use cluster::Cluster;
pub use load::{load, load_test, Loaded, Sources};

use crate::checkpoint::{Checkpoint, Checkpointing, Every};
use crate::data::stream::{self, Stream, StreamFile};
use crate::data::{Dataset, ReadOptions, Scaler};
use crate::divergence::OnDivergence;
use crate::engine::{self, Evaluate, Evaluation};
use crate::labels::LabelEncoding;
use crate::model::SavedModel;
use crate::objective::{ModelKind, Objective};
use crate::observe::Observer;
use crate::optim::{Chain, Momentum};
use crate::output::Existing;
use crate::regime::{Regime, Sampling};
use crate::schedule::{Schedule, ScheduleSpec};
use crate::step::RuleKind;
use crate::trace::{Evaluator, TraceWriter};
use crate::train::{Outcome, Trainer};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Trace rows per epoch when [`TraceSpec::every`] is not given (in memory; a streamed run
/// writes one row per epoch, since each row re-reads the file).
pub const TRACE_ROWS_PER_EPOCH: u64 = 10;

/// How the loop runs and where its samples come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The data in memory, the one deterministic loop.
    Local,
    /// The data in memory, lock-free SGD on [`RunSpec::threads`] threads ([`crate::hogwild`];
    /// not deterministic with more than one).
    Hogwild,
    /// The data read from disk once per epoch, `buffer` rows at a time ([`crate::data::stream`]).
    Stream {
        /// Rows held in memory (the shuffle window).
        buffer: usize,
    },
    /// Data-parallel over the processes of an MPI job ([`Hooks::cluster`]), synchronous, or
    /// local SGD that averages the models every `average_every` updates.
    Mpi {
        /// Updates between model averagings (local SGD), else synchronous.
        average_every: Option<u64>,
    },
}

/// The transform of the gradient before the step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// θ ← θ − η·g.
    Plain,
    /// Heavy-ball or Nesterov momentum ([`Momentum`]).
    Momentum {
        /// μ, in (0, 1).
        mu: f64,
        /// Nesterov's form.
        nesterov: bool,
    },
}

impl Optimizer {
    /// The optimizer's chain of transforms.
    pub fn chain(&self) -> Chain {
        match *self {
            Optimizer::Plain => Chain::new(),
            Optimizer::Momentum { mu, nesterov } => Chain::new().then(Momentum::new(mu, nesterov)),
        }
    }
}

/// A trace of the run ([`TraceWriter`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSpec {
    /// The CSV file.
    pub path: PathBuf,
    /// A row every this many updates (default: [`TRACE_ROWS_PER_EPOCH`] rows an epoch, one
    /// an epoch when streaming).
    pub every: Option<u64>,
    /// Whether rows carry the training time (left out, two equal runs give the same bytes).
    pub seconds: bool,
}

/// Checkpoints of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointSpec {
    /// The checkpoint file (replaced at each checkpoint).
    pub path: PathBuf,
    /// How often (`None`: only when the run is interrupted).
    pub every: Option<Every>,
    /// The caller's description of the run, stored in the checkpoint beside the data's
    /// identity (the `descent` binary stores its command line, to resume from it).
    pub record: Value,
}

/// Everything one run needs: its inputs, its settings and its outputs.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The training data (LibSVM, CSV, NumPy or a cache; [`crate::data::read`]).
    pub data: PathBuf,
    /// How to read it (format, label column, feature count, NumPy labels).
    pub read: ReadOptions,
    /// Held-out data, read the same way.
    pub test: Option<PathBuf>,
    /// NumPy labels of the held-out data.
    pub test_labels: Option<PathBuf>,
    /// Standardize the features with the training data's mean and deviation.
    pub standardize: bool,
    /// The model.
    pub model: ModelKind,
    /// Whether linear models have an intercept.
    pub intercept: bool,
    /// The L2 strength λ.
    pub l2: f64,
    /// Full batch, mini-batch or SGD.
    pub regime: Regime,
    /// The order of the samples.
    pub sampling: Sampling,
    /// The base learning rate η₀.
    pub lr: f64,
    /// The learning-rate schedule.
    pub schedule: ScheduleSpec,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// Polyak–Ruppert averaging from this update (`None`: off).
    pub average: Option<u64>,
    /// Epochs.
    pub epochs: u64,
    /// The seed of every random choice.
    pub seed: u64,
    /// Threads for batch gradients (and Hogwild's workers).
    pub threads: usize,
    /// How the loop runs.
    pub mode: Mode,
    /// What to do when the loss diverges.
    pub on_divergence: OnDivergence,
    /// The trained model's file.
    pub save: Option<PathBuf>,
    /// The trace.
    pub trace: Option<TraceSpec>,
    /// Checkpoints.
    pub checkpoint: Option<CheckpointSpec>,
    /// Continue the run saved in this checkpoint (same data and settings; the epochs may be
    /// more).
    pub resume: Option<PathBuf>,
    /// Whether outputs that exist may be replaced (a resumed run continues its own).
    pub replace: bool,
}

impl RunSpec {
    /// A run of `model` on `data` with defaults: SGD, shuffled, η₀ = 0.01 constant, no L2,
    /// 5 epochs, seed 0, one thread, an intercept, no outputs.
    pub fn new(data: impl Into<PathBuf>, model: ModelKind) -> Self {
        RunSpec {
            data: data.into(),
            read: ReadOptions::default(),
            test: None,
            test_labels: None,
            standardize: false,
            model,
            intercept: true,
            l2: 0.0,
            regime: Regime::Sgd,
            sampling: Sampling::Shuffle,
            lr: 0.01,
            schedule: ScheduleSpec::Constant,
            optimizer: Optimizer::Plain,
            average: None,
            epochs: 5,
            seed: 0,
            threads: 1,
            mode: Mode::Local,
            on_divergence: OnDivergence::Stop,
            save: None,
            trace: None,
            checkpoint: None,
            resume: None,
            replace: false,
        }
    }

    /// Where the data comes from and how to prepare it.
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            data: &self.data,
            read: &self.read,
            test: self.test.as_deref(),
            test_labels: self.test_labels.as_deref(),
            standardize: self.standardize,
            model: self.model,
        }
    }

    /// How existing outputs are treated.
    pub fn existing(&self) -> Existing {
        Existing::from_force(self.replace || self.resume.is_some())
    }

    /// The settings that determine the result (not threads, outputs or display), recorded
    /// in the saved model.
    pub fn training_record(&self) -> BTreeMap<String, Value> {
        let file_name = self
            .data
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let (momentum, nesterov) = match self.optimizer {
            Optimizer::Plain => (0.0, false),
            Optimizer::Momentum { mu, nesterov } => (mu, nesterov),
        };
        [
            ("data", json!(file_name)),
            ("label", json!(self.read.label)),
            ("method", json!(self.regime.to_string())),
            ("sampling", json!(self.sampling.to_string())),
            ("lr", json!(self.lr)),
            ("schedule", json!(self.schedule.to_string())),
            ("l2", json!(self.l2)),
            ("momentum", json!(momentum)),
            ("nesterov", json!(nesterov)),
            ("average", json!(self.average)),
            ("epochs", json!(self.epochs)),
            ("seed", json!(self.seed)),
            ("standardize", json!(self.standardize)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The schedule for a run of `updates_per_epoch` updates an epoch.
    pub fn schedule(&self, updates_per_epoch: u64) -> Result<Schedule> {
        self.schedule.resolve(self.lr, self.l2, updates_per_epoch)
    }
}

/// What a caller adds to a run: its own observers (a progress bar) and an interrupt flag
/// (raised by a Ctrl-C handler: the run checkpoints and stops after the current update).
#[derive(Default)]
pub struct Hooks<'h> {
    /// Observers called after the trace's.
    pub observers: Vec<&'h mut dyn Observer>,
    /// The interrupt flag.
    pub interrupt: Option<&'h AtomicBool>,
    /// The job this process belongs to, for [`Mode::Mpi`].
    pub cluster: Option<&'h dyn Cluster>,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// What the loop did and the trained parameters.
    pub outcome: Outcome,
    /// The objective and accuracy on the training data.
    pub train: Evaluation,
    /// The same on the test data.
    pub test: Option<Evaluation>,
    /// The model (written to [`RunSpec::save`] when given).
    pub model: SavedModel,
    /// Training samples (M).
    pub samples: usize,
    /// Features.
    pub features: usize,
    /// Parameters.
    pub parameters: usize,
    /// Seconds spent reading the training data.
    pub load_seconds: f64,
    /// The engine that summed the batch gradients.
    pub engine: String,
    /// How many times the training loss grew from its start, when it grew more than a
    /// hundredfold: a run that diverged without reaching infinity.
    pub loss_growth: Option<f64>,
}

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

/// Runs `spec`: reads, trains, evaluates, writes its outputs.
pub fn fit(spec: &RunSpec, hooks: Hooks<'_>) -> Result<Fitted> {
    if let Mode::Mpi { .. } = spec.mode {
        return match hooks.cluster {
            Some(cluster) => cluster::fit_on(spec, cluster, hooks),
            None => Err(Error::config(
                "mode",
                "mpi",
                "an MPI run needs the job's processes (a `Cluster`, such as descent-mpi's)",
            )),
        };
    }
    refuse_outputs_over_inputs(spec)?;
    let existing = spec.existing();
    for path in [spec.save.as_ref(), spec.trace.as_ref().map(|t| &t.path)]
        .into_iter()
        .flatten()
    {
        existing.check(path)?;
    }
    let resume = spec.resume.as_deref().map(Checkpoint::load).transpose()?;
    let Prepared {
        mut input,
        test,
        encoding,
        scaler,
        feature_names,
        samples,
        dim,
        load_seconds,
    } = prepare(spec)?;
    let checkpointing = checkpointing(spec, resume.as_ref(), &input, samples, dim)?;
    let objective = spec
        .model
        .build(dim, encoding.n_classes(), spec.intercept, spec.l2);
    let engine = engine::with_threads(spec.threads)?;
    let updates_per_epoch = spec.regime.updates_per_epoch(samples);
    let schedule = spec.schedule(updates_per_epoch)?;
    let (train_eval, trainer, memory): (&dyn Evaluate, Trainer<'_>, Option<&Dataset>) =
        match &mut input {
            Input::Memory(data) => (&*data, Trainer::new(objective.as_ref(), data), Some(&*data)),
            Input::Stream(stream, file) => (
                &*file,
                Trainer::on_batches(objective.as_ref(), stream.as_mut()),
                None,
            ),
        };
    let mut writer = match &spec.trace {
        Some(trace) => {
            let eval = Evaluator {
                engine: engine.as_ref(),
                objective: objective.as_ref(),
                train: train_eval,
                test: test.as_ref().map(|t| t as &dyn Evaluate),
            };
            Some(trace_writer(
                spec,
                trace,
                updates_per_epoch,
                eval,
                Some(existing),
            )?)
        }
        None => None,
    };
    let Hooks {
        observers: mut theirs,
        interrupt,
        ..
    } = hooks;
    let mut observers = trace_first(writer.as_mut(), &mut theirs);
    let training = |e: Error| Error::Training {
        path: spec.data.clone(),
        source: Box::new(e),
    };
    let outcome = if spec.mode == Mode::Hogwild {
        drop(trainer);
        hogwild(spec, objective.as_ref(), memory, &mut observers).map_err(training)?
    } else {
        let mut trainer = trainer
            .on_divergence(spec.on_divergence)
            .engine(engine.as_ref())
            .regime(spec.regime)
            .sampling(spec.sampling)
            .schedule(schedule)
            .optimizer(spec.optimizer.chain())
            .average(spec.average)
            .epochs(spec.epochs)
            .seed(spec.seed);
        if let Some(flag) = interrupt {
            trainer = trainer.interrupt(flag);
        }
        if let Some(c) = checkpointing {
            trainer = trainer.checkpoint(c);
        }
        if let Some(checkpoint) = resume {
            trainer = trainer.resume(checkpoint);
        }
        trainer.run(&mut observers).map_err(training)?
    };
    drop(observers);
    drop(writer);
    let train = train_eval.evaluate(engine.as_ref(), objective.as_ref(), &outcome.theta)?;
    let test = match &test {
        Some(t) => Some(t.evaluate(engine.as_ref(), objective.as_ref(), &outcome.theta)?),
        None => None,
    };
    // The start's loss is the one the divergence monitor measured (no extra pass).
    let loss_growth = outcome
        .start_loss
        .filter(|&start| start > 0.0 && train.loss > 100.0 * start)
        .map(|start| train.loss / start);
    let mut model = saved_model(spec, objective.as_ref(), &outcome.theta, &encoding);
    model.feature_names = feature_names;
    model.scaler = scaler;
    if let Some(path) = &spec.save {
        model.save(path, existing)?;
    }
    Ok(Fitted {
        loss_growth,
        ..Fitted::new(
            outcome,
            (train, test),
            model,
            objective.as_ref(),
            (samples, load_seconds, engine.name()),
        )
    })
}

impl Fitted {
    /// A finished run of `objective` on `samples` samples, evaluated as `(train, test)`.
    fn new(
        outcome: Outcome,
        (train, test): (Evaluation, Option<Evaluation>),
        model: SavedModel,
        objective: &dyn Objective,
        (samples, load_seconds, engine): (usize, f64, String),
    ) -> Self {
        Fitted {
            outcome,
            train,
            test,
            model,
            samples,
            features: objective.n_features(),
            parameters: objective.dim(),
            load_seconds,
            engine,
            loss_growth: None,
        }
    }
}

/// Refuses a model, trace or checkpoint that is the same file as the data, the test data, a
/// labels file or the checkpoint resumed from (whatever `replace` says).
fn refuse_outputs_over_inputs(spec: &RunSpec) -> Result<()> {
    let outputs: Vec<(&str, &Path)> = [
        ("save", spec.save.as_deref()),
        ("trace", spec.trace.as_ref().map(|t| t.path.as_path())),
        (
            "checkpoint",
            spec.checkpoint.as_ref().map(|c| c.path.as_path()),
        ),
    ]
    .into_iter()
    .filter_map(|(role, path)| path.map(|p| (role, p)))
    .collect();
    let mut inputs: Vec<(&str, &Path)> = vec![("training data", spec.data.as_path())];
    let optional = [
        ("test data", spec.test.as_deref()),
        ("test labels", spec.test_labels.as_deref()),
        ("labels", spec.read.labels.as_deref()),
    ];
    inputs.extend(optional.into_iter().filter_map(|(r, p)| p.map(|p| (r, p))));
    // A resumed run rewrites its own checkpoint: only the other outputs are checked
    // against it.
    if let Some(resume) = spec.resume.as_deref() {
        let others: Vec<_> = outputs
            .iter()
            .copied()
            .filter(|(r, _)| *r != "checkpoint")
            .collect();
        crate::output::refuse_output_over_input(&others, &[("resumed checkpoint", resume)])?;
    }
    crate::output::refuse_output_over_input(&outputs, &inputs)
}

/// Reads (or scans, to stream) the data, standardizes and encodes it.
fn prepare(spec: &RunSpec) -> Result<Prepared> {
    let loading = Instant::now();
    if let Mode::Stream { buffer } = spec.mode {
        let scan = stream::scan(&spec.data, &spec.read).map_err(|e| Error::Input {
            role: "training data",
            path: spec.data.clone(),
            source: Box::new(e),
        })?;
        let encoding =
            LabelEncoding::fit_labels(spec.model, &spec.data, scan.labels.iter().copied())?;
        let test = load_test(&spec.sources(), scan.dim, None, &encoding)?;
        let (samples, dim, feature_names) = (scan.rows, scan.dim, scan.feature_names.clone());
        let stream = Stream::new(
            &spec.data,
            &spec.read,
            scan,
            encoding.clone(),
            spec.regime,
            spec.sampling,
            buffer,
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
    let loaded = load(&spec.sources())?;
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

/// The checkpoints `spec` asks for, naming the data: by content (a digest of the rows, one
/// pass over them) when checkpoints are periodic, else (interrupts only, and streams) by the
/// file's size and modification time, which cost nothing to read. A resumed run must find
/// the data its checkpoint names.
fn checkpointing(
    spec: &RunSpec,
    resume: Option<&Checkpoint>,
    input: &Input,
    samples: usize,
    dim: usize,
) -> Result<Option<Checkpointing>> {
    let by_content = match resume {
        Some(checkpoint) => checkpoint
            .meta
            .get("data")
            .is_some_and(|d| d.get("digest").is_some()),
        None => spec.checkpoint.as_ref().is_some_and(|c| c.every.is_some()),
    };
    let identity = match input {
        Input::Memory(data) if by_content => json!({
            "samples": samples,
            "features": dim,
            "digest": format!("{:016x}", data.fingerprint()),
        }),
        _ => file_identity(&spec.data, samples, dim),
    };
    if let (Some(checkpoint), Some(path)) = (resume, &spec.resume) {
        let saved = checkpoint.meta.get("data");
        if saved != Some(&identity) {
            return Err(Error::Format {
                path: path.clone(),
                reason: format!(
                    "made on other data than {} has now ({} then, {} now): resume with the data the run started with",
                    spec.data.display(),
                    saved.map_or_else(|| "nothing recorded".into(), Value::to_string),
                    identity
                ),
            });
        }
    }
    if spec.mode == Mode::Hogwild {
        return Ok(None);
    }
    Ok(spec.checkpoint.as_ref().map(|c| {
        let mut meta = match &c.record {
            Value::Object(map) => map.clone(),
            Value::Null => serde_json::Map::new(),
            other => serde_json::Map::from_iter([("record".to_string(), other.clone())]),
        };
        meta.insert("data".into(), identity);
        Checkpointing {
            path: c.path.clone(),
            every: c.every,
            meta: Value::Object(meta),
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

/// The trace `trace` asks for, evaluating rows with `eval`: written to its file when `write`
/// says how to treat an existing one, else only evaluated (the other processes of an MPI
/// job, whose evaluations are collective).
pub fn trace_writer<'a>(
    spec: &RunSpec,
    trace: &TraceSpec,
    updates_per_epoch: u64,
    eval: Evaluator<'a>,
    write: Option<Existing>,
) -> Result<TraceWriter<'a>> {
    let default_every = match spec.mode {
        Mode::Stream { .. } => updates_per_epoch,
        _ => updates_per_epoch / TRACE_ROWS_PER_EPOCH,
    };
    let every = trace.every.unwrap_or(default_every.max(1));
    let writer = match write {
        Some(existing) => TraceWriter::new(&trace.path, every, eval, existing)?,
        None => TraceWriter::silent(every, eval),
    };
    Ok(if trace.seconds {
        writer
    } else {
        writer.without_seconds()
    })
}

/// The observers of a run: the trace (if any), then the caller's.
fn trace_first<'w>(
    trace: Option<&'w mut TraceWriter<'_>>,
    theirs: &'w mut [&mut dyn Observer],
) -> Vec<&'w mut dyn Observer> {
    let mut observers: Vec<&mut dyn Observer> = Vec::with_capacity(theirs.len() + 1);
    if let Some(t) = trace {
        observers.push(t);
    }
    observers.extend(theirs.iter_mut().map(|o| &mut **o as &mut dyn Observer));
    observers
}

/// The model of a run of `spec` with parameters `theta` (without the data's feature names
/// and scaler, which the caller adds).
pub fn saved_model(
    spec: &RunSpec,
    objective: &dyn Objective,
    theta: &[f64],
    encoding: &LabelEncoding,
) -> SavedModel {
    let mut model = SavedModel::new(spec.model, objective, theta, spec.intercept, encoding);
    model.training = spec.training_record();
    model
}

/// Runs Hogwild and reports it as an [`Outcome`].
fn hogwild(
    spec: &RunSpec,
    objective: &dyn Objective,
    data: Option<&Dataset>,
    observers: &mut [&mut dyn Observer],
) -> Result<Outcome> {
    let (Some(model), Some(data)) = (objective.margin_model(), data) else {
        return Err(Error::config(
            "mode",
            "hogwild",
            "Hogwild trains a linear model (least-squares, logistic, hinge) from memory",
        ));
    };
    let schedule = spec.schedule(data.len() as u64)?;
    let run = crate::hogwild::train(
        model,
        data,
        &schedule,
        (spec.epochs, spec.seed, spec.threads),
        observers,
    )?;
    Ok(Outcome {
        iterate: run.theta.clone(),
        theta: run.theta,
        updates: run.updates,
        sample_gradients: run.updates,
        epochs: run.updates as f64 / data.len() as f64,
        seconds: run.seconds,
        start_loss: None,
        update_rule: RuleKind::Hogwild,
        rule_note: None,
    })
}

//! Raw `train` flags become a checked [`TrainConfig`] here, once; after this, code trusts its
//! inputs. Each numeric flag's range is checked as clap reads it ([`crate::flag`]); what is
//! checked here is how flags combine.

use crate::args::TrainArgs;
use anyhow::{bail, Result};
use descent::checkpoint::Every;
use descent::data::ReadOptions;
use descent::divergence::OnDivergence;
use descent::engine::{Engine, Serial, Threads};
use descent::objective::ModelKind;
use descent::optim::{Chain, Momentum};
use descent::regime::{Regime, Sampling};
use descent::schedule::Schedule;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Checked settings of one `descent train` run.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub data: PathBuf,
    pub test: Option<PathBuf>,
    pub test_labels: Option<PathBuf>,
    pub read: ReadOptions,
    pub model: ModelKind,
    pub regime: Regime,
    pub sampling: Sampling,
    pub lr: f64,
    pub schedule: String,
    pub l2: f64,
    pub momentum: f64,
    pub nesterov: bool,
    pub average: Option<u64>,
    pub epochs: u64,
    pub seed: u64,
    pub threads: usize,
    pub intercept: bool,
    pub standardize: bool,
    pub stream: bool,
    pub buffer: usize,
    pub hogwild: bool,
    pub trace: Option<PathBuf>,
    pub trace_every: Option<u64>,
    pub save: Option<PathBuf>,
    pub json: bool,
    pub quiet: bool,
    pub checkpoint: Option<PathBuf>,
    pub checkpoint_every: Every,
    pub resume: Option<PathBuf>,
    pub on_divergence: OnDivergence,
    pub trace_time: bool,
    pub force: bool,
    pub mpi: bool,
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub average_every: Option<u64>,
}

/// How often a run with --checkpoint saves when --checkpoint-every is not given.
const DEFAULT_CHECKPOINT_EVERY: Every = Every::Seconds(600.0);

impl TrainConfig {
    /// Checks every flag.
    pub fn from_args(a: TrainArgs) -> Result<Self> {
        if a.nesterov && a.momentum <= 0.0 {
            bail!("--nesterov needs --momentum > 0 (e.g. --momentum 0.9)");
        }
        let threads = threads(a.threads);
        // The schedule's syntax is checked now; `step` is resolved once M is known.
        Schedule::parse(&a.schedule, a.lr, a.l2, 1)?;
        if a.stream && a.standardize {
            bail!("--standardize needs every row before training; with --stream, standardize the file beforehand");
        }
        if a.hogwild {
            let clash = [
                (a.method != Regime::Sgd, "--method other than sgd"),
                (a.momentum > 0.0, "--momentum"),
                (a.average.is_some(), "--average"),
                (a.stream, "--stream"),
                (a.trace.is_some(), "--trace"),
                (
                    matches!(a.setup.model, ModelKind::Softmax | ModelKind::Mlp(_)),
                    "--model softmax or mlp",
                ),
            ];
            if let Some((_, what)) = clash.iter().find(|(c, _)| *c) {
                bail!("--hogwild runs plain SGD of a linear model (least-squares, logistic, hinge) from memory; it cannot be combined with {what}");
            }
        }
        let outputs = [
            ("--trace", &a.trace),
            ("--save", &a.save),
            ("--checkpoint", &a.checkpoint),
        ];
        for (i, (name, path)) in outputs.iter().enumerate() {
            for (other, other_path) in &outputs[i + 1..] {
                if path.is_some() && path == other_path {
                    bail!("{name} and {other} name the same file");
                }
            }
        }
        if a.checkpoint_every.is_some() && a.checkpoint.is_none() && a.resume.is_none() {
            bail!("--checkpoint-every needs --checkpoint PATH (where to write the checkpoints)");
        }
        let mpi = a.engine == "mpi";
        if mpi {
            let clash = [
                (a.hogwild, "--hogwild"),
                (a.stream, "--stream"),
                (a.checkpoint.is_some(), "--checkpoint"),
                (a.resume.is_some(), "--resume"),
            ];
            if let Some((_, what)) = clash.iter().find(|(c, _)| *c) {
                bail!("--engine mpi cannot be combined with {what} (not supported over MPI yet)");
            }
        }
        if a.average_every.is_some() {
            if !mpi {
                bail!(
                    "--average-every averages the models of MPI processes: it needs --engine mpi"
                );
            }
            if a.method == Regime::Batch
                || a.average.is_some()
                || a.on_divergence != OnDivergence::Stop
            {
                bail!("--average-every (local SGD) runs sgd or minibatch:B on each process, without --average or --on-divergence halve-lr");
            }
        }
        if a.hogwild && (a.checkpoint.is_some() || a.resume.is_some()) {
            bail!("--hogwild runs are not deterministic, so they cannot be checkpointed and resumed exactly: drop --checkpoint/--resume or --hogwild");
        }
        Ok(TrainConfig {
            read: a.setup.input.how.read_options(a.setup.features, true),
            data: a.setup.input.data,
            test: a.setup.test,
            test_labels: a.setup.test_labels,
            model: a.setup.model,
            regime: a.method,
            sampling: a.sampling,
            lr: a.lr,
            schedule: a.schedule,
            l2: a.l2,
            momentum: a.momentum,
            nesterov: a.nesterov,
            average: a.average,
            epochs: a.epochs,
            seed: a.seed,
            threads,
            intercept: !a.no_intercept,
            standardize: a.standardize,
            stream: a.stream,
            buffer: a.buffer,
            hogwild: a.hogwild,
            trace: a.trace,
            trace_every: a.trace_every,
            save: a.save,
            json: a.json,
            quiet: a.quiet,
            checkpoint: a.checkpoint,
            checkpoint_every: a.checkpoint_every.unwrap_or(DEFAULT_CHECKPOINT_EVERY),
            resume: a.resume,
            on_divergence: a.on_divergence,
            trace_time: !a.no_trace_time,
            force: a.force,
            mpi,
            average_every: a.average_every,
        })
    }

    /// Where the data comes from and how to prepare it.
    pub fn sources(&self) -> crate::cmd::load::Sources<'_> {
        crate::cmd::load::Sources {
            data: &self.data,
            read: &self.read,
            test: self.test.as_deref(),
            test_labels: self.test_labels.as_deref(),
            standardize: self.standardize,
            model: self.model,
        }
    }

    /// The optimizer chain the flags ask for.
    pub fn chain(&self) -> Chain {
        let chain = Chain::new();
        if self.momentum > 0.0 {
            chain.then(Momentum::new(self.momentum, self.nesterov))
        } else {
            chain
        }
    }

    /// The settings that determine the result (not threads, paths of outputs or display
    /// flags), recorded in the saved model.
    pub fn training_record(&self) -> BTreeMap<String, Value> {
        let file_name = |p: &PathBuf| {
            p.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        };
        let mut record = BTreeMap::new();
        let mut put = |k: &str, v: Value| {
            record.insert(k.to_string(), v);
        };
        put("data", json!(file_name(&self.data)));
        put("label", json!(self.read.label));
        put("method", json!(self.regime.to_string()));
        put("sampling", json!(self.sampling.to_string()));
        put("lr", json!(self.lr));
        put("schedule", json!(self.schedule));
        put("l2", json!(self.l2));
        put("momentum", json!(self.momentum));
        put("nesterov", json!(self.nesterov));
        put("average", json!(self.average));
        put("epochs", json!(self.epochs));
        put("seed", json!(self.seed));
        put("standardize", json!(self.standardize));
        record
    }
}

/// `--threads` (already checked by [`crate::flag::threads`]), else every core.
pub fn threads(flag: Option<usize>) -> usize {
    flag.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The engine for `threads` threads: serial for one.
pub fn engine(threads: usize) -> Result<Box<dyn Engine>> {
    Ok(if threads > 1 {
        Box::new(Threads::new(threads)?)
    } else {
        Box::new(Serial)
    })
}

//! Raw `train` flags become a checked [`TrainConfig`] here, once; after this, code trusts its
//! inputs. Every numeric flag is checked for range with a message naming the allowed values.

use crate::args::TrainArgs;
use anyhow::{bail, Result};
use descent::data::ReadOptions;
use descent::objective::ModelKind;
use descent::optim::{Chain, Momentum};
use descent::regime::{Regime, Sampling};
use descent::schedule::Schedule;
use descent::Error;
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
}

impl TrainConfig {
    /// Checks every flag.
    pub fn from_args(a: TrainArgs) -> Result<Self> {
        check(
            a.lr > 0.0 && a.lr.is_finite(),
            "--lr",
            a.lr,
            "a finite number > 0",
        )?;
        check(
            a.l2 >= 0.0 && a.l2.is_finite(),
            "--l2",
            a.l2,
            "a finite number ≥ 0",
        )?;
        check(
            (0.0..1.0).contains(&a.momentum),
            "--momentum",
            a.momentum,
            "a number in [0, 1)",
        )?;
        if a.nesterov && a.momentum <= 0.0 {
            bail!("--nesterov needs --momentum > 0 (e.g. --momentum 0.9)");
        }
        check(a.epochs >= 1, "--epochs", a.epochs, "a whole number ≥ 1")?;
        if let Some(f) = a.setup.features {
            check(f >= 1, "--features", f, "a whole number ≥ 1")?;
        }
        if let Some(n) = a.trace_every {
            check(n >= 1, "--trace-every", n, "a whole number ≥ 1")?;
        }
        let threads = match a.threads {
            Some(n) => {
                check(
                    (1..=1024).contains(&n),
                    "--threads",
                    n,
                    "a whole number in 1..=1024",
                )?;
                n
            }
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        // The schedule's syntax is checked now; `step` is resolved once M is known.
        Schedule::parse(&a.schedule, a.lr, a.l2, 1)?;
        check(a.buffer >= 1, "--buffer", a.buffer, "a whole number ≥ 1")?;
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
        if a.trace.is_some() && a.trace == a.save {
            bail!("--trace and --save name the same file");
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

/// An error naming the flag, its value and the allowed range unless `ok`.
pub fn check(ok: bool, name: &str, value: impl ToString, allowed: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::config(name, value, allowed).into())
    }
}

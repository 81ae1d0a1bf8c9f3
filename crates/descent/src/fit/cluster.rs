//! [`fit`](super::fit) on every process of a data-parallel job ([`Mode::Mpi`](super::Mode)).
//!
//! Each process loads its shard: rows i with i mod size = rank of one file, or its own file
//! when the path holds `{rank}` (`train.{rank}.svm`). Synchronous runs draw the global sample
//! stream on every process and add the processes' gradient sums ([`crate::shard`]); local SGD
//! (`average_every` K) trains on the shard alone and averages the models every K updates.
//! Evaluations (trace rows, the final losses) are collective. Only rank 0 writes files. A
//! process that cannot load its shard makes every process return [`Error::JobStart`] with
//! the failures listed; any later error is this process's alone, and the caller must end the
//! whole job (no process may be left waiting in a collective).

use super::{load, saved_model, trace_writer, Fitted, Hooks, Loaded, Mode, RunSpec, Sources};
use crate::batches::InMemory;
use crate::data::{Dataset, Scaler};
use crate::engine::{self, Engine, Evaluate};
use crate::labels::LabelEncoding;
use crate::shard::{Ownership, Shard, ShardEval};
use crate::trace::Evaluator;
use crate::train::{Consensus, Trainer};
use crate::{Error, Result};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// The processes of a data-parallel job, as one of them sees it (`descent-mpi` implements
/// it over MPI). Every method but [`rank`](Cluster::rank) and [`size`](Cluster::size) is
/// collective: every process calls it, in the same order.
pub trait Cluster {
    /// This process's number, 0-based.
    fn rank(&self) -> usize;
    /// The number of processes.
    fn size(&self) -> usize;
    /// Every process's `value`, by rank.
    fn all_gather(&self, value: u64) -> Vec<u64>;
    /// `Ok` on every process if every process's `outcome` is, else the failures as
    /// `rank r: message` lines.
    fn agree(&self, outcome: std::result::Result<(), String>) -> std::result::Result<(), String>;
    /// An engine that sums with `local` and adds the sums across processes.
    fn engine<'c>(&'c self, local: Box<dyn Engine>) -> Box<dyn Engine + 'c>;
    /// Model averaging across processes every `every` updates.
    fn consensus<'c>(&'c self, every: u64) -> Box<dyn Consensus + 'c>;
}

/// A process's data.
struct Shards {
    train: Dataset,
    test: Option<Dataset>,
    ownership: Ownership,
    samples: usize,
    test_samples: usize,
    encoding: LabelEncoding,
    scaler: Option<Scaler>,
    load_seconds: f64,
}

/// What a process read, before the processes compare notes.
struct Local {
    loaded: Loaded,
    split: bool,
    path: PathBuf,
}

/// `path` with `{rank}` replaced, and whether it had one.
fn rank_path(path: &Path, rank: usize) -> (PathBuf, bool) {
    let text = path.to_string_lossy();
    if text.contains("{rank}") {
        (
            PathBuf::from(text.replace("{rank}", &rank.to_string())),
            true,
        )
    } else {
        (path.to_path_buf(), false)
    }
}

/// An error and its causes on one line.
fn chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Runs `spec` on this process of `cluster`.
pub(super) fn fit_on(spec: &RunSpec, cluster: &dyn Cluster, hooks: Hooks<'_>) -> Result<Fitted> {
    let local = load_local(spec, cluster.rank());
    let verdict = cluster.agree(local.as_ref().map(|_| ()).map_err(chain));
    let local = match (local, verdict) {
        (Ok(local), Ok(())) => local,
        (_, Err(failures)) => return Err(Error::JobStart { failures }),
        // `agree` reports every failure, this process's too.
        (Err(e), Ok(())) => return Err(e),
    };
    // From here on every process takes the same decisions (on gathered numbers).
    let shards = shard(cluster, local)?;
    train(spec, cluster, shards, hooks)
}

/// Reads this process's file (no communication: a failure here is reported by
/// [`Cluster::agree`]).
fn load_local(spec: &RunSpec, rank: usize) -> Result<Local> {
    let (data, split) = rank_path(&spec.data, rank);
    let test = spec.test.as_ref().map(|t| rank_path(t, rank).0);
    let test_labels = spec.test_labels.as_ref().map(|t| rank_path(t, rank).0);
    if split && spec.standardize {
        return Err(Error::config(
            "standardize",
            true,
            "`standardize` fits the scaling on all rows, which no process has with one file per rank: standardize the files beforehand, or give one file",
        ));
    }
    let loaded = load(&Sources {
        data: &data,
        read: &spec.read,
        test: test.as_deref(),
        test_labels: test_labels.as_deref(),
        standardize: spec.standardize,
        model: spec.model,
    })?;
    Ok(Local {
        loaded,
        split,
        path: data,
    })
}

/// Cuts or places this process's rows among all (collective).
fn shard(cluster: &dyn Cluster, local: Local) -> Result<Shards> {
    let (rank, size) = (cluster.rank(), cluster.size());
    let Local {
        loaded,
        split,
        path: data,
    } = local;
    let (train, test, ownership, samples, test_samples) = if split {
        let rows: Vec<usize> = cluster
            .all_gather(loaded.train.len() as u64)
            .into_iter()
            .map(|n| n as usize)
            .collect();
        let test_rows: usize = cluster
            .all_gather(loaded.test.as_ref().map_or(0, |t| t.len() as u64))
            .into_iter()
            .sum::<u64>() as usize;
        let samples = rows.iter().sum();
        (
            loaded.train,
            loaded.test,
            Ownership::blocks(rank, &rows),
            samples,
            test_rows,
        )
    } else {
        let ownership = Ownership::Interleaved { rank, ranks: size };
        let (samples, test_samples) = (
            loaded.train.len(),
            loaded.test.as_ref().map_or(0, Dataset::len),
        );
        (
            ownership.take(&loaded.train),
            loaded.test.as_ref().map(|t| ownership.take(t)),
            ownership,
            samples,
            test_samples,
        )
    };
    // Every process must encode the labels alike (one file per rank may hold other classes).
    let digest = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        format!("{:?}", loaded.encoding).hash(&mut h);
        h.finish()
    };
    let empty = cluster.all_gather(u64::from(train.is_empty()));
    if let Some(r) = empty.iter().position(|&e| e == 1) {
        return Err(Error::Shape {
            what: format!("rank {r}'s shard of {}", data.display()),
            expected: "at least one row (use fewer processes than rows)".into(),
            found: "none".into(),
        });
    }
    if cluster.all_gather(digest).iter().any(|&d| d != digest) {
        return Err(Error::Format {
            path: data,
            reason: format!(
                "this shard's labels are {:?}, and another rank's differ: every shard must hold every class",
                loaded.encoding
            ),
        });
    }
    Ok(Shards {
        train,
        test,
        ownership,
        samples,
        test_samples,
        encoding: loaded.encoding,
        scaler: loaded.scaler,
        load_seconds: loaded.load_seconds,
    })
}

/// Trains on this process's shard; rank 0 writes the outputs.
fn train(
    spec: &RunSpec,
    cluster: &dyn Cluster,
    shards: Shards,
    hooks: Hooks<'_>,
) -> Result<Fitted> {
    let leader = cluster.rank() == 0;
    let existing = spec.existing();
    if leader {
        for path in [spec.save.as_ref(), spec.trace.as_ref().map(|t| &t.path)]
            .into_iter()
            .flatten()
        {
            existing.check(path)?;
        }
    }
    let Shards {
        mut train,
        test,
        ownership,
        samples,
        test_samples,
        encoding,
        scaler,
        load_seconds,
    } = shards;
    let objective = spec
        .model
        .build(train.dim(), encoding.n_classes(), spec.intercept, spec.l2);
    let local = engine::with_threads(spec.threads)?;
    let summing = cluster.engine(engine::with_threads(spec.threads)?);
    let updates_per_epoch = spec.regime.updates_per_epoch(samples);
    let average_every = match spec.mode {
        Mode::Mpi { average_every } => average_every,
        _ => None,
    };
    // Local SGD: every process runs the same number of updates, on shards of equal size.
    let averaging = match average_every {
        Some(k) => {
            let smallest = cluster
                .all_gather(train.len() as u64)
                .into_iter()
                .min()
                .unwrap_or(0);
            if (smallest as usize) < train.len() {
                let rows: Vec<usize> = (0..smallest as usize).collect();
                train = train.select(&rows);
            }
            Some(cluster.consensus(k))
        }
        None => None,
    };
    let trained_rows = if averaging.is_some() {
        train.len() * cluster.size()
    } else {
        samples
    };
    let schedule = spec.schedule(if averaging.is_some() {
        spec.regime.updates_per_epoch(train.len())
    } else {
        updates_per_epoch
    })?;
    let train_eval = ShardEval {
        data: &train,
        samples: trained_rows,
    };
    let test_eval = test.as_ref().map(|t| ShardEval {
        data: t,
        samples: test_samples,
    });
    let mut writer = match &spec.trace {
        Some(trace) => {
            let eval = Evaluator {
                engine: summing.as_ref(),
                objective: objective.as_ref(),
                train: &train_eval,
                test: test_eval.as_ref().map(|t| t as &dyn Evaluate),
            };
            let write = leader.then_some(existing);
            Some(trace_writer(spec, trace, updates_per_epoch, eval, write)?)
        }
        None => None,
    };
    let Hooks {
        observers: mut theirs,
        ..
    } = hooks;
    let mut observers = super::trace_first(writer.as_mut(), &mut theirs);
    let mut sharded;
    let mut own;
    let trainer = match &averaging {
        Some(average) => {
            own = InMemory::new(&train, spec.regime, spec.sampling);
            // The same start on every process, then each its own sample order.
            Trainer::on_batches(objective.as_ref(), &mut own)
                .engine(local.as_ref())
                .consensus(average.as_ref())
                .initial(objective.initial_parameters(spec.seed))
                .seed(spec.seed.wrapping_add(cluster.rank() as u64))
        }
        None => {
            sharded = Shard::new(&train, samples, ownership, spec.regime, spec.sampling)?;
            Trainer::on_batches(objective.as_ref(), &mut sharded)
                .engine(summing.as_ref())
                .seed(spec.seed)
        }
    };
    let outcome = trainer
        .fast_paths(false)
        .schedule(schedule)
        .optimizer(spec.optimizer.chain())
        .average(spec.average)
        .epochs(spec.epochs)
        .on_divergence(spec.on_divergence)
        .run(&mut observers)
        .map_err(|e| Error::Training {
            path: spec.data.clone(),
            source: Box::new(e),
        })?;
    drop(observers);
    drop(writer);
    let train_result = train_eval.evaluate(summing.as_ref(), objective.as_ref(), &outcome.theta)?;
    let test_result = match &test_eval {
        Some(t) => Some(t.evaluate(summing.as_ref(), objective.as_ref(), &outcome.theta)?),
        None => None,
    };
    let mut model = saved_model(spec, objective.as_ref(), &outcome.theta, &encoding);
    model.scaler = scaler;
    if let (true, Some(path)) = (leader, &spec.save) {
        model.save(path, existing)?;
    }
    Ok(Fitted::new(
        outcome,
        (train_result, test_result),
        model,
        objective.as_ref(),
        (samples, load_seconds, summing.name()),
    ))
}

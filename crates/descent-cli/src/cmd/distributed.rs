//! `descent train --engine mpi`: the same training loop on every process of an MPI job.
//!
//! Each process loads its shard (rows i with i mod size = rank of one file, or its own file
//! `--data 'train.{rank}.svm'`); synchronous runs draw the global sample stream on every
//! process and add the processes' gradient sums with allreduce (`descent::shard`,
//! `descent_mpi::AllReduce`), local SGD (`--average-every K`) trains on the shard alone and
//! averages the models every K updates. Evaluations (trace rows, the final losses) are
//! collective. Only rank 0 writes files and prints results. A process that cannot load its
//! shard makes every process exit with the failures listed; an error later ends the whole
//! job (MPI_Abort), so no process waits forever.

use super::train::{print_summary, report};
use crate::config::TrainConfig;
use crate::progress::Progress;
use anyhow::{anyhow, bail, Context, Result};
use descent::batches::InMemory;
use descent::data::Dataset;
use descent::engine::{Engine, Evaluate};
use descent::fit::{load, saved_model, trace_writer, Fitted, Mode, RunSpec, Sources};
use descent::labels::LabelEncoding;
use descent::observe::Observer;
use descent::shard::{Ownership, Shard, ShardEval};
use descent::trace::Evaluator;
use descent::train::Trainer;
use descent_mpi::{ModelAverage, Mpi};
use serde_json::{json, Value};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// Runs `descent train --engine mpi` on this process.
pub fn run(config: TrainConfig) -> Result<()> {
    let mpi = Mpi::init().map_err(|e| anyhow!(e))?;
    let loaded = match mpi
        .agree(load_local(&config.spec, mpi.rank()).map_err(|e| crate::explain::chain(&e)))
    {
        Ok(loaded) => loaded,
        Err(failures) => {
            // Every process prints the failures before any exits (mpirun ends the job at
            // the first non-zero exit).
            eprintln!(
                "error (rank {}): the MPI job could not start:\n{failures}",
                mpi.rank()
            );
            mpi.barrier();
            return Err(super::Reported.into());
        }
    };
    // From here on every process takes the same decisions (on gathered numbers) or aborts.
    let shards = shard(&mpi, loaded)?;
    if let Err(error) = train(&mpi, &config, shards) {
        eprintln!(
            "error (rank {}): {}",
            mpi.rank(),
            crate::explain::chain(&error)
        );
        mpi.abort(2);
    }
    Ok(())
}

/// A process's data.
struct Shards {
    train: Dataset,
    test: Option<Dataset>,
    ownership: Ownership,
    samples: usize,
    test_samples: usize,
    encoding: LabelEncoding,
    scaler: Option<descent::data::Scaler>,
    load_seconds: f64,
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

/// What a process read, before the processes compare notes.
struct Local {
    loaded: descent::fit::Loaded,
    split: bool,
    path: PathBuf,
}

/// Reads this process's file (no communication: a failure here is reported by
/// [`Mpi::agree`]).
fn load_local(config: &RunSpec, rank: usize) -> Result<Local> {
    let (data, split) = rank_path(&config.data, rank);
    let test = config.test.as_ref().map(|t| rank_path(t, rank).0);
    let test_labels = config.test_labels.as_ref().map(|t| rank_path(t, rank).0);
    if split && config.standardize {
        bail!("--standardize fits the scaling on all rows, which no process has with one file per rank: standardize the files beforehand, or give one file");
    }
    let loaded = load(&Sources {
        data: &data,
        read: &config.read,
        test: test.as_deref(),
        test_labels: test_labels.as_deref(),
        standardize: config.standardize,
        model: config.model,
    })?;
    Ok(Local {
        loaded,
        split,
        path: data,
    })
}

/// Cuts or places this process's rows among all (collective).
fn shard(mpi: &Mpi, local: Local) -> Result<Shards> {
    let (rank, size) = (mpi.rank(), mpi.size());
    let Local {
        loaded,
        split,
        path: data,
    } = local;
    let (train, test, ownership, samples, test_samples) = if split {
        let rows: Vec<usize> = mpi
            .all_gather(loaded.train.len() as u64)
            .into_iter()
            .map(|n| n as usize)
            .collect();
        let test_rows: usize = mpi
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
    let empty = mpi.all_gather(u64::from(train.is_empty()));
    if let Some(r) = empty.iter().position(|&e| e == 1) {
        bail!(
            "rank {r}'s shard of {} is empty: use fewer processes than rows",
            data.display()
        );
    }
    if mpi.all_gather(digest).iter().any(|&d| d != digest) {
        bail!(
            "this shard's labels are {:?}, and another rank's differ: every shard must hold every class",
            loaded.encoding
        );
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
fn train(mpi: &Mpi, cli: &TrainConfig, shards: Shards) -> Result<()> {
    let config = &cli.spec;
    let rank = mpi.rank();
    let leader = rank == 0;
    let existing = config.existing();
    if leader {
        for path in [config.save.as_ref(), config.trace.as_ref().map(|t| &t.path)]
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
    let dim = train.dim();
    let objective = config
        .model
        .build(dim, encoding.n_classes(), config.intercept, config.l2);
    let local = crate::config::engine(config.threads)?;
    let engine = mpi.engine(crate::config::engine(config.threads)?);
    let updates_per_epoch = config.regime.updates_per_epoch(samples);
    let average_every = match config.mode {
        Mode::Mpi { average_every } => average_every,
        _ => None,
    };

    // Local SGD: every process runs the same number of updates, on shards of equal size.
    let averaging = match average_every {
        Some(k) => {
            let smallest = mpi
                .all_gather(train.len() as u64)
                .into_iter()
                .min()
                .unwrap_or(0);
            if (smallest as usize) < train.len() {
                let rows: Vec<usize> = (0..smallest as usize).collect();
                train = train.select(&rows);
            }
            Some(ModelAverage::new(mpi, k))
        }
        None => None,
    };
    let trained_rows = if averaging.is_some() {
        train.len() * mpi.size()
    } else {
        samples
    };
    let schedule = config.schedule(if averaging.is_some() {
        config.regime.updates_per_epoch(train.len())
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

    let mut observers: Vec<Box<dyn Observer + '_>> = Vec::new();
    if let Some(trace) = &config.trace {
        let eval = Evaluator {
            engine: &engine,
            objective: objective.as_ref(),
            train: &train_eval,
            test: test_eval.as_ref().map(|t| t as &dyn Evaluate),
        };
        let write = leader.then_some(existing);
        let writer = trace_writer(config, trace, updates_per_epoch, eval, write)?;
        observers.push(Box::new(writer));
    }
    if leader {
        observers.push(Box::new(Progress::new(cli.quiet || cli.json)));
    }
    let mut observer_refs: Vec<&mut dyn Observer> =
        observers.iter_mut().map(|o| o.as_mut() as _).collect();

    let mut sharded;
    let mut own;
    let trainer = match &averaging {
        Some(average) => {
            own = InMemory::new(&train, config.regime, config.sampling);
            // The same start on every process, then each its own sample order.
            Trainer::on_batches(objective.as_ref(), &mut own)
                .engine(local.as_ref())
                .consensus(average)
                .initial(objective.initial_parameters(config.seed))
                .seed(config.seed.wrapping_add(rank as u64))
        }
        None => {
            sharded = Shard::new(&train, samples, ownership, config.regime, config.sampling)?;
            Trainer::on_batches(objective.as_ref(), &mut sharded)
                .engine(&engine)
                .seed(config.seed)
        }
    };
    let outcome = trainer
        .fast_paths(false)
        .schedule(schedule)
        .optimizer(config.optimizer.chain())
        .average(config.average)
        .epochs(config.epochs)
        .on_divergence(config.on_divergence)
        .run(&mut observer_refs)
        .with_context(|| format!("training on {} failed", config.data.display()))?;
    drop(observer_refs);
    drop(observers);

    let train_result = train_eval.evaluate(&engine, objective.as_ref(), &outcome.theta)?;
    let test_result = match &test_eval {
        Some(t) => Some(t.evaluate(&engine, objective.as_ref(), &outcome.theta)?),
        None => None,
    };
    if !leader {
        return Ok(());
    }
    let mut model = saved_model(config, objective.as_ref(), &outcome.theta, &encoding);
    model.scaler = scaler;
    if let Some(path) = &config.save {
        model.save(path, existing)?;
    }
    let fitted = Fitted {
        outcome,
        train: train_result,
        test: test_result,
        model,
        samples,
        features: objective.n_features(),
        parameters: objective.dim(),
        load_seconds,
        engine: engine.name(),
        loss_growth: None,
    };
    if cli.json {
        let mut report = report(config, &fitted);
        report.insert("ranks".into(), json!(mpi.size()));
        report.insert(
            "algorithm".into(),
            json!(match average_every {
                Some(k) => format!("local SGD, models averaged every {k} updates"),
                None => "synchronous data-parallel".into(),
            }),
        );
        println!("{}", Value::Object(report));
    } else {
        print_summary(
            config,
            &fitted.outcome,
            &fitted.train,
            fitted.test.as_ref(),
            load_seconds,
        );
        println!("{} ranks: {}", mpi.size(), engine.name());
    }
    Ok(())
}

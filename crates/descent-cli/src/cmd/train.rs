//! `descent train`: load, encode, train, report, save.

use crate::config::TrainConfig;
use crate::progress::Progress;
use anyhow::{Context, Result};
use descent::data::{self, Dataset, ReadOptions, Scaler};
use descent::engine::{evaluate, Engine, Evaluation, Serial, Threads};
use descent::labels::LabelEncoding;
use descent::model::SavedModel;
use descent::observe::Observer;
use descent::schedule::Schedule;
use descent::trace::{Evaluator, TraceWriter};
use descent::train::Trainer;
use serde_json::{json, Map, Value};
use std::time::Instant;

/// Rows per epoch in a trace when `--trace-every` is not given.
const TRACE_ROWS_PER_EPOCH: u64 = 10;

/// Runs `descent train`.
pub fn run(config: TrainConfig) -> Result<()> {
    let loading = Instant::now();
    let (mut train, mut test) = load(&config)?;
    let load_seconds = loading.elapsed().as_secs_f64();

    let scaler = if config.standardize {
        let scaler = Scaler::fit(&train)?;
        scaler.apply(&mut train)?;
        if let Some(test) = &mut test {
            scaler.apply(test)?;
        }
        Some(scaler)
    } else {
        None
    };
    let encoding = LabelEncoding::fit(config.model, &train)?;
    encoding.encode(&mut train)?;
    if let Some(test) = &mut test {
        encoding.encode(test)?;
    }

    let objective = config.model.build(
        train.dim(),
        encoding.n_classes(),
        config.intercept,
        config.l2,
    );
    let engine: Box<dyn Engine> = if config.threads > 1 {
        Box::new(Threads::new(config.threads)?)
    } else {
        Box::new(Serial)
    };
    let updates_per_epoch = config.regime.updates_per_epoch(train.len());
    let schedule = Schedule::parse(&config.schedule, config.lr, config.l2, updates_per_epoch)?;

    let mut observers: Vec<Box<dyn Observer + '_>> = Vec::new();
    if let Some(path) = &config.trace {
        let every = config
            .trace_every
            .unwrap_or((updates_per_epoch / TRACE_ROWS_PER_EPOCH).max(1));
        let eval = Evaluator {
            engine: engine.as_ref(),
            objective: objective.as_ref(),
            train: &train,
            test: test.as_ref(),
        };
        let writer = TraceWriter::new(path, every, eval)
            .with_context(|| format!("cannot write the trace {}", path.display()))?;
        observers.push(Box::new(writer));
    }
    if !config.quiet && !config.json {
        observers.push(Box::new(Progress::new()));
    }
    let mut observer_refs: Vec<&mut dyn Observer> =
        observers.iter_mut().map(|o| o.as_mut() as _).collect();

    let outcome = Trainer::new(objective.as_ref(), &train)
        .engine(engine.as_ref())
        .regime(config.regime)
        .sampling(config.sampling)
        .schedule(schedule)
        .optimizer(config.chain())
        .average(config.average)
        .epochs(config.epochs)
        .seed(config.seed)
        .run(&mut observer_refs)
        .with_context(|| format!("training on {} failed", config.data.display()))?;
    drop(observer_refs);
    drop(observers);

    let train_eval = evaluate(engine.as_ref(), objective.as_ref(), &train, &outcome.theta);
    let test_eval = test
        .as_ref()
        .map(|t| evaluate(engine.as_ref(), objective.as_ref(), t, &outcome.theta));

    if let Some(path) = &config.save {
        let mut model = SavedModel::new(
            config.model,
            objective.as_ref(),
            &outcome.theta,
            config.intercept,
            &encoding,
        );
        model.feature_names = train.source().feature_names.clone();
        model.scaler = scaler;
        model.training = config.training_record();
        model
            .save(path)
            .with_context(|| format!("cannot save the model to {}", path.display()))?;
    }

    let mut report = Map::new();
    report.insert("model".into(), json!(config.model.name()));
    report.insert("method".into(), json!(config.regime.to_string()));
    report.insert("sampling".into(), json!(sampling_label(&config)));
    report.insert("optimizer".into(), json!(config.chain().name()));
    report.insert("engine".into(), json!(engine.name()));
    report.insert("samples".into(), json!(train.len()));
    report.insert("features".into(), json!(train.dim()));
    report.insert("parameters".into(), json!(objective.dim()));
    report.insert("epochs".into(), json!(outcome.epochs));
    report.insert("updates".into(), json!(outcome.updates));
    report.insert("sample_gradients".into(), json!(outcome.sample_gradients));
    put_eval(&mut report, "train", &train_eval);
    if let Some(e) = &test_eval {
        put_eval(&mut report, "test", e);
    }
    report.insert("load_seconds".into(), json!(load_seconds));
    report.insert("train_seconds".into(), json!(outcome.seconds));
    report.insert(
        "samples_per_second".into(),
        json!(outcome.sample_gradients as f64 / outcome.seconds.max(1e-12)),
    );
    if config.json {
        println!("{}", Value::Object(report));
    } else {
        print_summary(
            &config,
            &outcome,
            &train_eval,
            test_eval.as_ref(),
            load_seconds,
        );
    }
    Ok(())
}

/// Reads the training and test data; the test data is widened to the training dimension.
fn load(config: &TrainConfig) -> Result<(Dataset, Option<Dataset>)> {
    let train = data::read(&config.data, &config.read)
        .with_context(|| format!("cannot load training data {}", config.data.display()))?;
    let test = match &config.test {
        None => None,
        Some(path) => {
            let options = ReadOptions {
                features: config.read.features.or(Some(train.dim())),
                labels: config.test_labels.clone(),
                ..config.read.clone()
            };
            let mut test = data::read(path, &options)
                .with_context(|| format!("cannot load test data {}", path.display()))?;
            test.conform_to(train.dim(), &config.data)?;
            Some(test)
        }
    };
    Ok((train, test))
}

fn put_eval(report: &mut Map<String, Value>, prefix: &str, e: &Evaluation) {
    report.insert(format!("{prefix}_loss"), json!(e.loss));
    if let Some(a) = e.accuracy {
        report.insert(format!("{prefix}_accuracy"), json!(a));
    }
}

fn print_summary(
    config: &TrainConfig,
    outcome: &descent::train::Outcome,
    train: &Evaluation,
    test: Option<&Evaluation>,
    load_seconds: f64,
) {
    println!(
        "{} by {} ({}), {} epochs: {} updates, {} sample gradients in {:.3} s (loaded in {:.3} s)",
        config.model.name(),
        config.regime,
        sampling_label(config).unwrap_or("every sample"),
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
fn sampling_label(config: &TrainConfig) -> Option<&'static str> {
    match config.regime {
        descent::regime::Regime::Batch => None,
        _ => Some(match config.sampling {
            descent::regime::Sampling::Shuffle => "shuffle",
            descent::regime::Sampling::Cyclic => "cyclic",
            descent::regime::Sampling::Replacement => "replacement",
        }),
    }
}

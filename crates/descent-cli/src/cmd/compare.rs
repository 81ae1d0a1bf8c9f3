//! `descent compare`: several methods on the same data, from the same start (zero), with the
//! same budget of per-sample gradients, over several seeds. Writes a table, `comparison.json`
//! and loss curves against epochs, updates and time, plus the distance between the methods'
//! iterates epoch by epoch.

use crate::args::CompareArgs;
use crate::config::{engine, threads};
use crate::methods::{self, Method};
use crate::recorder::Recorder;
use anyhow::{Context, Result};
use descent::engine::{evaluate, Engine};
use descent::fit::{load, Sources};
use descent::output::Existing;
use descent::prelude::*;
use descent_report::{save, Curve, CurveFigure, PALETTE};
use serde_json::{json, Value};

/// One method's runs.
struct Runs {
    method: Method,
    outcomes: Vec<Outcome>,
    losses: Vec<Vec<[f64; 4]>>,
    epoch_ends: Vec<Vec<Vec<f64>>>,
}

/// Runs `descent compare`.
pub fn run(args: CompareArgs) -> Result<()> {
    let threads = threads(args.threads);
    let folder = crate::cmd::report_folder(&args.out, args.force)?;
    let out = folder.dir().to_path_buf();
    let read = args.setup.input.how.read_options(args.setup.features, true);
    let loaded = load(&Sources {
        data: &args.setup.input.data,
        read: &read,
        test: args.setup.test.as_deref(),
        test_labels: args.setup.test_labels.as_deref(),
        standardize: args.standardize,
        model: args.setup.model,
    })?;
    let (train, test) = (&loaded.train, loaded.test.as_ref());
    let mut methods = methods::parse(&args.methods, args.lr, train.len())?;
    let objective = args
        .setup
        .model
        .build(train.dim(), loaded.encoding.n_classes(), true, args.l2);
    if args.tune {
        methods::tune(&mut methods, objective.as_ref(), train, args.epochs, 0)?;
    }
    let engine = engine(threads)?;

    let mut all = Vec::new();
    for method in &methods {
        let mut runs = Runs {
            method: method.clone(),
            outcomes: Vec::new(),
            losses: Vec::new(),
            epoch_ends: Vec::new(),
        };
        for seed in 0..args.seeds {
            let mut recorder = Recorder::new(objective.as_ref(), train, 10);
            let outcome = Trainer::new(objective.as_ref(), train)
                .engine(engine.as_ref())
                .regime(method.regime)
                .schedule(Schedule::Constant { eta0: method.lr })
                .epochs(args.epochs)
                .seed(seed)
                .run(&mut [&mut recorder])
                .with_context(|| format!("{} with η = {}", method.label(), method.lr))?;
            runs.outcomes.push(outcome);
            runs.losses.push(recorder.losses);
            runs.epoch_ends.push(recorder.epoch_ends);
        }
        all.push(runs);
    }

    let mut written = Vec::new();
    let curve = |runs: &Runs, k: usize, x: usize| Curve {
        name: format!("{} (η = {:.3})", runs.method.label(), runs.method.lr),
        points: runs.losses[0].iter().map(|p| (p[x], p[3])).collect(),
        colour: PALETTE[k % PALETTE.len()],
        band: Vec::new(),
    };
    for (name, x, x_label, log_x) in [
        (
            "loss_vs_epochs",
            0,
            "epochs (per-sample gradients / M)",
            false,
        ),
        ("loss_vs_updates", 1, "updates (log scale)", true),
        ("loss_vs_time", 2, "training seconds", false),
    ] {
        let figure = CurveFigure {
            title: format!(
                "{} on {}: training loss (seed 0)",
                args.setup.model.label(),
                file_name(&args.setup.input.data)
            ),
            x_label: x_label.into(),
            y_label: "training loss f(θ)".into(),
            curves: all
                .iter()
                .enumerate()
                .map(|(k, r)| curve(r, k, x))
                .filter(|c| !c.points.is_empty())
                .map(|mut c| {
                    if log_x {
                        c.points.retain(|p| p.0 > 0.0);
                    }
                    c
                })
                .collect(),
            log_x,
            log_y: true,
        };
        written.extend(save(&figure, &out.join(name))?);
    }
    let reference = &all[0];
    let distances: Vec<Curve> = all
        .iter()
        .enumerate()
        .skip(1)
        .map(|(k, r)| Curve {
            name: format!(
                "‖θ({}) − θ({})‖",
                r.method.label(),
                reference.method.label()
            ),
            points: r.epoch_ends[0]
                .iter()
                .zip(&reference.epoch_ends[0])
                .enumerate()
                .map(|(e, (a, b))| (e as f64, distance(a, b)))
                .collect(),
            colour: PALETTE[k % PALETTE.len()],
            band: Vec::new(),
        })
        .collect();
    if !distances.is_empty() {
        let figure = CurveFigure {
            title: format!(
                "Distance between iterates after each epoch (seed 0), against {}",
                reference.method.label()
            ),
            x_label: "epochs".into(),
            y_label: "distance".into(),
            curves: distances,
            log_x: false,
            log_y: false,
        };
        written.extend(save(&figure, &out.join("distance"))?);
    }

    let rows: Vec<Value> = all
        .iter()
        .map(|r| method_json(r, objective.as_ref(), engine.as_ref(), train, test))
        .collect();
    let finals: Vec<Vec<f64>> = all.iter().map(|r| r.outcomes[0].theta.clone()).collect();
    let report = json!({
        "data": args.setup.input.data.display().to_string(),
        "model": args.setup.model.label(),
        "samples": train.len(),
        "features": train.dim(),
        "epochs": args.epochs,
        "seeds": args.seeds,
        "l2": args.l2,
        "rate_rule": if args.tune { "methods without @LR: the lowest median validation loss on a held-out fifth of the training data (descent::tune)" } else { "methods without @LR use lr·sqrt(batch size)" },
        "start": "zeros",
        "methods": rows,
        "final_distance": {
            "methods": all.iter().map(|r| r.method.label()).collect::<Vec<_>>(),
            "matrix": finals.iter().map(|a| finals.iter().map(|b| distance(a, b)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "note": "‖θ_i − θ_j‖ between the final parameters of seed 0",
        },
        "files": written.iter().map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect::<Vec<_>>(),
    });
    let path = out.join("comparison.json");
    let text = format!("{}\n", serde_json::to_string_pretty(&report)?);
    descent::output::write(&path, text.as_bytes(), Existing::Keep)?;
    folder.commit()?;
    let path = args.out.join("comparison.json");
    if args.json {
        print!("{text}");
    } else {
        print_table(&report);
        println!("wrote {} and {} figures", path.display(), written.len() / 2);
    }
    Ok(())
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Median and interquartile range.
fn summary(mut values: Vec<f64>) -> Value {
    values.sort_by(f64::total_cmp);
    let q = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
    json!({ "median": q(0.5), "q1": q(0.25), "q3": q(0.75), "values": values })
}

fn method_json(
    r: &Runs,
    objective: &dyn Objective,
    engine: &dyn Engine,
    train: &Dataset,
    test: Option<&Dataset>,
) -> Value {
    let train_evals: Vec<_> = r
        .outcomes
        .iter()
        .map(|o| evaluate(engine, objective, train, &o.theta))
        .collect();
    let mut row = json!({
        "method": r.method.label(),
        "lr": r.method.lr,
        "updates": r.outcomes[0].updates,
        "sample_gradients": r.outcomes[0].sample_gradients,
        "train_loss": summary(train_evals.iter().map(|e| e.loss).collect()),
        "seconds": summary(r.outcomes.iter().map(|o| o.seconds).collect()),
        "samples_per_second": summary(r.outcomes.iter().map(|o| o.sample_gradients as f64 / o.seconds.max(1e-12)).collect()),
    });
    if train_evals[0].accuracy.is_some() {
        row["train_accuracy"] = summary(train_evals.iter().filter_map(|e| e.accuracy).collect());
    }
    if let Some(test) = test {
        let evals: Vec<_> = r
            .outcomes
            .iter()
            .map(|o| evaluate(engine, objective, test, &o.theta))
            .collect();
        row["test_loss"] = summary(evals.iter().map(|e| e.loss).collect());
        if evals[0].accuracy.is_some() {
            row["test_accuracy"] = summary(evals.iter().filter_map(|e| e.accuracy).collect());
        }
    }
    row
}

fn print_table(report: &Value) {
    let median = |v: &Value| {
        v["median"]
            .as_f64()
            .map_or("-".to_string(), |x| format!("{x:.5}"))
    };
    println!(
        "{} on {} ({} samples, {} epochs, {} seeds; medians)",
        report["model"].as_str().unwrap_or(""),
        report["data"].as_str().unwrap_or(""),
        report["samples"],
        report["epochs"],
        report["seeds"]
    );
    println!(
        "  {:<18} {:>8} {:>9} {:>11} {:>11} {:>10} {:>10} {:>12}",
        "method", "lr", "updates", "train loss", "test loss", "accuracy", "seconds", "samples/s"
    );
    for row in report["methods"].as_array().into_iter().flatten() {
        let accuracy = if row["test_accuracy"].is_object() {
            &row["test_accuracy"]
        } else {
            &row["train_accuracy"]
        };
        println!(
            "  {:<18} {:>8.4} {:>9} {:>11} {:>11} {:>10} {:>10} {:>12}",
            row["method"].as_str().unwrap_or(""),
            row["lr"].as_f64().unwrap_or(f64::NAN),
            row["updates"].as_u64().unwrap_or(0),
            median(&row["train_loss"]),
            median(&row["test_loss"]),
            median(accuracy),
            median(&row["seconds"]),
            row["samples_per_second"]["median"]
                .as_f64()
                .map_or("-".into(), |v| format!("{v:.0}")),
        );
    }
}

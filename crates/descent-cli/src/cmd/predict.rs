//! `descent predict`: predictions of a saved model, one per line, or its metrics as JSON.

use crate::args::PredictArgs;
use anyhow::{bail, Context, Result};
use descent::data;
use descent::engine::{evaluate, Serial};
use descent::model::SavedModel;
use descent::objective::Task;
use serde_json::json;
use std::io::Write;

/// Runs `descent predict`.
pub fn run(args: PredictArgs) -> Result<()> {
    let model = SavedModel::load(&args.model)?;
    let options = args
        .input
        .how
        .read_options(Some(model.n_features), args.json);
    let mut data = data::read(&args.input.data, &options)
        .with_context(|| format!("cannot load {}", args.input.data.display()))?;
    model.prepare(&mut data, &args.model)?;
    let (objective, theta) = model.objective().map_err(|reason| descent::Error::Model {
        path: args.model.clone(),
        reason,
    })?;
    let encoding = model.encoding();

    if args.json {
        if !data.is_labelled() {
            bail!(
                "{} has no label column '{}': metrics need labels (use --label NAME)",
                args.input.data.display(),
                args.input.how.label
            );
        }
        let e = evaluate(&Serial, objective.as_ref(), &data, &theta);
        let mut report = json!({
            "model": model.model,
            "samples": data.len(),
            "loss": e.loss,
        });
        if let Some(a) = e.accuracy {
            report["accuracy"] = json!(a);
        }
        if objective.task() == Task::Regression {
            let n = data.len() as f64;
            let mean = data.targets().iter().sum::<f64>() / n;
            let total: f64 = data.targets().iter().map(|y| (y - mean).powi(2)).sum();
            let mse = 2.0 * e.loss;
            report["mse"] = json!(mse);
            report["r2"] = json!(1.0 - mse * n / total);
        }
        println!("{report}");
    } else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for i in 0..data.len() {
            let p = encoding.decode(objective.predict(&theta, data.row(i)));
            writeln!(out, "{p}")?;
        }
        out.flush()?;
    }
    Ok(())
}

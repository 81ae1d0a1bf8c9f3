//! The numbers of a landscape: JSON rows and the printed summary.

use super::setting::Setting;
use super::short_rate;
use crate::methods::Method;
use descent::landscape::minima::Minimum;
use descent::landscape::PathRecorder;
use serde_json::{json, Value};

pub fn minima_json(
    minima: &[Minimum],
    population_loss: &dyn Fn(&[f64]) -> f64,
    train_loss: &dyn Fn(&[f64]) -> f64,
) -> Vec<Value> {
    minima
        .iter()
        .map(|m| {
            json!({
                "theta": m.theta,
                "training_loss": train_loss(&m.theta),
                "population_loss": population_loss(&m.theta),
            })
        })
        .collect()
}

pub fn print_summary(
    setting: &Setting,
    train: &[Minimum],
    population: &[Minimum],
    paths: &[(Method, PathRecorder)],
    train_loss: &dyn Fn(&[f64]) -> f64,
    report: &Value,
) {
    println!("{}", setting.description);
    let reference = setting.reference_name();
    for (name, list) in [("training", train), (reference, population)] {
        for (k, m) in list.iter().enumerate() {
            println!(
                "  {name} minimum {k}: θ = ({:.4}, {:.4})  training loss {:.5}  {reference} loss {:.5}",
                m.theta[0], m.theta[1], train_loss(&m.theta), setting.reference_loss(&m.theta)
            );
        }
    }
    println!(
        "  {:<16} {:>9} {:>22} {:>14} {:>16}",
        "method",
        "updates",
        "end θ",
        "training loss",
        format!("{reference} loss")
    );
    for (m, rec) in paths {
        let end = rec.points.last().cloned().unwrap_or_default();
        println!(
            "  {:<16} {:>9} {:>22} {:>14.5} {:>16.5}",
            if m.shares_regime {
                m.label()
            } else {
                format!("{}@{}", m.label(), short_rate(m.lr))
            },
            rec.points.len() - 1,
            format!("({:.4}, {:.4})", end[0], end[1]),
            train_loss(&end),
            setting.reference_loss(&end)
        );
    }
    if let Some(basins) = report["basins"].as_object() {
        println!("  basins (share of runs ending in each {reference} minimum, the last share ending in none):");
        for row in basins["methods"].as_array().into_iter().flatten() {
            let shares: Vec<String> = row["shares"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| format!("{:.3}", v.as_f64().unwrap_or(f64::NAN)))
                .collect();
            println!(
                "    {:<16} {}",
                row["method"].as_str().unwrap_or(""),
                shares.join("  ")
            );
        }
    }
}

//! The rate rule every experiment uses, and a map of where training converges or diverges over
//! learning rate × batch size.
//!
//! **The rule.** For each method (batch size), train for a short probe budget from the run's
//! start with every rate in [`GRID`] (seed fixed) and keep the rate with the lowest final
//! training loss; runs that diverge are excluded. No rate is ever set by hand to make a claim
//! hold; every section shows its grid and its choice.

use super::{significant, Context, Finding, Numbers};
use anyhow::Result;
use descent::data::{self, Dataset, Row, Scaler};
use descent::engine::{evaluate, Serial};
use descent::objective::{ModelKind, Objective};
use descent::prelude::*;
use descent_report::html::{Cell, Section, Table};
use serde_json::json;

/// The rates tried.
pub const GRID: [f64; 9] = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0];

/// A method's rate choice.
pub struct Choice {
    /// The regime.
    pub regime: Regime,
    /// The chosen rate.
    pub lr: f64,
    /// Final training loss for each rate of [`GRID`] (`None`: diverged).
    pub losses: Vec<Option<f64>>,
}

/// Applies the rule to `regime` with a probe of `epochs` epochs.
pub fn choose(
    objective: &dyn Objective,
    data: &Dataset,
    regime: Regime,
    epochs: u64,
    seed: u64,
    start: Option<&[f64]>,
) -> Choice {
    let losses: Vec<Option<f64>> = GRID
        .iter()
        .map(|&lr| {
            let mut t = Trainer::new(objective, data)
                .regime(regime)
                .schedule(Schedule::Constant { eta0: lr })
                .epochs(epochs)
                .seed(seed);
            if let Some(s) = start {
                t = t.initial(s.to_vec());
            }
            let theta = t.run(&mut []).ok()?.theta;
            let loss = evaluate(&Serial, objective, data, &theta).loss;
            loss.is_finite().then_some(loss)
        })
        .collect();
    let best = losses
        .iter()
        .enumerate()
        .filter_map(|(k, l)| l.map(|l| (k, l)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(k, _)| k);
    Choice {
        regime,
        lr: GRID[best],
        losses,
    }
}

/// The page table of a set of choices.
pub fn table(choices: &[Choice], probe: &str, numbers: &mut Numbers, prefix: &str) -> Table {
    let mut header = vec!["method".to_string()];
    header.extend(GRID.iter().map(|r| format!("η = {r}")));
    header.push("chosen η".into());
    let rows = choices
        .iter()
        .map(|c| {
            let mut row = vec![Cell::text(c.regime.to_string())];
            row.extend(
                c.losses
                    .iter()
                    .map(|l| Cell::text(l.map_or("diverged".into(), |v| significant(v, 4)))),
            );
            row.push(numbers.cell(&format!("{prefix}.lr.{}", c.regime), c.lr, c.lr.to_string()));
            row
        })
        .collect();
    Table {
        caption: format!("Rate rule: final training loss after {probe} for each rate of the grid; the lowest wins"),
        header,
        rows,
    }
}

/// The minimum of L2-regularized logistic regression by Newton's method (dense rows, with an
/// intercept): an independent reference for "within 1% of the optimum".
pub fn logistic_optimum(data: &Dataset, l2: f64) -> Vec<f64> {
    let d = data.dim();
    let n = d + 1;
    let mut theta = vec![0.0; n];
    for _ in 0..50 {
        let (mut grad, mut hess) = (vec![0.0; n], vec![0.0; n * n]);
        let m = data.len() as f64;
        for i in 0..data.len() {
            let Row::Dense(x) = data.row(i) else {
                return theta;
            };
            let row: Vec<f64> = x.iter().map(|&v| f64::from(v)).chain([1.0]).collect();
            let margin: f64 = row.iter().zip(&theta).map(|(a, b)| a * b).sum();
            let y = data.target(i);
            let p = 1.0 / (1.0 + (-margin).exp());
            let dloss = -y / (1.0 + (y * margin).exp());
            let curvature = p * (1.0 - p);
            for j in 0..n {
                grad[j] += dloss * row[j] / m;
                for k in 0..n {
                    hess[j * n + k] += curvature * row[j] * row[k] / m;
                }
            }
        }
        for j in 0..d {
            grad[j] += l2 * theta[j];
            hess[j * n + j] += l2;
        }
        let step = solve(hess, grad);
        theta.iter_mut().zip(&step).for_each(|(t, s)| *t -= s);
        if step.iter().map(|s| s * s).sum::<f64>().sqrt() < 1e-13 {
            break;
        }
    }
    theta
}

/// Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))
            .unwrap_or(col);
        for k in 0..n {
            a.swap(col * n + k, pivot * n + k);
        }
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = a[row * n + col] / a[col * n + col];
            for k in col..n {
                a[row * n + k] -= f * a[col * n + k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row * n + k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row * n + row];
    }
    x
}

/// diabetes (442 × 10, bundled), standardized, for least squares.
fn diabetes() -> Result<Dataset> {
    let text = include_str!("../../../../data/diabetes.csv");
    let mut data = data::csv::parse(
        std::path::Path::new("data/diabetes.csv"),
        text.as_bytes(),
        "label",
        true,
        1,
    )?;
    Scaler::fit(&data)?.apply(&mut data)?;
    Ok(data)
}

/// The least-squares solution with an intercept from the normal equations.
fn least_squares_optimum(data: &Dataset) -> Vec<f64> {
    let n = data.dim() + 1;
    let (mut a, mut b) = (vec![0.0; n * n], vec![0.0; n]);
    for i in 0..data.len() {
        let Row::Dense(x) = data.row(i) else {
            return vec![0.0; n];
        };
        let row: Vec<f64> = x.iter().map(|&v| f64::from(v)).chain([1.0]).collect();
        for j in 0..n {
            b[j] += row[j] * data.target(i);
            for k in 0..n {
                a[j * n + k] += row[j] * row[k];
            }
        }
    }
    solve(a, b)
}

/// The section: the rule, and the learning rate × batch size map on diabetes.
pub fn run(ctx: &Context, numbers: &mut Numbers) -> Result<Finding> {
    let data = diabetes()?;
    let objective = ModelKind::LeastSquares.build(data.dim(), 1, true, 0.0);
    let optimum = evaluate(
        &Serial,
        objective.as_ref(),
        &data,
        &least_squares_optimum(&data),
    )
    .loss;
    let start_loss = evaluate(
        &Serial,
        objective.as_ref(),
        &data,
        &vec![0.0; objective.dim()],
    )
    .loss;
    let epochs = ctx.size(20, 5);
    let batches = [1usize, 8, 64, data.len()];
    let mut rows = Vec::new();
    let mut grid = Vec::new();
    for &b in &batches {
        let regime = Regime::for_batch(b, data.len());
        let mut row = vec![Cell::text(regime.to_string())];
        let mut cells = Vec::new();
        for &lr in &GRID {
            let result = Trainer::new(objective.as_ref(), &data)
                .regime(regime)
                .schedule(Schedule::Constant { eta0: lr })
                .epochs(epochs)
                .seed(ctx.seed)
                .run(&mut []);
            let (status, loss) = match result {
                Err(_) => ("diverged", f64::NAN),
                Ok(o) => {
                    let loss = evaluate(&Serial, objective.as_ref(), &data, &o.theta).loss;
                    if !loss.is_finite() || loss > 10.0 * start_loss {
                        ("diverged", loss)
                    } else if loss <= optimum * 1.01 {
                        ("converged", loss)
                    } else {
                        ("slow", loss)
                    }
                }
            };
            let text = match status {
                "diverged" => "diverged".to_string(),
                s => format!("{s} ({})", significant(loss, 3)),
            };
            row.push(Cell::text(text));
            cells.push(json!({ "lr": lr, "status": status, "loss": if loss.is_finite() { json!(loss) } else { json!(null) } }));
        }
        grid.push(json!({ "method": regime.to_string(), "cells": cells }));
        rows.push(row);
    }
    let mut header = vec!["method".to_string()];
    header.extend(GRID.iter().map(|r| format!("η = {r}")));
    let optimum_cell = numbers.sig("optimum", optimum, 6);
    let section = Section {
        id: "rates".into(),
        title: "How rates are chosen, and where training converges".into(),
        claim: String::new(),
        setup: format!(
            "The rule used by every experiment: for each method, train a short probe budget from the run's start with every rate in {{{}}} and keep the rate with the lowest final training loss (diverged runs excluded); each section shows its grid and choice. The map below applies each rate to each batch size for {epochs} epochs of least squares on diabetes (442 × 10, standardized) from zero; 'converged' means a training loss within 1% of the normal equations' optimum, 'diverged' a non-finite loss or ten times the starting loss, 'slow' anything between. Small batches tolerate smaller rates: the edge of divergence moves with the batch size.",
            GRID.map(|g| g.to_string()).join(", ")
        ),
        figures: Vec::new(),
        tables: vec![
            Table {
                caption: format!("Learning rate × batch size after {epochs} epochs (final training loss)"),
                header,
                rows,
            },
            Table {
                caption: "Reference".into(),
                header: vec!["quantity".into(), "value".into()],
                rows: vec![vec![Cell::text("optimal training loss (normal equations)"), optimum_cell]],
            },
        ],
        rule: String::new(),
        verdict: None,
    };
    Ok(Finding {
        section,
        data: json!({ "grid": GRID, "map": grid }),
    })
}

//! The rate rule every experiment uses ([`descent::tune`], stated on the page), and a map of
//! where training converges or diverges over learning rate × batch size.

use super::{rule, significant, Context, Finding, Numbers};
use anyhow::Result;
use descent::data::synth::{generate, Kind, Spec};
use descent::data::{self, Dataset, Features, Row, Scaler};
use descent::engine::{evaluate, Serial};
use descent::labels::LabelEncoding;
use descent::objective::ModelKind;
use descent::prelude::*;
use descent::tune::{holdout, Shape, GRID};
use descent_report::html::{Cell, Section, Table};
use serde_json::json;
use std::fmt::Write as _;

/// Generated dense classification with 20 features in different units, labels encoded for
/// logistic regression: column j is scaled by 10^(−j/19), one decade from the first to the
/// last, which makes the problem ill-conditioned as real data is.
pub fn classification_in_units(rows: usize, seed: u64) -> Result<Dataset> {
    let d = 20;
    let generated = generate(&Spec {
        kind: Kind::DenseClassification,
        rows,
        features: d,
        nnz: 0,
        noise: 0.0,
        seed,
    })?;
    let values: Vec<f32> = match generated.features() {
        Features::Dense { values, .. } => values
            .iter()
            .enumerate()
            .map(|(k, v)| v * 10f32.powf(-((k % d) as f32) / 19.0))
            .collect(),
        Features::Sparse { .. } => unreachable!("dense generator"),
    };
    let mut data = Dataset::dense(d, values, generated.targets().to_vec())?;
    LabelEncoding::fit(ModelKind::Logistic, &data)?.encode(&mut data)?;
    Ok(data)
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
    // The rule itself on the same data: a fifth of the rows held out for validation.
    let (train, validation) = holdout(&data, 0.2, ctx.seed)?;
    let regimes: Vec<Regime> = batches
        .iter()
        .map(|&b| {
            if b == data.len() {
                Regime::Batch
            } else {
                Regime::for_batch(b, train.len())
            }
        })
        .collect();
    let tuned = rule::Probe {
        objective: objective.as_ref(),
        train: &train,
        validation: &validation,
        epochs,
        shape: Shape::Constant,
        start: None,
    }
    .tune_each(ctx, &regimes)?;
    let mut picks = String::new();
    for t in &tuned {
        let _ = write!(picks, "{} η = {}; ", t.regime, significant(t.lr, 2));
    }
    let optimum_cell = numbers.sig("optimum", optimum, 6);
    let section = Section {
        id: "rates".into(),
        title: "How rates are chosen, and where training converges".into(),
        claim: String::new(),
        setup: format!(
            "The rule used by every experiment, fixed before any run (descent::tune): hold out a validation split of the training data (never the test set); for each method train on the rest with every rate of the grid {{{}}}, for the same budget of sample gradients as the run the rate is for (so full batch is probed with as many updates as it will get), from the run's start, with the run's schedule shape, once per probe seed ({} seeds); score each rate by the median over seeds of the final validation loss, a diverged run counting as +∞; the lowest score wins. A pick on the grid's edge widens the grid by its ratio on that side (up to three times) and is flagged if it stays there; every rate diverging is an error, never a default. Each section shows its trials, the pick, and the share of probe seeds whose own best rate agrees within one grid step. Applied here with a fifth of diabetes held out and {epochs} epochs: {picks}The map below applies each rate to each batch size for {epochs} epochs of least squares on diabetes (442 × 10, standardized) from zero; 'converged' means a training loss within 1% of the normal equations' optimum, 'diverged' a non-finite loss or ten times the starting loss, 'slow' anything between. Small batches tolerate smaller rates: the edge of divergence moves with the batch size.",
            GRID.map(|g| g.to_string()).join(", "),
            rule::probe_seeds(ctx).len()
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
            rule::table(&tuned, numbers, "rule", "The rule on diabetes (validation: a fifth of the rows)"),
        ],
        rule: String::new(),
        verdict: None,
        literature: "Tuning on the training loss, or on the test set, selects for the setup rather than the method; held-out validation data with equal budgets is the standard protocol of optimizer comparisons (Choi et al. 2019; Schmidt, Schneider & Hennig 2021), whose results depend strongly on the tuning protocol.".into(),
    };
    Ok(Finding::new(
        section,
        json!({ "grid": GRID, "map": grid, "rule": tuned.iter().map(|t| json!({ "method": t.regime.to_string(), "lr": t.lr, "edge": t.edge.map(|e| format!("{e:?}")), "agreement": t.agreement(), "seed_picks": t.seed_picks })).collect::<Vec<_>>() }),
    ))
}

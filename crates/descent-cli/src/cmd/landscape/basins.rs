//! The basins study of `descent landscape --starts N --seeds K`.

use super::setting::Setting;
use crate::args::LandscapeArgs;
use crate::methods::Method;
use anyhow::{bail, Result};
use descent::landscape::basins::{lattice, shares, BasinStudy};
use descent::landscape::minima::Minimum;
use descent::landscape::Grid;
use descent::prelude::*;
use descent_report::save;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Runs every method from a lattice of `n` starts × `--seeds` seeds and records which
/// population minimum each run flows into.
pub fn basins(
    args: &LandscapeArgs,
    setting: &Setting,
    methods: &[Method],
    population_minima: &[Minimum],
    n: usize,
    train_surface: &[f64],
    (out, written): (&Path, &mut Vec<PathBuf>),
) -> Result<Value> {
    if n == 0 || args.seeds == 0 {
        bail!("--starts and --seeds must be ≥ 1");
    }
    let starts = lattice(setting.window, n);
    let reference = |t: &[f64]| setting.reference_loss(t);
    let study = BasinStudy {
        objective: setting.objective.as_ref(),
        data: &setting.data,
        window: setting.window,
        epochs: args.epochs,
        minima: population_minima,
        reference: &reference,
    };
    let mut rows = Vec::new();
    let mut figure_panels = Vec::new();
    for method in methods {
        // Full batch ignores the seed: one run per start stands for all seeds.
        let count = if method.regime == Regime::Batch {
            1
        } else {
            args.seeds
        };
        let seeds: Vec<u64> = (0..count).map(|s| args.seed.wrapping_add(1 + s)).collect();
        let outcomes = study.outcomes(method.regime, method.lr, &starts, &seeds);
        let global_share: Vec<f64> = outcomes
            .iter()
            .map(|ends| ends.iter().filter(|e| **e == Some(0)).count() as f64 / ends.len() as f64)
            .collect();
        rows.push(json!({
            "method": method.label(),
            "lr": method.lr,
            "runs": starts.len() * seeds.len(),
            "shares": shares(&outcomes, population_minima.len()),
        }));
        figure_panels.push((method.label(), global_share));
    }
    let figure = descent_report::BasinFigure {
        title: format!(
            "Share of runs from each start ending in the {}'s global minimum ({} seeds, {} epochs)",
            setting.reference_name(),
            args.seeds,
            args.epochs
        ),
        grid: Grid::new(setting.window, args.grid),
        axes: setting.axes.clone(),
        background: train_surface.to_vec(),
        starts: starts.clone(),
        panels: figure_panels,
        minima: population_minima.iter().map(|m| m.theta).collect(),
    };
    written.extend(save(&figure, &out.join("basins"))?);
    Ok(json!({
        "starts": starts,
        "seeds": args.seeds,
        "minima": population_minima.iter().map(|m| m.theta).collect::<Vec<_>>(),
        "shares_note": "shares[k] is the fraction of runs ending in minimum k of the reference surface (ordered by its loss, 0 = global); the last entry counts runs that ended in none (outside the window or diverged)",
        "methods": rows,
    }))
}

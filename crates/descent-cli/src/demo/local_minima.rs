//! Experiment 4: local minima. Does SGD's noise carry it to the global minimum more often?

use super::rates::{self, choose};
use super::{significant, Context, Finding, Numbers};
use anyhow::Result;
use descent::engine::{evaluate, Serial};
use descent::landscape::basins::{lattice, shares, BasinStudy};
use descent::landscape::{minima, Grid, Problem};
use descent::prelude::*;
use descent_report::html::{Cell, Section, Table, Verdict};
use descent_report::BasinFigure;
use serde_json::json;

/// Runs the experiment.
pub fn run(ctx: &Context, numbers: &mut Numbers) -> Result<Finding> {
    let problem = Problem::builtin("sine")?;
    let m = ctx.size(200, 100);
    let data = problem.sample(m, 0.0, ctx.seed)?;
    let objective = problem.model.objective();
    let epochs = ctx.size(20, 10);
    let (n_starts, n_seeds) = (ctx.size(36, 9), ctx.size(10, 3));
    let population = |t: &[f64]| problem.population_loss(t);
    let grid = Grid::new(problem.window, 81);
    let population_minima = minima::find(&grid, &grid.evaluate(population), population);
    let regimes = [
        Regime::Batch,
        Regime::MiniBatch(32),
        Regime::MiniBatch(8),
        Regime::Sgd,
    ];
    let choices: Vec<_> = regimes
        .iter()
        .map(|&r| {
            choose(
                objective.as_ref(),
                &data,
                r,
                2,
                ctx.seed,
                Some(&problem.start),
            )
        })
        .collect();
    let starts = lattice(problem.window, n_starts);
    let study = BasinStudy {
        objective: objective.as_ref(),
        data: &data,
        window: problem.window,
        epochs,
        minima: &population_minima,
        reference: &population,
    };
    let mut rows = Vec::new();
    let mut panels = Vec::new();
    let mut global = Vec::new();
    let mut raw = Vec::new();
    for c in &choices {
        let count = if c.regime == Regime::Batch {
            1
        } else {
            n_seeds
        };
        let seeds: Vec<u64> = (0..count).map(|s| ctx.seed + 1 + s).collect();
        let outcomes = study.outcomes(c.regime, c.lr, &starts, &seeds);
        let share = shares(&outcomes, population_minima.len());
        let runs = (starts.len() * seeds.len()) as f64;
        let p = share[0];
        global.push((p, (p * (1.0 - p) / runs).sqrt()));
        let key = c.regime.to_string();
        let mut row = vec![
            Cell::text(key.clone()),
            numbers.cell(&format!("{key}.lr"), c.lr, c.lr.to_string()),
            Cell::text(format!("{}", runs)),
        ];
        for (k, s) in share.iter().enumerate() {
            let name = if k == population_minima.len() {
                "none".to_string()
            } else {
                k.to_string()
            };
            row.push(numbers.cell(&format!("{key}.share.{name}"), *s, format!("{:.3}", s)));
        }
        rows.push(row);
        panels.push((
            format!("{key} (η = {})", c.lr),
            outcomes
                .iter()
                .map(|e| e.iter().filter(|x| **x == Some(0)).count() as f64 / e.len() as f64)
                .collect(),
        ));
        raw.push(json!({ "method": key, "lr": c.lr, "shares": share }));
    }
    let train = |t: &[f64]| evaluate(&Serial, objective.as_ref(), &data, t).loss;
    let figure = BasinFigure {
        title: format!("Share of runs from each start ending in the population's global minimum ({n_seeds} seeds, {epochs} epochs)"),
        grid,
        axes: problem.model.parameter_names().map(String::from),
        background: grid.evaluate(train),
        starts: starts.clone(),
        panels,
        minima: population_minima.iter().map(|mm| mm.theta).collect(),
    };
    let fig = ctx.figure(&figure, "e4_basins", "Each start coloured by the share of its runs that end in the population's global minimum (blue: all, vermillion: none).")?;
    let (batch, sgd) = (global[0], global[3]);
    let difference = sgd.0 - batch.0;
    let se = (sgd.1.powi(2) + batch.1.powi(2)).sqrt();
    let held = difference > 2.0 * se;
    let mut header = vec!["method".to_string(), "η".into(), "runs".into()];
    header.extend((0..population_minima.len()).map(|k| {
        if k == 0 {
            "global minimum".to_string()
        } else {
            format!("minimum {k}")
        }
    }));
    header.push("none".into());
    let minima_rows = population_minima
        .iter()
        .enumerate()
        .map(|(k, mm)| {
            vec![
                Cell::text(k.to_string()),
                Cell::text(format!("({:.3}, {:.3})", mm.theta[0], mm.theta[1])),
                numbers.sig(&format!("population_minimum.{k}.loss"), mm.loss, 5),
            ]
        })
        .collect();
    let section = Section {
        id: "local-minima".into(),
        title: "4. Local minima: does SGD's noise find the global basin more often?".into(),
        claim: "SGD's gradient noise can carry it out of a poor local minimum, so from the same starts SGD ends in the global minimum more often than full-batch GD.".into(),
        setup: format!(
            "Problem 'sine' (ŷ = b·sin(a·x), two valleys), a fair sample of M = {m} (seed {}); {} starts on a lattice over the window × {n_seeds} seeds (full batch once per start: it ignores the seed); {epochs} epochs; rates by the rule (2-epoch probe from the problem's start). A run's end is assigned to the population minimum that Nelder–Mead on the population loss flows into from it.",
            ctx.seed, starts.len()
        ),
        figures: vec![fig],
        tables: vec![
            Table { caption: "Share of runs ending in each population minimum".into(), header, rows },
            Table { caption: "Population minima".into(), header: vec!["minimum".into(), "θ".into(), "population loss".into()], rows: minima_rows },
            rates::table(&choices, "2 epochs", numbers, "probe"),
        ],
        rule: "Held if SGD's share of runs in the global minimum exceeds full batch's by more than two standard errors (binomial, √(p(1−p)/n) per method).".into(),
        verdict: Some(Verdict {
            held,
            detail: format!(
                "SGD {} vs full batch {}: difference {} against two standard errors {}.",
                significant(sgd.0, 3), significant(batch.0, 3), significant(difference, 3), significant(2.0 * se, 3)
            ),
        }),
    };
    Ok(Finding {
        section,
        data: json!({ "starts": starts, "methods": raw }),
    })
}

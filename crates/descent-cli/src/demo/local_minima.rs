//! Experiment 4: local minima. Does SGD's noise carry it to the global minimum more often, and
//! is it the noise (η/B) or the step size (η) that does?
//!
//! The unit is the start: every method runs from the same lattice of starts, full batch once
//! per start (it ignores the seed), the others once per seed; a start's share is the fraction
//! of its runs that end *settled* in the population's global basin. Differences are paired by
//! start and bootstrapped over starts.

use super::contrasts::{self, CellMap};
use super::rule;
use super::stats::{self, Difference};
use super::{significant, Context, Effect, Finding, Numbers};
use anyhow::Result;
use descent::engine::{evaluate, Serial};
use descent::landscape::basins::{lattice, BasinStudy, End};
use descent::landscape::{minima, Grid, Problem};
use descent::prelude::*;
use descent::settle::Settling;
use descent::tune::{holdout, Shape};
use descent_report::html::{Cell, Outcome, Section, Table, Verdict};
use descent_report::{BasinFigure, MapColours, MapFigure, MapPanel};
use serde_json::json;

/// The decaying shape every run of this experiment uses (the last rate a tenth of the first).
const SHAPE: Shape = Shape::Decaying { factor: 10.0 };

/// The smallest difference of shares that counts (5 percentage points).
const DELTA: f64 = 0.05;

/// Per start: the share of its runs settled in the global basin, settled elsewhere, not
/// settled.
fn per_start(ends: &[Vec<End>]) -> [Vec<f64>; 3] {
    let share = |e: &Vec<End>, f: &dyn Fn(&End) -> bool| {
        e.iter().filter(|x| f(x)).count() as f64 / e.len().max(1) as f64
    };
    let settled = |x: &End| x.settling == Settling::Settled;
    [
        ends.iter()
            .map(|e| share(e, &|x| settled(x) && x.basin == Some(0)))
            .collect(),
        ends.iter()
            .map(|e| share(e, &|x| settled(x) && x.basin != Some(0)))
            .collect(),
        ends.iter().map(|e| share(e, &|x| !settled(x))).collect(),
    ]
}

/// Runs the experiment.
pub fn run(ctx: &Context, numbers: &mut Numbers) -> Result<Finding> {
    let problem = Problem::builtin("sine")?;
    let m = ctx.size(200, 100);
    let sample = problem.sample(m + m / 4, 0.0, ctx.seed)?;
    let (data, validation) = holdout(&sample, 0.2, ctx.seed)?;
    let objective = problem.model.objective();
    let epochs = ctx.size(40, 20);
    let (n_starts, n_seeds) = (ctx.size(36, 9), ctx.size(8, 3));
    let population = |t: &[f64]| problem.population_loss(t);
    let grid = Grid::new(problem.window, 81);
    let population_minima = minima::find(&grid, &grid.evaluate(population), population);
    let starts = lattice(problem.window, n_starts);
    let study = BasinStudy {
        objective: objective.as_ref(),
        data: &data,
        window: problem.window,
        epochs,
        minima: &population_minima,
        reference: &population,
    };
    let seeds: Vec<u64> = (0..n_seeds).map(|s| ctx.seed + 1 + s).collect();
    let seeds_of = |r: Regime| {
        if r == Regime::Batch {
            &seeds[..1]
        } else {
            &seeds[..]
        }
    };

    // The claim at the rule's rates: SGD against full batch.
    let tuned = rule::Probe {
        objective: objective.as_ref(),
        train: &data,
        validation: &validation,
        epochs,
        shape: SHAPE,
        start: Some(&problem.start),
    }
    .tune_each(ctx, &[Regime::Batch, Regime::Sgd])?;
    let at_rule: Vec<[Vec<f64>; 3]> = tuned
        .iter()
        .map(|t| per_start(&study.ends(t.regime, t.lr, SHAPE, &starts, seeds_of(t.regime))))
        .collect();
    let claim = stats::paired(&at_rule[1][0], &at_rule[0][0], ctx.seed);

    // The map: share in the global basin over (η, B), η and B in steps of 4 (and 2 for η).
    let etas: Vec<f64> = ctx.size(
        vec![0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6],
        vec![0.05, 0.1, 0.2, 0.4, 0.8],
    );
    let batches: Vec<usize> = ctx.size(vec![1, 4, 16, 64, m], vec![1, 4, 16, m]);
    let regime_of = |b: usize| {
        if b == m {
            Regime::Batch
        } else {
            Regime::for_batch(b, m)
        }
    };
    // cells[b][e] = per-start shares.
    let cells: Vec<Vec<[Vec<f64>; 3]>> = batches
        .iter()
        .map(|&b| {
            etas.iter()
                .map(|&eta| {
                    let r = regime_of(b);
                    per_start(&study.ends(r, eta, SHAPE, &starts, seeds_of(r)))
                })
                .collect()
        })
        .collect();
    // The contrasts on the share settled in the global basin, per start, over cells at most
    // half unsettled.
    let shares: Vec<Vec<Vec<f64>>> = cells
        .iter()
        .map(|row| row.iter().map(|c| c[0].clone()).collect())
        .collect();
    let eligible: Vec<Vec<bool>> = cells
        .iter()
        .map(|row| row.iter().map(|c| stats::mean(&c[2]) <= 0.5).collect())
        .collect();
    let (noise, step) = contrasts::noise_and_step(
        &CellMap {
            batches: &batches,
            etas: &etas,
            values: &shares,
            eligible: &eligible,
            full: m,
        },
        ctx.seed + 1,
    );

    let eta_names: Vec<String> = etas.iter().map(|e| format!("η = {e}")).collect();
    let batch_names: Vec<String> = batches
        .iter()
        .map(|&b| {
            if b == m {
                format!("batch (M = {m})")
            } else {
                format!("B = {b}")
            }
        })
        .collect();
    let panel = |k: usize, title: &str| MapPanel {
        title: title.into(),
        values: cells
            .iter()
            .map(|row| row.iter().map(|c| Some(stats::mean(&c[k]))).collect())
            .collect(),
        texts: cells
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| format!("{:.2}", stats::mean(&c[k])))
                    .collect()
            })
            .collect(),
        colours: MapColours::Share,
    };
    let map = MapFigure {
        title: format!("Share of runs settled in the global basin, and not settled ({} starts × {n_seeds} seeds, {epochs} epochs, decaying rate)", starts.len()),
        x_label: "base rate η (the last is η/10)".into(),
        y_label: "batch size".into(),
        columns: eta_names.clone(),
        rows: batch_names.clone(),
        panels: vec![panel(0, "settled in the global basin"), panel(2, "not settled")],
        bar_label: "share of runs".into(),
    };
    let map_fig = ctx.figure(&map, "e4_map", "Left: the share of runs that end settled in the population's global basin, for each base rate and batch size; right: the share that had not settled (these count neither as global nor as local). Along a row the step grows at fixed B; down a column the noise scale η/B shrinks at fixed η; along a diagonal of 4× steps η/B stays the same.")?;

    let train = |t: &[f64]| evaluate(&Serial, objective.as_ref(), &data, t).loss;
    let panels = tuned
        .iter()
        .zip(&at_rule)
        .map(|(t, shares)| {
            (
                format!("{} (η = {})", t.regime, significant(t.lr, 2)),
                shares[0].clone(),
            )
        })
        .collect();
    let basins = BasinFigure {
        title: format!("Share of runs from each start settled in the global minimum ({n_seeds} seeds, rates by the rule)"),
        grid,
        axes: problem.model.parameter_names().map(String::from),
        background: grid.evaluate(train),
        starts: starts.clone(),
        panels,
        minima: population_minima.iter().map(|mm| mm.theta).collect(),
    };
    let basin_fig = ctx.figure(&basins, "e4_basins", "Each start coloured by the share of its runs that end settled in the population's global minimum (blue: all, vermillion: none), at the rates the rule chose.")?;

    let mut rows = Vec::new();
    for (t, shares) in tuned.iter().zip(&at_rule) {
        let key = t.regime.to_string();
        let (g, gci) = stats::mean_ci(&shares[0], ctx.seed);
        rows.push(vec![
            Cell::text(key.clone()),
            numbers.cell(&format!("{key}.lr"), t.lr, significant(t.lr, 3)),
            Cell::text(format!("{} × {}", starts.len(), seeds_of(t.regime).len())),
            numbers.cell(
                &format!("{key}.share.global"),
                g,
                format!("{:.3} [{:.3}, {:.3}]", g, gci[0], gci[1]),
            ),
            numbers.sig(
                &format!("{key}.share.elsewhere"),
                stats::mean(&shares[1]),
                3,
            ),
            numbers.sig(
                &format!("{key}.share.not_settled"),
                stats::mean(&shares[2]),
                3,
            ),
        ]);
    }
    let contrast_row =
        |name: &str, key: &str, d: &Option<Difference>, pairs: usize, numbers: &mut Numbers| {
            vec![
                Cell::text(name),
                Cell::text(pairs.to_string()),
                match d {
                    Some(d) => numbers.cell(key, d.estimate, d.text(3)),
                    None => Cell::text("no eligible pairs"),
                },
                Cell::text(d.map_or("–".into(), |d| significant(d.effect_size, 2))),
            ]
        };
    let contrast_rows = vec![
        contrast_row(
            "more noise at the same step: (η, B) − (η, 4B)",
            "contrast.noise",
            &noise.map(|c| c.difference),
            noise.map_or(0, |c| c.pairs),
            numbers,
        ),
        contrast_row(
            "larger step at the same noise: (4η, 4B) − (η, B)",
            "contrast.step",
            &step.map(|c| c.difference),
            step.map_or(0, |c| c.pairs),
            numbers,
        ),
        contrast_row(
            "SGD − full batch at the rule's rates",
            "contrast.sgd_vs_batch",
            &Some(claim),
            1,
            numbers,
        ),
    ];
    let mechanism = contrasts::mechanism(noise, step, 1.0, "moves runs to the global basin");
    let outcome = if claim.above(DELTA) {
        Outcome::Held
    } else if claim.below(DELTA) && !noise.is_some_and(|c| c.difference.above(DELTA)) {
        Outcome::DidNotHold
    } else {
        Outcome::Depends
    };
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
            "Problem 'sine' (ŷ = b·sin(a·x), two valleys), a fair sample of M = {m} for training and {} more for validation (seed {}); {} starts on a lattice × {n_seeds} seeds (full batch once per start: it ignores the seed); {epochs} epochs at a decaying rate (η/(1 + 9t/T)). A run counts as in a basin only if it settled (its last {} epochs within 1/200 of the window's diagonal of its end; the end is assigned to the population minimum that Nelder–Mead on the population loss flows into); 'not settled' is its own category. {} The start is the unit: each start's share is over its seeds, and differences are paired by start with bootstrap 95% intervals over starts.",
            validation.len(), ctx.seed, starts.len(), descent::settle::WINDOW, rule::statement(epochs, SHAPE, "the validation sample")
        ),
        figures: vec![map_fig, basin_fig],
        tables: vec![
            Table { caption: "At the rule's rates: share of runs per start (mean over starts [95% interval])".into(), header: ["method", "η", "starts × seeds", "settled, global", "settled, elsewhere", "not settled"].map(String::from).to_vec(), rows },
            Table { caption: "Contrasts of the share settled in the global basin, paired by start, over the map's eligible cell pairs (both cells at most half unsettled)".into(), header: ["contrast", "cell pairs", "difference [95% interval]", "effect size d_z"].map(String::from).to_vec(), rows: contrast_rows },
            Table { caption: "Population minima".into(), header: vec!["minimum".into(), "θ".into(), "population loss".into()], rows: minima_rows },
            rule::table(&tuned, numbers, "probe", "Rates"),
        ],
        rule: format!("Decided before the run, on the share of a start's runs settled in the global basin, paired by start: held if the 95% interval of SGD − full batch at the rule's rates lies above {DELTA}; did not hold if it lies below {DELTA} and no more-noise contrast of the map lies above it; otherwise it depends (on the rate and batch size, as the map shows). The mechanism is read from the two contrasts: a contrast counts when its interval excludes zero."),
        verdict: Some(Verdict {
            outcome,
            detail: format!(
                "SGD − full batch {} (d_z {}); {mechanism}: more noise {}, larger step {}.",
                claim.text(3), significant(claim.effect_size, 2),
                noise.map_or("–".into(), |c| c.difference.text(3)),
                step.map_or("–".into(), |c| c.difference.text(3))
            ),
        }),
        literature: format!(
            "Smith & Le (2018) and Jastrzębski et al. (2017) argue that SGD's dynamics are governed by the noise scale η/B (×M), so equal η/B should give equal outcomes and more noise should favour wider basins; Keskar et al. (2017) found small batches reach flatter minima. This run: {mechanism}."
        ),
    };
    let mut finding = Finding::new(
        section,
        json!({
            "starts": starts,
            "etas": etas,
            "batch_sizes": batches,
            "share_global": cells.iter().map(|row| row.iter().map(|c| stats::mean(&c[0])).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "share_not_settled": cells.iter().map(|row| row.iter().map(|c| stats::mean(&c[2])).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "rule": tuned.iter().map(|t| json!({ "method": t.regime.to_string(), "lr": t.lr })).collect::<Vec<_>>(),
        }),
    );
    finding.seeds = vec![
        ("batch".into(), starts.len()),
        ("sgd".into(), starts.len() * n_seeds as usize),
    ];
    finding.effect = Some(Effect::of(
        "share settled in the global basin, sgd − batch (paired by start)",
        &claim,
    ));
    Ok(finding)
}

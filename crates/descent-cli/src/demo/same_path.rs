//! Experiment 1: same data, different path.

use super::{significant, Context, Finding, Numbers};
use anyhow::Result;
use descent::engine::{evaluate, Serial};
use descent::landscape::{Grid, PathRecorder, Problem};
use descent::prelude::*;
use descent_report::html::{Cell, Outcome, Section, Table, Verdict};
use descent_report::{
    Curve, CurveFigure, Marker, MarkerKind, PathLine, SurfaceFigure, SurfacePanel, PALETTE,
};
use serde_json::json;

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Runs the experiment.
pub fn run(ctx: &Context, numbers: &mut Numbers) -> Result<Finding> {
    let problem = Problem::builtin("line")?;
    let m = ctx.size(200, 100);
    let data = problem.sample(m, 0.0, ctx.seed)?;
    let objective = problem.model.objective();
    let start = problem.start;
    let epochs = 10;
    // SGD's rate η and full batch's M·η: one cyclic SGD epoch sums the same M per-sample
    // gradients that one full-batch step of rate M·η applies at once. η is chosen so that the
    // full-batch step is stable (M·η = 0.5 < 2/L with L ≈ 4/3 here).
    let eta = 0.5 / m as f64;
    let path = |regime: Regime, sampling: Sampling, lr: f64, epochs: u64| -> Result<PathRecorder> {
        let mut rec = PathRecorder::default();
        Trainer::new(objective.as_ref(), &data)
            .regime(regime)
            .sampling(sampling)
            .schedule(Schedule::Constant { eta0: lr })
            .epochs(epochs)
            .seed(ctx.seed)
            .initial(start.to_vec())
            .run(&mut [&mut rec])?;
        Ok(rec)
    };
    let batch = path(Regime::Batch, Sampling::Cyclic, eta * m as f64, epochs)?;
    let cyclic = path(Regime::Sgd, Sampling::Cyclic, eta, epochs)?;
    let shuffled = path(Regime::Sgd, Sampling::Shuffle, eta, epochs)?;
    let at_epochs = |rec: &PathRecorder| -> Vec<Vec<f64>> {
        rec.points
            .iter()
            .zip(&rec.sample_gradients)
            .filter(|(_, &s)| s % m as u64 == 0)
            .map(|(p, _)| p.clone())
            .collect()
    };
    let (b, c, s) = (at_epochs(&batch), at_epochs(&cyclic), at_epochs(&shuffled));
    let gaps_cyclic: Vec<f64> = b.iter().zip(&c).map(|(x, y)| distance(x, y)).collect();
    let gaps_shuffled: Vec<f64> = b.iter().zip(&s).map(|(x, y)| distance(x, y)).collect();
    let f = |t: &[f64]| evaluate(&Serial, objective.as_ref(), &data, t).loss;
    let grid = Grid::new(problem.window, 101);
    let minimum = descent::landscape::minima::find(&grid, &grid.evaluate(f), f);
    let travel = minimum
        .first()
        .map_or(1.0, |mm| distance(&start, &mm.theta));

    // Control: the one-epoch gap for shrinking η; theory says it shrinks as η².
    let etas: Vec<f64> = [1.0, 0.5, 0.25, 0.125].iter().map(|k| eta * k).collect();
    let mut gaps = Vec::new();
    for &e in &etas {
        let one_b = path(Regime::Batch, Sampling::Cyclic, e * m as f64, 1)?;
        let one_c = path(Regime::Sgd, Sampling::Cyclic, e, 1)?;
        gaps.push(distance(
            one_b.points.last().unwrap_or(&vec![0.0; 2]),
            one_c.points.last().unwrap_or(&vec![0.0; 2]),
        ));
    }
    let (lx, ly): (Vec<f64>, Vec<f64>) = etas
        .iter()
        .zip(&gaps)
        .map(|(e, g)| (e.ln(), g.ln()))
        .unzip();
    let slope = {
        let (mx, my) = (lx.iter().sum::<f64>() / 4.0, ly.iter().sum::<f64>() / 4.0);
        lx.iter()
            .zip(&ly)
            .map(|(x, y)| (x - mx) * (y - my))
            .sum::<f64>()
            / lx.iter().map(|x| (x - mx).powi(2)).sum::<f64>()
    };
    let max_gap = gaps_cyclic
        .iter()
        .chain(&gaps_shuffled)
        .copied()
        .fold(0.0, f64::max);

    let names = problem.model.parameter_names().map(String::from);
    let lines = [
        (
            format!("batch (η = {})", significant(eta * m as f64, 3)),
            &batch,
        ),
        (format!("cyclic SGD (η = {})", significant(eta, 3)), &cyclic),
        (
            format!("shuffled SGD (η = {})", significant(eta, 3)),
            &shuffled,
        ),
    ];
    let paths_figure = SurfaceFigure {
        title: format!("Same data, same {epochs} epochs, different paths (line problem, M = {m})"),
        grid,
        axes: names,
        panels: vec![SurfacePanel {
            title: "training loss".into(),
            values: grid.evaluate(f),
            paths: Vec::new(),
        }],
        markers: minimum
            .iter()
            .map(|mm| Marker {
                theta: mm.theta,
                kind: MarkerKind::TrainingMinimum,
            })
            .chain([Marker {
                theta: start,
                kind: MarkerKind::Start,
            }])
            .collect(),
        paths: lines
            .iter()
            .enumerate()
            .map(|(k, (name, rec))| PathLine {
                name: name.clone(),
                points: rec.points.iter().map(|p| [p[0], p[1]]).collect(),
                colour: PALETTE[k],
            })
            .collect(),
        columns: 1,
        panel_size: 560,
        reference: "population".into(),
    };
    let fig1 = ctx.figure(&paths_figure, "e1_paths", "The three paths on the training-loss contours. Full batch takes one smooth step per epoch; SGD takes M small steps, each on one sample's surface.")?;
    // The same paths near the epoch boundary where SGD is furthest from full batch, so that
    // they can be told apart: a window four largest gaps wide around full batch's iterate there.
    let widest = gaps_cyclic
        .iter()
        .zip(&gaps_shuffled)
        .map(|(x, y)| x.max(*y))
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(k, _)| k);
    let (centre, half) = (&b[widest], 2.0 * max_gap.max(1e-6));
    let zoom = Grid::new(
        descent::landscape::Window {
            a: (centre[0] - half, centre[0] + half),
            b: (centre[1] - half, centre[1] + half),
        },
        61,
    );
    let zoom_figure = SurfaceFigure {
        title: format!("The same paths around epoch {widest}, where they are furthest apart"),
        grid: zoom,
        panels: vec![SurfacePanel {
            title: "training loss (zoomed)".into(),
            values: zoom.evaluate(f),
            paths: Vec::new(),
        }],
        markers: Vec::new(),
        ..paths_figure.clone()
    };
    let fig_zoom = ctx.figure(&zoom_figure, "e1_zoom", "A close-up of the paths above around the epoch boundary where SGD's iterate is furthest from full batch's (dots: where each path leaves the window or ends).")?;
    let distance_figure = CurveFigure {
        title: "Distance from the full-batch iterate after each epoch".into(),
        x_label: "epoch".into(),
        y_label: "‖θ_SGD − θ_batch‖".into(),
        curves: vec![
            Curve {
                name: "cyclic SGD".into(),
                points: gaps_cyclic
                    .iter()
                    .enumerate()
                    .map(|(k, g)| (k as f64, *g))
                    .collect(),
                colour: PALETTE[1],
                band: Vec::new(),
            },
            Curve {
                name: "shuffled SGD".into(),
                points: gaps_shuffled
                    .iter()
                    .enumerate()
                    .map(|(k, g)| (k as f64, *g))
                    .collect(),
                colour: PALETTE[2],
                band: Vec::new(),
            },
        ],
        log_x: false,
        log_y: false,
    };
    let fig2 = ctx.figure(
        &distance_figure,
        "e1_distance",
        "Distance between the SGD and full-batch iterates at each epoch boundary.",
    )?;
    let control_figure = CurveFigure {
        title: "Control: the one-epoch gap shrinks as η² (tiny steps)".into(),
        x_label: "SGD rate η (log scale)".into(),
        y_label: "gap after one epoch (log scale)".into(),
        curves: {
            let measured = Curve {
                name: format!("measured (slope {:.2})", slope),
                points: etas.iter().copied().zip(gaps.iter().copied()).collect(),
                colour: PALETTE[5],
                band: Vec::new(),
            };
            // Slope 2 through the smallest rate's gap: what an O(η²) gap would follow.
            let smallest = measured
                .points
                .iter()
                .copied()
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let reference = smallest.map(|(e0, g0)| Curve {
                name: "slope 2 (gap ∝ η²)".into(),
                points: etas.iter().map(|&e| (e, g0 * (e / e0).powi(2))).collect(),
                colour: PALETTE[6],
                band: Vec::new(),
            });
            std::iter::once(measured).chain(reference).collect()
        },
        log_x: true,
        log_y: true,
    };
    let fig3 = ctx.figure(&control_figure, "e1_control", "One cyclic SGD epoch against one full-batch step of M× the rate, from the same start, for shrinking η.")?;

    let differs = max_gap > 0.01 * travel;
    let quadratic = (1.8..=2.2).contains(&slope);
    let rows = vec![
        vec![
            Cell::text("largest distance between SGD and batch iterates at an epoch boundary"),
            numbers.sig("max_gap", max_gap, 3),
        ],
        vec![
            Cell::text("distance from the start to the minimum"),
            numbers.sig("travel", travel, 3),
        ],
        vec![
            Cell::text("ratio"),
            numbers.sig("gap_ratio", max_gap / travel, 3),
        ],
        vec![
            Cell::text("control: slope of log(one-epoch gap) against log η"),
            numbers.sig("control_slope", slope, 3),
        ],
    ];
    let gap_rows = etas
        .iter()
        .zip(&gaps)
        .enumerate()
        .map(|(k, (e, g))| {
            vec![
                Cell::text(significant(*e, 3)),
                numbers.sig(&format!("control_gap_{k}"), *g, 3),
            ]
        })
        .collect();
    let section = Section {
        id: "same-data-different-path".into(),
        title: "1. Same data, different path".into(),
        claim: "Even when batch GD and SGD see every sample exactly once per epoch, their intermediate updates differ and compound, so their paths differ; the difference vanishes (as η²) only when the step is tiny.".into(),
        setup: format!(
            "Problem 'line' (ŷ = a·x + b fitted to y = x + 0.6x² + noise, convex), M = {m} fair samples, seed {}, start ({}, {}). Full batch with rate M·η = {}; SGD with η = {} in file order (cyclic) and shuffled; {epochs} epochs each, so every method spends {} sample gradients. Control: one epoch from the start for η, η/2, η/4, η/8.",
            ctx.seed, start[0], start[1], significant(eta * m as f64, 3), significant(eta, 3), epochs * m as u64
        ),
        figures: vec![fig1, fig_zoom, fig2, fig3],
        tables: vec![
            Table { caption: "Measured".into(), header: vec!["quantity".into(), "value".into()], rows },
            Table { caption: "Control: one-epoch gap".into(), header: vec!["η".into(), "gap".into()], rows: gap_rows },
        ],
        rule: "Held if (a) the largest distance between an SGD iterate and the full-batch iterate at an epoch boundary exceeds 1% of the distance from the start to the minimum, and (b) the control's log-log slope of the one-epoch gap against η lies in [1.8, 2.2].".into(),
        verdict: Some(Verdict {
            outcome: Outcome::from_held(differs && quadratic),
            detail: format!(
                "largest gap {} = {}% of the way to the minimum ({}); control slope {:.2} ({}).",
                significant(max_gap, 3),
                significant(100.0 * max_gap / travel, 3),
                if differs { "above 1%" } else { "below 1%" },
                slope,
                if quadratic { "within [1.8, 2.2]" } else { "outside [1.8, 2.2]" }
            ),
        }),
        literature: "One cyclic SGD epoch equals one full-batch step of M·η up to O(η²) terms (the backward-error analysis of Smith et al. 2021 makes the second-order term explicit as an implicit gradient-norm penalty); this run measures that order directly.".into(),
    };
    Ok(Finding::new(
        section,
        json!({ "gaps_cyclic": gaps_cyclic, "gaps_shuffled": gaps_shuffled, "control": { "eta": etas, "gap": gaps } }),
    ))
}

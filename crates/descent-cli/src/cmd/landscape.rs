//! `descent landscape`: the training surface beside the population surface for a
//! two-parameter problem, the minima of both, the paths of several methods from one start,
//! per-sample surfaces, gradient noise along the way, and (with `--starts`) which population
//! minimum each method ends in from many starts and seeds.

use crate::args::LandscapeArgs;
use crate::methods::{self, Method};
use anyhow::{bail, Context, Result};
use descent::data::Dataset;
use descent::engine::{evaluate, Serial};
use descent::landscape::minima::{self, Minimum};
use descent::landscape::noise::GradientNoise;
use descent::landscape::{Grid, PathRecorder, Problem};
use descent::objective::Objective;
use descent::prelude::*;
use descent_report::{
    save, Marker, MarkerKind, NoiseFigure, NoisePanel, PathLine, SurfaceFigure, SurfacePanel,
    PALETTE,
};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Runs `descent landscape`.
pub fn run(args: LandscapeArgs) -> Result<()> {
    let problem = Problem::builtin(&args.problem)?;
    let methods = methods::parse(&args.methods, args.lr, args.rows)?;
    if args.epochs == 0 {
        bail!("--epochs must be ≥ 1");
    }
    let start = match &args.start {
        Some(text) => parse_point(text)?,
        None => problem.start,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let data = problem.sample(args.rows, args.bias, args.seed)?;
    let objective = problem.model.objective();
    let train_loss = |t: &[f64]| evaluate(&Serial, objective.as_ref(), &data, t).loss;
    let population_loss = |t: &[f64]| problem.population_loss(t);

    let grid = Grid::new(problem.window, args.grid);
    let train_surface = grid.evaluate(train_loss);
    let population_surface = grid.evaluate(population_loss);
    let train_minima = minima::find(&grid, &train_surface, train_loss);
    let population_minima = minima::find(&grid, &population_surface, population_loss);

    let paths: Vec<(Method, PathRecorder)> = methods
        .iter()
        .map(|m| {
            Ok((
                m.clone(),
                run_method(objective.as_ref(), &data, m, start, args.epochs, args.seed)?,
            ))
        })
        .collect::<Result<_>>()?;

    let axes = problem.model.parameter_names().map(String::from);
    let mut markers: Vec<Marker> = train_minima
        .iter()
        .map(|m| Marker {
            theta: m.theta,
            kind: MarkerKind::TrainingMinimum,
        })
        .chain(population_minima.iter().map(|m| Marker {
            theta: m.theta,
            kind: MarkerKind::PopulationMinimum,
        }))
        .collect();
    markers.push(Marker {
        theta: start,
        kind: MarkerKind::Start,
    });
    let lines: Vec<PathLine> = paths
        .iter()
        .enumerate()
        .map(|(k, (m, rec))| PathLine {
            name: format!("{} (η = {})", m.label(), short_rate(m.lr)),
            points: rec.points.iter().map(|p| [p[0], p[1]]).collect(),
            colour: PALETTE[k % PALETTE.len()],
        })
        .collect();
    let bias_text = if args.bias == 0.0 {
        "a fair sample".to_string()
    } else {
        format!("selection bias {}", args.bias)
    };
    let landscape = SurfaceFigure {
        title: format!(
            "{}: training loss (M = {}, {bias_text}) beside population loss, {} epochs each",
            problem.name, args.rows, args.epochs
        ),
        grid,
        axes: axes.clone(),
        panels: vec![
            SurfacePanel {
                title: "training loss f(θ) = (1/M) Σ ℓ_i(θ)".into(),
                values: train_surface.clone(),
            },
            SurfacePanel {
                title: "population loss E[ℓ(θ)]".into(),
                values: population_surface.clone(),
            },
        ],
        markers: markers.clone(),
        paths: lines.clone(),
        columns: 2,
        panel_size: 520,
    };
    let mut written = Vec::new();
    written.extend(save(&landscape, &args.out.join("landscape"))?);

    // Per-sample surfaces: each SGD step descends one of these, not the training surface.
    let picks: Vec<usize> = (0..3).map(|k| k * data.len() / 3).collect();
    let mut panels = vec![SurfacePanel {
        title: "training loss (their mean over all M)".into(),
        values: train_surface.clone(),
    }];
    for &i in &picks {
        let (x, y) = (data.row(i), data.target(i));
        let values = grid.evaluate(|t| objective.loss(t, x, y));
        let xv = match x {
            descent::data::Row::Dense(v) => f64::from(v[0]),
            _ => f64::NAN,
        };
        panels.push(SurfacePanel {
            title: format!("ℓ for sample {i} (x = {xv:.2}, y = {y:.2})"),
            values,
        });
    }
    let samples = SurfaceFigure {
        title: "Each SGD step descends a different per-sample surface ℓ_i".into(),
        grid,
        axes: axes.clone(),
        panels,
        markers: markers
            .iter()
            .filter(|m| m.kind == MarkerKind::TrainingMinimum)
            .copied()
            .collect(),
        paths: Vec::new(),
        columns: 2,
        panel_size: 420,
    };
    written.extend(save(&samples, &args.out.join("per_sample"))?);

    // Gradient noise at the start, a third of the way and the end of the first method's path.
    let reference = &paths[0].1.points;
    let checkpoints = [0, reference.len() / 3, reference.len() - 1];
    let batch = methods
        .iter()
        .find_map(|m| match m.regime {
            Regime::MiniBatch(b) => Some(b),
            _ => None,
        })
        .unwrap_or(8);
    let noise: Vec<GradientNoise> = checkpoints
        .iter()
        .map(|&k| GradientNoise::at(objective.as_ref(), &data, &reference[k]))
        .collect();
    let noise_figure = NoiseFigure {
        title: format!(
            "Gradient noise along the {} path: per-sample gradients around the full gradient",
            paths[0].0.label()
        ),
        axes: [format!("∂f/∂({})", axes[0]), format!("∂f/∂({})", axes[1])],
        panels: checkpoints
            .iter()
            .zip(&noise)
            .map(|(&k, n)| NoisePanel {
                title: format!(
                    "update {k}: θ = ({:.2}, {:.2}), tr Σ/‖G‖² = {}",
                    n.theta[0],
                    n.theta[1],
                    descent_report_short(n.noise_scale)
                ),
                noise: n.clone(),
            })
            .collect(),
        batch,
    };
    written.extend(save(&noise_figure, &args.out.join("gradient_noise"))?);

    let basins = match args.starts {
        Some(n) => Some(basins(
            &args,
            &problem,
            objective.as_ref(),
            &data,
            &methods,
            &population_minima,
            n,
            &train_surface,
            &mut written,
        )?),
        None => None,
    };

    let report = json!({
        "problem": problem.name,
        "description": problem.description,
        "bias": args.bias,
        "rows": args.rows,
        "seed": args.seed,
        "epochs": args.epochs,
        "start": start,
        "grid": { "a": problem.window.a, "b": problem.window.b, "points_per_side": grid.n },
        "parameters": axes,
        "training_minima": minima_json(&train_minima, &problem, &train_loss),
        "population_minima": minima_json(&population_minima, &problem, &train_loss),
        "paths": paths.iter().map(|(m, rec)| {
            let end = rec.points.last().cloned().unwrap_or_default();
            json!({
                "method": m.label(),
                "lr": m.lr,
                "updates": rec.points.len() - 1,
                "sample_gradients": rec.sample_gradients.last(),
                "end": end,
                "training_loss": train_loss(&end),
                "population_loss": problem.population_loss(&end),
                "nearest_population_minimum": nearest(&population_minima, &end),
            })
        }).collect::<Vec<_>>(),
        "gradient_noise": checkpoints.iter().zip(&noise).map(|(&k, n)| json!({
            "update": k,
            "theta": n.theta,
            "full_gradient": n.full,
            "trace_covariance": n.trace,
            "noise_scale": finite_or_null(n.noise_scale),
            "spread_batch_1": n.batch_spread(1),
            format!("spread_batch_{batch}"): n.batch_spread(batch),
        })).collect::<Vec<_>>(),
        "basins": basins,
        "files": written.iter().map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect::<Vec<_>>(),
    });
    let path = args.out.join("landscape.json");
    descent::atomic::write(
        &path,
        format!("{}\n", serde_json::to_string_pretty(&report)?).as_bytes(),
    )?;
    print_summary(
        &problem,
        &train_minima,
        &population_minima,
        &paths,
        &train_loss,
        &report,
    );
    println!(
        "wrote {} and {}",
        path.display(),
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// One method's path from `start`.
fn run_method(
    objective: &dyn Objective,
    data: &Dataset,
    method: &Method,
    start: [f64; 2],
    epochs: u64,
    seed: u64,
) -> Result<PathRecorder> {
    let mut recorder = PathRecorder::default();
    Trainer::new(objective, data)
        .regime(method.regime)
        .schedule(Schedule::Constant { eta0: method.lr })
        .epochs(epochs)
        .seed(seed)
        .initial(start.to_vec())
        .run(&mut [&mut recorder])
        .with_context(|| format!("{} with η = {}", method.label(), method.lr))?;
    Ok(recorder)
}

fn parse_point(text: &str) -> Result<[f64; 2]> {
    let parts: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--start '{text}': expected two numbers a,b"))?;
    match parts[..] {
        [a, b] if a.is_finite() && b.is_finite() => Ok([a, b]),
        _ => bail!("--start '{text}': expected two finite numbers a,b"),
    }
}

fn nearest(minima: &[Minimum], theta: &[f64]) -> Option<usize> {
    minima
        .iter()
        .enumerate()
        .min_by(|x, y| dist(&x.1.theta, theta).total_cmp(&dist(&y.1.theta, theta)))
        .map(|(k, _)| k)
}

fn dist(a: &[f64; 2], b: &[f64]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

fn finite_or_null(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

fn short_rate(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn descent_report_short(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "∞".into()
    }
}

fn minima_json(
    minima: &[Minimum],
    problem: &Problem,
    train_loss: &dyn Fn(&[f64]) -> f64,
) -> Vec<Value> {
    minima
        .iter()
        .map(|m| {
            json!({
                "theta": m.theta,
                "training_loss": train_loss(&m.theta),
                "population_loss": problem.population_loss(&m.theta),
            })
        })
        .collect()
}

fn print_summary(
    problem: &Problem,
    train: &[Minimum],
    population: &[Minimum],
    paths: &[(Method, PathRecorder)],
    train_loss: &dyn Fn(&[f64]) -> f64,
    report: &Value,
) {
    println!("{}", problem.description);
    for (name, list) in [("training", train), ("population", population)] {
        for (k, m) in list.iter().enumerate() {
            println!(
                "  {name} minimum {k}: θ = ({:.4}, {:.4})  training loss {:.5}  population loss {:.5}",
                m.theta[0], m.theta[1], train_loss(&m.theta), problem.population_loss(&m.theta)
            );
        }
    }
    println!(
        "  {:<16} {:>9} {:>22} {:>14} {:>16}",
        "method", "updates", "end θ", "training loss", "population loss"
    );
    for (m, rec) in paths {
        let end = rec.points.last().cloned().unwrap_or_default();
        println!(
            "  {:<16} {:>9} {:>22} {:>14.5} {:>16.5}",
            format!("{}@{}", m.label(), short_rate(m.lr)),
            rec.points.len() - 1,
            format!("({:.4}, {:.4})", end[0], end[1]),
            train_loss(&end),
            problem.population_loss(&end)
        );
    }
    if let Some(basins) = report["basins"].as_object() {
        println!("  basins (share of runs ending in each population minimum):");
        for row in basins["methods"].as_array().into_iter().flatten() {
            println!(
                "    {:<16} {}",
                row["method"].as_str().unwrap_or(""),
                row["shares"]
            );
        }
    }
}

/// Runs every method from a lattice of `n` starts × `--seeds` seeds and records which
/// population minimum each run flows into.
#[allow(clippy::too_many_arguments)]
fn basins(
    args: &LandscapeArgs,
    problem: &Problem,
    objective: &dyn Objective,
    data: &Dataset,
    methods: &[Method],
    population_minima: &[Minimum],
    n: usize,
    train_surface: &[f64],
    written: &mut Vec<PathBuf>,
) -> Result<Value> {
    if n == 0 || args.seeds == 0 {
        bail!("--starts and --seeds must be ≥ 1");
    }
    let side = (n as f64).sqrt().ceil() as usize;
    let w = problem.window;
    let inset = |(lo, hi): (f64, f64), k: usize| {
        lo + (hi - lo) * (0.06 + 0.88 * (k as f64 + 0.5) / side as f64)
    };
    let starts: Vec<[f64; 2]> = (0..side * side)
        .take(n)
        .map(|k| [inset(w.a, k % side), inset(w.b, k / side)])
        .collect();
    let step = [(w.a.1 - w.a.0) / 50.0, (w.b.1 - w.b.0) / 50.0];
    let radius = (w.a.1 - w.a.0).hypot(w.b.1 - w.b.0) / 20.0;
    let mut rows = Vec::new();
    let mut figure_panels = Vec::new();
    for method in methods {
        // Full batch ignores the seed: one run per start stands for all seeds.
        let seeds = if method.regime == Regime::Batch {
            1
        } else {
            args.seeds
        };
        let outcomes: Vec<Vec<Option<usize>>> = starts
            .par_iter()
            .map(|&start| {
                (0..seeds)
                    .map(|s| {
                        let theta = Trainer::new(objective, data)
                            .regime(method.regime)
                            .schedule(Schedule::Constant { eta0: method.lr })
                            .epochs(args.epochs)
                            .seed(args.seed.wrapping_add(1 + s))
                            .initial(start.to_vec())
                            .run(&mut [])
                            .ok()?
                            .theta;
                        minima::basin_of(
                            |t| problem.population_loss(t),
                            [theta[0], theta[1]],
                            population_minima,
                            step,
                            radius,
                        )
                    })
                    .collect()
            })
            .collect();
        let total = (starts.len() as u64 * seeds) as f64;
        let mut shares = vec![0.0; population_minima.len() + 1];
        for ends in &outcomes {
            for end in ends {
                shares[end.unwrap_or(population_minima.len())] += 1.0 / total;
            }
        }
        let global_share: Vec<f64> = outcomes
            .iter()
            .map(|ends| ends.iter().filter(|e| **e == Some(0)).count() as f64 / ends.len() as f64)
            .collect();
        rows.push(json!({
            "method": method.label(),
            "lr": method.lr,
            "runs": total,
            "shares": shares,
        }));
        figure_panels.push((method.label(), global_share));
    }
    let figure = descent_report::BasinFigure {
        title: format!(
            "Share of runs from each start ending in the population's global minimum ({} seeds, {} epochs)",
            args.seeds, args.epochs
        ),
        grid: Grid::new(problem.window, args.grid),
        axes: problem.model.parameter_names().map(String::from),
        background: train_surface.to_vec(),
        starts: starts.clone(),
        panels: figure_panels,
        minima: population_minima.iter().map(|m| m.theta).collect(),
    };
    written.extend(save(&figure, &args.out.join("basins"))?);
    Ok(json!({
        "starts": starts,
        "seeds": args.seeds,
        "minima": population_minima.iter().map(|m| m.theta).collect::<Vec<_>>(),
        "shares_note": "shares[k] is the fraction of runs ending in population minimum k (ordered by population loss, 0 = global); the last entry counts runs that ended in none (outside the window or diverged)",
        "methods": rows,
    }))
}

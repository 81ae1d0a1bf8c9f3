//! `descent landscape`: the training surface beside the population surface for a
//! two-parameter problem, the minima of both, the paths of several methods from one start,
//! per-sample surfaces, gradient noise along the way, and (with `--starts`) which population
//! minimum each method ends in from many starts and seeds.

use super::load::{load, Sources};
use crate::args::LandscapeArgs;
use crate::config::check;
use crate::methods::{self, Method};
use anyhow::{bail, Context, Result};
use descent::data::Dataset;
use descent::engine::{evaluate, Serial};
use descent::landscape::basins::{lattice, shares, BasinStudy};
use descent::landscape::minima::{self, Minimum};
use descent::landscape::noise::GradientNoise;
use descent::landscape::{Grid, PathRecorder, Problem, Window};
use descent::objective::Objective;
use descent::prelude::*;
use descent_report::{
    save, Marker, MarkerKind, NoiseFigure, NoisePanel, PathLine, SurfaceFigure, SurfacePanel,
    PALETTE,
};
use serde_json::{json, Value};
use std::path::PathBuf;

/// What a landscape is drawn for: a built-in problem with its population, or the user's
/// training data with held-out data standing in for the population.
struct Setting {
    title: String,
    description: String,
    objective: Box<dyn Objective>,
    data: Dataset,
    reference: Reference,
    window: Window,
    start: [f64; 2],
    axes: [String; 2],
}

enum Reference {
    Population(Problem),
    HeldOut(Dataset),
}

impl Setting {
    /// The population loss (or the held-out loss standing in for it).
    fn reference_loss(&self, theta: &[f64]) -> f64 {
        match &self.reference {
            Reference::Population(p) => p.population_loss(theta),
            Reference::HeldOut(test) => {
                evaluate(&Serial, self.objective.as_ref(), test, theta).loss
            }
        }
    }

    fn reference_name(&self) -> &'static str {
        match self.reference {
            Reference::Population(_) => "population",
            Reference::HeldOut(_) => "held-out",
        }
    }

    fn built_in(args: &LandscapeArgs) -> Result<Setting> {
        let problem = Problem::builtin(&args.problem)?;
        let data = problem.sample(args.rows, args.bias, args.seed)?;
        let bias = if args.bias == 0.0 {
            "a fair sample".to_string()
        } else {
            format!("selection bias {}", args.bias)
        };
        Ok(Setting {
            title: format!(
                "{}: training loss (M = {}, {bias})",
                problem.name, args.rows
            ),
            description: problem.description.to_string(),
            objective: problem.model.objective(),
            data,
            window: problem.window,
            start: problem.start,
            axes: problem.model.parameter_names().map(String::from),
            reference: Reference::Population(problem),
        })
    }

    fn from_files(args: &LandscapeArgs, path: &std::path::Path) -> Result<Setting> {
        let read = args.how.read_options(None, true);
        let loaded = load(&Sources {
            data: path,
            read: &read,
            test: args.test.as_deref(),
            test_labels: None,
            standardize: args.standardize,
            model: args.model,
        })?;
        let objective = args.model.build(
            loaded.train.dim(),
            loaded.encoding.n_classes(),
            !args.no_intercept,
            0.0,
        );
        if objective.dim() != 2 {
            bail!(
                "a landscape needs a model with exactly 2 parameters (one feature with an intercept, or two features with --no-intercept); --model {} on {} has {}",
                args.model.label(), path.display(), objective.dim()
            );
        }
        let Some(test) = loaded.test else {
            bail!("--data needs --test: held-out data stands in for the population");
        };
        // A square window around the training minimum, wide enough to contain the origin.
        let f = |t: &[f64]| evaluate(&Serial, objective.as_ref(), &loaded.train, t).loss;
        let best = minima::nelder_mead(f, [0.0, 0.0], [1.0, 1.0]);
        let half = 1.5 * best[0].abs().max(best[1].abs()).max(0.7);
        let names = loaded
            .train
            .source()
            .feature_names
            .clone()
            .unwrap_or_default();
        let axes = if args.no_intercept {
            [0, 1].map(|j| {
                format!(
                    "weight of {}",
                    names.get(j).cloned().unwrap_or(format!("feature {j}"))
                )
            })
        } else {
            [
                format!("weight of {}", names.first().cloned().unwrap_or("x".into())),
                "intercept".to_string(),
            ]
        };
        Ok(Setting {
            title: format!(
                "{} on {}: training loss (M = {})",
                args.model.label(),
                path.display(),
                loaded.train.len()
            ),
            description: format!(
                "{} on {}, held-out loss from {}",
                args.model.label(),
                path.display(),
                args.test
                    .as_deref()
                    .map_or(String::new(), |p| p.display().to_string())
            ),
            objective,
            data: loaded.train,
            reference: Reference::HeldOut(test),
            window: Window {
                a: (best[0] - half, best[0] + half),
                b: (best[1] - half, best[1] + half),
            },
            start: [0.0, 0.0],
            axes,
        })
    }
}

/// Runs `descent landscape`.
pub fn run(args: LandscapeArgs) -> Result<()> {
    check(
        args.lr > 0.0 && args.lr.is_finite(),
        "--lr",
        args.lr,
        "a finite number > 0",
    )?;
    check(
        args.bias.is_finite(),
        "--bias",
        args.bias,
        "a finite number (0: a fair sample)",
    )?;
    check(
        (5..=2001).contains(&args.grid),
        "--grid",
        args.grid,
        "a whole number in 5..=2001",
    )?;
    check(args.rows >= 1, "--rows", args.rows, "a whole number ≥ 1")?;
    check(args.seeds >= 1, "--seeds", args.seeds, "a whole number ≥ 1")?;
    let setting = match &args.data {
        Some(path) => Setting::from_files(&args, path)?,
        None => Setting::built_in(&args)?,
    };
    let methods = methods::parse(&args.methods, args.lr, setting.data.len())?;
    check(
        args.epochs >= 1,
        "--epochs",
        args.epochs,
        "a whole number ≥ 1",
    )?;
    let start = match &args.start {
        Some(text) => parse_point(text)?,
        None => setting.start,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let (objective, data) = (setting.objective.as_ref(), &setting.data);
    let train_loss = |t: &[f64]| evaluate(&Serial, objective, data, t).loss;
    let population_loss = |t: &[f64]| setting.reference_loss(t);

    let grid = Grid::new(setting.window, args.grid);
    let train_surface = grid.evaluate(train_loss);
    let population_surface = grid.evaluate(population_loss);
    let train_minima = minima::find(&grid, &train_surface, train_loss);
    let population_minima = minima::find(&grid, &population_surface, population_loss);

    let paths: Vec<(Method, PathRecorder)> = methods
        .iter()
        .map(|m| {
            Ok((
                m.clone(),
                run_method(objective, data, m, start, args.epochs, args.seed)?,
            ))
        })
        .collect::<Result<_>>()?;

    let axes = setting.axes.clone();
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
    let landscape = SurfaceFigure {
        title: format!(
            "{} beside {} loss, {} epochs each",
            setting.title,
            setting.reference_name(),
            args.epochs
        ),
        grid,
        axes: axes.clone(),
        panels: vec![
            SurfacePanel {
                title: "training loss f(θ) = (1/M) Σ ℓ_i(θ)".into(),
                values: train_surface.clone(),
            },
            SurfacePanel {
                title: match setting.reference {
                    Reference::Population(_) => "population loss E[ℓ(θ)]".into(),
                    Reference::HeldOut(_) => {
                        "held-out loss (standing in for the population)".into()
                    }
                },
                values: population_surface.clone(),
            },
        ],
        markers: markers.clone(),
        paths: lines.clone(),
        columns: 2,
        panel_size: 520,
        reference: setting.reference_name().into(),
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
        reference: setting.reference_name().into(),
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
        .map(|&k| GradientNoise::at(objective, data, &reference[k]))
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
            &setting,
            &methods,
            &population_minima,
            n,
            &train_surface,
            &mut written,
        )?),
        None => None,
    };

    let report = json!({
        "problem": if args.data.is_some() { Value::Null } else { json!(args.problem) },
        "data": args.data.as_ref().map(|p| p.display().to_string()),
        "test": args.test.as_ref().map(|p| p.display().to_string()),
        "reference": setting.reference_name(),
        "description": setting.description,
        "bias": args.bias,
        "rows": args.rows,
        "seed": args.seed,
        "epochs": args.epochs,
        "start": start,
        "grid": { "a": setting.window.a, "b": setting.window.b, "points_per_side": grid.n },
        "parameters": axes,
        "training_minima": minima_json(&train_minima, &population_loss, &train_loss),
        "population_minima": minima_json(&population_minima, &population_loss, &train_loss),
        "paths": paths.iter().map(|(m, rec)| {
            let end = rec.points.last().cloned().unwrap_or_default();
            json!({
                "method": m.label(),
                "lr": m.lr,
                "updates": rec.points.len() - 1,
                "sample_gradients": rec.sample_gradients.last(),
                "end": end,
                "training_loss": train_loss(&end),
                "population_loss": population_loss(&end),
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
        &setting,
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

fn print_summary(
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
            format!("{}@{}", m.label(), short_rate(m.lr)),
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

/// Runs every method from a lattice of `n` starts × `--seeds` seeds and records which
/// population minimum each run flows into.
fn basins(
    args: &LandscapeArgs,
    setting: &Setting,
    methods: &[Method],
    population_minima: &[Minimum],
    n: usize,
    train_surface: &[f64],
    written: &mut Vec<PathBuf>,
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
    written.extend(save(&figure, &args.out.join("basins"))?);
    Ok(json!({
        "starts": starts,
        "seeds": args.seeds,
        "minima": population_minima.iter().map(|m| m.theta).collect::<Vec<_>>(),
        "shares_note": "shares[k] is the fraction of runs ending in minimum k of the reference surface (ordered by its loss, 0 = global); the last entry counts runs that ended in none (outside the window or diverged)",
        "methods": rows,
    }))
}

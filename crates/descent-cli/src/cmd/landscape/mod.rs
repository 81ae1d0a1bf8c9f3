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
use descent::landscape::{Grid, PathRecorder};
use descent::objective::Objective;
use descent::output::Existing;
use descent::prelude::*;
use descent_report::{
    save, Marker, MarkerKind, NoiseFigure, NoisePanel, PathLine, SurfaceFigure, SurfacePanel,
    PALETTE,
};
use serde_json::{json, Value};

mod basins;
mod report;
mod setting;

use basins::basins;
use report::{minima_json, print_summary};
use setting::{Reference, Setting};

/// Runs `descent landscape`.
pub fn run(args: LandscapeArgs) -> Result<()> {
    let setting = match &args.data {
        Some(path) => Setting::from_files(&args, path)?,
        None => Setting::built_in(&args)?,
    };
    let mut methods = methods::parse(&args.methods, args.lr, setting.data.len())?;
    if args.tune {
        methods::tune(
            &mut methods,
            setting.objective.as_ref(),
            &setting.data,
            args.epochs,
            args.seed,
        )?;
    }
    let start = match &args.start {
        Some(text) => parse_point(text)?,
        None => setting.start,
    };
    let folder = crate::cmd::report_folder(&args.out, args.force)?;
    let out = folder.dir().to_path_buf();
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
                paths: Vec::new(),
            },
            SurfacePanel {
                title: match setting.reference {
                    Reference::Population(_) => "population loss E[ℓ(θ)]".into(),
                    Reference::HeldOut(_) => {
                        "held-out loss (standing in for the population)".into()
                    }
                },
                values: population_surface.clone(),
                paths: Vec::new(),
            },
        ],
        markers: markers.clone(),
        paths: lines.clone(),
        columns: 2,
        panel_size: 520,
        reference: setting.reference_name().into(),
    };
    let mut written = Vec::new();
    written.extend(save(&landscape, &out.join("landscape"))?);

    // Per-sample surfaces: each SGD step descends one of these, not the training surface.
    let picks: Vec<usize> = (0..3).map(|k| k * data.len() / 3).collect();
    let mut panels = vec![SurfacePanel {
        title: "training loss (their mean over all M)".into(),
        values: train_surface.clone(),
        paths: Vec::new(),
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
            paths: Vec::new(),
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
    written.extend(save(&samples, &out.join("per_sample"))?);

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
    let noise_figure = noise_figure(
        objective,
        data,
        reference,
        &checkpoints,
        &axes,
        &paths[0].0.label(),
        batch,
    );
    written.extend(save(&noise_figure, &out.join("gradient_noise"))?);

    let basins = match args.starts {
        Some(n) => Some(basins(
            &args,
            &setting,
            &methods,
            &population_minima,
            n,
            &train_surface,
            (&out, &mut written),
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
        "gradient_noise": checkpoints.iter().zip(noise_figure.panels.iter().map(|p| &p.noise)).map(|(&k, n)| json!({
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
    let path = out.join("landscape.json");
    descent::output::write(
        &path,
        format!("{}\n", serde_json::to_string_pretty(&report)?).as_bytes(),
        Existing::Keep,
    )?;
    folder.commit()?;
    let path = args.out.join("landscape.json");
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
            .filter_map(|p| p.file_name())
            .map(|n| args.out.join(n).display().to_string())
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

/// A rate for legends and tables: three decimals, trailing zeros dropped.
fn short_rate(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The gradient-noise figure at the iterates `at` of `path` (update numbers): every
/// per-sample gradient around the full gradient, with the spread of a batch of `batch`.
pub fn noise_figure(
    objective: &dyn Objective,
    data: &Dataset,
    path: &[Vec<f64>],
    at: &[usize],
    axes: &[String; 2],
    method: &str,
    batch: usize,
) -> NoiseFigure {
    NoiseFigure {
        title: format!(
            "Gradient noise along the {method} path: per-sample gradients around the full gradient"
        ),
        axes: [format!("∂f/∂({})", axes[0]), format!("∂f/∂({})", axes[1])],
        panels: at
            .iter()
            .map(|&k| {
                let n = GradientNoise::at(objective, data, &path[k]);
                NoisePanel {
                    title: format!(
                        "update {k}: θ = ({:.2}, {:.2}), tr Σ/‖G‖² = {}",
                        n.theta[0],
                        n.theta[1],
                        descent_report_short(n.noise_scale)
                    ),
                    noise: n,
                }
            })
            .collect(),
        batch,
    }
}

fn descent_report_short(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "∞".into()
    }
}

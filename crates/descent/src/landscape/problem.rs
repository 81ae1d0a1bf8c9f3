//! Two-parameter problems with a known population.
//!
//! A population draws x uniformly from an interval and y = g(x) + σ·ε with ε ~ N(0, 1). A
//! training set is M draws from it, optionally under a selection bias of strength F: a drawn x
//! is kept with probability σ(F·z), z ∈ [−1, 1] its position in the interval, so F = 0 keeps
//! every region alike and F > 0 over-samples large x (as a survey that reaches one group more
//! easily than another). Because the models below cannot represent g exactly, the best
//! parameters depend on where the inputs fall: a biased training set has its minima elsewhere
//! than the population.
//!
//! The population loss of θ is E[½(f_θ(x) − y)²] = ½ E_x[(f_θ(x) − g(x))²] + ½σ², computed by
//! 128-point Gauss–Legendre quadrature over the interval (exact to rounding for these smooth
//! integrands).

use super::{gauss_legendre, Window};
use crate::data::{Dataset, Features, Source};
use crate::objective::{ModelKind, Objective, SineRegression};
use crate::{Error, Result};
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

/// The models of the built-in problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model2 {
    /// ŷ = a·x + b (least squares with one feature and an intercept): convex.
    Line,
    /// ŷ = b·sin(a·x): a valley for every frequency in the data.
    Sine,
}

impl Model2 {
    /// The training objective (θ = (a, b)).
    pub fn objective(self) -> Box<dyn Objective> {
        match self {
            Model2::Line => ModelKind::LeastSquares.build(1, 1, true, 0.0),
            Model2::Sine => Box::new(SineRegression),
        }
    }

    /// f_θ(x).
    pub fn predict(self, theta: &[f64], x: f64) -> f64 {
        match self {
            Model2::Line => theta[0] * x + theta[1],
            Model2::Sine => SineRegression::value(theta, x),
        }
    }

    /// Names of (a, b) for axis labels.
    pub fn parameter_names(self) -> [&'static str; 2] {
        match self {
            Model2::Line => ["slope a", "intercept b"],
            Model2::Sine => ["frequency a", "amplitude b"],
        }
    }
}

/// A model, a population, and the window to look at.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The CLI name.
    pub name: &'static str,
    /// One sentence for reports.
    pub description: &'static str,
    /// The two-parameter model.
    pub model: Model2,
    /// Inputs are uniform on this interval.
    pub x_range: (f64, f64),
    /// E[y | x].
    pub truth: fn(f64) -> f64,
    /// Standard deviation of y around g(x).
    pub noise: f64,
    /// The plotted region.
    pub window: Window,
    /// The default starting point of every method.
    pub start: [f64; 2],
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

/// The built-in problems' names.
pub const PROBLEMS: [&str; 2] = ["sine", "line"];

/// A slow wave on the left half blending into a faster, weaker wave on the right.
fn two_frequencies(x: f64) -> f64 {
    let right = 1.0 / (1.0 + (-3.0 * x).exp());
    (1.0 - right) * x.sin() + right * 0.8 * (3.0 * x).sin()
}

fn bent_line(x: f64) -> f64 {
    x + 0.6 * x * x
}

impl Problem {
    /// A built-in problem: `sine` (non-convex: sin x on the left blending into 0.8·sin 3x on
    /// the right, fitted by b·sin(a·x); two valleys) or `line` (convex: y = x + 0.6x² fitted by
    /// a straight line).
    pub fn builtin(name: &str) -> Result<Problem> {
        let (model, description, x_range, truth, noise, window, start): (
            Model2,
            &'static str,
            _,
            fn(f64) -> f64,
            _,
            _,
            _,
        ) = match name {
            "sine" => (
                Model2::Sine,
                "a slow wave (sin x) on the left blending into a faster, weaker one (0.8·sin 3x) on the right, fitted by b·sin(a·x): one valley per frequency",
                (-std::f64::consts::PI, std::f64::consts::PI),
                two_frequencies,
                0.3,
                Window {
                    a: (0.2, 4.2),
                    b: (-1.2, 1.8),
                },
                [2.1, 0.1],
            ),
            "line" => (
                Model2::Line,
                "y = x + 0.6·x² + noise, fitted by a straight line a·x + b: one convex bowl",
                (-2.0, 2.0),
                bent_line,
                0.5,
                Window {
                    a: (-1.0, 3.0),
                    b: (-1.0, 2.5),
                },
                [-0.5, -0.5],
            ),
            _ => {
                return Err(Error::config(
                    "problem",
                    name,
                    format!("one of: {}", PROBLEMS.join(", ")),
                ))
            }
        };
        let (nodes, weights) = gauss_legendre(128, x_range.0, x_range.1);
        Ok(Problem {
            name: PROBLEMS
                .iter()
                .find(|p| **p == name)
                .copied()
                .unwrap_or("sine"),
            description,
            model,
            x_range,
            truth,
            noise,
            window,
            start,
            nodes,
            weights,
        })
    }

    /// The population loss E[½(f_θ(x) − y)²].
    pub fn population_loss(&self, theta: &[f64]) -> f64 {
        let misfit: f64 = self
            .nodes
            .iter()
            .zip(&self.weights)
            .map(|(&x, &w)| w * (self.model.predict(theta, x) - (self.truth)(x)).powi(2))
            .sum();
        0.5 * misfit + 0.5 * self.noise * self.noise
    }

    /// M training samples drawn with selection bias of strength `bias` (0: none), as a data
    /// set with one dense feature x and target y. Deterministic per seed.
    pub fn sample(&self, m: usize, bias: f64, seed: u64) -> Result<Dataset> {
        if !bias.is_finite() {
            return Err(Error::config("bias", bias, "a finite number (0: unbiased)"));
        }
        if m == 0 {
            return Err(Error::config("rows", 0, "a whole number ≥ 1"));
        }
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let (lo, hi) = self.x_range;
        let (mut xs, mut ys) = (Vec::with_capacity(m), Vec::with_capacity(m));
        while xs.len() < m {
            let x = lo + (hi - lo) * rng.random::<f64>();
            let z = 2.0 * (x - lo) / (hi - lo) - 1.0;
            let keep = 1.0 / (1.0 + (-bias * z).exp());
            // Accept with probability σ(F·z)/σ(|F|), so the unbiased case accepts everything.
            if rng.random::<f64>() * (1.0 / (1.0 + (-bias.abs()).exp())) > keep {
                continue;
            }
            let noise: f64 = rng.sample(StandardNormal);
            xs.push(x as f32);
            ys.push((self.truth)(x) + self.noise * noise);
        }
        Dataset::new(
            Features::Dense { dim: 1, values: xs },
            ys,
            Source::default(),
        )
    }
}

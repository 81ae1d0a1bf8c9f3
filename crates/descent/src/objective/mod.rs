//! Objectives: per-sample losses ℓ(θ; x, y) and the regularizer R(θ), the second stage of the
//! pipeline. Training minimizes
//!
//! ```text
//! f(θ) = (1/M) Σᵢ ℓ(θ; xᵢ, yᵢ) + R(θ),      R(θ) = (λ/2)‖w‖²
//! ```
//!
//! Conventions (they change numbers, so they are written here once):
//! - Parameters are laid out weights first, then intercepts: `θ = [w₀ … w_{d−1}, b]` for one
//!   output, `θ = [W (k×d, row-major), b₀ … b_{k−1}]` for softmax. With `intercept = false`
//!   there is no `b`.
//! - The L2 term is part of the objective (the loss you plot is the loss you minimize) and does
//!   not regularize intercepts, as in scikit-learn.
//! - Targets are encoded before training (see [`crate::labels`]): ±1 for binary classifiers,
//!   0..k−1 for softmax, raw values for least squares.
//!
//! ```
//! use descent::data::Row;
//! use descent::objective::{ModelKind, Objective};
//! let obj = ModelKind::LeastSquares.build(1, 1, true, 0.0);
//! let theta = [2.0, 1.0]; // w = 2, b = 1
//! assert_eq!(obj.loss(&theta, Row::Dense(&[3.0]), 5.0), 2.0); // ½(2·3+1−5)²
//! ```

mod linear;
mod margin;
mod mlp;
mod penalty;
mod sine;
mod softmax;
pub mod softplus;

pub use linear::Linear;
pub use margin::{Hinge, LeastSquares, Logistic, MarginLoss};
pub use mlp::Mlp;
pub use penalty::L2;
pub use sine::SineRegression;
pub use softmax::Softmax;

use crate::data::{Dataset, Row};
use crate::{Error, Result};

/// Whether an objective predicts a number or a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Real-valued targets.
    Regression,
    /// Two classes, encoded −1 and +1.
    Binary,
    /// k classes, encoded 0..k−1.
    Multiclass(usize),
}

/// A differentiable training objective over a parameter vector θ of length [`dim`](Objective::dim).
pub trait Objective: Send + Sync {
    /// The model's name, as the CLI spells it.
    fn name(&self) -> &'static str;

    /// Number of parameters.
    fn dim(&self) -> usize;

    /// Number of input features.
    fn n_features(&self) -> usize;

    /// What kind of targets it fits.
    fn task(&self) -> Task;

    /// The per-sample loss ℓ(θ; x, y).
    fn loss(&self, theta: &[f64], x: Row<'_>, y: f64) -> f64;

    /// Adds `weight · ∇ℓ(θ; x, y)` to `grad`, touching only the coordinates `x` touches (plus
    /// intercepts), and returns ℓ(θ; x, y).
    fn add_gradient(&self, theta: &[f64], x: Row<'_>, y: f64, weight: f64, grad: &mut [f64])
        -> f64;

    /// Adds Σ ∇ℓ over the samples `rows` of `data` to `grad` and returns Σ ℓ. The default adds
    /// one sample at a time, in order; models may fuse several rows or visit them in another
    /// order (the grouping and order depend only on `rows`, so results stay independent of
    /// the thread count).
    fn add_gradients(
        &self,
        theta: &[f64],
        data: &Dataset,
        rows: &[usize],
        grad: &mut [f64],
    ) -> f64 {
        let mut total = 0.0;
        for &i in rows {
            total += self.add_gradient(theta, data.row(i), data.target(i), 1.0, grad);
        }
        total
    }

    /// The regularizer R(θ).
    fn penalty(&self, theta: &[f64]) -> f64;

    /// Adds ∇R(θ) to `grad`.
    fn add_penalty_gradient(&self, theta: &[f64], grad: &mut [f64]);

    /// The prediction for `x`, in the encoding of the targets (a value, ±1, or a class index).
    fn predict(&self, theta: &[f64], x: Row<'_>) -> f64;

    /// ℓ(θ; x, y) and the prediction for `x` together; models override it to share the work
    /// (one margin, one forward pass) when a whole data set is evaluated.
    fn loss_and_prediction(&self, theta: &[f64], x: Row<'_>, y: f64) -> (f64, f64) {
        (self.loss(theta, x, y), self.predict(theta, x))
    }

    /// Where training starts when no initial parameters are given: zeros for convex models
    /// (as scikit-learn's linear SGD), random for networks, drawn from `seed`.
    fn initial_parameters(&self, _seed: u64) -> Vec<f64> {
        vec![0.0; self.dim()]
    }

    /// The margin structure of a linear model (loss of wᵀx + b under an L2 term), which lets
    /// SGD update only a row's nonzeros; `None` for other models.
    fn margin_model(&self) -> Option<&dyn MarginModel> {
        None
    }
}

/// The index of the largest score; the first wins ties, as NumPy's `argmax` does.
pub(crate) fn argmax(scores: &[f64]) -> usize {
    let mut best = 0;
    for c in 1..scores.len() {
        if scores[c] > scores[best] {
            best = c;
        }
    }
    best
}

/// A linear model seen through its margin m = wᵀx + b, for O(nnz) SGD.
pub trait MarginModel: Send + Sync {
    /// ℓ(m, y).
    fn loss_at(&self, m: f64, y: f64) -> f64;
    /// ∂ℓ/∂m at (m, y).
    fn dloss_at(&self, m: f64, y: f64) -> f64;
    /// The L2 strength λ on the weights.
    fn l2(&self) -> f64;
    /// Whether θ ends with an intercept.
    fn has_intercept(&self) -> bool;
}

/// The models `descent train --model` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Linear regression, ½(wᵀx + b − y)².
    LeastSquares,
    /// Binary logistic regression, log(1 + exp(−y·m)).
    Logistic,
    /// Linear SVM, max(0, 1 − y·m).
    Hinge,
    /// Multinomial logistic regression over k classes.
    Softmax,
    /// A one-hidden-layer network of the given width with a softmax output.
    Mlp(usize),
}

impl ModelKind {
    /// Every model, in the order help texts list them.
    pub const ALL: [ModelKind; 4] = [
        ModelKind::LeastSquares,
        ModelKind::Logistic,
        ModelKind::Hinge,
        ModelKind::Softmax,
    ];

    /// The family's name (`mlp` for every width).
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::LeastSquares => "least-squares",
            ModelKind::Logistic => "logistic",
            ModelKind::Hinge => "hinge",
            ModelKind::Softmax => "softmax",
            ModelKind::Mlp(_) => "mlp",
        }
    }

    /// The CLI spelling, with the width for networks (`mlp:64`).
    pub fn label(self) -> String {
        match self {
            ModelKind::Mlp(h) => format!("mlp:{h}"),
            other => other.name().to_string(),
        }
    }

    /// Whether the labels are classes encoded 0..k−1 (softmax and networks).
    pub fn multiclass(self) -> bool {
        matches!(self, ModelKind::Softmax | ModelKind::Mlp(_))
    }

    /// Builds the objective for `n_features` inputs and `n_classes` classes (ignored except
    /// by softmax and networks), with or without intercept (networks always have biases), and
    /// L2 strength `l2`.
    pub fn build(
        self,
        n_features: usize,
        n_classes: usize,
        intercept: bool,
        l2: f64,
    ) -> Box<dyn Objective> {
        let penalty = L2::new(l2);
        match self {
            ModelKind::LeastSquares => {
                Box::new(Linear::new(LeastSquares, n_features, intercept, penalty))
            }
            ModelKind::Logistic => Box::new(Linear::new(Logistic, n_features, intercept, penalty)),
            ModelKind::Hinge => Box::new(Linear::new(Hinge, n_features, intercept, penalty)),
            ModelKind::Softmax => Box::new(Softmax::new(n_features, n_classes, intercept, penalty)),
            ModelKind::Mlp(hidden) => Box::new(Mlp::new(n_features, hidden, n_classes, penalty)),
        }
    }
}

impl std::str::FromStr for ModelKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let aliases = [
            ("least_squares", "least-squares"),
            ("squared", "least-squares"),
        ];
        let s = aliases.iter().find(|(a, _)| *a == s).map_or(s, |(_, n)| n);
        if let Some(width) = s.strip_prefix("mlp:") {
            return match width.parse::<usize>() {
                Ok(h) if (1..=100_000).contains(&h) => Ok(ModelKind::Mlp(h)),
                _ => Err(Error::config(
                    "model",
                    s,
                    "mlp:H with H hidden units, 1 ≤ H ≤ 100000",
                )),
            };
        }
        ModelKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ModelKind::ALL.iter().map(|k| k.name()).collect();
                Error::config("model", s, format!("one of: {}, mlp:H", names.join(", ")))
            })
    }
}

//! A two-parameter non-convex model: ŷ = b·sin(a·x), with θ = (a, b) and squared loss
//! ℓ = ½(b·sin(a·x) − y)². Its loss surface over (a, b) has a valley for every frequency the
//! data contains, which makes it the landscape experiments' model with local minima.
//!
//! Gradient: r = b·sin(a·x) − y; ∂ℓ/∂a = r·b·x·cos(a·x); ∂ℓ/∂b = r·sin(a·x). Rows must have
//! exactly one feature x (a dense row, or a sparse row with at most one nonzero).

use super::{Objective, Task};
use crate::data::Row;

/// ŷ = b·sin(a·x) under squared loss, no regularizer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SineRegression;

/// The single feature of a row.
fn feature(x: Row<'_>) -> f64 {
    match x {
        Row::Dense(v) => v.first().map_or(0.0, |&v| f64::from(v)),
        Row::Sparse(entries) => entries.first().map_or(0.0, |e| f64::from(e.value)),
    }
}

impl SineRegression {
    /// The prediction b·sin(a·x) at the scalar input `x`.
    pub fn value(theta: &[f64], x: f64) -> f64 {
        theta[1] * (theta[0] * x).sin()
    }
}

impl Objective for SineRegression {
    fn name(&self) -> &'static str {
        "sine"
    }

    fn dim(&self) -> usize {
        2
    }

    fn n_features(&self) -> usize {
        1
    }

    fn task(&self) -> Task {
        Task::Regression
    }

    fn loss(&self, theta: &[f64], x: Row<'_>, y: f64) -> f64 {
        let r = Self::value(theta, feature(x)) - y;
        0.5 * r * r
    }

    fn add_gradient(
        &self,
        theta: &[f64],
        x: Row<'_>,
        y: f64,
        weight: f64,
        grad: &mut [f64],
    ) -> f64 {
        let x = feature(x);
        let (s, c) = (theta[0] * x).sin_cos();
        let r = theta[1] * s - y;
        grad[0] += weight * r * theta[1] * x * c;
        grad[1] += weight * r * s;
        0.5 * r * r
    }

    fn penalty(&self, _theta: &[f64]) -> f64 {
        0.0
    }

    fn add_penalty_gradient(&self, _theta: &[f64], _grad: &mut [f64]) {}

    fn predict(&self, theta: &[f64], x: Row<'_>) -> f64 {
        Self::value(theta, feature(x))
    }
}

//! Multinomial logistic regression over k classes.
//!
//! Logits `z_c = W_c·x + b_c`, probabilities `p = softmax(z)`, loss `ℓ = logsumexp(z) − z_y`
//! for the class index y ∈ 0..k. Gradient: row c of W gets `(p_c − [c = y])·x`, and
//! `b_c` gets `p_c − [c = y]`. θ = [W row-major (k×d), b (k)].

use super::{argmax, Objective, Task, L2};
use crate::data::Row;

/// Softmax regression: k·d weights plus k intercepts.
#[derive(Debug, Clone, Copy)]
pub struct Softmax {
    n_features: usize,
    classes: usize,
    intercept: bool,
    penalty: L2,
}

/// Classes up to this count keep their logits on the stack.
const STACK_CLASSES: usize = 32;

impl Softmax {
    /// Softmax regression with `classes` outputs over `n_features` inputs.
    pub fn new(n_features: usize, classes: usize, intercept: bool, penalty: L2) -> Self {
        Softmax {
            n_features,
            classes,
            intercept,
            penalty,
        }
    }

    fn weights(&self) -> usize {
        self.n_features * self.classes
    }

    /// Fills `z` with the logits and returns logsumexp(z).
    fn logits(&self, theta: &[f64], x: Row<'_>, z: &mut [f64]) -> f64 {
        let d = self.n_features;
        for (c, zc) in z.iter_mut().enumerate() {
            let b = if self.intercept {
                theta[self.weights() + c]
            } else {
                0.0
            };
            *zc = x.dot(&theta[c * d..(c + 1) * d]) + b;
        }
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
    }

    /// Runs `f` with a scratch buffer of `classes` logits.
    fn with_logits<T>(&self, f: impl FnOnce(&mut [f64]) -> T) -> T {
        if self.classes <= STACK_CLASSES {
            let mut buf = [0.0; STACK_CLASSES];
            f(&mut buf[..self.classes])
        } else {
            f(&mut vec![0.0; self.classes])
        }
    }
}

impl Objective for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    fn dim(&self) -> usize {
        self.weights() + if self.intercept { self.classes } else { 0 }
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn task(&self) -> Task {
        Task::Multiclass(self.classes)
    }

    fn loss(&self, theta: &[f64], x: Row<'_>, y: f64) -> f64 {
        self.with_logits(|z| self.logits(theta, x, z) - z[y as usize])
    }

    fn add_gradient(
        &self,
        theta: &[f64],
        x: Row<'_>,
        y: f64,
        weight: f64,
        grad: &mut [f64],
    ) -> f64 {
        let (d, weights) = (self.n_features, self.weights());
        let label = y as usize;
        self.with_logits(|z| {
            let lse = self.logits(theta, x, z);
            let loss = lse - z[label];
            for (c, &zc) in z.iter().enumerate() {
                let residual = (zc - lse).exp() - if c == label { 1.0 } else { 0.0 };
                let scaled = weight * residual;
                x.axpy(scaled, &mut grad[c * d..(c + 1) * d]);
                if self.intercept {
                    grad[weights + c] += scaled;
                }
            }
            loss
        })
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        self.penalty.value(&theta[..self.weights()])
    }

    fn add_penalty_gradient(&self, theta: &[f64], grad: &mut [f64]) {
        let w = self.weights();
        self.penalty.add_gradient(&theta[..w], &mut grad[..w]);
    }

    fn predict(&self, theta: &[f64], x: Row<'_>) -> f64 {
        self.with_logits(|z| {
            self.logits(theta, x, z);
            argmax(z) as f64
        })
    }

    fn loss_and_prediction(&self, theta: &[f64], x: Row<'_>, y: f64) -> (f64, f64) {
        self.with_logits(|z| {
            let lse = self.logits(theta, x, z);
            (lse - z[y as usize], argmax(z) as f64)
        })
    }
}

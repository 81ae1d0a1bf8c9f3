//! Gradient noise: how far per-sample and mini-batch gradients scatter around the full-batch
//! gradient G at a point θ.
//!
//! With per-sample gradients gᵢ, G = (1/M) Σ gᵢ and Σ = (1/M) Σ (gᵢ − G)(gᵢ − G)ᵀ, a batch of b
//! samples drawn with replacement has E‖g_B − G‖² = tr(Σ)/b. The gradient noise scale
//! B_noise = tr(Σ)/‖G‖² (McCandlish et al., 2018) is the batch size at which the noise and the
//! signal are equal: far from a minimum ‖G‖ is large and small batches suffice; near it ‖G‖ → 0
//! and the noise dominates, which is why SGD at a constant rate keeps moving.

use crate::data::Dataset;
use crate::objective::Objective;
use serde::Serialize;

/// Gradient statistics at one point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradientNoise {
    /// Where.
    pub theta: Vec<f64>,
    /// The full-batch gradient G.
    pub full: Vec<f64>,
    /// tr(Σ).
    pub trace: f64,
    /// tr(Σ)/‖G‖² (infinite at a stationary point).
    pub noise_scale: f64,
    /// Every per-sample gradient gᵢ.
    pub per_sample: Vec<Vec<f64>>,
}

impl GradientNoise {
    /// The statistics of `objective` on `data` at `theta` (regularizer included in G).
    pub fn at(objective: &dyn Objective, data: &Dataset, theta: &[f64]) -> GradientNoise {
        let dim = objective.dim();
        let m = data.len().max(1) as f64;
        let mut penalty = vec![0.0; dim];
        objective.add_penalty_gradient(theta, &mut penalty);
        let per_sample: Vec<Vec<f64>> = (0..data.len())
            .map(|i| {
                let mut g = penalty.clone();
                objective.add_gradient(theta, data.row(i), data.target(i), 1.0, &mut g);
                g
            })
            .collect();
        let mut full = vec![0.0; dim];
        for g in &per_sample {
            full.iter_mut().zip(g).for_each(|(f, v)| *f += v / m);
        }
        let trace = per_sample
            .iter()
            .map(|g| {
                g.iter()
                    .zip(&full)
                    .map(|(v, f)| (v - f).powi(2))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / m;
        let norm2: f64 = full.iter().map(|v| v * v).sum();
        GradientNoise {
            theta: theta.to_vec(),
            full,
            trace,
            noise_scale: trace / norm2,
            per_sample,
        }
    }

    /// E‖g_B − G‖ for batches of `b` samples (with replacement): √(tr(Σ)/b).
    pub fn batch_spread(&self, b: usize) -> f64 {
        (self.trace / b.max(1) as f64).sqrt()
    }
}

//! The L2 regularizer R(θ) = (λ/2)‖w‖² over the weights (never the intercepts).

/// L2 penalty of strength λ ≥ 0 on the first `n_weights` parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L2 {
    /// λ.
    pub lambda: f64,
}

impl L2 {
    /// An L2 penalty of strength `lambda` (0 disables it).
    pub fn new(lambda: f64) -> Self {
        L2 { lambda }
    }

    /// (λ/2) Σ wⱼ² over `weights`.
    pub fn value(&self, weights: &[f64]) -> f64 {
        if self.lambda == 0.0 {
            return 0.0;
        }
        0.5 * self.lambda * weights.iter().map(|w| w * w).sum::<f64>()
    }

    /// `grad += λ·w`.
    pub fn add_gradient(&self, weights: &[f64], grad: &mut [f64]) {
        if self.lambda == 0.0 {
            return;
        }
        for (g, w) in grad.iter_mut().zip(weights) {
            *g += self.lambda * w;
        }
    }
}

//! Losses of a linear model's margin m = wᵀx + b against an encoded target y. Each exposes the
//! scalar derivative `dloss = ∂ℓ/∂m`, so the gradient is `dloss · [x, 1]` and fast paths can
//! update θ sparsely.

use super::softplus;

/// A loss of the margin.
pub trait MarginLoss: Send + Sync + Copy {
    /// The model name this loss gives.
    const NAME: &'static str;
    /// ℓ(m, y).
    fn loss(&self, m: f64, y: f64) -> f64;
    /// ∂ℓ/∂m at (m, y).
    fn dloss(&self, m: f64, y: f64) -> f64;
    /// ℓ and ∂ℓ/∂m together (the same bits as [`loss`](MarginLoss::loss) and
    /// [`dloss`](MarginLoss::dloss); losses may share work).
    fn loss_and_dloss(&self, m: f64, y: f64) -> (f64, f64) {
        (self.loss(m, y), self.dloss(m, y))
    }
    /// [`loss_and_dloss`](MarginLoss::loss_and_dloss) of four samples (the same bits; losses
    /// may compute the four at once).
    fn loss_and_dloss4(&self, m: [f64; 4], y: [f64; 4]) -> ([f64; 4], [f64; 4]) {
        let parts: [(f64, f64); 4] = std::array::from_fn(|k| self.loss_and_dloss(m[k], y[k]));
        (parts.map(|p| p.0), parts.map(|p| p.1))
    }
    /// Whether y is a class (±1) rather than a value.
    fn classifies(&self) -> bool;
}

/// ½(m − y)².
#[derive(Debug, Clone, Copy)]
pub struct LeastSquares;

impl MarginLoss for LeastSquares {
    const NAME: &'static str = "least-squares";
    fn loss(&self, m: f64, y: f64) -> f64 {
        0.5 * (m - y) * (m - y)
    }
    fn dloss(&self, m: f64, y: f64) -> f64 {
        m - y
    }
    fn classifies(&self) -> bool {
        false
    }
}

/// log(1 + exp(−y·m)) for y ∈ {−1, +1}, computed without overflow.
#[derive(Debug, Clone, Copy)]
pub struct Logistic;

impl MarginLoss for Logistic {
    const NAME: &'static str = "logistic";
    fn loss(&self, m: f64, y: f64) -> f64 {
        softplus::softplus(-y * m)
    }
    fn dloss(&self, m: f64, y: f64) -> f64 {
        -y * softplus::sigmoid(-y * m)
    }
    fn loss_and_dloss(&self, m: f64, y: f64) -> (f64, f64) {
        // With z = −y·m and e = exp(−|z|): ℓ = max(z, 0) + log(1 + e) and ℓ' = −y·σ(z), σ
        // evaluated on the side that does not overflow (see `softplus`).
        let (loss, sigma) = softplus::logistic(-y * m);
        (loss, -y * sigma)
    }
    fn loss_and_dloss4(&self, m: [f64; 4], y: [f64; 4]) -> ([f64; 4], [f64; 4]) {
        let (loss, sigma) = softplus::logistic4(std::array::from_fn(|k| -y[k] * m[k]));
        (loss, std::array::from_fn(|k| -y[k] * sigma[k]))
    }
    fn classifies(&self) -> bool {
        true
    }
}

/// max(0, 1 − y·m) for y ∈ {−1, +1}; the subgradient at the kink is −y, as in scikit-learn.
#[derive(Debug, Clone, Copy)]
pub struct Hinge;

impl MarginLoss for Hinge {
    const NAME: &'static str = "hinge";
    fn loss(&self, m: f64, y: f64) -> f64 {
        (1.0 - y * m).max(0.0)
    }
    fn dloss(&self, m: f64, y: f64) -> f64 {
        if y * m <= 1.0 {
            -y
        } else {
            0.0
        }
    }
    fn classifies(&self) -> bool {
        true
    }
}

//! Polyak–Ruppert iterate averaging.
//!
//! After update number `n` (1-based), with averaging from update `start`:
//!
//! ```text
//! θ̄ = θ_n                              for n ≤ start
//! θ̄ = (1/(n − start)) Σ_{s=start+1..n} θ_s   for n > start
//! ```
//!
//! computed incrementally as θ̄ ← θ̄ + (θ − θ̄)/k. Evaluation and the saved model use θ̄; the
//! iterates themselves follow plain (or momentum) SGD. `start = 0` averages every iterate, as
//! scikit-learn's `average=True`; `start = s` begins once s updates are done (scikit-learn's
//! `average=s` counts samples, which equals updates for `sgd`).

/// The running average of the iterates.
#[derive(Debug, Clone)]
pub struct Average {
    start: u64,
    count: u64,
    mean: Vec<f64>,
}

impl Average {
    /// Averaging from update `start` on, for parameters `initial`.
    pub fn new(start: u64, initial: &[f64]) -> Self {
        Average {
            start,
            count: 0,
            mean: initial.to_vec(),
        }
    }

    /// Records the iterate after update number `n` (1-based).
    pub fn update(&mut self, n: u64, theta: &[f64]) {
        if n <= self.start {
            self.mean.copy_from_slice(theta);
            return;
        }
        self.count += 1;
        let k = self.count as f64;
        for (m, t) in self.mean.iter_mut().zip(theta) {
            *m += (t - *m) / k;
        }
    }

    /// θ̄.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
}

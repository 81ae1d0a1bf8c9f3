//! Polyak–Ruppert iterate averaging.
//!
//! After update number `n` (1-based), with averaging from update `start` (s = max(start, 1)):
//!
//! ```text
//! θ̄ = θ_n                                  for n < s
//! θ̄ = (1/(n − s + 1)) Σ_{k=s..n} θ_k        for n ≥ s
//! ```
//!
//! computed incrementally as θ̄ ← θ̄ + (θ − θ̄)/(n − s + 1). Evaluation and the saved model use
//! θ̄; the iterates themselves follow plain (or momentum) SGD. This is scikit-learn's
//! `average` for `SGDClassifier`/`SGDRegressor`: `average=True` is `start = 1` (every iterate),
//! `average=s` includes the iterate after the s-th sample (= update, for `sgd`) and later ones.

/// The running average of the iterates (serializable, for checkpoints).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Average {
    start: u64,
    count: u64,
    mean: Vec<f64>,
}

impl Average {
    /// Averaging of the iterates from update `start` (1-based; 0 means 1) on, for parameters
    /// `initial`.
    pub fn new(start: u64, initial: &[f64]) -> Self {
        Average {
            start,
            count: 0,
            mean: initial.to_vec(),
        }
    }

    /// An average from update `start` over `count` iterates so far, equal to `mean` (for an
    /// update rule that keeps the average in another form).
    pub(crate) fn from_parts(start: u64, count: u64, mean: Vec<f64>) -> Self {
        Average { start, count, mean }
    }

    /// The first update averaged (as given: 0 means 1).
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// Iterates averaged so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Records the iterate after update number `n` (1-based).
    pub fn update(&mut self, n: u64, theta: &[f64]) {
        if n < self.start.max(1) {
            self.mean.copy_from_slice(theta);
            return;
        }
        self.count += 1;
        let k = self.count as f64;
        for (m, t) in self.mean.iter_mut().zip(theta) {
            *m += (t - *m) / k;
        }
    }

    /// Parameters averaged.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// θ̄.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
}

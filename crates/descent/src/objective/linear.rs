//! A linear model `m = wᵀx + b` under a [`MarginLoss`]: least squares, logistic, hinge.

use super::{MarginLoss, MarginModel, Objective, Task, L2};
use crate::data::{kernels, Dataset, Row};

/// A pass over dense rows asks for the rows this many places ahead (16 and 32 measured alike).
const DENSE_AHEAD: usize = 16;

/// ℓ(θ; x, y) = loss(wᵀx + b, y), θ = [w, b]; gradient `dloss · [x, 1]`, O(nnz(x)).
#[derive(Debug, Clone, Copy)]
pub struct Linear<L: MarginLoss> {
    loss: L,
    n_features: usize,
    intercept: bool,
    penalty: L2,
}

impl<L: MarginLoss> Linear<L> {
    /// A linear model over `n_features` inputs.
    pub fn new(loss: L, n_features: usize, intercept: bool, penalty: L2) -> Self {
        Linear {
            loss,
            n_features,
            intercept,
            penalty,
        }
    }

    /// The prediction at margin m: m itself for regression, its sign (±1) for classifiers.
    fn prediction(&self, m: f64) -> f64 {
        match (self.loss.classifies(), m > 0.0) {
            (false, _) => m,
            (true, true) => 1.0,
            (true, false) => -1.0,
        }
    }

    /// The margin wᵀx + b.
    #[inline]
    pub fn margin(&self, theta: &[f64], x: Row<'_>) -> f64 {
        x.dot(&theta[..self.n_features]) + self.bias(theta)
    }

    /// b in θ = [w, b], 0 without an intercept.
    #[inline]
    fn bias(&self, theta: &[f64]) -> f64 {
        if self.intercept {
            theta[self.n_features]
        } else {
            0.0
        }
    }

    /// The gradient terms and losses of the dense rows in whole groups of four; returns their
    /// loss and the rows left over. Four margins, then one pass over the gradient adding
    /// ((d₀x₀ + d₁x₁) + (d₂x₂ + d₃x₃)), so each gradient entry is loaded and stored once per
    /// four rows; each group's terms are added in the pass that computes the next group's
    /// margins ([`kernels::dot4_add4`]), which also asks for the rows 16 places on, so that
    /// memory is read while the processor computes.
    ///
    /// When the rows are consecutive (a full batch, or any unshuffled batch) the walk computes
    /// each row's place instead of reading it from `rows`: the same rows in the same order,
    /// so the same bits, without a second stream of reads beside the rows' own (on a 2-core
    /// Xeon VM, reading the row numbers cost a dense full-batch pass 5-8%). It then also asks
    /// for the rows after its last, which the engine's next block starts with (usually on the
    /// same thread): without this every block began by waiting for its first rows (another
    /// 3-4% on one and two threads).
    fn add_dense_groups<'r>(
        &self,
        theta: &[f64],
        data: &Dataset,
        rows: &'r [usize],
        grad: &mut [f64],
    ) -> (f64, &'r [usize]) {
        let whole = rows.len() / 4 * 4;
        let total = match rows.first() {
            Some(&first) if rows.iter().enumerate().all(|(p, &i)| i == first + p) => {
                self.add_dense_walk(theta, data, whole, data.len() - first, |p| first + p, grad)
            }
            _ => self.add_dense_walk(theta, data, whole, rows.len(), |p| rows[p], grad),
        };
        (total, &rows[whole..])
    }

    /// [`Linear::add_dense_groups`]' walk over the `count` rows `row(0)`, `row(1)`, …
    /// (`count` a multiple of four), returning their loss; rows up to `row(known - 1)` exist
    /// and may be asked for ahead.
    #[inline(always)]
    fn add_dense_walk(
        &self,
        theta: &[f64],
        data: &Dataset,
        count: usize,
        known: usize,
        row: impl Fn(usize) -> usize,
        grad: &mut [f64],
    ) -> f64 {
        let d = self.n_features;
        let b = self.bias(theta);
        let dense = |i: usize| match data.row(i) {
            Row::Dense(x) => x,
            Row::Sparse(_) => &[],
        };
        // The row DENSE_AHEAD places after position p (empty past the end).
        let ahead = |p: usize| {
            if p + DENSE_AHEAD < known {
                dense(row(p + DENSE_AHEAD))
            } else {
                &[]
            }
        };
        let mut total = 0.0;
        let mut pending = None;
        for n in 0..count / 4 {
            let g: [usize; 4] = std::array::from_fn(|k| row(4 * n + k));
            let xs: [&[f32]; 4] = g.map(dense);
            let further = std::array::from_fn(|k| ahead(4 * n + k));
            let dots = kernels::dot4_add4(xs, &theta[..d], pending, &mut grad[..d], further);
            let targets = g.map(|i| data.target(i));
            let (losses, ds) = self.loss.loss_and_dloss4(dots.map(|m| m + b), targets);
            for loss in losses {
                total += loss;
            }
            if self.intercept {
                grad[d] += (ds[0] + ds[1]) + (ds[2] + ds[3]);
            }
            pending = Some((ds, xs));
        }
        if let Some((ds, xs)) = pending {
            kernels::axpy4(ds, xs, &mut grad[..d]);
        }
        total
    }
}

impl<L: MarginLoss> MarginModel for Linear<L> {
    fn loss_at(&self, m: f64, y: f64) -> f64 {
        self.loss.loss(m, y)
    }

    fn dloss_at(&self, m: f64, y: f64) -> f64 {
        self.loss.dloss(m, y)
    }

    fn l2(&self) -> f64 {
        self.penalty.lambda
    }

    fn has_intercept(&self) -> bool {
        self.intercept
    }
}

impl<L: MarginLoss> Objective for Linear<L> {
    fn margin_model(&self) -> Option<&dyn MarginModel> {
        Some(self)
    }

    fn name(&self) -> &'static str {
        L::NAME
    }

    fn dim(&self) -> usize {
        self.n_features + usize::from(self.intercept)
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn task(&self) -> Task {
        if self.loss.classifies() {
            Task::Binary
        } else {
            Task::Regression
        }
    }

    fn loss(&self, theta: &[f64], x: Row<'_>, y: f64) -> f64 {
        self.loss.loss(self.margin(theta, x), y)
    }

    fn add_gradient(
        &self,
        theta: &[f64],
        x: Row<'_>,
        y: f64,
        weight: f64,
        grad: &mut [f64],
    ) -> f64 {
        let m = self.margin(theta, x);
        let (loss, dloss) = self.loss.loss_and_dloss(m, y);
        let d = weight * dloss;
        if d != 0.0 {
            x.axpy(d, &mut grad[..self.n_features]);
            if self.intercept {
                grad[self.n_features] += d;
            }
        }
        loss
    }

    /// Dense rows four at a time (`Linear::add_dense_groups`); sparse rows and the dense
    /// remainder one by one, asking for the rows ahead of the walk as SGD does (a batch's
    /// sparse rows are not where the hardware would look for them: on a Xeon VM this made
    /// full-batch and 4,096-row sparse gradients 8-10% faster on one thread). Four sparse rows'
    /// losses computed at once gained nothing measurable on top.
    fn add_gradients(
        &self,
        theta: &[f64],
        data: &Dataset,
        rows: &[usize],
        grad: &mut [f64],
    ) -> f64 {
        let (mut total, rest) = if data.is_sparse() {
            (0.0, rows)
        } else {
            self.add_dense_groups(theta, data, rows, grad)
        };
        for (n, &i) in rest.iter().enumerate() {
            data.read_upcoming(&rest[n + 1..]);
            total += self.add_gradient(theta, data.row(i), data.target(i), 1.0, grad);
        }
        total
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        self.penalty.value(&theta[..self.n_features])
    }

    fn add_penalty_gradient(&self, theta: &[f64], grad: &mut [f64]) {
        self.penalty
            .add_gradient(&theta[..self.n_features], &mut grad[..self.n_features]);
    }

    fn predict(&self, theta: &[f64], x: Row<'_>) -> f64 {
        self.prediction(self.margin(theta, x))
    }

    fn loss_and_prediction(&self, theta: &[f64], x: Row<'_>, y: f64) -> (f64, f64) {
        let m = self.margin(theta, x);
        (self.loss.loss(m, y), self.prediction(m))
    }
}

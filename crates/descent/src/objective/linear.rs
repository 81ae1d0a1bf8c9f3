//! A linear model `m = wᵀx + b` under a [`MarginLoss`]: least squares, logistic, hinge.

use super::{MarginLoss, MarginModel, Objective, Task, L2};
use crate::data::{Dataset, Features, Row};
use crate::kernels;

/// A pass over listed dense rows asks for the rows this many places ahead (16 and 32
/// measured alike).
const DENSE_AHEAD: usize = 16;

/// A walk over consecutive dense rows in four streams asks, in each stream, for the row this
/// many places on (two groups ahead; 2 read more of the bandwidth than 4 or 8: BENCHMARKS.md).
const STREAM_AHEAD: usize = 2;

/// A dense data set's row-major values (rows of `dim`) and targets.
#[derive(Clone, Copy)]
struct DenseRows<'a> {
    dim: usize,
    values: &'a [f32],
    targets: &'a [f64],
}

/// Rows per stream when `whole` consecutive rows of `row_bytes` bytes are walked as four
/// streams: the q within 3 of whole/4 (and not above it) whose four streams start furthest
/// apart within a 4 KiB page (the largest such q), since the L1 cache files lines by their
/// place in the page and four rows at the same place evict each other's lines. Rows of 1 KiB:
/// 1,023 rows per stream instead of 1,024 for a block of 4,096 (the bandwidth either reads is
/// in BENCHMARKS.md).
fn stream_length(whole: usize, row_bytes: usize) -> usize {
    const PAGE: usize = 4096;
    let spread = |q: usize| {
        let start = |k: usize| (k * q % PAGE) * row_bytes % PAGE;
        let mut nearest = PAGE;
        for a in 0..4 {
            for b in a + 1..4 {
                let gap = start(b).abs_diff(start(a));
                nearest = nearest.min(gap.min(PAGE - gap));
            }
        }
        nearest
    };
    let q = whole / 4;
    (q.saturating_sub(3)..=q)
        .max_by_key(|&c| spread(c))
        .unwrap_or(q)
}

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
    /// When the rows are consecutive (a full batch, or any unshuffled batch) their whole
    /// groups are walked as **four streams**: the first 4q rows are cut into four runs of q
    /// ([`stream_length`]), group n takes the n-th row of each (rows first + n, first + q +
    /// n, first + 2q + n, first + 3q + n), and the few rows after them (at most 12) follow in
    /// order, so that memory is read at four places at once: one stream cannot keep enough
    /// reads in flight to reach the bandwidth (BENCHMARKS.md has the figures). The order is a
    /// function of the rows alone, so the sums are still the same for every thread count. The
    /// walk computes each row's place instead of reading it from `rows` (reading the row
    /// numbers is measurable in a dense full-batch pass), and each stream asks for its rows [`STREAM_AHEAD`]
    /// on; the last one's reach past its end asks for the rows after it (the engine's next
    /// block starts with them).
    fn add_dense_groups<'r>(
        &self,
        theta: &[f64],
        data: DenseRows<'_>,
        rows: &'r [usize],
        grad: &mut [f64],
    ) -> (f64, &'r [usize]) {
        let whole = rows.len() / 4 * 4;
        let total = match rows.first() {
            Some(&first) if rows.iter().enumerate().all(|(p, &i)| i == first + p) => {
                let q = stream_length(whole, 4 * data.dim);
                let streamed = 4 * q;
                let row = |p: usize| {
                    if p < streamed {
                        first + (p % 4) * q + p / 4
                    } else {
                        first + p
                    }
                };
                let m = data.targets.len();
                let ahead = |p: usize| Some(row(p) + STREAM_AHEAD).filter(|&i| i < m);
                self.add_dense_walk(theta, data, whole, row, ahead, grad)
            }
            _ => {
                let ahead = |p: usize| rows.get(p + DENSE_AHEAD).copied();
                self.add_dense_walk(theta, data, whole, |p| rows[p], ahead, grad)
            }
        };
        (total, &rows[whole..])
    }

    /// [`Linear::add_dense_groups`]' walk over the `count` rows `row(0)`, `row(1)`, …
    /// (`count` a multiple of four) in groups of four consecutive positions, returning their
    /// loss; `ahead(p)` is the row to ask for while position p is computed, if any.
    #[inline(always)]
    fn add_dense_walk(
        &self,
        theta: &[f64],
        DenseRows {
            dim,
            values,
            targets,
        }: DenseRows<'_>,
        count: usize,
        row: impl Fn(usize) -> usize,
        ahead: impl Fn(usize) -> Option<usize>,
        grad: &mut [f64],
    ) -> f64 {
        let d = self.n_features;
        let b = self.bias(theta);
        // Row i found from the values themselves, not through the data set's storage enum per
        // row (a measurable part of a dense full-batch pass: BENCHMARKS.md).
        let dense = |i: usize| &values[i * dim..(i + 1) * dim];
        let ahead = |p: usize| ahead(p).map_or(&[][..], dense);
        let mut total = 0.0;
        let mut pending = None;
        for n in 0..count / 4 {
            let g: [usize; 4] = std::array::from_fn(|k| row(4 * n + k));
            let xs: [&[f32]; 4] = g.map(dense);
            let further = std::array::from_fn(|k| ahead(4 * n + k));
            let dots = kernels::dot4_add4(xs, &theta[..d], pending, &mut grad[..d], further);
            let targets = g.map(|i| targets[i]);
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
    /// sparse rows are not where the hardware would look for them; BENCHMARKS.md has what it
    /// gained). Four sparse rows' losses computed at once gained nothing measurable on top.
    fn add_gradients(
        &self,
        theta: &[f64],
        data: &Dataset,
        rows: &[usize],
        grad: &mut [f64],
    ) -> f64 {
        let (mut total, rest) = match data.features() {
            Features::Dense { dim, values } => {
                let dense = DenseRows {
                    dim: *dim,
                    values,
                    targets: data.targets(),
                };
                self.add_dense_groups(theta, dense, rows, grad)
            }
            Features::Sparse { .. } => (0.0, rows),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::{Hinge, LeastSquares, Logistic};

    /// `rows` rows of `d` features (no two alike, none all-zero) with targets ±1.
    fn dense(rows: usize, d: usize) -> Dataset {
        let values = (0..rows * d)
            .map(|k| ((k * 7919) % 1013) as f32 / 1013.0 - 0.4)
            .collect();
        let targets = (0..rows)
            .map(|i| if (i * 13) % 7 < 3 { 1.0 } else { -1.0 })
            .collect();
        Dataset::dense(d, values, targets).unwrap()
    }

    #[test]
    fn four_streams_start_apart_in_the_page() {
        // Rows of 1 KiB: four streams of 1,024 rows would start at the same place in their
        // pages; 1,023 spreads them a quarter page apart.
        assert_eq!(stream_length(4096, 1024), 1023);
        for (whole, row_bytes) in [(4096, 1024), (48, 148), (4100, 1024), (8, 4), (0, 64)] {
            let q = stream_length(whole, row_bytes);
            assert!(
                q <= whole / 4 && q + 3 >= whole / 4,
                "{whole} rows of {row_bytes} B: {q}"
            );
        }
    }

    #[test]
    fn consecutive_dense_rows_give_the_bits_of_their_streams_listed() {
        // A batch of consecutive rows is walked as four streams, its row numbers computed.
        // The same rows in a mirrored copy of the data, where their numbers run backwards and
        // are read from a list in the streams' order (group n: the n-th row of each stream;
        // then the rows after the streams, then the remainder), give the same loss and
        // gradient to the bit: blocks of 4,099 rows of 1 KiB (streams of 1,023 rows, 4 rows
        // after them, 3 left over), smaller batches starting past row 0, one group of four.
        for (rows, d) in [(4099, 256), (61, 37)] {
            let data = dense(rows, d);
            let last = data.len() - 1;
            let reversed: Vec<usize> = (0..data.len()).rev().collect();
            let mirrored = data.select(&reversed);
            let objectives: [Box<dyn Objective>; 4] = [
                Box::new(Linear::new(Logistic, d, true, L2::new(0.0))),
                Box::new(Linear::new(Hinge, d, false, L2::new(0.0))),
                Box::new(Linear::new(LeastSquares, d, true, L2::new(0.1))),
                Box::new(Linear::new(Logistic, d, false, L2::new(0.0))),
            ];
            for objective in &objectives {
                let theta: Vec<f64> = (0..objective.dim())
                    .map(|j| ((j * 37) % 11) as f64 / 50.0 - 0.1)
                    .collect();
                for range in [0..rows, 3..51, 5..26, 10..14] {
                    let (first, count) = (range.start, range.len());
                    let whole = count / 4 * 4;
                    let q = stream_length(whole, 4 * d);
                    let mut order: Vec<usize> = (0..q)
                        .flat_map(|n| (0..4).map(move |k| first + k * q + n))
                        .collect();
                    order.extend(first + 4 * q..range.end);
                    let mut sorted = order.clone();
                    sorted.sort_unstable();
                    assert_eq!(sorted, range.clone().collect::<Vec<_>>(), "a permutation");
                    let consecutive: Vec<usize> = range.collect();
                    let listed: Vec<usize> = order.iter().map(|i| last - i).collect();
                    let mut walked = vec![0.0; objective.dim()];
                    let walked_loss =
                        objective.add_gradients(&theta, &data, &consecutive, &mut walked);
                    let mut read = vec![0.0; objective.dim()];
                    let read_loss = objective.add_gradients(&theta, &mirrored, &listed, &mut read);
                    let what = format!("{} on {first}+{count} rows of {d}", objective.name());
                    assert_eq!(walked_loss.to_bits(), read_loss.to_bits(), "{what}: loss");
                    assert!(
                        walked
                            .iter()
                            .zip(&read)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{what}: gradient"
                    );
                    assert!(walked.iter().any(|g| *g != 0.0), "{what}: a gradient");
                }
            }
        }
    }
}

//! Engines compute sums over samples: the batch gradient of every update and the full-data
//! loss of every evaluation. They differ in *how* (one thread, many threads; later MPI, GPU),
//! never in the result.
//!
//! **Determinism contract.** A sum over n samples is cut into fixed blocks of
//! [`block_rows`]`(width)` consecutive samples (a function of the width alone, never of the
//! thread count). Each block is summed serially into a zeroed buffer, in an order fixed by its
//! samples alone (their order in the batch; a linear model walks consecutive dense rows as
//! four interleaved streams); block results are added in block order, the first copied, each
//! later one added. Every engine obeys this, so results are bit-identical for every thread
//! count.
//!
//! ```
//! use descent::engine::{Engine, Serial, Threads};
//! let f = |r: std::ops::Range<usize>, out: &mut [f64]| {
//!     for i in r { out[0] += (i as f64).sqrt(); }
//! };
//! let (mut a, mut b) = ([0.0], [0.0]);
//! Serial.block_sum(100_000, 1, &f, &mut a);
//! Threads::new(3).unwrap().block_sum(100_000, 1, &f, &mut b);
//! assert_eq!(a[0].to_bits(), b[0].to_bits());
//! ```

mod serial;
mod threads;

pub use serial::Serial;
pub use threads::Threads;

use crate::data::Dataset;
use crate::labels::same_label;
use crate::objective::{Objective, Task};
use std::ops::Range;

/// A block's work: add its sum into the zeroed buffer.
pub type BlockFn<'a> = dyn Fn(Range<usize>, &mut [f64]) + Sync + 'a;

/// Computes deterministic blocked sums (see the module's contract).
pub trait Engine: Send + Sync {
    /// A short description, such as `threads(4)`.
    fn name(&self) -> String;

    /// `out = Σ_blocks f(block)` over `0..n`, each block's buffer of `width` entries zeroed
    /// before `f` adds into it, blocks merged in order.
    fn block_sum(&self, n: usize, width: usize, f: &BlockFn<'_>, out: &mut [f64]);
}

/// Rows per block for sums of `width` entries: at least 4,096, and enough that merging a
/// block's buffer costs at most a quarter of a row's work per row.
pub fn block_rows(width: usize) -> usize {
    (width / 4).max(4096)
}

/// The blocks of `0..n`.
pub fn blocks(n: usize, width: usize) -> impl Iterator<Item = Range<usize>> {
    let size = block_rows(width);
    (0..n.div_ceil(size)).map(move |b| b * size..((b + 1) * size).min(n))
}

/// Sums per-sample gradients and losses over `batch` (indices into `data`):
/// on return `sums[..dim]` holds Σ∇ℓᵢ and `sums[dim]` holds Σℓᵢ (no regularizer, no
/// division). Samples are visited in the order of `batch` (or, within a block, in another
/// order fixed by its samples, as [`Objective::add_gradients`] chooses).
pub fn batch_sums(
    engine: &dyn Engine,
    objective: &dyn Objective,
    data: &Dataset,
    theta: &[f64],
    batch: &[usize],
    sums: &mut [f64],
) {
    let dim = objective.dim();
    let f = |range: Range<usize>, out: &mut [f64]| {
        let (grad, loss) = out.split_at_mut(dim);
        loss[0] += objective.add_gradients(theta, data, &batch[range], grad);
    };
    engine.block_sum(batch.len(), dim + 1, &f, sums);
}

/// The objective and accuracy of parameters on a whole data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// f(θ) = mean ℓ + R(θ).
    pub loss: f64,
    /// Fraction of samples classified correctly (classifiers only).
    pub accuracy: Option<f64>,
}

/// The engine for `threads` threads: [`Serial`] for one, else [`Threads`].
pub fn with_threads(threads: usize) -> crate::Result<Box<dyn Engine>> {
    Ok(if threads > 1 {
        Box::new(Threads::new(threads)?)
    } else {
        Box::new(Serial)
    })
}

/// Evaluates f(θ) (and accuracy, for classifiers) on all of `data`.
pub fn evaluate(
    engine: &dyn Engine,
    objective: &dyn Objective,
    data: &Dataset,
    theta: &[f64],
) -> Evaluation {
    let sums = evaluate_sums(engine, objective, data, theta);
    finish_evaluation(objective, theta, sums, data.len())
}

/// Σℓᵢ and the number of correct predictions over `data`, in the engine's blocks.
pub fn evaluate_sums(
    engine: &dyn Engine,
    objective: &dyn Objective,
    data: &Dataset,
    theta: &[f64],
) -> [f64; 2] {
    let classifier = objective.task() != Task::Regression;
    let f = |range: Range<usize>, out: &mut [f64]| {
        for i in range {
            let (x, y) = (data.row(i), data.target(i));
            if classifier {
                let (loss, prediction) = objective.loss_and_prediction(theta, x, y);
                out[0] += loss;
                if same_label(prediction, y) {
                    out[1] += 1.0;
                }
            } else {
                out[0] += objective.loss(theta, x, y);
            }
        }
    };
    let mut sums = [0.0; 2];
    engine.block_sum(data.len(), 2, &f, &mut sums);
    sums
}

/// The [`Evaluation`] of sums from [`evaluate_sums`] over `rows` samples.
pub fn finish_evaluation(
    objective: &dyn Objective,
    theta: &[f64],
    sums: [f64; 2],
    rows: usize,
) -> Evaluation {
    let m = rows.max(1) as f64;
    Evaluation {
        loss: sums[0] / m + objective.penalty(theta),
        accuracy: (objective.task() != Task::Regression).then(|| sums[1] / m),
    }
}

/// Data whose full objective can be evaluated: a data set in memory, or a file streamed from
/// disk.
pub trait Evaluate {
    /// f(θ) and accuracy over all of the data.
    fn evaluate(
        &self,
        engine: &dyn Engine,
        objective: &dyn Objective,
        theta: &[f64],
    ) -> crate::Result<Evaluation>;
}

impl Evaluate for Dataset {
    fn evaluate(
        &self,
        engine: &dyn Engine,
        objective: &dyn Objective,
        theta: &[f64],
    ) -> crate::Result<Evaluation> {
        Ok(evaluate(engine, objective, self, theta))
    }
}

//! The generic update rule: every model, chain and regime, O(|B|·d) per update.
//!
//! ```text
//! g = (1/|B|) Σ_{i∈B} ∇ℓ(θ; xᵢ, yᵢ) + ∇R(θ),    θ ← θ − η · T(g)
//! ```
//!
//! The engine sums the batch's gradients (threads in a fixed order), the chain T rewrites
//! the mean, and the average (if on) records the new iterate.

use super::{RuleKind, RuleState, UpdateRule};
use crate::batches::Batch;
use crate::engine::{batch_sums, Engine};
use crate::objective::Objective;
use crate::optim::{Average, Chain};
use crate::Result;

/// θ, the chain and the average, updated through the engine's batch gradient.
pub struct GenericRule<'a> {
    objective: &'a dyn Objective,
    engine: &'a dyn Engine,
    chain: Chain,
    theta: Vec<f64>,
    average: Option<Average>,
    /// The batch gradient's sums (gradient, then loss), reused.
    sums: Vec<f64>,
}

impl<'a> GenericRule<'a> {
    /// Starts from `theta`, with the optimizer `chain` and averaging from update `average`.
    pub fn new(
        (objective, engine): (&'a dyn Objective, &'a dyn Engine),
        chain: Chain,
        theta: Vec<f64>,
        average: Option<u64>,
    ) -> Self {
        GenericRule {
            objective,
            engine,
            chain,
            average: average.map(|start| Average::new(start, &theta)),
            sums: vec![0.0; theta.len() + 1],
            theta,
        }
    }
}

/// `sum / size`, entry by entry, with the bits of the division: nothing to do for one sample,
/// a multiplication by `1 / size` when `size` is a power of two (then `1 / size` is exact and
/// each product is the quotient, correctly rounded), else the division. Divisions are slow: d
/// of them per update took longer than an MLP's forward and backward pass on its sample.
fn mean_of_sum(sum: &mut [f64], size: usize) {
    if size == 1 {
        return;
    }
    if size.is_power_of_two() {
        let reciprocal = 1.0 / size as f64;
        sum.iter_mut().for_each(|g| *g *= reciprocal);
    } else {
        let size = size as f64;
        sum.iter_mut().for_each(|g| *g /= size);
    }
}

impl UpdateRule for GenericRule<'_> {
    fn kind(&self) -> RuleKind {
        RuleKind::Generic
    }

    fn step(&mut self, batch: Batch<'_>, lr: f64, n: u64, _want_loss: bool) -> f64 {
        let (data, rows) = (batch.data, batch.rows);
        if rows.len() > 1 {
            data.read_next_batch(batch.ahead, rows.len());
        } else {
            data.read_upcoming(batch.ahead);
        }
        let objective = self.objective;
        batch_sums(
            self.engine,
            objective,
            data,
            &self.theta,
            rows,
            &mut self.sums,
        );
        let (grad, loss) = self.sums.split_at_mut(self.theta.len());
        mean_of_sum(grad, batch.size);
        let loss = loss[0] / batch.size as f64 + objective.penalty(&self.theta);
        objective.add_penalty_gradient(&self.theta, grad);
        self.chain.apply(n - 1, &self.theta, grad);
        for (p, g) in self.theta.iter_mut().zip(grad.iter()) {
            *p -= lr * g;
        }
        if let Some(a) = &mut self.average {
            a.update(n, &self.theta);
        }
        loss
    }

    fn materialize(&mut self) {}

    fn iterate(&self) -> &[f64] {
        &self.theta
    }

    fn parameters(&self) -> &[f64] {
        self.average.as_ref().map_or(&self.theta[..], |a| a.mean())
    }

    fn save(&self) -> RuleState {
        RuleState {
            theta: self.theta.clone(),
            average: self.average.clone(),
            stages: self.chain.states(),
            exact: None,
        }
    }

    fn restore(&mut self, state: RuleState) -> Result<()> {
        let dim = self.theta.len();
        state.check(dim, self.average.is_some())?;
        self.chain.set_states(state.stages, dim)?;
        self.theta = state.theta;
        self.average = state.average;
        Ok(())
    }

    fn edit_iterate(&mut self, edit: &mut dyn FnMut(&mut [f64]) -> Result<()>) -> Result<()> {
        edit(&mut self.theta)
    }
}

#[cfg(test)]
mod tests {
    use super::mean_of_sum;

    #[test]
    fn the_mean_has_the_bits_of_the_division_for_every_size() {
        let sums: Vec<f64> = [
            1.0,
            -3.7,
            1e-300,
            -2.5e-310,
            f64::MIN_POSITIVE,
            4.9e-324,
            1e300,
            f64::MAX,
            -0.0,
            0.1,
            7.0 / 3.0,
        ]
        .into_iter()
        .chain((1..200).map(|k| (k as f64 * 0.37).sin() * 10f64.powi(k % 40 - 20)))
        .collect();
        for size in 1..=1100usize {
            let mut mean = sums.clone();
            mean_of_sum(&mut mean, size);
            for (m, s) in mean.iter().zip(&sums) {
                assert_eq!(m.to_bits(), (s / size as f64).to_bits(), "{s} / {size}");
            }
        }
    }
}

//! Observers watch the training loop through typed events: trace files, progress bars and
//! (later) early stopping and checkpoints. The loop itself never writes files or prints.

use crate::Result;

/// What an observer asks the loop to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep training.
    Continue,
    /// Stop after this update; the run ends normally.
    Stop,
}

/// The shape of a run, known before the first update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Samples M.
    pub samples: usize,
    /// Parameters.
    pub dim: usize,
    /// Updates in one epoch.
    pub updates_per_epoch: u64,
    /// Epochs to run.
    pub epochs: u64,
}

impl Plan {
    /// Updates in the whole run.
    pub fn total_updates(&self) -> u64 {
        self.updates_per_epoch * self.epochs
    }
}

/// The loop's state after an update (or at the start, before any).
#[derive(Debug, Clone, Copy)]
pub struct State<'a> {
    /// Updates done so far.
    pub update: u64,
    /// Epochs completed (a fraction while one is in progress): sample gradients / M.
    pub epoch: f64,
    /// Per-sample gradients evaluated so far: the equal-budget axis of every comparison.
    pub sample_gradients: u64,
    /// Training time so far, not counting observers.
    pub seconds: f64,
    /// The rate of the last update (NaN before the first).
    pub lr: f64,
    /// The last batch's mean loss plus the regularizer, before its update (NaN at the start).
    pub batch_loss: f64,
    /// The parameters to evaluate: the iterate, or its average when averaging is on.
    pub theta: &'a [f64],
    /// The current iterate.
    pub iterate: &'a [f64],
}

/// Watches a training run. Every method has a default that does nothing.
pub trait Observer {
    /// Before the first update; `state` holds the initial parameters.
    fn on_start(&mut self, _plan: &Plan, _state: &State<'_>) -> Result<()> {
        Ok(())
    }
    /// How often [`on_step`](Observer::on_step) is needed: after updates that are multiples
    /// of this (default 1: every update). Larger intervals let fast paths skip materializing
    /// the parameters in between.
    fn interval(&self) -> u64 {
        1
    }
    /// After every [`interval`](Observer::interval)-th update.
    fn on_step(&mut self, _state: &State<'_>) -> Result<Control> {
        Ok(Control::Continue)
    }
    /// After the last update of every epoch.
    fn on_epoch(&mut self, _state: &State<'_>) -> Result<Control> {
        Ok(Control::Continue)
    }
    /// After the last update of the run.
    fn on_finish(&mut self, _state: &State<'_>) -> Result<()> {
        Ok(())
    }
}

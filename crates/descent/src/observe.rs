//! Observers watch the training loop through typed events: trace files, progress bars,
//! warnings. The loop itself never prints; the only file it writes is its own checkpoint,
//! which also records each observer's state (e.g. how much of the trace is written), so a
//! resumed run continues its outputs exactly where the checkpoint left them.

use crate::step::RuleKind;
use crate::Result;
use serde_json::Value;
use std::collections::BTreeMap;

/// Observers' saved states in a checkpoint, by each observer's key.
pub type SavedStates = BTreeMap<String, Value>;

/// The loop recovered from divergence (`--on-divergence halve-lr`): it went back to its last
/// good state and continues with half the learning rate.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// The update whose loss diverged (1-based).
    pub update: u64,
    /// The loss seen there (non-finite, or exploding).
    pub loss: f64,
    /// The update the loop went back to.
    pub back_to: u64,
    /// The factor on every learning rate from now on (1/2, 1/4, ...).
    pub lr_scale: f64,
}

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
    /// The update rule that computes the updates.
    pub update_rule: RuleKind,
}

/// Watches a training run. Every method has a default that does nothing.
pub trait Observer {
    /// Before the first update; `state` holds the initial parameters.
    fn on_start(&mut self, _plan: &Plan, _state: &State<'_>) -> Result<()> {
        Ok(())
    }
    /// How often [`on_step`](Observer::on_step) is needed: after updates that are multiples
    /// of this (default 1: every update; asked once, when the run starts). Larger intervals let fast paths skip materializing
    /// the parameters in between.
    fn interval(&self) -> u64 {
        1
    }
    /// Whether [`on_step`](Observer::on_step) reads the parameters or the batch loss
    /// (default: yes). An observer that reads only the counts (a progress bar) says no, and
    /// the lazy sparse path then does not materialize the parameters for it: its state's θ,
    /// iterate and batch loss may be those of an earlier update.
    fn needs_parameters(&self) -> bool {
        true
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
    /// Instead of [`on_start`](Observer::on_start) when a run resumes from a checkpoint at
    /// `state`; `saved` holds what [`save_state`](Observer::save_state) returned then.
    fn on_resume(&mut self, plan: &Plan, state: &State<'_>, _saved: &SavedStates) -> Result<()> {
        self.on_start(plan, state)
    }
    /// The observer's state for a checkpoint, under a key of its own (`None`: nothing to
    /// save). `durable`: the state goes to disk, so anything it refers to must be synced.
    fn save_state(&mut self, _durable: bool) -> Result<Option<(String, Value)>> {
        Ok(None)
    }
    /// Goes back to a state saved earlier in this run (before a retry).
    fn restore_state(&mut self, _saved: &SavedStates) -> Result<()> {
        Ok(())
    }
    /// The loop recovered from divergence and continues from an earlier state.
    fn on_retry(&mut self, _retry: &Retry) -> Result<()> {
        Ok(())
    }
}

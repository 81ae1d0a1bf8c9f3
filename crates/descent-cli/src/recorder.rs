//! An observer that records the training loss a fixed number of times per epoch and the
//! iterate at every epoch's end: the raw material of loss curves and distance plots.

use descent::data::Dataset;
use descent::engine::{evaluate, Serial};
use descent::objective::Objective;
use descent::observe::{Control, Observer, Plan, State};

/// Loss curve and epoch-end iterates of one run.
pub struct Recorder<'a> {
    objective: &'a dyn Objective,
    data: &'a Dataset,
    per_epoch: u64,
    every: u64,
    /// (epochs, updates, seconds, training loss), the start first and the end last.
    pub losses: Vec<[f64; 4]>,
    /// θ after each epoch, the start first.
    pub epoch_ends: Vec<Vec<f64>>,
}

impl<'a> Recorder<'a> {
    /// Records `per_epoch` times an epoch (at least once per update for short epochs).
    pub fn new(objective: &'a dyn Objective, data: &'a Dataset, per_epoch: u64) -> Self {
        Recorder {
            objective,
            data,
            per_epoch,
            every: 1,
            losses: Vec::new(),
            epoch_ends: Vec::new(),
        }
    }

    fn record(&mut self, s: &State<'_>) {
        let loss = evaluate(&Serial, self.objective, self.data, s.theta).loss;
        self.losses
            .push([s.epoch, s.update as f64, s.seconds, loss]);
    }
}

impl Observer for Recorder<'_> {
    fn on_start(&mut self, plan: &Plan, s: &State<'_>) -> descent::Result<()> {
        self.every = (plan.updates_per_epoch / self.per_epoch.max(1)).max(1);
        self.record(s);
        self.epoch_ends.push(s.theta.to_vec());
        Ok(())
    }

    fn interval(&self) -> u64 {
        self.every
    }

    fn on_step(&mut self, s: &State<'_>) -> descent::Result<Control> {
        self.record(s);
        Ok(Control::Continue)
    }

    fn on_epoch(&mut self, s: &State<'_>) -> descent::Result<Control> {
        self.epoch_ends.push(s.theta.to_vec());
        Ok(Control::Continue)
    }

    fn on_finish(&mut self, s: &State<'_>) -> descent::Result<()> {
        if self.losses.last().map(|l| l[1]) != Some(s.update as f64) {
            self.record(s);
        }
        Ok(())
    }
}

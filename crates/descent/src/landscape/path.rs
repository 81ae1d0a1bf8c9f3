//! An observer that keeps the iterate after every update: the path drawn on a landscape.

use crate::observe::{Control, Observer, Plan, State};
use crate::Result;

/// Every iterate of a run (the start first), and the sample gradients at each.
#[derive(Debug, Clone, Default)]
pub struct PathRecorder {
    /// θ after 0, 1, 2, ... updates.
    pub points: Vec<Vec<f64>>,
    /// Sample gradients spent at each point.
    pub sample_gradients: Vec<u64>,
}

impl Observer for PathRecorder {
    fn on_start(&mut self, _plan: &Plan, state: &State<'_>) -> Result<()> {
        self.points.push(state.iterate.to_vec());
        self.sample_gradients.push(0);
        Ok(())
    }

    fn on_step(&mut self, state: &State<'_>) -> Result<Control> {
        self.points.push(state.iterate.to_vec());
        self.sample_gradients.push(state.sample_gradients);
        Ok(Control::Continue)
    }
}

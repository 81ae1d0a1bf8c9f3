//! Whether a run has settled: endpoints are compared only once runs have stopped moving.
//!
//! [`EpochEnds`] records θ after every epoch; [`judge`] looks at the last
//! [`WINDOW`] + 1 of them. With ‖·‖ the Euclidean norm and `tol` an absolute tolerance in
//! parameter space:
//!
//! - **settled**: every one of the last epochs' θ is within `tol` of the final θ;
//! - **oscillating**: not settled, but θ two epochs back is within `tol` of the final θ while
//!   the epoch between is not (a two-point cycle, as full batch at too large a rate shows);
//! - **moving**: anything else (still drifting, or jumping without a pattern).
//!
//! ```
//! use descent::settle::{judge, Settling};
//! let still = vec![vec![1.0, 2.0]; 6];
//! assert_eq!(judge(&still, 1e-3), Settling::Settled);
//! let cycle: Vec<Vec<f64>> = (0..6).map(|e| vec![(e % 2) as f64, 0.0]).collect();
//! assert_eq!(judge(&cycle, 1e-3), Settling::Oscillating);
//! ```

use crate::observe::{Control, Observer, Plan, State};
use crate::Result;

/// How many epochs before the last one [`judge`] looks at.
pub const WINDOW: usize = 4;

/// The verdict on a run's last epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Settling {
    /// Stopped moving.
    Settled,
    /// Jumping between two points every epoch.
    Oscillating,
    /// Still moving.
    Moving,
}

impl Settling {
    /// `settled`, `oscillating` or `moving`.
    pub fn label(self) -> &'static str {
        match self {
            Settling::Settled => "settled",
            Settling::Oscillating => "oscillating",
            Settling::Moving => "moving",
        }
    }
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Judges the θ recorded after each epoch (the start may come first). Fewer than
/// [`WINDOW`] + 1 points, or non-finite ones, are [`Settling::Moving`].
pub fn judge(points: &[Vec<f64>], tol: f64) -> Settling {
    let n = points.len();
    if n < WINDOW + 1
        || points[n - WINDOW - 1..]
            .iter()
            .flatten()
            .any(|v| !v.is_finite())
    {
        return Settling::Moving;
    }
    let last = &points[n - 1];
    let near = |k: usize| distance(&points[n - 1 - k], last) <= tol;
    if (1..=WINDOW).all(near) {
        Settling::Settled
    } else if near(2) && !near(1) {
        Settling::Oscillating
    } else {
        Settling::Moving
    }
}

/// An observer that keeps θ at the start and after every epoch.
#[derive(Debug, Clone, Default)]
pub struct EpochEnds {
    /// θ at the start, then after each epoch.
    pub points: Vec<Vec<f64>>,
}

impl Observer for EpochEnds {
    fn on_start(&mut self, _plan: &Plan, state: &State<'_>) -> Result<()> {
        self.points.push(state.theta.to_vec());
        Ok(())
    }

    fn interval(&self) -> u64 {
        u64::MAX
    }

    fn on_epoch(&mut self, state: &State<'_>) -> Result<Control> {
        self.points.push(state.theta.to_vec());
        Ok(Control::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drifting_and_short_runs_are_moving_and_a_cycle_is_oscillating() {
        let drift: Vec<Vec<f64>> = (0..8).map(|e| vec![e as f64 * 0.01]).collect();
        assert_eq!(judge(&drift, 0.005), Settling::Moving);
        assert_eq!(judge(&drift, 0.05), Settling::Settled);
        assert_eq!(judge(&drift[..WINDOW], 1.0), Settling::Moving, "too short");
        let cycle: Vec<Vec<f64>> = (0..8).map(|e| vec![0.3 * (e % 2) as f64]).collect();
        assert_eq!(judge(&cycle, 0.01), Settling::Oscillating);
        let mut nan = vec![vec![1.0]; 8];
        nan[5][0] = f64::NAN;
        assert_eq!(judge(&nan, 1.0), Settling::Moving);
    }

    #[test]
    fn epoch_ends_records_the_start_and_every_epoch() {
        use crate::prelude::*;
        let data = Dataset::dense(1, vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0]).unwrap();
        let objective = ModelKind::LeastSquares.build(1, 1, false, 0.0);
        let mut ends = EpochEnds::default();
        let outcome = Trainer::new(objective.as_ref(), &data)
            .regime(Regime::Batch)
            .schedule(Schedule::Constant { eta0: 0.1 })
            .epochs(5)
            .run(&mut [&mut ends])
            .unwrap();
        assert_eq!(ends.points.len(), 6);
        assert_eq!(ends.points[0], vec![0.0]);
        assert_eq!(ends.points[5], outcome.theta);
    }
}

//! Which minimum of a reference surface (the population loss) a training run ends in, for
//! many starts and seeds: the basins study.

use super::minima::{basin_of, Minimum};
use super::Window;
use crate::data::Dataset;
use crate::objective::Objective;
use crate::regime::Regime;
use crate::settle::{judge, EpochEnds, Settling};
use crate::train::Trainer;
use crate::tune::Shape;
use rayon::prelude::*;

/// `n` starts on a square lattice inside `window` (6% from the edges), row by row.
pub fn lattice(window: Window, n: usize) -> Vec<[f64; 2]> {
    let side = (n as f64).sqrt().ceil() as usize;
    let inset = |(lo, hi): (f64, f64), k: usize| {
        lo + (hi - lo) * (0.06 + 0.88 * (k as f64 + 0.5) / side as f64)
    };
    (0..side * side)
        .take(n)
        .map(|k| [inset(window.a, k % side), inset(window.b, k / side)])
        .collect()
}

/// Runs of one method from many starts, each assigned to a minimum of a reference surface.
pub struct BasinStudy<'a> {
    /// The training objective.
    pub objective: &'a dyn Objective,
    /// The training data.
    pub data: &'a Dataset,
    /// The plotted window (sets the step of the assignment and the match radius).
    pub window: Window,
    /// Epochs per run.
    pub epochs: u64,
    /// The reference surface's minima, lowest first.
    pub minima: &'a [Minimum],
    /// The reference surface (population loss).
    pub reference: &'a (dyn Fn(&[f64]) -> f64 + Sync),
}

impl BasinStudy<'_> {
    /// For each start and seed, the index of the minimum the run's end flows into under the
    /// reference surface (`None`: diverged, or no minimum near where it flows), at a constant
    /// rate. Starts run in parallel; the result does not depend on the thread count.
    pub fn outcomes(
        &self,
        regime: Regime,
        lr: f64,
        starts: &[[f64; 2]],
        seeds: &[u64],
    ) -> Vec<Vec<Option<usize>>> {
        self.ends(regime, lr, Shape::Constant, starts, seeds)
            .into_iter()
            .map(|e| e.into_iter().map(|end| end.basin).collect())
            .collect()
    }

    /// For each start and seed, where the run ends: its basin under the reference surface and
    /// whether it had settled ([`crate::settle`], tolerance 1/200 of the window's diagonal).
    /// Starts run in parallel; the result does not depend on the thread count.
    pub fn ends(
        &self,
        regime: Regime,
        lr: f64,
        shape: Shape,
        starts: &[[f64; 2]],
        seeds: &[u64],
    ) -> Vec<Vec<End>> {
        let w = self.window;
        let step = [(w.a.1 - w.a.0) / 50.0, (w.b.1 - w.b.0) / 50.0];
        let diagonal = (w.a.1 - w.a.0).hypot(w.b.1 - w.b.0);
        let radius = diagonal / 20.0;
        let updates = self.epochs * regime.updates_per_epoch(self.data.len());
        starts
            .par_iter()
            .map(|start| {
                seeds
                    .iter()
                    .map(|&seed| {
                        let mut path = EpochEnds::default();
                        let run = Trainer::new(self.objective, self.data)
                            .regime(regime)
                            .schedule(shape.schedule(lr, updates))
                            .epochs(self.epochs)
                            .seed(seed)
                            .initial(start.to_vec())
                            .run(&mut [&mut path]);
                        let Ok(outcome) = run else {
                            return End {
                                basin: None,
                                settling: Settling::Moving,
                                theta: [f64::NAN; 2],
                            };
                        };
                        let theta = [outcome.theta[0], outcome.theta[1]];
                        End {
                            basin: basin_of(self.reference, theta, self.minima, step, radius),
                            settling: judge(&path.points, diagonal / 200.0),
                            theta,
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Where one run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct End {
    /// The reference minimum its end flows into (`None`: diverged or none near).
    pub basin: Option<usize>,
    /// Whether it had stopped moving.
    pub settling: Settling,
    /// The final parameters.
    pub theta: [f64; 2],
}

/// The share of all runs in each minimum, the last entry for runs in none.
pub fn shares(outcomes: &[Vec<Option<usize>>], minima: usize) -> Vec<f64> {
    let mut counts = vec![0u64; minima + 1];
    let mut total = 0u64;
    for ends in outcomes {
        for end in ends {
            counts[end.unwrap_or(minima).min(minima)] += 1;
            total += 1;
        }
    }
    counts
        .iter()
        .map(|&c| c as f64 / total.max(1) as f64)
        .collect()
}

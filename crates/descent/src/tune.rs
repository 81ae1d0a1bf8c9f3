//! The rate rule: how a learning rate is chosen for a method, written once and used by the
//! demo, `compare` and `landscape` alike.
//!
//! **The rule.** A method (a regime with a schedule shape) is trained on the *training* split
//! with every rate of a log grid, for the same budget of sample gradients as the run it is
//! chosen for (so full batch gets as many *updates* as it will have, not one or two), from the
//! same start, once per probe seed. Each rate is scored by the **median over seeds of the final
//! loss on a held-out validation split** (never the test set, never the training loss); a run
//! that fails or ends non-finite scores +∞. The lowest score wins. When the winner sits on the
//! grid's edge the grid is widened by its own ratio on that side, up to
//! [`RateSearch::widen`] times; a pick still on the edge is reported as such
//! ([`Tuned::edge`]). When every rate diverges the rule is an error, never a silent default.
//! Robustness: every probe seed's own best rate is kept ([`Tuned::seed_picks`]), and
//! [`Tuned::agreement`] says how many of them lie within one grid step of the pick.
//!
//! ```
//! use descent::prelude::*;
//! use descent::tune::{holdout, RateSearch, Shape};
//! let xs: Vec<f32> = (0..200).map(|i| (i as f32 / 20.0).sin()).collect();
//! let ys: Vec<f64> = xs.iter().map(|&x| 3.0 * f64::from(x) + 1.0).collect();
//! let data = Dataset::dense(1, xs, ys).unwrap();
//! let (train, validation) = holdout(&data, 0.25, 7).unwrap();
//! let objective = ModelKind::LeastSquares.build(1, 1, true, 0.0);
//! let search = RateSearch::new(objective.as_ref(), &train, &validation, 10);
//! let tuned = search.choose(Regime::Batch).unwrap();
//! assert!(tuned.lr > 0.01 && tuned.edge.is_none());
//! ```

use crate::data::Dataset;
use crate::engine::{evaluate, Serial};
use crate::objective::Objective;
use crate::regime::Regime;
use crate::schedule::Schedule;
use crate::train::Trainer;
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;

/// The default grid: half-decades from 10⁻³ to 10.
pub const GRID: [f64; 9] = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0];

/// Splits `data` into (training, validation) rows: a seeded permutation, the first
/// ⌈`fraction`·M⌉ rows of which are the validation split. Both keep the file's order.
pub fn holdout(data: &Dataset, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::config(
            "validation fraction",
            fraction,
            "a number strictly between 0 and 1",
        ));
    }
    let m = data.len();
    let held = ((fraction * m as f64).ceil() as usize).min(m.saturating_sub(1));
    if held == 0 {
        return Err(Error::Shape {
            what: "rows to split into training and validation".into(),
            expected: "at least 2".into(),
            found: m.to_string(),
        });
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.shuffle(&mut rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed));
    let (mut validation, mut train) = (order[..held].to_vec(), order[held..].to_vec());
    validation.sort_unstable();
    train.sort_unstable();
    Ok((data.select(&train), data.select(&validation)))
}

/// How the rate moves during a run; the rule tunes its η₀.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// η₀ throughout.
    Constant,
    /// η₀ / (1 + (k − 1)·t/T) over a run of T updates: the last update's rate is η₀/k,
    /// whatever the batch size (the decay is a function of the fraction of the run done).
    Decaying {
        /// k > 1: how much smaller the last rate is than the first.
        factor: f64,
    },
}

impl Shape {
    /// The schedule with base rate `eta0` for a run of `updates` updates.
    pub fn schedule(self, eta0: f64, updates: u64) -> Schedule {
        match self {
            Shape::Constant => Schedule::Constant { eta0 },
            Shape::Decaying { factor } => Schedule::InverseTime {
                eta0,
                decay: (factor - 1.0).max(0.0) / (eta0 * updates.max(1) as f64),
            },
        }
    }

    /// A short name for tables (`constant`, `decaying ×10`).
    pub fn label(self) -> String {
        match self {
            Shape::Constant => "constant".into(),
            Shape::Decaying { factor } => format!("decaying ×{factor}"),
        }
    }
}

/// The probes of one rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// The rate.
    pub lr: f64,
    /// The final validation loss of each probe seed (`None`: diverged).
    pub losses: Vec<Option<f64>>,
    /// The median over seeds, diverged runs counting as +∞.
    pub score: f64,
}

/// Which edge of the grid a pick sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The smallest rate tried.
    Low,
    /// The largest rate tried.
    High,
}

/// The rule's choice for one method.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned {
    /// The regime tuned.
    pub regime: Regime,
    /// The chosen base rate.
    pub lr: f64,
    /// Every rate tried, smallest first.
    pub trials: Vec<Trial>,
    /// `Some` when the pick is on the edge of the (widened) grid.
    pub edge: Option<Edge>,
    /// Each probe seed's own best rate.
    pub seed_picks: Vec<f64>,
}

impl Tuned {
    /// The share of probe seeds whose own best rate is within one grid step of the pick.
    pub fn agreement(&self) -> f64 {
        let index = |lr: f64| {
            self.trials
                .iter()
                .position(|t| t.lr.to_bits() == lr.to_bits())
        };
        let pick = index(self.lr).unwrap_or(0) as i64;
        let near = self
            .seed_picks
            .iter()
            .filter(|&&p| index(p).is_some_and(|k| (k as i64 - pick).abs() <= 1))
            .count();
        near as f64 / self.seed_picks.len().max(1) as f64
    }

    /// The largest rate at which no probe seed diverged (0 if none).
    pub fn largest_stable(&self) -> f64 {
        self.trials
            .iter()
            .filter(|t| t.losses.iter().all(Option::is_some))
            .map(|t| t.lr)
            .fold(0.0, f64::max)
    }
}

/// The rule's inputs: what is trained, on which splits, for how long, how often.
pub struct RateSearch<'a> {
    /// The objective trained.
    pub objective: &'a dyn Objective,
    /// The training split.
    pub train: &'a Dataset,
    /// The validation split that scores each rate.
    pub validation: &'a Dataset,
    /// The budget in epochs of the training split (the same sample gradients for every method).
    pub epochs: u64,
    /// The start (default: zero).
    pub start: Option<Vec<f64>>,
    /// The probe seeds.
    pub seeds: Vec<u64>,
    /// The rate's shape over the run.
    pub shape: Shape,
    /// The initial grid (ascending).
    pub grid: Vec<f64>,
    /// How many rates may be added on an edge.
    pub widen: usize,
}

impl<'a> RateSearch<'a> {
    /// The rule with its defaults: [`GRID`], three probe seeds (1, 2, 3), a constant rate,
    /// widening up to three times.
    pub fn new(
        objective: &'a dyn Objective,
        train: &'a Dataset,
        validation: &'a Dataset,
        epochs: u64,
    ) -> Self {
        RateSearch {
            objective,
            train,
            validation,
            epochs,
            start: None,
            seeds: vec![1, 2, 3],
            shape: Shape::Constant,
            grid: GRID.to_vec(),
            widen: 3,
        }
    }

    /// The final validation loss of one probe (`None`: diverged).
    fn probe(&self, regime: Regime, lr: f64, seed: u64) -> Option<f64> {
        let updates = self.epochs * regime.updates_per_epoch(self.train.len());
        let mut trainer = Trainer::new(self.objective, self.train)
            .regime(regime)
            .schedule(self.shape.schedule(lr, updates))
            .epochs(self.epochs)
            .seed(seed);
        if let Some(start) = &self.start {
            trainer = trainer.initial(start.clone());
        }
        let theta = trainer.run(&mut []).ok()?.theta;
        let loss = evaluate(&Serial, self.objective, self.validation, &theta).loss;
        loss.is_finite().then_some(loss)
    }

    /// Every seed's probe of `lr`.
    fn trial(&self, regime: Regime, lr: f64) -> Trial {
        let losses: Vec<Option<f64>> = self
            .seeds
            .par_iter()
            .map(|&s| self.probe(regime, lr, s))
            .collect();
        let mut sorted: Vec<f64> = losses.iter().map(|l| l.unwrap_or(f64::INFINITY)).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let score = if n == 0 {
            f64::INFINITY
        } else if n % 2 == 1 {
            sorted[n / 2]
        } else {
            0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
        };
        Trial {
            lr,
            losses,
            score: if score.is_nan() { f64::INFINITY } else { score },
        }
    }

    /// Applies the rule to `regime`.
    pub fn choose(&self, regime: Regime) -> Result<Tuned> {
        if self.grid.is_empty() || self.seeds.is_empty() || self.epochs == 0 {
            return Err(Error::config(
                "rate search",
                format!(
                    "{} rates, {} seeds, {} epochs",
                    self.grid.len(),
                    self.seeds.len(),
                    self.epochs
                ),
                "at least one rate, one seed and one epoch",
            ));
        }
        let mut trials: Vec<Trial> = self
            .grid
            .par_iter()
            .map(|&lr| self.trial(regime, lr))
            .collect();
        let ratio = |a: f64, b: f64| if a > 0.0 && b > a { b / a } else { 3.0 };
        let best = |trials: &[Trial]| {
            (0..trials.len()).min_by(|&a, &b| trials[a].score.total_cmp(&trials[b].score))
        };
        for _ in 0..self.widen {
            let Some(k) = best(&trials) else { break };
            let n = trials.len();
            // A pick on the low edge, or every rate diverged: look below the grid.
            if k == 0 || trials[k].score.is_infinite() {
                let r = ratio(trials[0].lr, trials.get(1).map_or(0.0, |t| t.lr));
                trials.insert(0, self.trial(regime, trials[0].lr / r));
            } else if k == n - 1 {
                let r = ratio(trials[n - 2].lr, trials[n - 1].lr);
                trials.push(self.trial(regime, trials[n - 1].lr * r));
            } else {
                break;
            }
        }
        let k = best(&trials).unwrap_or(0);
        if trials[k].score.is_infinite() {
            return Err(Error::Diverged {
                step: 0,
                epoch: 0,
                loss: f64::INFINITY,
                hint: format!(
                    "every rate from {} to {} diverged for {regime}; standardize the features or try smaller rates",
                    trials[0].lr,
                    trials[trials.len() - 1].lr
                ),
                last_good: None,
                smaller_lr: trials[0].lr / 10.0,
            });
        }
        let edge = if k == 0 && trials.len() > 1 {
            Some(Edge::Low)
        } else if k == trials.len() - 1 && trials.len() > 1 {
            Some(Edge::High)
        } else {
            None
        };
        let seed_picks = (0..self.seeds.len())
            .map(|s| {
                trials
                    .iter()
                    .min_by(|a, b| {
                        let v = |t: &Trial| t.losses[s].unwrap_or(f64::INFINITY);
                        v(a).total_cmp(&v(b))
                    })
                    .map_or(f64::NAN, |t| t.lr)
            })
            .collect();
        Ok(Tuned {
            regime,
            lr: trials[k].lr,
            trials,
            edge,
            seed_picks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::ModelKind;

    fn line(m: usize) -> Dataset {
        let xs: Vec<f32> = (0..m)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let ys: Vec<f64> = xs
            .iter()
            .enumerate()
            .map(|(i, &x)| 2.0 * f64::from(x) - 0.5 + 0.1 * ((i * 31 % 17) as f64 / 8.0 - 1.0))
            .collect();
        Dataset::dense(1, xs, ys).unwrap()
    }

    #[test]
    fn holdout_splits_every_row_once_and_is_seeded() {
        let data = line(103);
        let (train, validation) = holdout(&data, 0.2, 5).unwrap();
        assert_eq!((train.len(), validation.len()), (82, 21));
        let mut targets: Vec<f64> = train.targets().to_vec();
        targets.extend_from_slice(validation.targets());
        let mut all = data.targets().to_vec();
        targets.sort_by(f64::total_cmp);
        all.sort_by(f64::total_cmp);
        assert_eq!(targets, all, "every row in exactly one split");
        let again = holdout(&data, 0.2, 5).unwrap().1;
        assert_eq!(again.targets(), validation.targets());
        let other = holdout(&data, 0.2, 6).unwrap().1;
        assert_ne!(other.targets(), validation.targets());
        assert!(holdout(&data, 1.0, 5).is_err());
        assert!(holdout(&line(1), 0.5, 5).is_err());
    }

    #[test]
    fn the_rule_picks_the_lowest_median_validation_loss_and_widens_its_edge() {
        let data = line(200);
        let (train, validation) = holdout(&data, 0.25, 1).unwrap();
        let objective = ModelKind::LeastSquares.build(1, 1, true, 0.0);
        let mut search = RateSearch::new(objective.as_ref(), &train, &validation, 3);
        search.grid = vec![1e-4, 3e-4, 1e-3];
        search.widen = 0;
        let narrow = search.choose(Regime::Batch).unwrap();
        assert_eq!(
            narrow.lr.to_bits(),
            1e-3f64.to_bits(),
            "slow rates: the largest wins"
        );
        assert_eq!(narrow.edge, Some(Edge::High));
        search.widen = 20;
        let wide = search.choose(Regime::Batch).unwrap();
        assert!(wide.trials.len() > 3 && wide.edge.is_none(), "{wide:?}");
        // The pick is the lowest score of all the trials, recomputed here.
        let best = wide
            .trials
            .iter()
            .min_by(|a, b| a.score.total_cmp(&b.score))
            .unwrap();
        assert_eq!(best.lr.to_bits(), wide.lr.to_bits());
        for t in &wide.trials {
            let mut v: Vec<f64> = t
                .losses
                .iter()
                .map(|l| l.unwrap_or(f64::INFINITY))
                .collect();
            v.sort_by(f64::total_cmp);
            assert_eq!(t.score.to_bits(), v[1].to_bits(), "median of three");
        }
        assert!(wide.agreement() > 0.0 && wide.agreement() <= 1.0);
        assert!(wide.largest_stable() >= wide.lr);
    }

    #[test]
    fn every_rate_diverging_is_an_error_not_a_default() {
        let data = line(50);
        let (train, validation) = holdout(&data, 0.2, 1).unwrap();
        let objective = ModelKind::LeastSquares.build(1, 1, true, 0.0);
        let mut search = RateSearch::new(objective.as_ref(), &train, &validation, 50);
        search.grid = vec![1e6, 1e7];
        search.widen = 0;
        let error = search.choose(Regime::Batch).unwrap_err().to_string();
        assert!(
            error.contains("every rate from 1000000 to 10000000 diverged"),
            "{error}"
        );
    }

    #[test]
    fn a_decaying_shape_ends_at_its_fraction_of_the_base_rate() {
        let s = Shape::Decaying { factor: 10.0 }.schedule(0.5, 1000);
        assert!((s.rate(0) - 0.5).abs() < 1e-15);
        assert!((s.rate(1000) - 0.05).abs() < 1e-12);
        assert_eq!(
            Shape::Constant.schedule(0.5, 1000).rate(999).to_bits(),
            0.5f64.to_bits()
        );
    }
}

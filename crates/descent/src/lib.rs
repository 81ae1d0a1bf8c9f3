//! # descent
//!
//! Full-batch, mini-batch and stochastic gradient descent in one training loop, for linear
//! models on dense and sparse data, with the measurements that show how the regimes differ.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! data → objective → regime (sampler) → engine → optim + schedule → step (the update rule)
//!      → train (the one loop) → observe (trace, progress) → model (save, predict)
//! ```
//!
//! [`fit`] runs the whole pipeline from files (what `descent train` does); [`Trainer`](train::Trainer)
//! runs the loop on data in memory or on any source of batches. The [`prelude`] holds the types
//! most programs need.
//!
//! ```
//! use descent::prelude::*;
//! // y = 2x − 1, learned by SGD.
//! let xs: Vec<f32> = (0..50).map(|i| i as f32 / 50.0).collect();
//! let ys: Vec<f64> = xs.iter().map(|&x| 2.0 * f64::from(x) - 1.0).collect();
//! let data = Dataset::dense(1, xs, ys).unwrap();
//! let objective = ModelKind::LeastSquares.build(1, 1, true, 0.0);
//! let outcome = Trainer::new(objective.as_ref(), &data)
//!     .regime(Regime::Sgd)
//!     .schedule(Schedule::Constant { eta0: 0.2 })
//!     .epochs(300)
//!     .seed(7)
//!     .run(&mut [])
//!     .unwrap();
//! assert!((outcome.theta[0] - 2.0).abs() < 1e-3 && (outcome.theta[1] + 1.0).abs() < 1e-3);
//! ```

#![deny(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod batches;
pub mod bench;
pub mod checkpoint;
pub mod data;
pub mod divergence;
pub mod engine;
mod error;
pub mod fit;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod hogwild;
pub mod kernels;
pub mod labels;
pub mod landscape;
pub mod model;
pub mod objective;
pub mod observe;
pub mod optim;
pub mod output;
pub mod regime;
pub mod schedule;
pub mod settle;
pub mod shard;
pub mod step;
pub mod trace;
pub mod train;
pub mod tune;

pub use error::{Error, Result};

/// The types most programs need: data, objectives, regimes, optimizers, schedules, the
/// trainer and the whole-run entry point, models, observers, landscapes.
pub mod prelude {
    pub use crate::data::{Dataset, ReadOptions, Row};
    pub use crate::divergence::OnDivergence;
    pub use crate::engine::{Engine, Serial, Threads};
    pub use crate::fit::{fit, Fitted, Hooks, Mode, Optimizer, RunSpec};
    pub use crate::landscape::Problem;
    pub use crate::model::SavedModel;
    pub use crate::objective::{ModelKind, Objective};
    pub use crate::observe::{Control, Observer, State};
    pub use crate::optim::{Chain, Momentum};
    pub use crate::regime::{Regime, Sampling};
    pub use crate::schedule::{Schedule, ScheduleSpec};
    pub use crate::step::RuleKind;
    pub use crate::train::{Outcome, Trainer};
    pub use crate::{Error, Result};
}

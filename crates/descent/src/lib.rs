//! # descent
//!
//! Full-batch, mini-batch and stochastic gradient descent in one training loop, for linear
//! models on dense and sparse data, with the measurements that show how the regimes differ.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! data → objective → regime (sampler) → engine → optim + schedule → train (the one loop)
//!      → observe (trace, progress) → model (save, predict)
//! ```
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

pub mod atomic;
pub mod batches;
pub mod bench;
pub mod checkpoint;
pub mod data;
pub mod divergence;
pub mod engine;
mod error;
pub mod fuzz;
pub mod hogwild;
pub mod labels;
pub mod landscape;
pub mod model;
pub mod objective;
pub mod observe;
pub mod optim;
pub mod regime;
pub mod schedule;
pub mod settle;
pub mod shard;
pub mod step;
pub mod trace;
pub mod train;
pub mod tune;

pub use error::{Error, Result};

/// The types most programs need.
pub mod prelude {
    pub use crate::data::{Dataset, Row};
    pub use crate::engine::{Engine, Serial, Threads};
    pub use crate::objective::{ModelKind, Objective};
    pub use crate::optim::{Chain, Momentum};
    pub use crate::regime::{Regime, Sampling};
    pub use crate::schedule::Schedule;
    pub use crate::train::{Outcome, Trainer};
    pub use crate::{Error, Result};
}

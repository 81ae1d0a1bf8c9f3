//! The training loop: the only place where parameters are updated, for every regime.
//!
//! For each epoch the [`Sampler`](crate::regime::Sampler) draws the order of the samples from the seeded RNG and cuts
//! it into batches B_t of the regime's size; every update is
//!
//! ```text
//! g = (1/|B_t|) Σ_{i∈B_t} ∇ℓ(θ; xᵢ, yᵢ) + ∇R(θ)
//! θ ← θ − η_t · T(g)
//! ```
//!
//! with T the optimizer's [`Chain`] and η_t the [`Schedule`]. Full batch, mini-batch and SGD
//! differ only in |B_t|. Initial parameters are zero unless given. Same seed, data and
//! settings give bit-identical parameters, whatever the engine's thread count.
//!
//! ```
//! use descent::prelude::*;
//! let data = Dataset::dense(1, vec![1.0, 2.0, 3.0], vec![2.0, 4.0, 6.0]).unwrap();
//! let objective = ModelKind::LeastSquares.build(1, 1, false, 0.0);
//! let outcome = Trainer::new(objective.as_ref(), &data)
//!     .regime(Regime::Batch)
//!     .schedule(Schedule::Constant { eta0: 0.1 })
//!     .epochs(200)
//!     .run(&mut [])
//!     .unwrap();
//! assert!((outcome.theta[0] - 2.0).abs() < 1e-9);
//! ```

use crate::batches::{Batches, InMemory, Rng};
use crate::data::Dataset;
use crate::engine::{batch_sums, Engine, Serial};
use crate::lazy::{self, LazyLinear};
use crate::objective::Objective;
use crate::observe::{Control, Observer, Plan, State};
use crate::optim::{Average, Chain};
use crate::regime::{Regime, Sampling};
use crate::schedule::Schedule;
use crate::{Error, Result};
use rand::SeedableRng;
use std::time::{Duration, Instant};

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The trained parameters: the averaged iterate when averaging is on, else the last one.
    pub theta: Vec<f64>,
    /// The last iterate.
    pub iterate: Vec<f64>,
    /// Updates made.
    pub updates: u64,
    /// Per-sample gradients evaluated.
    pub sample_gradients: u64,
    /// Epochs run (a fraction if an observer stopped the run mid-epoch).
    pub epochs: f64,
    /// Training time, not counting observers.
    pub seconds: f64,
}

/// The data a run trains on.
enum Input<'a> {
    /// A data set in memory, batched by the trainer's regime and sampling rule.
    Memory(&'a Dataset),
    /// Batches from elsewhere (a stream), which fix their own regime.
    Batches(&'a mut dyn Batches),
}

/// Configures and runs one training run.
pub struct Trainer<'a> {
    objective: &'a dyn Objective,
    input: Option<Input<'a>>,
    engine: &'a dyn Engine,
    regime: Regime,
    sampling: Sampling,
    schedule: Schedule,
    chain: Chain,
    average: Option<u64>,
    epochs: u64,
    seed: u64,
    initial: Option<Vec<f64>>,
    fast_paths: bool,
}

impl<'a> Trainer<'a> {
    /// A trainer on `data` with defaults: SGD, shuffled, constant rate 0.01, 5 epochs,
    /// seed 0, serial.
    pub fn new(objective: &'a dyn Objective, data: &'a Dataset) -> Self {
        Self::with_input(objective, Input::Memory(data))
    }

    /// A trainer on batches from `source` (which fixes the regime and sampling itself).
    pub fn on_batches(objective: &'a dyn Objective, source: &'a mut dyn Batches) -> Self {
        Self::with_input(objective, Input::Batches(source))
    }

    fn with_input(objective: &'a dyn Objective, input: Input<'a>) -> Self {
        Trainer {
            objective,
            input: Some(input),
            engine: &Serial,
            regime: Regime::Sgd,
            sampling: Sampling::Shuffle,
            schedule: Schedule::Constant { eta0: 0.01 },
            chain: Chain::new(),
            average: None,
            epochs: 5,
            seed: 0,
            initial: None,
            fast_paths: true,
        }
    }

    /// The engine that sums batch gradients.
    pub fn engine(mut self, engine: &'a dyn Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The batch regime.
    pub fn regime(mut self, regime: Regime) -> Self {
        self.regime = regime;
        self
    }

    /// The sampling rule.
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// The learning-rate schedule.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// The optimizer's transform chain.
    pub fn optimizer(mut self, chain: Chain) -> Self {
        self.chain = chain;
        self
    }

    /// Polyak–Ruppert averaging from update `start` (`None`: off).
    pub fn average(mut self, start: Option<u64>) -> Self {
        self.average = start;
        self
    }

    /// Number of epochs.
    pub fn epochs(mut self, epochs: u64) -> Self {
        self.epochs = epochs;
        self
    }

    /// The seed of every random choice.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether equivalent fast paths may replace the generic update (default: yes). The only
    /// one so far: O(nnz) steps on batches of up to 256 samples for L2 linear models without momentum
    /// ([`crate::lazy`]), equal to the generic path to rounding.
    pub fn fast_paths(mut self, on: bool) -> Self {
        self.fast_paths = on;
        self
    }

    /// Starting parameters (default: zeros).
    pub fn initial(mut self, theta: Vec<f64>) -> Self {
        self.initial = Some(theta);
        self
    }

    /// Runs the loop, reporting to `observers`.
    pub fn run(mut self, observers: &mut [&mut dyn Observer]) -> Result<Outcome> {
        match self.input.take() {
            Some(Input::Memory(data)) => {
                let mut source = InMemory::new(data, self.regime, self.sampling);
                self.run_on(&mut source, observers)
            }
            Some(Input::Batches(source)) => self.run_on(source, observers),
            None => unreachable!("a trainer is built with an input and runs once"),
        }
    }

    fn run_on(
        mut self,
        source: &mut dyn Batches,
        observers: &mut [&mut dyn Observer],
    ) -> Result<Outcome> {
        let objective = self.objective;
        let (m, dim) = (source.samples(), objective.dim());
        self.check(source)?;
        let mut theta = self
            .initial
            .take()
            .unwrap_or_else(|| objective.initial_parameters(self.seed));
        let mut rng = Rng::seed_from_u64(self.seed);
        let mut sums = vec![0.0; dim + 1];
        let plan = Plan {
            samples: m,
            dim,
            updates_per_epoch: source.updates_per_epoch(),
            epochs: self.epochs,
        };
        // Small batches of an L2 linear model without momentum: O(nnz) per update.
        let small_batches = m as u64 <= lazy::MAX_BATCH as u64 * plan.updates_per_epoch;
        let mut lazy = (self.fast_paths && self.chain.is_empty() && small_batches)
            .then(|| objective.margin_model())
            .flatten()
            .map(|model| LazyLinear::new(model, &theta, self.average));
        let mut average = match lazy {
            Some(_) => None,
            None => self.average.map(|start| Average::new(start, &theta)),
        };
        let mut lazy_mean = match (&lazy, self.average) {
            (Some(_), Some(_)) => theta.clone(),
            _ => Vec::new(),
        };
        let (mut t, mut seen, mut busy) = (0u64, 0u64, Duration::ZERO);
        let (mut lr, mut batch_loss) = (f64::NAN, f64::NAN);
        macro_rules! state {
            () => {
                State {
                    update: t,
                    epoch: seen as f64 / m as f64,
                    sample_gradients: seen,
                    seconds: busy.as_secs_f64(),
                    lr,
                    batch_loss,
                    theta: if lazy_mean.is_empty() {
                        average.as_ref().map_or(&theta[..], |a| a.mean())
                    } else {
                        &lazy_mean[..]
                    },
                    iterate: &theta,
                }
            };
        }
        macro_rules! materialize {
            () => {
                if let Some(lz) = &lazy {
                    lz.parameters(&mut theta);
                    if !lazy_mean.is_empty() {
                        lz.average(&mut lazy_mean);
                    }
                }
            };
        }
        for o in observers.iter_mut() {
            o.on_start(&plan, &state!())?;
        }
        let due = |observers: &[&mut dyn Observer], n: u64| {
            observers.iter().any(|o| n % o.interval().max(1) == 0)
        };
        'epochs: for epoch in 0..self.epochs {
            // Training time runs in segments between observer calls (no clock read per step).
            let mut running = Instant::now();
            source.start_epoch(&mut rng)?;
            while let Some((data, batch)) = source.next_batch(&mut rng)? {
                lr = self.schedule.rate(t);
                let observed = due(observers, t + 1);
                if let Some(lz) = &mut lazy {
                    let loss = lz.step(data, batch, lr, t + 1, observed);
                    if !loss.is_finite() {
                        return Err(diverged(t, epoch, loss, lr));
                    }
                    if observed {
                        batch_loss = loss;
                    }
                } else {
                    batch_sums(self.engine, objective, data, &theta, batch, &mut sums);
                    let (grad, loss) = sums.split_at_mut(dim);
                    let size = batch.len() as f64;
                    grad.iter_mut().for_each(|g| *g /= size);
                    batch_loss = loss[0] / size + objective.penalty(&theta);
                    if !batch_loss.is_finite() {
                        return Err(diverged(t, epoch, batch_loss, lr));
                    }
                    objective.add_penalty_gradient(&theta, grad);
                    self.chain.apply(t, &theta, grad);
                    for (p, g) in theta.iter_mut().zip(grad.iter()) {
                        *p -= lr * g;
                    }
                }
                t += 1;
                seen += batch.len() as u64;
                if let Some(a) = &mut average {
                    a.update(t, &theta);
                }
                if observed {
                    busy += running.elapsed();
                    materialize!();
                    let mut stop = false;
                    for o in observers.iter_mut() {
                        if t % o.interval().max(1) == 0 {
                            stop |= o.on_step(&state!())? == Control::Stop;
                        }
                    }
                    if stop {
                        break 'epochs;
                    }
                    running = Instant::now();
                }
            }
            busy += running.elapsed();
            materialize!();
            let mut stop = false;
            for o in observers.iter_mut() {
                stop |= o.on_epoch(&state!())? == Control::Stop;
            }
            if stop {
                break;
            }
        }
        materialize!();
        if theta.iter().any(|p| !p.is_finite()) {
            return Err(diverged(t, plan.epochs, f64::NAN, lr));
        }
        for o in observers.iter_mut() {
            o.on_finish(&state!())?;
        }
        let outcome = Outcome {
            theta: if lazy_mean.is_empty() {
                average.map_or_else(|| theta.clone(), |a| a.mean().to_vec())
            } else {
                lazy_mean
            },
            iterate: theta,
            updates: t,
            sample_gradients: seen,
            epochs: seen as f64 / m as f64,
            seconds: busy.as_secs_f64(),
        };
        Ok(outcome)
    }

    fn check(&self, source: &dyn Batches) -> Result<()> {
        if source.samples() == 0 {
            return Err(Error::Shape {
                what: format!("samples in {}", source.describe()),
                expected: "at least 1".into(),
                found: "0".into(),
            });
        }
        if self.objective.n_features() != source.dim() {
            return Err(Error::Shape {
                what: format!("features of {}", source.describe()),
                expected: self.objective.n_features().to_string(),
                found: source.dim().to_string(),
            });
        }
        if let Some(theta) = &self.initial {
            if theta.len() != self.objective.dim() {
                return Err(Error::Shape {
                    what: "initial parameters".into(),
                    expected: self.objective.dim().to_string(),
                    found: theta.len().to_string(),
                });
            }
        }
        Ok(())
    }
}

fn diverged(step: u64, epoch: u64, loss: f64, lr: f64) -> Error {
    Error::Diverged {
        step,
        epoch,
        loss,
        hint: format!(
            "the learning rate {lr} is too large for this data or the features are badly scaled: \
             try --lr {}, --standardize, or a decaying --schedule such as inverse-time",
            lr / 10.0
        ),
    }
}

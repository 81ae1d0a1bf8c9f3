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

mod recovery;
mod run;
mod watch;

use crate::batches::{Batches, InMemory};
use crate::checkpoint::{Checkpoint, Checkpointing};
use crate::data::Dataset;
use crate::divergence::{OnDivergence, Verdict};
use crate::engine::{batch_sums, Engine, Serial};
use crate::objective::Objective;
use crate::observe::{Observer, Plan};
use crate::optim::Chain;
use crate::regime::{Regime, Sampling};
use crate::schedule::Schedule;
use crate::step::{self, lazy_sparse, Choice, RuleKind, Situation, UpdateRule, WithRule};
use crate::{Error, Result};
use recovery::Recovery;
use run::Run;
use std::sync::atomic::AtomicBool;
use watch::{notify, Watch};

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
    /// The divergence monitor's reference: the objective at the starting parameters on the
    /// data's first rows (`None` for a stream that gave no positive batch loss).
    pub start_loss: Option<f64>,
    /// The update rule that ran.
    pub update_rule: RuleKind,
    /// Why a faster update rule could not run, when the settings were in its way.
    pub rule_note: Option<String>,
}

/// Model averaging between data-parallel processes that each train on their own data
/// (local SGD): every [`every`](Consensus::every) updates, each process's parameters are
/// replaced by the mean over all processes. This is another algorithm than one process's
/// SGD (the processes' steps between averagings see only their own rows); it trades
/// agreement with the serial sequence for one exchange of parameters per K updates.
pub trait Consensus {
    /// Updates between averagings (K ≥ 1).
    fn every(&self) -> u64;
    /// Replaces `theta` by the mean of every process's `theta`.
    fn average(&self, theta: &mut [f64]) -> Result<()>;
}

/// The loop, waiting for its rule ([`step::build_into`]).
struct Drive<'t, 's, 'o, 'p> {
    trainer: Trainer<'t>,
    source: &'s mut dyn Batches,
    observers: &'o mut [&'p mut dyn Observer],
    plan: Plan,
    choice: Choice,
}

impl<'t> WithRule<'t> for Drive<'t, '_, '_, '_> {
    type Output = Result<Outcome>;

    fn with<R: UpdateRule + 't>(self, rule: R) -> Result<Outcome> {
        let Drive {
            trainer,
            source,
            observers,
            plan,
            choice,
        } = self;
        trainer.drive(rule, source, observers, (plan, choice))
    }
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
    checkpointing: Option<Checkpointing>,
    resume: Option<Checkpoint>,
    on_divergence: OnDivergence,
    interrupt: Option<&'a AtomicBool>,
    consensus: Option<&'a dyn Consensus>,
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
            checkpointing: None,
            resume: None,
            on_divergence: OnDivergence::Stop,
            interrupt: None,
            consensus: None,
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

    /// Whether equivalent fast update rules may replace the generic one (default: yes), each
    /// equal to it to rounding: O(nnz) steps on small sparse batches for L2 linear models,
    /// without momentum (`lazy-sparse`, also on dense single samples and pairs) and with it
    /// (`lazy-momentum`, without iterate averaging); [`step::choose`] decides.
    pub fn fast_paths(mut self, on: bool) -> Self {
        self.fast_paths = on;
        self
    }

    /// Starting parameters (default: zeros).
    pub fn initial(mut self, theta: Vec<f64>) -> Self {
        self.initial = Some(theta);
        self
    }

    /// Writes checkpoints as `checkpointing` says (and one when [`interrupt`](Trainer::interrupt)
    /// is raised).
    pub fn checkpoint(mut self, checkpointing: Checkpointing) -> Self {
        self.checkpointing = Some(checkpointing);
        self
    }

    /// Continues the run saved in `checkpoint` (made with the same data and settings; the
    /// number of epochs may be larger).
    pub fn resume(mut self, checkpoint: Checkpoint) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// What to do when the loss diverges (default: stop with an error).
    pub fn on_divergence(mut self, rule: OnDivergence) -> Self {
        self.on_divergence = rule;
        self
    }

    /// A flag (set by a Ctrl-C handler) that stops the run after the current update, writing
    /// a checkpoint first when checkpointing is on; the run then ends with
    /// [`Error::Interrupted`].
    pub fn interrupt(mut self, flag: &'a AtomicBool) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// Averages the parameters with other processes every K updates (local SGD; the
    /// generic update path, no iterate averaging).
    pub fn consensus(mut self, consensus: &'a dyn Consensus) -> Self {
        self.consensus = Some(consensus);
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

    /// Chooses the update rule and runs the loop with it.
    fn run_on(
        mut self,
        source: &mut dyn Batches,
        observers: &mut [&mut dyn Observer],
    ) -> Result<Outcome> {
        self.check(source)?;
        let objective = self.objective;
        let (m, dim) = (source.samples(), objective.dim());
        let theta = self
            .initial
            .take()
            .unwrap_or_else(|| objective.initial_parameters(self.seed));
        let plan = Plan {
            samples: m,
            dim,
            updates_per_epoch: source.updates_per_epoch(),
            epochs: self.epochs,
        };
        let most = if source.sparse() {
            lazy_sparse::MAX_BATCH
        } else {
            lazy_sparse::MAX_DENSE_BATCH
        };
        let choice = step::choose(&Situation {
            margin_model: objective.margin_model().is_some(),
            sparse: source.sparse(),
            small_batches: m as u64 <= most as u64 * plan.updates_per_epoch,
            fast_rules: self.fast_paths,
            consensus: self.consensus.is_some(),
            chain: self.chain.lazy_form(),
            averaging: self.average.is_some(),
        });
        let (engine, chain, average) = (self.engine, std::mem::take(&mut self.chain), self.average);
        let drive = Drive {
            trainer: self,
            source,
            observers,
            plan,
            choice: choice.clone(),
        };
        step::build_into(
            choice.rule,
            (objective, engine),
            chain,
            (theta, average),
            drive,
        )
    }

    /// The loop: draw a batch, step, observe; checkpoints, divergence and model averaging
    /// are helpers beside it.
    fn drive<R: UpdateRule>(
        mut self,
        rule: R,
        source: &mut dyn Batches,
        observers: &mut [&mut dyn Observer],
        (plan, choice): (Plan, Choice),
    ) -> Result<Outcome> {
        let mut run = self.start(rule, source, observers, &plan)?;
        let watch = Watch::new(observers);
        let mut recovery = Recovery::new(&self, &run, observers)?;
        run.clock.start();
        loop {
            let Some(batch) = source.next_batch(&mut run.rng)? else {
                run.end_epoch();
                let stop = notify(observers, &run, |o, s| o.on_epoch(s))?;
                if stop || run.epoch >= plan.epochs {
                    break;
                }
                run.start_epoch(source)?;
                recovery.at_epoch_start(&run, observers)?;
                continue;
            };
            let n = run.update + 1;
            let (called, observed) = watch.due(n);
            let due = recovery.due(n, batch.size);
            if let Verdict::Diverged(loss) =
                run.step(&self.schedule, batch, observed, due.checkpoint)
            {
                recovery.retry(&self, &mut run, source, observers, loss)?;
                continue;
            }
            self.average_with_others(&mut run, false)?;
            let stop = called && watch.notify(observers, &mut run, observed)?;
            recovery.after_update(&self, &mut run, observers, due)?;
            if stop {
                break;
            }
        }
        self.finish(run, observers, choice)
    }

    /// Goes to the first update with `rule`: the start, or the checkpoint's state.
    fn start<R: UpdateRule>(
        &mut self,
        rule: R,
        source: &mut dyn Batches,
        observers: &mut [&mut dyn Observer],
        plan: &Plan,
    ) -> Result<Run<R>> {
        let (objective, dim) = (self.objective, plan.dim);
        let mut run = Run::new(rule, self.seed, plan.samples, plan.updates_per_epoch);
        match self.resume.take() {
            Some(checkpoint) => {
                if checkpoint.state.epoch >= self.epochs {
                    return Err(Error::config(
                        "epochs",
                        self.epochs,
                        format!(
                            "the checkpoint is in epoch {} of its run: at least {}",
                            checkpoint.state.epoch + 1,
                            checkpoint.state.epoch + 1
                        ),
                    ));
                }
                run.restore(checkpoint.state, source)?;
                for o in observers.iter_mut() {
                    o.on_resume(plan, &run.state(), &checkpoint.observers)?;
                }
            }
            None => {
                if let Some((data, rows)) = source.probe() {
                    let rows: Vec<usize> = (0..rows).collect();
                    let theta = run.rule.iterate();
                    let mut sums = vec![0.0; dim + 1];
                    batch_sums(self.engine, objective, data, theta, &rows, &mut sums);
                    let loss = sums[dim] / rows.len().max(1) as f64 + objective.penalty(theta);
                    run.health.set_reference(loss);
                }
                run.start_epoch(source)?;
                run.clock.stop();
                for o in observers.iter_mut() {
                    o.on_start(plan, &run.state())?;
                }
            }
        }
        Ok(run)
    }

    /// Model averaging with the other processes, when it is due (every K updates; `last`:
    /// the run's end, where the model must be the processes' mean).
    fn average_with_others(&self, run: &mut Run<impl UpdateRule>, last: bool) -> Result<()> {
        let Some(c) = self.consensus else {
            return Ok(());
        };
        if run.update.is_multiple_of(c.every().max(1)) != last {
            run.rule.edit_iterate(&mut |theta| c.average(theta))?;
        }
        Ok(())
    }

    /// The end of the run: the parameters checked, the observers told, the outcome.
    fn finish(
        &self,
        mut run: Run<impl UpdateRule>,
        observers: &mut [&mut dyn Observer],
        choice: Choice,
    ) -> Result<Outcome> {
        run.clock.stop();
        run.rule.materialize();
        self.average_with_others(&mut run, true)?;
        if run.rule.iterate().iter().any(|p| !p.is_finite()) {
            return Err(self.diverged(&run, f64::NAN));
        }
        for o in observers.iter_mut() {
            o.on_finish(&run.state())?;
        }
        let state = run.state();
        Ok(Outcome {
            theta: state.theta.to_vec(),
            iterate: state.iterate.to_vec(),
            updates: run.update,
            sample_gradients: run.seen,
            epochs: state.epoch,
            seconds: run.clock.seconds(),
            start_loss: run.health.reference(),
            update_rule: choice.rule,
            rule_note: choice.fallback,
        })
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

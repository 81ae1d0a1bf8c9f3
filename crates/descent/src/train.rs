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

use crate::batches::{Batch, Batches, InMemory, Rng};
use crate::checkpoint::{self, Checkpoint, Checkpointing, Every, RunState};
use crate::data::Dataset;
use crate::divergence::{Health, OnDivergence, Verdict, MAX_RETRIES};
use crate::engine::{batch_sums, Engine, Serial};
use crate::objective::Objective;
use crate::observe::{Control, Observer, Plan, Retry, SavedStates, State};
use crate::optim::Chain;
use crate::regime::{Regime, Sampling};
use crate::schedule::Schedule;
use crate::step::{self, lazy_sparse, RuleKind, Situation, UpdateRule};
use crate::{Error, Result};
use rand::SeedableRng;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// without momentum ([`step::lazy_sparse`], also on dense single samples and pairs) and
    /// with it ([`step::lazy_momentum`], without iterate averaging); [`step::choose`] decides.
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

    fn run_on(
        mut self,
        source: &mut dyn Batches,
        observers: &mut [&mut dyn Observer],
    ) -> Result<Outcome> {
        let objective = self.objective;
        let (m, dim) = (source.samples(), objective.dim());
        self.check(source)?;
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
        let rule = step::build(
            choice.rule,
            (objective, self.engine),
            std::mem::take(&mut self.chain),
            theta,
            self.average,
        );
        let alpha = (1.0 / plan.updates_per_epoch.max(1) as f64).max(0.1);
        let mut run = Run {
            rule,
            update: 0,
            seen: 0,
            epoch: 0,
            batches_in_epoch: 0,
            rng: Rng::seed_from_u64(self.seed),
            rng_at_epoch_start: Rng::seed_from_u64(self.seed),
            busy: Duration::ZERO,
            lr: f64::NAN,
            batch_loss: f64::NAN,
            lr_scale: 1.0,
            retries: 0,
            health: Health::new(alpha),
            samples: m as f64,
        };
        match self.resume.take() {
            Some(checkpoint) => {
                if checkpoint.state.epoch >= self.epochs {
                    return Err(Error::config(
                        "--epochs",
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
                    o.on_resume(&plan, &run.state(), &checkpoint.observers)?;
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
                for o in observers.iter_mut() {
                    o.on_start(&plan, &run.state())?;
                }
            }
        }
        // Each observer's interval and whether it reads the parameters, asked once; `due`
        // says whether an observer is due after update n, and whether one of those needs the
        // parameters and batch loss (which the lazy path then materializes).
        let schedule: Vec<(u64, bool)> = observers
            .iter()
            .map(|o| (o.interval().max(1), o.needs_parameters()))
            .collect();
        let due = |n: u64| {
            schedule
                .iter()
                .filter(|(every, _)| n.is_multiple_of(*every))
                .fold((false, false), |(_, p), &(_, needs)| (true, p || needs))
        };
        let periodic = self.checkpointing.as_ref().and_then(|c| c.every);
        // The state to go back to after a divergence (halve-lr): the last checkpoint, else
        // the start of the current epoch.
        let mut last_good = match self.on_divergence {
            OnDivergence::HalveLr => Some(self.snapshot(&run, observers, false)?),
            OnDivergence::Stop => None,
        };
        let mut last_checkpoint = Instant::now();
        // Training time runs in segments between observer calls (no clock read per step).
        let mut running = Instant::now();
        loop {
            let Some(batch) = source.next_batch(&mut run.rng)? else {
                run.busy += running.elapsed();
                run.materialize();
                let mut stop = false;
                for o in observers.iter_mut() {
                    stop |= o.on_epoch(&run.state())? == Control::Stop;
                }
                run.epoch += 1;
                run.batches_in_epoch = 0;
                if stop || run.epoch >= self.epochs {
                    break;
                }
                run.rng_at_epoch_start = run.rng.clone();
                run.start_epoch(source)?;
                if periodic.is_none() && last_good.is_some() && run.health.is_good() {
                    last_good = Some(self.snapshot(&run, observers, false)?);
                }
                running = Instant::now();
                continue;
            };
            let n = run.update + 1;
            let (called, observed) = due(n);
            let verdict = run.step(&self.schedule, batch, observed);
            let batch_len = batch.size;
            run.update = n;
            run.batches_in_epoch += 1;
            run.seen += batch_len as u64;
            if let Verdict::Diverged(loss) = verdict {
                run.busy += running.elapsed();
                let Some((state, saved)) = last_good.as_ref().filter(|_| run.retries < MAX_RETRIES)
                else {
                    return Err(self.diverged(&run, loss));
                };
                let (scale, retries) = (run.lr_scale * 0.5, run.retries + 1);
                run.restore(state.clone(), source)?;
                run.lr_scale = scale;
                run.retries = retries;
                let retry = Retry {
                    update: n,
                    loss,
                    back_to: run.update,
                    lr_scale: scale,
                };
                for o in observers.iter_mut() {
                    o.restore_state(saved)?;
                    o.on_retry(&retry)?;
                }
                running = Instant::now();
                continue;
            }
            if let Some(c) = self.consensus {
                if n.is_multiple_of(c.every().max(1)) {
                    run.rule.edit_iterate(&mut |theta| c.average(theta))?;
                }
            }
            let mut stop = false;
            if called {
                run.busy += running.elapsed();
                if observed {
                    run.materialize();
                }
                for (o, &(every, _)) in observers.iter_mut().zip(&schedule) {
                    if n.is_multiple_of(every) {
                        stop |= o.on_step(&run.state())? == Control::Stop;
                    }
                }
                running = Instant::now();
            }
            let checkpoint_due = match periodic {
                Some(Every::Updates(k)) => n.is_multiple_of(k),
                Some(Every::Seconds(s)) => {
                    (n.is_multiple_of(64) || batch_len >= 4096)
                        && last_checkpoint.elapsed().as_secs_f64() >= s
                }
                None => false,
            };
            let interrupted = self.interrupt.is_some_and(|f| f.load(Ordering::Relaxed));
            let mut written = false;
            if checkpoint_due || interrupted {
                run.busy += running.elapsed();
                let saved = self.write_checkpoint(&run, observers)?;
                written = saved.is_some();
                if last_good.is_some() && saved.is_some() {
                    last_good = saved;
                }
                last_checkpoint = Instant::now();
                running = Instant::now();
            }
            if interrupted {
                let saved = match &self.checkpointing {
                    Some(c) if written => format!(
                        "the state is saved in {}: continue with `descent train --resume {}`",
                        c.path.display(),
                        c.path.display()
                    ),
                    Some(_) => "the state was not saved: the loss was far above its start (diverging), so the last checkpoint, if any, is kept".into(),
                    None => "nothing was saved (no checkpoint file was set)".into(),
                };
                return Err(Error::Interrupted { update: n, saved });
            }
            if stop {
                break;
            }
        }
        run.materialize();
        if let Some(c) = self.consensus {
            // The model is the processes' mean.
            if !run.update.is_multiple_of(c.every().max(1)) {
                run.rule.edit_iterate(&mut |theta| c.average(theta))?;
            }
        }
        if run.rule.iterate().iter().any(|p| !p.is_finite()) {
            return Err(self.diverged(&run, f64::NAN));
        }
        for o in observers.iter_mut() {
            o.on_finish(&run.state())?;
        }
        let state = run.state();
        let outcome = Outcome {
            theta: state.theta.to_vec(),
            iterate: state.iterate.to_vec(),
            updates: run.update,
            sample_gradients: run.seen,
            epochs: run.seen as f64 / m as f64,
            seconds: run.busy.as_secs_f64(),
            start_loss: run.health.reference(),
            update_rule: choice.rule,
            rule_note: choice.fallback,
        };
        Ok(outcome)
    }

    /// The run's state and the observers' (in memory; `durable`: for a checkpoint file).
    fn snapshot(
        &self,
        run: &Run<'_>,
        observers: &mut [&mut dyn Observer],
        durable: bool,
    ) -> Result<(RunState, SavedStates)> {
        let mut saved = SavedStates::new();
        for o in observers.iter_mut() {
            if let Some((key, value)) = o.save_state(durable)? {
                saved.insert(key, value);
            }
        }
        Ok((run.save(), saved))
    }

    /// Writes a checkpoint (if checkpointing is on and the state is good) and returns what it
    /// holds.
    fn write_checkpoint(
        &self,
        run: &Run<'_>,
        observers: &mut [&mut dyn Observer],
    ) -> Result<Option<(RunState, SavedStates)>> {
        let Some(c) = &self.checkpointing else {
            return Ok(None);
        };
        if !run.health.is_good() {
            return Ok(None);
        }
        let (state, saved) = self.snapshot(run, observers, true)?;
        let checkpoint = Checkpoint {
            format: checkpoint::FORMAT.into(),
            version: checkpoint::VERSION,
            meta: c.meta.clone(),
            state,
            observers: saved,
        };
        checkpoint.save(&c.path)?;
        Ok(Some((checkpoint.state, checkpoint.observers)))
    }

    fn diverged(&self, run: &Run<'_>, loss: f64) -> Error {
        let lr = run.lr;
        let mut hint = if matches!(self.schedule, Schedule::Optimal { .. }) {
            format!(
                "the `optimal` schedule's rate ({lr} at this update, set by --l2) is too large for this loss: \
                 try --schedule invscaling or inverse-time with --lr {}, or --standardize",
                lr / 10.0
            )
        } else {
            format!(
                "the learning rate {lr} is too large for this data or the features are badly scaled: \
                 try --lr {}, --standardize, or a decaying --schedule such as inverse-time",
                lr / 10.0
            )
        };
        if run.retries > 0 {
            hint.push_str(&format!(
                " (--on-divergence halve-lr already halved the rate {} times)",
                run.retries
            ));
        } else if self.on_divergence == OnDivergence::Stop {
            hint.push_str(", or --on-divergence halve-lr");
        }
        if let Some(c) = self.checkpointing.as_ref().filter(|c| c.every.is_some()) {
            hint.push_str(&format!(
                "; the last good state is in {}: `descent train --resume {} --lr {}` continues from it",
                c.path.display(),
                c.path.display(),
                lr / 10.0
            ));
        }
        Error::Diverged {
            step: run.update,
            epoch: run.epoch,
            loss,
            hint,
        }
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

/// The loop's state between updates.
struct Run<'a> {
    /// The update rule, chosen once.
    rule: Box<dyn UpdateRule + 'a>,
    update: u64,
    seen: u64,
    epoch: u64,
    batches_in_epoch: u64,
    rng: Rng,
    rng_at_epoch_start: Rng,
    busy: Duration,
    lr: f64,
    batch_loss: f64,
    lr_scale: f64,
    retries: u32,
    health: Health,
    /// Samples per epoch (M), for the epoch count.
    samples: f64,
}

impl Run<'_> {
    /// Starts `source`'s next epoch. Drawing its order (a shuffle) is training work: it
    /// counts in `busy`.
    fn start_epoch(&mut self, source: &mut dyn Batches) -> Result<()> {
        let drawing = Instant::now();
        source.start_epoch(&mut self.rng)?;
        self.busy += drawing.elapsed();
        Ok(())
    }

    /// One update on `batch` (number `self.update + 1`); `observed`: an observer will look at
    /// the state after it (so the rule computes the batch loss). The divergence monitor sees
    /// the batch loss on every update where the rule computes it (every
    /// [`loss_every`](UpdateRule::loss_every)-th, and whenever it is not finite).
    fn step(&mut self, schedule: &Schedule, batch: Batch<'_>, observed: bool) -> Verdict {
        let (t, n) = (self.update, self.update + 1);
        let lr = schedule.rate(t) * self.lr_scale;
        self.lr = lr;
        let every = self.rule.loss_every();
        let checked = n.is_multiple_of(every);
        let loss = self.rule.step(batch, lr, n, observed || checked);
        if observed || every == 1 {
            self.batch_loss = loss;
        }
        if checked || !loss.is_finite() {
            return self.health.observe(loss);
        }
        Verdict::Fine
    }

    /// Writes the rule's parameters out for observers.
    fn materialize(&mut self) {
        self.rule.materialize();
    }

    /// What observers see (after [`materialize`](Run::materialize)).
    fn state(&self) -> State<'_> {
        State {
            update: self.update,
            epoch: self.seen as f64 / self.samples,
            sample_gradients: self.seen,
            seconds: self.busy.as_secs_f64(),
            lr: self.lr,
            batch_loss: self.batch_loss,
            theta: self.rule.parameters(),
            iterate: self.rule.iterate(),
        }
    }

    fn save(&self) -> RunState {
        let finite = |x: f64| x.is_finite().then_some(x);
        RunState {
            update: self.update,
            sample_gradients: self.seen,
            epoch: self.epoch,
            batches_in_epoch: self.batches_in_epoch,
            rng_at_epoch_start: self.rng_at_epoch_start.clone(),
            seconds: self.busy.as_secs_f64(),
            lr: finite(self.lr),
            batch_loss: finite(self.batch_loss),
            lr_scale: self.lr_scale,
            retries: self.retries,
            update_rule: self.rule.kind(),
            rule: self.rule.save(),
            health: self.health.clone(),
        }
    }

    /// Goes to a saved state: parameters, optimizer, and the same place in the sample stream.
    fn restore(&mut self, state: RunState, source: &mut dyn Batches) -> Result<()> {
        self.rule.restore(state.rule)?;
        self.update = state.update;
        self.seen = state.sample_gradients;
        self.epoch = state.epoch;
        self.batches_in_epoch = state.batches_in_epoch;
        // A damaged count of seconds must not panic (it is only reported).
        self.busy = Duration::try_from_secs_f64(state.seconds).unwrap_or_default();
        self.lr = state.lr.unwrap_or(f64::NAN);
        self.batch_loss = state.batch_loss.unwrap_or(f64::NAN);
        self.lr_scale = state.lr_scale;
        self.retries = state.retries;
        self.health = state.health;
        self.rng_at_epoch_start = state.rng_at_epoch_start;
        self.rng = self.rng_at_epoch_start.clone();
        source.start_epoch(&mut self.rng)?;
        source.skip(self.batches_in_epoch, &mut self.rng)
    }
}

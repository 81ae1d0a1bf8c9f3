//! The loop's state between updates: the update rule, the counters, the place in the sample
//! stream, the clock and the divergence monitor.

use crate::batches::{Batch, Batches, Rng};
use crate::checkpoint::RunState;
use crate::divergence::{Health, Verdict, CHECK_EVERY};
use crate::observe::State;
use crate::schedule::Schedule;
use crate::step::UpdateRule;
use crate::Result;
use rand::SeedableRng;
use std::time::{Duration, Instant};

/// Training time, run in segments between observer calls (no clock read per update).
#[derive(Default)]
pub(super) struct Clock {
    busy: Duration,
    since: Option<Instant>,
}

impl Clock {
    /// Starts a segment (a no-op while one runs).
    pub fn start(&mut self) {
        self.since.get_or_insert_with(Instant::now);
    }

    /// Ends the current segment, if one runs.
    pub fn stop(&mut self) {
        if let Some(since) = self.since.take() {
            self.busy += since.elapsed();
        }
    }

    /// Seconds counted in ended segments.
    pub fn seconds(&self) -> f64 {
        self.busy.as_secs_f64()
    }
}

/// The loop's state between updates.
pub(super) struct Run<R> {
    /// The update rule, chosen once.
    pub rule: R,
    /// Updates made.
    pub update: u64,
    /// Sample gradients evaluated.
    pub seen: u64,
    /// The current epoch (0-based).
    pub epoch: u64,
    /// Batches drawn in the current epoch.
    pub batches_in_epoch: u64,
    /// The generator that draws the sample order.
    pub rng: Rng,
    /// The generator as it was when the current epoch started (what a checkpoint saves).
    pub rng_at_epoch_start: Rng,
    /// Training time.
    pub clock: Clock,
    /// The rate of the last update.
    pub lr: f64,
    /// The last batch loss computed.
    pub batch_loss: f64,
    /// The factor on the schedule's rate (halved by each divergence retry).
    pub lr_scale: f64,
    /// Divergence retries so far.
    pub retries: u32,
    /// The divergence monitor.
    pub health: Health,
    /// Samples per epoch (M), for the epoch count.
    samples: f64,
    /// Updates per epoch.
    updates_per_epoch: u64,
}

impl<R: UpdateRule> Run<R> {
    /// The state before the first update of a run with `rule`, `samples` per epoch and
    /// `updates_per_epoch`.
    pub fn new(rule: R, seed: u64, samples: usize, updates_per_epoch: u64) -> Self {
        // The monitor averages over about an epoch's checks, and at least ten.
        let checks_per_epoch = (updates_per_epoch / CHECK_EVERY).max(1);
        let alpha = (1.0 / checks_per_epoch as f64).max(0.1);
        Run {
            rule,
            update: 0,
            seen: 0,
            epoch: 0,
            batches_in_epoch: 0,
            rng: Rng::seed_from_u64(seed),
            rng_at_epoch_start: Rng::seed_from_u64(seed),
            clock: Clock::default(),
            lr: f64::NAN,
            batch_loss: f64::NAN,
            lr_scale: 1.0,
            retries: 0,
            health: Health::new(alpha),
            samples: samples as f64,
            updates_per_epoch,
        }
    }

    /// Starts `source`'s next epoch. Drawing its order (a shuffle) is training work: it
    /// counts in the clock.
    pub fn start_epoch(&mut self, source: &mut dyn Batches) -> Result<()> {
        self.rng_at_epoch_start = self.rng.clone();
        self.clock.start();
        source.start_epoch(&mut self.rng)
    }

    /// Ends the current epoch (the clock stops).
    pub fn end_epoch(&mut self) {
        self.clock.stop();
        self.rule.materialize();
        self.epoch += 1;
        self.batches_in_epoch = 0;
    }

    /// One update on `batch`; `observed`: an observer will look at the state after it (so
    /// the rule computes the batch loss); `saved`: the state after it may be saved. The
    /// divergence monitor sees the batch loss of every [`CHECK_EVERY`]-th update, of the last
    /// update of each epoch (so a full batch is checked at every update) and of every update
    /// whose state is saved, whatever the rule, and any loss a rule found not finite.
    #[inline]
    pub fn step(
        &mut self,
        schedule: &Schedule,
        batch: Batch<'_>,
        observed: bool,
        saved: bool,
    ) -> Verdict {
        let (t, n) = (self.update, self.update + 1);
        let lr = schedule.rate(t) * self.lr_scale;
        let last_of_epoch = self.batches_in_epoch + 1 == self.updates_per_epoch;
        let checked = n.is_multiple_of(CHECK_EVERY) || last_of_epoch || saved;
        let loss = self.rule.step(batch, lr, n, observed || checked);
        self.lr = lr;
        self.update = n;
        self.batches_in_epoch += 1;
        self.seen += batch.size as u64;
        if observed || checked {
            self.batch_loss = loss;
        }
        if checked || !loss.is_finite() {
            return self.health.observe(loss);
        }
        Verdict::Fine
    }

    /// What observers see (after the rule has materialized its parameters).
    pub fn state(&self) -> State<'_> {
        State {
            update: self.update,
            epoch: self.seen as f64 / self.samples,
            sample_gradients: self.seen,
            seconds: self.clock.seconds(),
            lr: self.lr,
            batch_loss: self.batch_loss,
            theta: self.rule.parameters(),
            iterate: self.rule.iterate(),
            update_rule: self.rule.kind(),
        }
    }

    /// The state in its saved form.
    pub fn save(&self) -> RunState {
        let finite = |x: f64| x.is_finite().then_some(x);
        RunState {
            update: self.update,
            sample_gradients: self.seen,
            epoch: self.epoch,
            batches_in_epoch: self.batches_in_epoch,
            rng_at_epoch_start: self.rng_at_epoch_start.clone(),
            seconds: self.clock.seconds(),
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
    pub fn restore(&mut self, state: RunState, source: &mut dyn Batches) -> Result<()> {
        self.rule.restore(state.rule)?;
        self.update = state.update;
        self.seen = state.sample_gradients;
        self.epoch = state.epoch;
        self.batches_in_epoch = state.batches_in_epoch;
        // A damaged count of seconds must not panic (it is only reported).
        self.clock = Clock {
            busy: Duration::try_from_secs_f64(state.seconds).unwrap_or_default(),
            since: None,
        };
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

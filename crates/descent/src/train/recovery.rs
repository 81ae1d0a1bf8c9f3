//! Beside the loop: checkpoints (at their interval and on an interrupt) and the return to the
//! last good state when the loss diverges.

use super::run::Run;
use super::Trainer;
use crate::batches::Batches;
use crate::checkpoint::{self, Checkpoint, Every, RunState};
use crate::divergence::{OnDivergence, MAX_RETRIES};
use crate::observe::{Observer, Retry, SavedStates};
use crate::schedule::Schedule;
use crate::step::UpdateRule;
use crate::{Error, Result};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// What is due after an update.
#[derive(Debug, Clone, Copy)]
pub(super) struct Due {
    /// A checkpoint is due: the divergence monitor must look at the update's loss, so that
    /// no diverging state is saved as a good one.
    pub checkpoint: bool,
}

/// A saved state of the run and of its observers.
type Snapshot = (RunState, SavedStates);

/// What the loop keeps to save the run and to go back in it.
pub(super) struct Recovery {
    /// The state to go back to after a divergence (halve-lr): the last checkpoint, else the
    /// start of the current epoch.
    last_good: Option<Snapshot>,
    /// Checkpoints at an interval (`None`: only when interrupted, if at all).
    periodic: Option<Every>,
    /// When the last checkpoint was written.
    last_checkpoint: Instant,
}

impl Recovery {
    /// Keeps the run's starting state when it may have to go back to it.
    pub fn new(
        trainer: &Trainer<'_>,
        run: &Run<impl UpdateRule>,
        observers: &mut [&mut dyn Observer],
    ) -> Result<Self> {
        let last_good = match trainer.on_divergence {
            OnDivergence::HalveLr => Some(snapshot(run, observers, false)?),
            OnDivergence::Stop => None,
        };
        Ok(Recovery {
            last_good,
            periodic: trainer.checkpointing.as_ref().and_then(|c| c.every),
            last_checkpoint: Instant::now(),
        })
    }

    /// At the start of an epoch: without periodic checkpoints, the epoch's start is the state
    /// to go back to.
    pub fn at_epoch_start(
        &mut self,
        run: &Run<impl UpdateRule>,
        observers: &mut [&mut dyn Observer],
    ) -> Result<()> {
        if self.periodic.is_none() && self.last_good.is_some() && run.health.is_good() {
            self.last_good = Some(snapshot(run, observers, false)?);
        }
        Ok(())
    }

    /// After a divergence at `loss`: back to the last good state at half the rate, or the
    /// error when the rule is to stop or the retries are used up.
    pub fn retry(
        &self,
        trainer: &Trainer<'_>,
        run: &mut Run<impl UpdateRule>,
        source: &mut dyn Batches,
        observers: &mut [&mut dyn Observer],
        loss: f64,
    ) -> Result<()> {
        run.clock.stop();
        let n = run.update;
        let Some((state, saved)) = self
            .last_good
            .as_ref()
            .filter(|_| run.retries < MAX_RETRIES)
        else {
            return Err(trainer.diverged(run, loss));
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
        run.clock.start();
        Ok(())
    }

    /// Whether a checkpoint (at its interval) is due after update `n` on a batch of
    /// `batch_len` samples.
    #[inline]
    pub fn due(&self, n: u64, batch_len: usize) -> Due {
        let checkpoint = match self.periodic {
            Some(Every::Updates(k)) => n.is_multiple_of(k),
            Some(Every::Seconds(s)) => {
                (n.is_multiple_of(64) || batch_len >= 4096)
                    && self.last_checkpoint.elapsed().as_secs_f64() >= s
            }
            None => false,
        };
        Due { checkpoint }
    }

    /// After the update `due` was asked about: writes the checkpoint when one is due or the
    /// interrupt flag is up, and then ends the run with [`Error::Interrupted`]. (An interrupt
    /// comes at any update: the state it saves was last looked at by the divergence monitor
    /// up to [`CHECK_EVERY`](crate::divergence::CHECK_EVERY) updates before.)
    #[inline]
    pub fn after_update(
        &mut self,
        trainer: &Trainer<'_>,
        run: &mut Run<impl UpdateRule>,
        observers: &mut [&mut dyn Observer],
        due: Due,
    ) -> Result<()> {
        let interrupted = trainer.interrupt.is_some_and(|f| f.load(Ordering::Relaxed));
        if !due.checkpoint && !interrupted {
            return Ok(());
        }
        self.save(trainer, run, observers, interrupted)
    }

    /// Writes the checkpoint that is due; ends the run when `interrupted`.
    #[cold]
    fn save(
        &mut self,
        trainer: &Trainer<'_>,
        run: &mut Run<impl UpdateRule>,
        observers: &mut [&mut dyn Observer],
        interrupted: bool,
    ) -> Result<()> {
        let n = run.update;
        run.clock.stop();
        let saved = write_checkpoint(trainer, run, observers)?;
        let written = saved.is_some();
        if self.last_good.is_some() && saved.is_some() {
            self.last_good = saved;
        }
        self.last_checkpoint = Instant::now();
        run.clock.start();
        if interrupted {
            let checkpoint = trainer
                .checkpointing
                .as_ref()
                .filter(|_| written)
                .map(|c| c.path.clone());
            let saved = match &trainer.checkpointing {
                Some(c) if written => format!("the state is saved in {}", c.path.display()),
                Some(_) => "the state was not saved: the loss was far above its start (diverging), so the last checkpoint, if any, is kept".into(),
                None => "nothing was saved (no checkpoint file was set)".into(),
            };
            return Err(Error::Interrupted {
                update: n,
                saved,
                checkpoint,
            });
        }
        Ok(())
    }
}

/// The run's state and the observers' (in memory; `durable`: for a checkpoint file).
fn snapshot(
    run: &Run<impl UpdateRule>,
    observers: &mut [&mut dyn Observer],
    durable: bool,
) -> Result<Snapshot> {
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
    trainer: &Trainer<'_>,
    run: &Run<impl UpdateRule>,
    observers: &mut [&mut dyn Observer],
) -> Result<Option<Snapshot>> {
    let Some(c) = &trainer.checkpointing else {
        return Ok(None);
    };
    if !run.health.is_good() {
        return Ok(None);
    }
    let (state, saved) = snapshot(run, observers, true)?;
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

impl Trainer<'_> {
    /// The error for a run that diverged at `loss`, with what to try.
    pub(super) fn diverged(&self, run: &Run<impl UpdateRule>, loss: f64) -> Error {
        let lr = run.lr;
        let mut hint = if matches!(self.schedule, Schedule::Optimal { .. }) {
            format!(
                "the `optimal` schedule's rate ({lr} at this update, set by `l2`) is too large for this loss: \
                 try `schedule` invscaling or inverse-time with `lr` {}, or `standardize`",
                lr / 10.0
            )
        } else {
            format!(
                "the learning rate {lr} is too large for this data or the features are badly scaled: \
                 try `lr` {}, `standardize`, or a decaying `schedule` such as inverse-time",
                lr / 10.0
            )
        };
        if run.retries > 0 {
            hint.push_str(&format!(
                " (`on_divergence` halve-lr already halved the rate {} times)",
                run.retries
            ));
        } else if self.on_divergence == OnDivergence::Stop {
            hint.push_str(", or `on_divergence` halve-lr");
        }
        let last_good = self
            .checkpointing
            .as_ref()
            .filter(|c| c.every.is_some())
            .map(|c| c.path.clone());
        if let Some(path) = &last_good {
            hint.push_str(&format!("; the last good state is in {}", path.display()));
        }
        Error::Diverged {
            step: run.update,
            epoch: run.epoch,
            loss,
            hint,
            last_good,
            smaller_lr: lr / 10.0,
        }
    }
}

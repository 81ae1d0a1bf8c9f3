//! A progress bar on stderr as a training [`Observer`]: hidden for runs that finish within a
//! second (or with --quiet), then drawn by indicatif (which stays silent when stderr is not a
//! terminal). Warnings (a learning rate halved after divergence) are printed even when quiet.

use descent::observe::{Control, Observer, Plan, Retry, SavedStates, State};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// Draw only after this long.
const DELAY: Duration = Duration::from_secs(1);

/// The training progress bar.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
    quiet: bool,
}

impl Progress {
    /// A bar that has not appeared yet (and never will, when `quiet`).
    pub fn new(quiet: bool) -> Self {
        Progress {
            bar: ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
            started: Instant::now(),
            shown: false,
            quiet,
        }
    }
}

impl Progress {
    /// Shows the bar once the delay has passed, and moves it to `state`.
    fn tick(&mut self, state: &State<'_>) {
        if !self.quiet && !self.shown && self.started.elapsed() > DELAY {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        self.bar.set_position(state.update);
        self.bar.set_message(format!("{:.2}", state.epoch));
    }
}

impl Observer for Progress {
    fn on_start(&mut self, plan: &Plan, _state: &State<'_>) -> descent::Result<()> {
        self.bar.set_length(plan.total_updates());
        let style = ProgressStyle::with_template(
            "{spinner} epoch {msg} [{bar:30}] {percent:>3}% of {human_len} updates, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        self.bar.set_style(style);
        self.started = Instant::now();
        Ok(())
    }

    fn interval(&self) -> u64 {
        256
    }

    fn needs_parameters(&self) -> bool {
        false
    }

    fn on_step(&mut self, state: &State<'_>) -> descent::Result<Control> {
        self.tick(state);
        Ok(Control::Continue)
    }

    fn on_epoch(&mut self, state: &State<'_>) -> descent::Result<Control> {
        self.tick(state);
        Ok(Control::Continue)
    }

    fn on_finish(&mut self, _state: &State<'_>) -> descent::Result<()> {
        self.bar.finish_and_clear();
        Ok(())
    }

    fn on_resume(
        &mut self,
        plan: &Plan,
        state: &State<'_>,
        _saved: &SavedStates,
    ) -> descent::Result<()> {
        self.on_start(plan, state)?;
        self.bar.set_position(state.update);
        Ok(())
    }

    fn on_retry(&mut self, retry: &Retry) -> descent::Result<()> {
        self.bar.suspend(|| {
            eprintln!(
                "warning: the loss diverged at update {} (loss {:e}); going back to update {} with the learning rate × {} (--on-divergence halve-lr)",
                retry.update, retry.loss, retry.back_to, retry.lr_scale
            )
        });
        Ok(())
    }
}

//! When the loop calls its observers, and calling them.

use super::run::Run;
use crate::observe::{Control, Observer, State};
use crate::step::UpdateRule;
use crate::Result;

/// Each observer's interval and whether it reads the parameters, asked once.
pub(super) struct Watch {
    schedule: Vec<(u64, bool)>,
}

impl Watch {
    /// Asks `observers` once for their intervals.
    pub fn new(observers: &[&mut dyn Observer]) -> Self {
        let schedule = observers
            .iter()
            .map(|o| (o.interval().max(1), o.needs_parameters()))
            .collect();
        Watch { schedule }
    }

    /// Whether an observer is due after update `n`, and whether one of those reads the
    /// parameters and batch loss (which the rule then computes and materializes).
    #[inline]
    pub fn due(&self, n: u64) -> (bool, bool) {
        self.schedule
            .iter()
            .filter(|(every, _)| n.is_multiple_of(*every))
            .fold((false, false), |(_, p), &(_, needs)| (true, p || needs))
    }

    /// Calls the observers due after the run's last update (outside the training clock);
    /// `observed`: one of them reads the parameters. Returns whether one asked to stop.
    pub fn notify(
        &self,
        observers: &mut [&mut dyn Observer],
        run: &mut Run<impl UpdateRule>,
        observed: bool,
    ) -> Result<bool> {
        run.clock.stop();
        if observed {
            run.rule.materialize();
        }
        let n = run.update;
        let mut stop = false;
        for (o, &(every, _)) in observers.iter_mut().zip(&self.schedule) {
            if n.is_multiple_of(every) {
                stop |= o.on_step(&run.state())? == Control::Stop;
            }
        }
        run.clock.start();
        Ok(stop)
    }
}

/// Calls `event` on every observer with the run's state; returns whether one asked to stop.
pub(super) fn notify(
    observers: &mut [&mut dyn Observer],
    run: &Run<impl UpdateRule>,
    mut event: impl FnMut(&mut dyn Observer, &State<'_>) -> Result<Control>,
) -> Result<bool> {
    let mut stop = false;
    for o in observers.iter_mut() {
        stop |= event(&mut **o, &run.state())? == Control::Stop;
    }
    Ok(stop)
}

//! Fault injection for tests of crash safety: with `DESCENT_FAILPOINT_ABORT_AT_UPDATE=N` in
//! the environment, `descent train` aborts right after update N (after its trace row, before
//! its checkpoint), as abruptly as SIGKILL: no destructor runs, no buffer is flushed. Tests
//! use it to kill runs at exact points; users never need it.

use descent::observe::{Control, Observer, State};

/// The environment variable.
pub const ABORT_AT_UPDATE: &str = "DESCENT_FAILPOINT_ABORT_AT_UPDATE";

/// Aborts the process at an update.
pub struct AbortAt(u64);

impl AbortAt {
    /// The failpoint the environment asks for, if any.
    pub fn from_env() -> Option<AbortAt> {
        std::env::var(ABORT_AT_UPDATE)
            .ok()
            .and_then(|v| v.parse().ok())
            .map(AbortAt)
    }
}

impl Observer for AbortAt {
    fn on_step(&mut self, state: &State<'_>) -> descent::Result<Control> {
        if state.update == self.0 {
            std::process::abort();
        }
        Ok(Control::Continue)
    }
}

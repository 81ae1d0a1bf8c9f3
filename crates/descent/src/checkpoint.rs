//! Checkpoints: everything the training loop needs to continue a run bit for bit.
//!
//! A checkpoint holds the update rule's state in the form every rule reads (the parameters,
//! the iterate average, each optimizer stage's named buffers) plus the saving rule's own form
//! (the O(nnz) rules' scaled weights), so that the same rule continues bit for bit and any
//! other continues to rounding; the position in the sample stream (the epoch,
//! the batches done in it and the RNG as it was when the epoch started: the sampler's order
//! is drawn again from it and the done batches skipped, which also replays a stream's
//! shuffle buffer), the rate schedule's position (the update count and any halving), the
//! divergence monitor and each observer's state (how much of the trace is written). It is
//! JSON (floats written in shortest round-trip form and read back exactly), written
//! atomically: a temporary file in the same folder, synced, renamed over the previous one, so
//! a kill at any moment leaves either the old checkpoint or the new one.
//!
//! `meta` is the caller's record of what the run is (its flags, a fingerprint of the data);
//! the library stores it and gives it back, and checks only that the state fits the model.

use crate::batches::Rng;
use crate::divergence::Health;
use crate::observe::SavedStates;
use crate::output;
use crate::step::{RuleKind, RuleState};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The `format` field of every checkpoint.
pub const FORMAT: &str = "descent-checkpoint";

/// The version this build writes and reads (2: the update rule's state in one form for every
/// rule).
pub const VERSION: u32 = 2;

/// How often to write a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Every {
    /// After every N-th update.
    Updates(u64),
    /// After the first update that ends this many seconds after the last checkpoint.
    Seconds(f64),
}

impl std::str::FromStr for Every {
    type Err = Error;
    /// `N` (updates) or a duration `Ns`, `Nm`, `Nh`.
    fn from_str(s: &str) -> Result<Self> {
        let allowed = "a whole number of updates ≥ 1, or a duration such as 30s, 10m or 1h";
        let bad = || Error::config("checkpoint_every", s, allowed);
        let unit = match s.chars().last() {
            Some('s') => 1.0,
            Some('m') => 60.0,
            Some('h') => 3600.0,
            _ => {
                return match s.parse::<u64>() {
                    Ok(n) if n >= 1 => Ok(Every::Updates(n)),
                    _ => Err(bad()),
                }
            }
        };
        match s[..s.len() - 1].parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(Every::Seconds(v * unit)),
            _ => Err(bad()),
        }
    }
}

/// Where and how often a run writes checkpoints.
#[derive(Debug, Clone)]
pub struct Checkpointing {
    /// The checkpoint file (replaced at each checkpoint).
    pub path: PathBuf,
    /// How often (`None`: only when interrupted).
    pub every: Option<Every>,
    /// The caller's description of the run, stored verbatim.
    pub meta: Value,
}

/// A saved run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] of the build that wrote it.
    pub version: u32,
    /// The caller's description of the run.
    pub meta: Value,
    /// The loop's state.
    pub state: RunState,
    /// The observers' states, by key.
    pub observers: SavedStates,
}

/// The training loop's complete state after an update.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunState {
    /// Updates done.
    pub update: u64,
    /// Per-sample gradients evaluated.
    pub sample_gradients: u64,
    /// The epoch in progress (0-based).
    pub epoch: u64,
    /// Batches of that epoch done.
    pub batches_in_epoch: u64,
    /// The RNG when that epoch started.
    pub(crate) rng_at_epoch_start: Rng,
    /// Training time so far.
    pub seconds: f64,
    /// The last update's rate.
    pub lr: Option<f64>,
    /// The last update's batch loss.
    pub batch_loss: Option<f64>,
    /// The factor on every rate (1 unless `halve-lr` halved it).
    pub lr_scale: f64,
    /// Halvings so far.
    pub retries: u32,
    /// The update rule that saved it.
    pub update_rule: RuleKind,
    /// The update rule's state: parameters, average, optimizer stages.
    pub rule: RuleState,
    pub(crate) health: Health,
}

impl Checkpoint {
    /// Reads a checkpoint, with errors that name the file and what is wrong with it.
    pub fn load(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(path, &bytes)
    }

    /// Parses a checkpoint read from `path`.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Checkpoint> {
        let bad = |reason: String| Error::Format {
            path: path.to_path_buf(),
            reason,
        };
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("not a descent checkpoint (not JSON: {e})")))?;
        match value.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            _ => {
                return Err(bad(format!(
                    "not a descent checkpoint (no \"format\": \"{FORMAT}\")"
                )))
            }
        }
        match value.get("version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            v => {
                return Err(bad(format!(
                "checkpoint version {} is not supported by this build (it reads version {VERSION})",
                v.map_or_else(|| "?".into(), |v| v.to_string())
            )))
            }
        }
        let checkpoint: Checkpoint =
            serde_json::from_value(value).map_err(|e| bad(format!("damaged checkpoint: {e}")))?;
        checkpoint.state.check().map_err(bad)?;
        Ok(checkpoint)
    }

    /// Writes the checkpoint atomically (replacing the previous one).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec(self).map_err(|e| Error::io(path, e.into()))?;
        output::replace(path, &text)
    }
}

impl RunState {
    /// Checks what can be checked without the model: finite numbers, consistent counts.
    fn check(&self) -> std::result::Result<(), String> {
        let finite = |name: &str, xs: &[f64]| match xs.iter().position(|x| !x.is_finite()) {
            Some(i) => Err(format!("damaged checkpoint: {name}[{i}] is not finite")),
            None => Ok(()),
        };
        finite("theta", &self.rule.theta)?;
        if let Some(a) = &self.rule.average {
            finite("average", a.mean())?;
        }
        for (k, stage) in self.rule.stages.iter().enumerate() {
            for (name, buffer) in &stage.buffers {
                finite(&format!("stages[{k}].{name}"), buffer)?;
            }
        }
        if !(self.lr_scale > 0.0 && self.lr_scale <= 1.0 && self.seconds.is_finite()) {
            return Err("damaged checkpoint: lr_scale or seconds out of range".into());
        }
        if self.update > 0 && self.sample_gradients == 0 {
            return Err("damaged checkpoint: updates without sample gradients".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parses_counts_and_durations() {
        assert_eq!("500".parse::<Every>().unwrap(), Every::Updates(500));
        assert_eq!("30s".parse::<Every>().unwrap(), Every::Seconds(30.0));
        assert_eq!("1.5m".parse::<Every>().unwrap(), Every::Seconds(90.0));
        assert_eq!("2h".parse::<Every>().unwrap(), Every::Seconds(7200.0));
        for bad in ["0", "-3", "0s", "nans", "infm", "x", "", "1e400s"] {
            let err = bad.parse::<Every>().unwrap_err().to_string();
            assert!(err.contains("`checkpoint_every`"), "{bad}: {err}");
        }
    }

    #[test]
    fn foreign_and_damaged_files_are_refused_with_reasons() {
        let p = Path::new("ck.json");
        let err = |b: &[u8]| Checkpoint::from_bytes(p, b).unwrap_err().to_string();
        assert!(err(b"garbage").contains("not JSON"));
        assert!(err(b"{\"format\": \"other\"}").contains("not a descent checkpoint"));
        assert!(
            err(b"{\"format\": \"descent-checkpoint\", \"version\": 99}").contains("version 99")
        );
        assert!(err(b"{\"format\": \"descent-checkpoint\", \"version\": 2}")
            .contains("damaged checkpoint"));
    }
}

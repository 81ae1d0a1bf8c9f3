//! Divergence: when the loss stops being finite or explodes, and what the loop does then.
//!
//! The loop feeds the batch loss of every [`CHECK_EVERY`]-th update and of each epoch's last
//! update, whatever the update rule, to a [`Health`] monitor, which keeps an exponential moving average of them (and any
//! non-finite loss a rule meets on the other updates, at once). Training has diverged when a loss is NaN or infinite, or when the average exceeds
//! [`EXPLOSION`] times the reference loss: the objective at the starting parameters on the
//! first rows of the data (for a stream, the first nonzero batch loss). A factor of 10⁸ leaves
//! room for the transient rises of runs that end well (a single batch can spike; the average
//! barely moves) and is passed within a few updates by a geometric blow-up, long before the
//! loss overflows. (Least squares under scikit-learn's `optimal` rates on sparse data rises
//! past it before the decaying rate brings it back; descent calls that divergence.) What
//! happens then is [`OnDivergence`]: stop with an error (the default: a run never silently
//! trains at a rate other than the one asked for), or go back to the last good state and
//! halve the rate, up to [`MAX_RETRIES`] times. A state is *good* (fit to be checkpointed or
//! gone back to) while the average is at most [`GOOD`] times the reference.

use crate::{Error, Result};

/// Divergence when the smoothed batch loss exceeds this times the reference loss.
pub const EXPLOSION: f64 = 1e8;

/// A state is good to save or return to while the smoothed loss is at most this times the
/// reference.
pub const GOOD: f64 = 1e2;

/// `halve-lr` gives up after this many halvings (a rate 1/1024 of the one asked for).
pub const MAX_RETRIES: u32 = 10;

/// The monitor looks at the batch loss of every this-th update (one cadence for every update
/// rule: the O(nnz) rules' updates do not need the loss, which costs a logarithm per sample).
pub const CHECK_EVERY: u64 = 8;

/// What to do when training diverges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDivergence {
    /// Stop with an error naming the update, the loss and a smaller rate to try (default).
    #[default]
    Stop,
    /// Go back to the last good state (the last checkpoint, else the start of the epoch)
    /// and continue with half the learning rate.
    HalveLr,
}

impl std::str::FromStr for OnDivergence {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "stop" => Ok(OnDivergence::Stop),
            "halve-lr" => Ok(OnDivergence::HalveLr),
            _ => Err(Error::config("on_divergence", s, "one of: stop, halve-lr")),
        }
    }
}

impl std::fmt::Display for OnDivergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OnDivergence::Stop => "stop",
            OnDivergence::HalveLr => "halve-lr",
        })
    }
}

/// The monitor's verdict on one loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Healthy.
    Fine,
    /// Diverged: the loss (or its average) is this.
    Diverged(f64),
}

/// The divergence monitor: a moving average of batch losses against a reference.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Health {
    reference: Option<f64>,
    smoothed: Option<f64>,
    alpha: f64,
}

impl Health {
    /// A monitor whose average gives each new loss the weight `alpha` in (0, 1]
    /// (1 for full batches, which are exact).
    pub fn new(alpha: f64) -> Self {
        Health {
            reference: None,
            smoothed: None,
            alpha: alpha.clamp(f64::MIN_POSITIVE, 1.0),
        }
    }

    /// Sets the reference: the loss at the starting parameters.
    pub fn set_reference(&mut self, loss: f64) {
        if loss.is_finite() && loss > 0.0 {
            self.reference = Some(loss);
        }
    }

    /// The reference loss, once known.
    pub fn reference(&self) -> Option<f64> {
        self.reference
    }

    /// Takes one batch loss.
    pub fn observe(&mut self, loss: f64) -> Verdict {
        if !loss.is_finite() {
            return Verdict::Diverged(loss);
        }
        if self.reference.is_none() {
            self.set_reference(loss);
        }
        // The average starts from the reference: one early spike is smoothed like later ones.
        let smoothed = match self.smoothed.or(self.reference) {
            Some(s) => s + self.alpha * (loss - s),
            None => loss,
        };
        self.smoothed = Some(smoothed);
        match self.reference {
            Some(r) if smoothed > EXPLOSION * r => Verdict::Diverged(smoothed),
            _ => Verdict::Fine,
        }
    }

    /// Whether the state is good enough to save as the last good one (never after a
    /// divergence verdict, nor during a large transient).
    pub fn is_good(&self) -> bool {
        match (self.smoothed, self.reference) {
            (Some(s), Some(r)) => s.is_finite() && s <= GOOD * r,
            (Some(s), None) => s.is_finite(),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_losses_diverge_at_once() {
        let mut h = Health::new(0.1);
        h.set_reference(1.0);
        assert_eq!(h.observe(1.0), Verdict::Fine);
        assert!(matches!(h.observe(f64::NAN), Verdict::Diverged(l) if l.is_nan()));
        assert_eq!(h.observe(f64::INFINITY), Verdict::Diverged(f64::INFINITY));
    }

    #[test]
    fn a_spike_is_smoothed_but_a_blow_up_is_caught() {
        let mut h = Health::new(0.1);
        h.set_reference(1.0);
        // One sample 10⁸ times the reference moves the average by 10⁷: fine.
        assert_eq!(h.observe(1e8), Verdict::Fine);
        assert!(!h.is_good());
        for _ in 0..200 {
            assert_eq!(h.observe(1.0), Verdict::Fine);
        }
        assert!(h.is_good());
        // Geometric growth is caught within a few updates of passing 10⁸.
        let mut loss = 1.0;
        let mut caught = None;
        for step in 0..100 {
            loss *= 4.0;
            if let Verdict::Diverged(_) = h.observe(loss) {
                caught = Some(step);
                break;
            }
        }
        let step = caught.expect("a geometric blow-up is caught");
        assert!(4f64.powi(step + 1) < 1e10, "caught late: step {step}");
        assert!(!h.is_good());
    }

    #[test]
    fn without_a_reference_the_first_positive_loss_is_one() {
        let mut h = Health::new(1.0);
        assert_eq!(h.observe(0.0), Verdict::Fine);
        assert_eq!(h.reference(), None);
        assert_eq!(h.observe(2.0), Verdict::Fine);
        assert_eq!(h.reference(), Some(2.0));
        assert!(matches!(h.observe(3e9), Verdict::Diverged(_)));
    }

    #[test]
    fn names_parse_and_unknown_ones_list_the_choices() {
        assert_eq!("stop".parse::<OnDivergence>().unwrap(), OnDivergence::Stop);
        assert_eq!(
            "halve-lr".parse::<OnDivergence>().unwrap(),
            OnDivergence::HalveLr
        );
        let err = "retry".parse::<OnDivergence>().unwrap_err().to_string();
        assert!(err.contains("stop, halve-lr"), "{err}");
    }
}

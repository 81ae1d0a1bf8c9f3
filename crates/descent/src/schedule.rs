//! Learning-rate schedules: pure functions η(t) of the 0-based update index t, validated when
//! built. Conventions, each as the tool it follows defines it:
//!
//! | schedule | η(t) | as in |
//! | --- | --- | --- |
//! | `constant` | η₀ | |
//! | `inverse-time[:λ]` | η₀ / (1 + λ·η₀·t) (λ defaults to the L2 strength) | Bottou's `sgd` |
//! | `invscaling[:p]` | η₀ / (t + 1)ᵖ (p defaults to 0.5) | scikit-learn `learning_rate="invscaling"` |
//! | `optimal` | 1 / (α·(t₀ + t)), t₀ = 1/(α·α^(−1/4)), α = L2 strength | scikit-learn `learning_rate="optimal"` |
//! | `step:K[:γ]` | η₀·γ^⌊epoch/K⌋ (γ defaults to 0.1) | PyTorch `StepLR` |
//!
//! scikit-learn counts t from 1; η(t) here is its rate for sample t + 1.
//!
//! ```
//! use descent::schedule::Schedule;
//! let s = Schedule::parse("inverse-time:0.5", 1.0, 0.0, 10).unwrap();
//! assert_eq!(s.rate(0), 1.0);
//! assert_eq!(s.rate(2), 0.5);
//! ```

use crate::{Error, Result};

/// A validated learning-rate schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// η₀.
    Constant {
        /// η₀.
        eta0: f64,
    },
    /// η₀ / (1 + λη₀t).
    InverseTime {
        /// η₀.
        eta0: f64,
        /// λ.
        decay: f64,
    },
    /// η₀ / (t + 1)ᵖ.
    InvScaling {
        /// η₀.
        eta0: f64,
        /// p.
        power: f64,
    },
    /// 1 / (α(t₀ + t)).
    Optimal {
        /// α, the L2 strength.
        alpha: f64,
        /// t₀, chosen so that η(0) = α^(−1/4).
        t0: f64,
    },
    /// η₀γ^⌊t / every⌋.
    Step {
        /// η₀.
        eta0: f64,
        /// Updates between decays (K epochs × updates per epoch).
        every: u64,
        /// γ.
        gamma: f64,
    },
}

/// The schedule names, for help texts and errors.
pub const NAMES: &str =
    "constant, inverse-time[:DECAY], invscaling[:POWER], optimal, step:EPOCHS[:GAMMA]";

/// `invscaling`'s power when none is given (scikit-learn's `power_t`).
const DEFAULT_POWER: f64 = 0.5;

/// `step`'s factor when none is given (PyTorch's `StepLR` γ).
const DEFAULT_GAMMA: f64 = 0.1;

/// A schedule as a user names it, before the run's numbers are known: which schedule and
/// its own parameters, without η₀, the L2 strength or the epoch length, which
/// [`resolve`](ScheduleSpec::resolve) takes. Parsed from `invscaling:0.25` and the like
/// ([`NAMES`]), and written back in that form (without the parameters left at their
/// defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScheduleSpec {
    /// `constant`.
    Constant,
    /// `inverse-time[:DECAY]` (`None`: the L2 strength).
    InverseTime {
        /// λ, if given.
        decay: Option<f64>,
    },
    /// `invscaling[:POWER]` (p = 0.5 when not given).
    InvScaling {
        /// p.
        power: f64,
    },
    /// `optimal`.
    Optimal,
    /// `step:EPOCHS[:GAMMA]` (γ = 0.1 when not given).
    Step {
        /// Epochs between decays.
        epochs: u64,
        /// γ.
        gamma: f64,
    },
}

impl std::str::FromStr for ScheduleSpec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        let bad = |allowed: String| Error::config("schedule", spec, allowed);
        let (name, args) = spec.split_once(':').unwrap_or((spec, ""));
        let args: Vec<&str> = if args.is_empty() {
            Vec::new()
        } else {
            args.split(':').collect()
        };
        let arg = |k: usize| -> Result<Option<f64>> {
            args.get(k)
                .map(|text| {
                    text.parse::<f64>()
                        .map_err(|_| bad(format!("'{text}' is not a number")))
                })
                .transpose()
        };
        let max_args = match name {
            "constant" | "optimal" => 0,
            "inverse-time" | "invscaling" => 1,
            "step" => 2,
            _ => return Err(bad(format!("one of: {NAMES}"))),
        };
        if args.len() > max_args {
            return Err(bad(format!("too many parameters; forms: {NAMES}")));
        }
        let parsed = match name {
            "constant" => ScheduleSpec::Constant,
            "optimal" => ScheduleSpec::Optimal,
            "inverse-time" => ScheduleSpec::InverseTime { decay: arg(0)? },
            "invscaling" => ScheduleSpec::InvScaling {
                power: arg(0)?.unwrap_or(DEFAULT_POWER),
            },
            _ => {
                let epochs = arg(0)?.ok_or_else(|| bad(format!("needs a parameter: {NAMES}")))?;
                if !(epochs >= 1.0 && epochs.fract() == 0.0 && epochs < u64::MAX as f64) {
                    return Err(bad("step:EPOCHS needs a whole number of epochs ≥ 1".into()));
                }
                ScheduleSpec::Step {
                    epochs: epochs as u64,
                    gamma: arg(1)?.unwrap_or(DEFAULT_GAMMA),
                }
            }
        };
        // The parameters' ranges, checked with placeholder rates.
        parsed.resolve_as(1.0, 1.0, 1, spec).map(|_| parsed)
    }
}

impl std::fmt::Display for ScheduleSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ScheduleSpec::Constant => write!(f, "constant"),
            ScheduleSpec::Optimal => write!(f, "optimal"),
            ScheduleSpec::InverseTime { decay: None } => write!(f, "inverse-time"),
            ScheduleSpec::InverseTime { decay: Some(d) } => write!(f, "inverse-time:{d}"),
            ScheduleSpec::InvScaling { power } if power == DEFAULT_POWER => write!(f, "invscaling"),
            ScheduleSpec::InvScaling { power } => write!(f, "invscaling:{power}"),
            ScheduleSpec::Step { epochs, gamma } if gamma == DEFAULT_GAMMA => {
                write!(f, "step:{epochs}")
            }
            ScheduleSpec::Step { epochs, gamma } => write!(f, "step:{epochs}:{gamma}"),
        }
    }
}

impl ScheduleSpec {
    /// The schedule with base rate `eta0`, L2 strength `l2` (the default decay of
    /// `inverse-time` and the α of `optimal`) and `updates_per_epoch` (for `step`).
    pub fn resolve(&self, eta0: f64, l2: f64, updates_per_epoch: u64) -> Result<Schedule> {
        self.resolve_as(eta0, l2, updates_per_epoch, &self.to_string())
    }

    /// [`resolve`](Self::resolve), naming the schedule `text` in errors.
    fn resolve_as(
        &self,
        eta0: f64,
        l2: f64,
        updates_per_epoch: u64,
        text: &str,
    ) -> Result<Schedule> {
        let schedule = match *self {
            ScheduleSpec::Constant => Schedule::Constant { eta0 },
            ScheduleSpec::InverseTime { decay } => Schedule::InverseTime {
                eta0,
                decay: decay.unwrap_or(l2),
            },
            ScheduleSpec::InvScaling { power } => Schedule::InvScaling { eta0, power },
            ScheduleSpec::Optimal => Schedule::optimal(l2)?,
            ScheduleSpec::Step { epochs, gamma } => Schedule::Step {
                eta0,
                every: epochs.saturating_mul(updates_per_epoch.max(1)),
                gamma,
            },
        };
        schedule.validate(text)?;
        Ok(schedule)
    }
}

impl Schedule {
    /// Parses a schedule spec such as `invscaling:0.25` ([`ScheduleSpec`]) and resolves it
    /// with base rate `eta0`, L2 strength `l2` and the number of updates in an epoch.
    pub fn parse(spec: &str, eta0: f64, l2: f64, updates_per_epoch: u64) -> Result<Schedule> {
        spec.parse::<ScheduleSpec>()?
            .resolve_as(eta0, l2, updates_per_epoch, spec)
    }

    /// scikit-learn's `optimal` rate for L2 strength α: η(t) = 1/(α(t₀ + t)).
    ///
    /// scikit-learn sets η(0) = typw / max(1, dloss(−typw, 1)) with typw = α^(−1/4) (Bottou's
    /// heuristic). For every loss offered here dloss(−typw, 1) < 0, so η(0) = typw and
    /// t₀ = 1/(α·typw).
    pub fn optimal(alpha: f64) -> Result<Schedule> {
        if !(alpha > 0.0 && alpha.is_finite()) {
            return Err(Error::config(
                "schedule",
                "optimal",
                "the optimal schedule needs `l2` > 0 (its α)",
            ));
        }
        let typw = alpha.sqrt().sqrt().recip();
        Ok(Schedule::Optimal {
            alpha,
            t0: 1.0 / (alpha * typw),
        })
    }

    fn validate(&self, spec: &str) -> Result<()> {
        let bad = |what: &str| Err(Error::config("schedule", spec, what.to_string()));
        let positive = |v: f64| v > 0.0 && v.is_finite();
        match *self {
            Schedule::Constant { eta0 }
            | Schedule::InvScaling { eta0, .. }
            | Schedule::Step { eta0, .. }
                if !positive(eta0) =>
            {
                bad("the learning rate must be a finite number > 0")
            }
            Schedule::InverseTime { eta0, decay }
                if !(positive(eta0) && decay >= 0.0 && decay.is_finite()) =>
            {
                bad("inverse-time needs `lr` > 0 and a finite DECAY ≥ 0")
            }
            Schedule::InvScaling { power, .. } if !(power >= 0.0 && power.is_finite()) => {
                bad("invscaling needs a finite POWER ≥ 0")
            }
            Schedule::Step { gamma, .. } if !(gamma > 0.0 && gamma <= 1.0) => {
                bad("step needs 0 < GAMMA ≤ 1")
            }
            _ => Ok(()),
        }
    }

    /// η(t) for the 0-based update index t.
    pub fn rate(&self, t: u64) -> f64 {
        let t = t as f64;
        match *self {
            Schedule::Constant { eta0 } => eta0,
            Schedule::InverseTime { eta0, decay } => eta0 / (1.0 + decay * eta0 * t),
            Schedule::InvScaling { eta0, power } => eta0 / (t + 1.0).powf(power),
            Schedule::Optimal { alpha, t0 } => 1.0 / (alpha * (t0 + t)),
            Schedule::Step { eta0, every, gamma } => {
                eta0 * gamma.powi((t as u64 / every).min(i32::MAX as u64) as i32)
            }
        }
    }
}

#[cfg(test)]
mod spec_tests {
    use super::*;

    #[test]
    fn specs_are_written_back_as_named() {
        for text in [
            "constant",
            "optimal",
            "inverse-time",
            "inverse-time:0.5",
            "invscaling",
            "invscaling:0.25",
            "step:3",
            "step:3:0.5",
        ] {
            let spec: ScheduleSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
            assert_eq!(spec.to_string().parse::<ScheduleSpec>().unwrap(), spec);
        }
        let step: ScheduleSpec = "step:2".parse().unwrap();
        let resolved = step.resolve(1.0, 0.0, 5).unwrap();
        assert_eq!(resolved, Schedule::parse("step:2", 1.0, 0.0, 5).unwrap());
        assert_eq!((resolved.rate(9), resolved.rate(10)), (1.0, 0.1));
    }
}

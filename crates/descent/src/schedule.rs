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

impl Schedule {
    /// Parses a schedule spec such as `invscaling:0.25` with base rate `eta0`, L2 strength
    /// `l2` (the default decay of `inverse-time` and the α of `optimal`) and the number of
    /// updates in an epoch (for `step`).
    pub fn parse(spec: &str, eta0: f64, l2: f64, updates_per_epoch: u64) -> Result<Schedule> {
        let (name, args) = spec.split_once(':').unwrap_or((spec, ""));
        let args: Vec<&str> = if args.is_empty() {
            Vec::new()
        } else {
            args.split(':').collect()
        };
        let arg = |k: usize, default: Option<f64>| -> Result<f64> {
            match args.get(k) {
                Some(text) => text.parse::<f64>().map_err(|_| {
                    Error::config("--schedule", spec, format!("'{text}' is not a number"))
                }),
                None => default.ok_or_else(|| {
                    Error::config("--schedule", spec, format!("needs a parameter: {NAMES}"))
                }),
            }
        };
        let max_args = match name {
            "constant" | "optimal" => 0,
            "inverse-time" | "invscaling" => 1,
            "step" => 2,
            _ => {
                return Err(Error::config(
                    "--schedule",
                    spec,
                    format!("one of: {NAMES}"),
                ))
            }
        };
        if args.len() > max_args {
            return Err(Error::config(
                "--schedule",
                spec,
                format!("too many parameters; forms: {NAMES}"),
            ));
        }
        let schedule = match name {
            "constant" => Schedule::Constant { eta0 },
            "inverse-time" => Schedule::InverseTime {
                eta0,
                decay: arg(0, Some(l2))?,
            },
            "invscaling" => Schedule::InvScaling {
                eta0,
                power: arg(0, Some(0.5))?,
            },
            "optimal" => Schedule::optimal(l2)?,
            _ => {
                let epochs = arg(0, None)?;
                if !(epochs >= 1.0 && epochs.fract() == 0.0) {
                    return Err(Error::config(
                        "--schedule",
                        spec,
                        "step:EPOCHS needs a whole number of epochs ≥ 1",
                    ));
                }
                Schedule::Step {
                    eta0,
                    every: epochs as u64 * updates_per_epoch.max(1),
                    gamma: arg(1, Some(0.1))?,
                }
            }
        };
        schedule.validate(spec)?;
        Ok(schedule)
    }

    /// scikit-learn's `optimal` rate for L2 strength α: η(t) = 1/(α(t₀ + t)).
    ///
    /// scikit-learn sets η(0) = typw / max(1, dloss(−typw, 1)) with typw = α^(−1/4) (Bottou's
    /// heuristic). For every loss offered here dloss(−typw, 1) < 0, so η(0) = typw and
    /// t₀ = 1/(α·typw).
    pub fn optimal(alpha: f64) -> Result<Schedule> {
        if !(alpha > 0.0 && alpha.is_finite()) {
            return Err(Error::config(
                "--schedule",
                "optimal",
                "the optimal schedule needs --l2 > 0 (its α)",
            ));
        }
        let typw = alpha.sqrt().sqrt().recip();
        Ok(Schedule::Optimal {
            alpha,
            t0: 1.0 / (alpha * typw),
        })
    }

    fn validate(&self, spec: &str) -> Result<()> {
        let bad = |what: &str| Err(Error::config("--schedule", spec, what.to_string()));
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
                bad("inverse-time needs --lr > 0 and a finite DECAY ≥ 0")
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

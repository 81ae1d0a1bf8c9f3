//! `--methods` lists for commands that run several regimes side by side:
//! `batch,sgd,minibatch:8`, each optionally with its own rate as `METHOD@LR`.
//!
//! One regime may appear at several rates (`batch@3,batch@1`); its label then carries the
//! rate. A method without a rate gets η_b = η₁·√b from the rate η₁ given for single samples, with b
//! its batch size (M for full batch): the square-root scaling rule (Krizhevsky 2014; Hoffer et
//! al. 2017), which keeps the variance of an update's noise roughly equal across batch sizes.

use anyhow::{bail, Result};
use descent::regime::Regime;

/// One method of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// The regime.
    pub regime: Regime,
    /// Its learning rate.
    pub lr: f64,
    /// Whether another method of the list has the same regime (then the label shows the rate).
    pub shares_regime: bool,
    /// Whether the rate was given as `@LR` (else it came from a rule).
    pub explicit: bool,
}

impl Method {
    /// The label in tables, legends and JSON (`sgd`, `batch@3` when `batch` is listed at
    /// several rates, ...).
    pub fn label(&self) -> String {
        if self.shares_regime {
            format!("{}@{}", self.regime, self.lr)
        } else {
            self.regime.to_string()
        }
    }
}

/// Parses `LIST`; entries without a rate get `sgd_lr`·√b for `samples` training samples.
pub fn parse(list: &str, sgd_lr: f64, samples: usize) -> Result<Vec<Method>> {
    let mut methods = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (regime, lr) = match item.split_once('@') {
            Some((r, lr)) => match lr.parse::<f64>() {
                Ok(v) if v > 0.0 && v.is_finite() => (r, v),
                _ => bail!("--methods: rate '{lr}' in '{item}' must be a finite number > 0"),
            },
            None => (item, f64::NAN),
        };
        let regime: Regime = regime.parse()?;
        let lr = if lr.is_nan() {
            sgd_lr * (regime.batch_size(samples) as f64).sqrt()
        } else {
            lr
        };
        if methods
            .iter()
            .any(|m: &Method| m.regime == regime && m.lr.to_bits() == lr.to_bits())
        {
            bail!("--methods lists {regime} at rate {lr} twice");
        }
        methods.push(Method {
            regime,
            lr,
            shares_regime: false,
            explicit: item.contains('@'),
        });
    }
    for k in 0..methods.len() {
        let regime = methods[k].regime;
        methods[k].shares_regime = methods.iter().filter(|m| m.regime == regime).count() > 1;
    }
    if methods.is_empty() {
        bail!("--methods is empty: give e.g. batch,sgd,minibatch:8");
    }
    Ok(methods)
}

/// `--tune`: every method without `@LR` gets the rate of the library's rule
/// ([`descent::tune`]): a fifth of `train` held out (seeded) for validation, the run's budget
/// of `epochs`, a constant rate, three probe seeds. Returns the trials for the report.
pub fn tune(
    methods: &mut [Method],
    objective: &dyn descent::objective::Objective,
    train: &descent::data::Dataset,
    epochs: u64,
    seed: u64,
) -> Result<Vec<descent::tune::Tuned>> {
    let (fit, validation) = descent::tune::holdout(train, 0.2, seed)?;
    let mut tuned = Vec::new();
    for m in methods.iter_mut().filter(|m| !m.explicit) {
        let regime = if m.regime == Regime::Batch {
            Regime::Batch
        } else {
            Regime::for_batch(m.regime.batch_size(train.len()), fit.len())
        };
        let mut search = descent::tune::RateSearch::new(objective, &fit, &validation, epochs);
        search.seeds = vec![seed + 1, seed + 2, seed + 3];
        let t = search.choose(regime)?;
        m.lr = t.lr;
        tuned.push(t);
    }
    Ok(tuned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates_and_refuses_nonsense() {
        let m = parse("batch@0.5, sgd,minibatch:8@0.1", 0.01, 100).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].regime, m[0].lr), (Regime::Batch, 0.5));
        assert_eq!((m[1].regime, m[1].lr), (Regime::Sgd, 0.01));
        assert_eq!((m[2].regime, m[2].lr), (Regime::MiniBatch(8), 0.1));
        for bad in ["", "sgd@0", "sgd@x", "sgd,sgd", "batch@3,batch@3", "adam"] {
            assert!(parse(bad, 0.1, 100).is_err(), "{bad}");
        }
        let scaled = parse("batch,minibatch:4,sgd", 0.1, 100).unwrap();
        let rates: Vec<f64> = scaled.iter().map(|m| m.lr).collect();
        assert_eq!(rates, vec![1.0, 0.2, 0.1], "η₁·√b");
        // One regime at several rates: each labelled with its rate, the others not.
        let several = parse("batch@3,batch@1,sgd", 0.1, 100).unwrap();
        let labels: Vec<String> = several.iter().map(Method::label).collect();
        assert_eq!(labels, ["batch@3", "batch@1", "sgd"]);
    }
}

//! `--methods` lists for commands that run several regimes side by side:
//! `batch,sgd,minibatch:8`, each optionally with its own rate as `METHOD@LR`.
//!
//! A method without a rate gets η_b = η₁·√b from the rate η₁ given for single samples, with b
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
}

impl Method {
    /// The label in tables, legends and JSON (`sgd`, `minibatch:8@0.05`, ...).
    pub fn label(&self) -> String {
        self.regime.to_string()
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
        if methods.iter().any(|m: &Method| m.regime == regime) {
            bail!("--methods lists {regime} twice");
        }
        methods.push(Method { regime, lr });
    }
    if methods.is_empty() {
        bail!("--methods is empty: give e.g. batch,sgd,minibatch:8");
    }
    Ok(methods)
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
        for bad in ["", "sgd@0", "sgd@x", "sgd,sgd", "adam"] {
            assert!(parse(bad, 0.1, 100).is_err(), "{bad}");
        }
        let scaled = parse("batch,minibatch:4,sgd", 0.1, 100).unwrap();
        let rates: Vec<f64> = scaled.iter().map(|m| m.lr).collect();
        assert_eq!(rates, vec![1.0, 0.2, 0.1], "η₁·√b");
    }
}

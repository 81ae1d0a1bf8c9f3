//! Batch regimes and sampling rules: which samples make up each update's batch B_t.
//!
//! | regime | batch size | one epoch is |
//! | --- | --- | --- |
//! | `batch` | M | 1 update |
//! | `minibatch:b` | b | ⌈M/b⌉ updates (the last batch may be smaller) |
//! | `sgd` | 1 | M updates |
//!
//! Sampling: `shuffle` walks a fresh permutation each epoch in chunks (the default),
//! `cyclic` walks 0..M in file order, `replacement` draws M i.i.d. uniform indices per
//! epoch. A batch is a multiset: its indices are sorted before its gradient is summed, so the
//! sum's order (and rounding) does not depend on the permutation, `minibatch:M` equals
//! `batch` exactly, and memory is read in order. `batch` always uses every sample once and
//! ignores the sampling rule.
//!
//! ```
//! use descent::regime::{Regime, Sampler, Sampling};
//! use rand::SeedableRng;
//! let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
//! let mut sampler = Sampler::new(Regime::MiniBatch(2), Sampling::Cyclic, 5);
//! let batches: Vec<Vec<usize>> = sampler.epoch(&mut rng).map(<[usize]>::to_vec).collect();
//! assert_eq!(batches, vec![vec![0, 1], vec![2, 3], vec![4]]);
//! ```

use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::RngExt;

/// How many samples each update averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    /// All M samples: full-batch gradient descent.
    Batch,
    /// b samples (b ≥ 1).
    MiniBatch(usize),
    /// One sample: stochastic gradient descent.
    Sgd,
}

impl Regime {
    /// The regime that averages `b` of `m` samples: `sgd` for 1, `batch` for m or more.
    pub fn for_batch(b: usize, m: usize) -> Regime {
        match b {
            1 => Regime::Sgd,
            b if b >= m => Regime::Batch,
            b => Regime::MiniBatch(b),
        }
    }

    /// The batch size for M samples (never more than M).
    pub fn batch_size(self, m: usize) -> usize {
        match self {
            Regime::Batch => m,
            Regime::MiniBatch(b) => b.min(m),
            Regime::Sgd => 1,
        }
    }

    /// Updates in one epoch over M samples.
    pub fn updates_per_epoch(self, m: usize) -> u64 {
        m.div_ceil(self.batch_size(m).max(1)) as u64
    }
}

impl std::fmt::Display for Regime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Regime::Batch => f.write_str("batch"),
            Regime::MiniBatch(b) => write!(f, "minibatch:{b}"),
            Regime::Sgd => f.write_str("sgd"),
        }
    }
}

impl std::str::FromStr for Regime {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let allowed = "one of: batch, sgd, minibatch:B (B a whole number ≥ 1)";
        match s {
            "batch" | "full" => Ok(Regime::Batch),
            "sgd" => Ok(Regime::Sgd),
            _ => match s.strip_prefix("minibatch:") {
                Some(b) => match b.parse::<usize>() {
                    Ok(b) if b >= 1 => Ok(Regime::MiniBatch(b)),
                    _ => Err(Error::config("method", s, allowed)),
                },
                None => Err(Error::config("method", s, allowed)),
            },
        }
    }
}

/// The order in which an epoch visits samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// A fresh random permutation every epoch.
    Shuffle,
    /// 0..M in file order every epoch.
    Cyclic,
    /// M independent uniform draws per epoch.
    Replacement,
}

impl std::str::FromStr for Sampling {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "shuffle" => Ok(Sampling::Shuffle),
            "cyclic" => Ok(Sampling::Cyclic),
            "replacement" => Ok(Sampling::Replacement),
            _ => Err(Error::config(
                "sampling",
                s,
                "one of: shuffle, cyclic, replacement",
            )),
        }
    }
}

impl std::fmt::Display for Sampling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sampling::Shuffle => "shuffle",
            Sampling::Cyclic => "cyclic",
            Sampling::Replacement => "replacement",
        })
    }
}

/// Produces each epoch's batches.
#[derive(Debug, Clone)]
pub struct Sampler {
    batch: usize,
    sampling: Sampling,
    order: Vec<usize>,
}

impl Sampler {
    /// A sampler over `m` samples.
    pub fn new(regime: Regime, sampling: Sampling, m: usize) -> Self {
        let sampling = if regime == Regime::Batch {
            Sampling::Cyclic
        } else {
            sampling
        };
        Sampler {
            batch: regime.batch_size(m).max(1),
            sampling,
            order: (0..m).collect(),
        }
    }

    /// Draws the next epoch's order from `rng` and returns its batches, each sorted.
    pub fn epoch<R: rand::Rng>(&mut self, rng: &mut R) -> std::slice::Chunks<'_, usize> {
        self.draw(rng);
        self.order.chunks(self.batch)
    }

    /// Draws the next epoch's order from `rng`; batch k is then [`batch`](Sampler::batch)`(k)`.
    pub fn draw<R: rand::Rng>(&mut self, rng: &mut R) {
        let m = self.order.len();
        match self.sampling {
            Sampling::Cyclic => {
                self.order.iter_mut().enumerate().for_each(|(k, i)| *i = k);
            }
            Sampling::Shuffle => {
                self.order.iter_mut().enumerate().for_each(|(k, i)| *i = k);
                self.order.shuffle(rng);
            }
            Sampling::Replacement => {
                for i in &mut self.order {
                    *i = rng.random_range(0..m);
                }
            }
        }
        if self.batch > 1 {
            self.order
                .chunks_mut(self.batch)
                .for_each(|b| b.sort_unstable());
        }
    }

    /// Batch `k` of the current epoch, if the epoch has one.
    pub fn batch(&self, k: usize) -> Option<&[usize]> {
        let start = k.checked_mul(self.batch)?;
        (start < self.order.len())
            .then(|| &self.order[start..(start + self.batch).min(self.order.len())])
    }

    /// The samples of the epoch after batch `k`, in order (empty past the end).
    pub fn after(&self, k: usize) -> &[usize] {
        let end = k
            .checked_add(1)
            .and_then(|n| n.checked_mul(self.batch))
            .map_or(self.order.len(), |e| e.min(self.order.len()));
        &self.order[end..]
    }
}

//! Hogwild: lock-free parallel SGD (Niu, Recht, Ré and Wright, 2011) for linear models.
//!
//! Each epoch draws a permutation from the seeded RNG and cuts it into one contiguous part per
//! thread; the threads run SGD on their parts at the same time, reading and writing shared
//! parameters without locks (relaxed atomic loads and stores of f64 bits, so no undefined
//! behaviour, but updates may overwrite each other). On sparse data two samples rarely touch
//! the same coordinate, which is why this works.
//!
//! **Not deterministic**: the interleaving of the threads changes the result from run to run,
//! even with the same seed. It is also a slightly different algorithm from [`crate::train`]'s
//! SGD: the L2 term shrinks only the coordinates a sample touches (as in the Hogwild paper), and
//! the rate of the k-th sample of epoch e is η(e·M + k).

use crate::data::Dataset;
use crate::objective::MarginModel;
use crate::regime::{Regime, Sampler, Sampling};
use crate::schedule::Schedule;
use crate::{Error, Result};
use rand::SeedableRng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Parameters shared by the threads.
struct Shared(Vec<AtomicU64>);

impl Shared {
    fn get(&self, j: usize) -> f64 {
        f64::from_bits(self.0[j].load(Ordering::Relaxed))
    }
    fn set(&self, j: usize, v: f64) {
        self.0[j].store(v.to_bits(), Ordering::Relaxed);
    }
}

/// The result of a Hogwild run.
#[derive(Debug, Clone)]
pub struct HogwildOutcome {
    /// Final parameters [w, b].
    pub theta: Vec<f64>,
    /// Updates made (sample gradients).
    pub updates: u64,
    /// Wall-clock training seconds.
    pub seconds: f64,
}

/// Trains `model` (θ = [w, b] over `data.dim()` features) by Hogwild on `threads` threads.
pub fn train(
    model: &dyn MarginModel,
    data: &Dataset,
    schedule: &Schedule,
    epochs: u64,
    seed: u64,
    threads: usize,
) -> Result<HogwildOutcome> {
    if threads == 0 {
        return Err(Error::config("--threads", 0, "a whole number ≥ 1"));
    }
    let d = data.dim();
    let dim = d + usize::from(model.has_intercept());
    let shared = Shared((0..dim).map(|_| AtomicU64::new(0f64.to_bits())).collect());
    let m = data.len();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut sampler = Sampler::new(Regime::Sgd, Sampling::Shuffle, m);
    let lambda = model.l2();
    let started = Instant::now();
    for epoch in 0..epochs {
        let order: Vec<usize> = sampler.epoch(&mut rng).flatten().copied().collect();
        let part = m.div_ceil(threads);
        std::thread::scope(|scope| {
            for (p, chunk) in order.chunks(part.max(1)).enumerate() {
                let shared = &shared;
                scope.spawn(move || {
                    for (k, &i) in chunk.iter().enumerate() {
                        let t = epoch * m as u64 + (p * part + k) as u64;
                        let eta = schedule.rate(t);
                        let x = data.row(i);
                        let b = if model.has_intercept() {
                            shared.get(d)
                        } else {
                            0.0
                        };
                        let mut margin = b;
                        x.for_each(|j, xj| margin += xj * shared.get(j));
                        let g = model.dloss_at(margin, data.target(i));
                        let touch = |j: usize, xj: f64| {
                            let w = shared.get(j);
                            shared.set(j, w - eta * (g * xj + lambda * w));
                        };
                        x.for_each(touch);
                        if model.has_intercept() {
                            shared.set(d, shared.get(d) - eta * g);
                        }
                    }
                });
            }
        });
    }
    let theta: Vec<f64> = (0..dim).map(|j| shared.get(j)).collect();
    if theta.iter().any(|v| !v.is_finite()) {
        return Err(Error::Diverged {
            step: epochs * m as u64,
            epoch: epochs,
            loss: f64::NAN,
            hint: "the parameters are not finite: try a smaller --lr".into(),
        });
    }
    Ok(HogwildOutcome {
        theta,
        updates: epochs * m as u64,
        seconds: started.elapsed().as_secs_f64(),
    })
}

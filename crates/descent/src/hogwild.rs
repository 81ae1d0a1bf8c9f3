//! Hogwild: lock-free parallel SGD (Niu, Recht, Ré and Wright, 2011) for linear models.
//!
//! Each epoch draws the same permutation as serial SGD from the seeded RNG; thread p takes
//! the samples at positions p, p + T, p + 2T, … of it (T threads), so at any moment the threads
//! work on neighbouring positions. They read and write shared parameters without locks
//! (relaxed atomic loads and stores of f64 bits, so no undefined behaviour, but updates may
//! overwrite each other). On sparse data two samples rarely touch the same coordinate, which
//! is why this works.
//!
//! The step is serial SGD's, with the L2 term in O(nnz) by the same lazy scaling as
//! the O(nnz) update rule (`step::lazy_sparse`): w = S·v, where S, the product of the shrink factors 1 − η(t)λ, depends only
//! on the position t, so every thread knows it without sharing it. The sample at position t
//! uses the margin S(t)·vᵀx + b and sets vⱼ ← vⱼ − η(t)·ℓ'·xⱼ / S(t + 1). When S falls below
//! 1e-9 the threads meet, v is rescaled and S starts again at 1 (the serial path's rule, applied
//! one update later). With one thread this is serial SGD bit for bit on sparse rows, and to
//! rounding once v has been rescaled (tested).
//!
//! Observers are called where the threads meet, at the end of each epoch ([`Observer::on_start`],
//! [`Observer::on_epoch`], [`Observer::on_finish`]): between those points no thread sees one
//! consistent θ, so there is no state after an update to show (`on_step` is never called, and
//! `descent train` refuses `--trace` with `--hogwild`). Divergence is checked at the same points:
//! parameters that are not finite end the run with [`Error::Diverged`] naming the epoch (a loss
//! would cost another pass over the data; the threads do not compute it).
//!
//! **Not deterministic** with more than one thread: the interleaving of the threads changes
//! the result from run to run, even with the same seed.

use crate::data::Dataset;
use crate::objective::MarginModel;
use crate::observe::{Control, Observer, Plan, State};
use crate::regime::{Regime, Sampler, Sampling};
use crate::schedule::Schedule;
use crate::step::lazy_sparse::{l2_shrink, step_per_unit, TINY};
use crate::step::RuleKind;
use crate::{Error, Result};
use rand::SeedableRng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Parameters shared by the threads: a slice, so that a thread keeps its address and length in
/// registers (through a `Vec` they would be reloaded after every store).
#[derive(Clone, Copy)]
struct Shared<'a>(&'a [AtomicU64]);

impl Shared<'_> {
    #[inline]
    fn get(&self, j: usize) -> f64 {
        f64::from_bits(self.0[j].load(Ordering::Relaxed))
    }
    #[inline]
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

/// Positions [start, end) of an epoch during which the scale S stays above [`TINY`], with
/// S before each position and after the last (`scale[k]` is S before position start + k) and
/// the rate at each position (`rate[k]`, evaluated once).
struct Segment {
    start: usize,
    end: usize,
    scale: Vec<f64>,
    rate: Vec<f64>,
    /// Whether S fell below [`TINY`] at the end (v is then rescaled and S starts at 1).
    fold: bool,
}

/// Cuts an epoch's positions into [`Segment`]s, starting from the scale `carried` from the
/// previous epoch; `rate(k)` is η at position k, λ the L2 weight. A shrink factor 1 − ηλ ≤ 0
/// is refused (no scale can represent it).
fn segments(
    m: usize,
    lambda: f64,
    rate: impl Fn(usize) -> f64,
    carried: f64,
) -> Result<Vec<Segment>> {
    let mut out = Vec::new();
    let mut current = Segment {
        start: 0,
        end: 0,
        scale: vec![carried],
        rate: Vec::new(),
        fold: false,
    };
    for k in 0..m {
        let eta = rate(k);
        let shrink = l2_shrink(eta, lambda);
        if shrink <= 0.0 || !shrink.is_finite() {
            return Err(Error::config(
                "lr",
                eta,
                format!(
                    "with `l2` {lambda}, the L2 shrink factor 1 - lr·l2 is {shrink}, not positive: lower `lr` or `l2`"
                ),
            ));
        }
        let s = current.scale[current.scale.len() - 1] * shrink;
        current.scale.push(s);
        current.rate.push(eta);
        current.end = k + 1;
        if s < TINY {
            current.fold = true;
            let next = Segment {
                start: k + 1,
                end: k + 1,
                scale: vec![1.0],
                rate: Vec::new(),
                fold: false,
            };
            out.push(std::mem::replace(&mut current, next));
        }
    }
    if current.end > current.start {
        out.push(current);
    }
    Ok(out)
}

/// Trains `model` (θ = [w, b] over `data.dim()` features) by Hogwild on `threads` threads,
/// reporting to `observers` at the start and at the end of every epoch.
pub fn train(
    model: &dyn MarginModel,
    data: &Dataset,
    schedule: &Schedule,
    (epochs, seed, threads): (u64, u64, usize),
    observers: &mut [&mut dyn Observer],
) -> Result<HogwildOutcome> {
    if threads == 0 {
        return Err(Error::config("threads", 0, "a whole number ≥ 1"));
    }
    let d = data.dim();
    let intercept = model.has_intercept();
    let dim = d + usize::from(intercept);
    let weights: Vec<AtomicU64> = (0..dim).map(|_| AtomicU64::new(0f64.to_bits())).collect();
    let shared = Shared(&weights);
    let m = data.len();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut sampler = Sampler::new(Regime::Sgd, Sampling::Shuffle, m);
    let lambda = model.l2();
    let plan = Plan {
        samples: m,
        dim,
        updates_per_epoch: m as u64,
        epochs,
    };
    let zeros = vec![0.0; dim];
    let start = state(0, m, 0.0, f64::NAN, &zeros);
    for o in observers.iter_mut() {
        o.on_start(&plan, &start)?;
    }
    let mut busy = 0.0;
    let mut last_rate = f64::NAN;
    let mut scale = 1.0;
    let mut done = 0;
    let mut theta = zeros;
    for epoch in 0..epochs {
        let epoch_started = Instant::now();
        let order: Vec<usize> = sampler.epoch(&mut rng).flatten().copied().collect();
        let first = epoch * m as u64;
        let rate = |k: usize| schedule.rate(first + k as u64);
        for segment in segments(m, lambda, rate, scale)? {
            let positions = segment.start..segment.end;
            std::thread::scope(|scope| {
                for p in 0..threads.min(positions.len()) {
                    let (order, segment) = (&order, &segment);
                    let mine: Vec<usize> = positions.clone().skip(p).step_by(threads).collect();
                    // The rows this thread visits, in its order (for reading ahead).
                    let rows: Vec<usize> = mine.iter().map(|&k| order[k]).collect();
                    scope.spawn(move || {
                        for (n, (&k, &i)) in mine.iter().zip(&rows).enumerate() {
                            let x = data.row(i);
                            let b = if intercept { shared.get(d) } else { 0.0 };
                            let at = k - segment.start;
                            let margin = segment.scale[at] * x.dot_by(|j| shared.get(j)) + b;
                            // Rows come in random order: ask for those ahead early, while the
                            // step waits for its loss derivative (as the serial step does).
                            data.read_upcoming(&rows[n + 1..]);
                            let g = model.dloss_at(margin, data.target(i));
                            let eta = segment.rate[at];
                            // In the lazy rule's order: η/S is known before g.
                            let step = step_per_unit(eta, 1.0, segment.scale[at + 1]) * g;
                            if step != 0.0 {
                                x.for_each(|j, xj| shared.set(j, shared.get(j) - step * xj));
                            }
                            if intercept {
                                shared.set(d, shared.get(d) - eta * g);
                            }
                        }
                    });
                }
            });
            // The threads have met: fold a tiny scale into v.
            scale = segment.scale[segment.scale.len() - 1];
            if segment.fold {
                for j in 0..d {
                    shared.set(j, shared.get(j) * scale);
                }
                scale = 1.0;
            }
        }
        busy += epoch_started.elapsed().as_secs_f64();
        done = epoch + 1;
        last_rate = schedule.rate(first + m as u64 - 1);
        // The threads have met: θ = [S·v, b].
        theta = (0..dim)
            .map(|j| {
                if j < d {
                    scale * shared.get(j)
                } else {
                    shared.get(j)
                }
            })
            .collect();
        if theta.iter().any(|v| !v.is_finite()) {
            return Err(Error::Diverged {
                step: done * m as u64,
                epoch,
                loss: f64::NAN,
                hint: format!(
                    "the parameters are not finite: try `lr` {}",
                    last_rate / 10.0
                ),
                last_good: None,
                smaller_lr: last_rate / 10.0,
            });
        }
        let now = state(done, m, busy, last_rate, &theta);
        let mut stop = false;
        for o in observers.iter_mut() {
            stop |= o.on_epoch(&now)? == Control::Stop;
        }
        if stop {
            break;
        }
    }
    for o in observers.iter_mut() {
        o.on_finish(&state(done, m, busy, last_rate, &theta))?;
    }
    Ok(HogwildOutcome {
        theta,
        updates: done * m as u64,
        seconds: busy,
    })
}

/// The observers' view after `epochs` epochs of `m` samples.
fn state(epochs: u64, m: usize, seconds: f64, lr: f64, theta: &[f64]) -> State<'_> {
    State {
        update: epochs * m as u64,
        epoch: epochs as f64,
        sample_gradients: epochs * m as u64,
        seconds,
        lr,
        batch_loss: f64::NAN,
        theta,
        iterate: theta,
        update_rule: RuleKind::Hogwild,
    }
}

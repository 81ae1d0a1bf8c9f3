//! SGD in O(nnz) per update for L2-regularized linear models (Bottou's lazy scaling).
//!
//! The weights are kept as w = s·v. An SGD step on sample (x, y) at rate η,
//!
//! ```text
//! w ← (1 − ηλ)·w − η·ℓ'(m)·x,    b ← b − η·ℓ'(m),    m = wᵀx + b
//! ```
//!
//! becomes s ← (1 − ηλ)·s (one multiply) and vⱼ ← vⱼ − η·ℓ'(m)·xⱼ/s for the row's nonzeros;
//! v is renormalized (v ← s·v, s = 1) when s falls below 1e-9. Polyak–Ruppert averaging keeps
//! w̄ = A·u + B·v: with μ = 1/k for the k-th averaged iterate, A ← (1 − μ)A,
//! B ← (1 − μ)B + μ·s, and uⱼ gains (1 − μ)·B·Δvⱼ/A on the nonzeros, where Δv is the step just
//! taken; u is folded (u ← A·u + B·v) when A gets small. This is the same algorithm as the
//! generic loop (the same gradients, rates and averages), computed in another order, so the
//! results agree to rounding (tested), and the trainer uses it automatically for small batches
//! (up to [`MAX_BATCH`] samples on sparse rows, [`MAX_DENSE_BATCH`] on dense ones) of such
//! models without momentum (with momentum: [`super::lazy_momentum`]). A batch applies the same
//! shrink once and then each sample's sparse step with the mean's weight 1/|B|.

use super::{Exact, RuleKind, RuleState, UpdateRule};
use crate::batches::Batch;
use crate::data::{Dataset, Row};
use crate::kernels;
use crate::objective::MarginModel;
use crate::optim::Average;
use crate::{Error, Result};

/// Batches up to this size take the lazy path; larger ones are cheaper as a dense sum (on
/// threads once they span several engine blocks): past it the batch's rows no longer stay in
/// cache between its margins and its steps. Where the two cross was measured on RCV1-like rows
/// (BENCHMARKS.md, "Measurements behind the code's constants").
pub const MAX_BATCH: usize = 1024;

/// On dense rows only single samples and pairs take the lazy path: there a step costs O(d) on
/// either path, and the lazy one does less per sample (the margin, then one pass over the
/// weights) than the generic one (a d-long gradient, the penalty and its gradient, the step),
/// while larger batches are faster as a fused batch gradient (the crossing, between 2 and 4,
/// is measured in BENCHMARKS.md, "Measurements behind the code's constants").
pub const MAX_DENSE_BATCH: usize = 2;

/// Renormalize the scale factors below this (here and in [`crate::hogwild`]).
pub(crate) const TINY: f64 = 1e-9;

/// The factor 1 − ηλ by which an update's L2 term scales w (with w = s·v, s takes it).
#[inline]
pub(crate) fn l2_shrink(eta: f64, lambda: f64) -> f64 {
    1.0 - eta * lambda
}

/// The step on v per unit of a sample's loss derivative in a batch of `size` at scale `s`:
/// η/(|B|·s), known before the derivative, so that the step's one operation after it is a
/// multiply (here and in [`crate::hogwild`]).
#[inline]
pub(crate) fn step_per_unit(eta: f64, size: f64, s: f64) -> f64 {
    eta / (size * s)
}

/// The lazily scaled parameters (and their average).
pub struct LazyLinear<'a> {
    model: &'a dyn MarginModel,
    /// The model's L2 weight λ and whether it has an intercept, asked once (not through the
    /// model's vtable at every step).
    lambda: f64,
    intercept: bool,
    d: usize,
    v: Vec<f64>,
    s: f64,
    b: f64,
    /// ‖v‖², kept up to date on the nonzeros (recomputed at renormalization).
    v_norm2: f64,
    average: Option<LazyAverage>,
    /// The batch's loss derivatives (reused between steps).
    scratch: Vec<f64>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct LazyAverage {
    start: u64,
    count: u64,
    u: Vec<f64>,
    a: f64,
    bv: f64,
    b: f64,
}

/// The complete state of a [`LazyLinear`] (w = s·v, the intercept, the average's A·u + B·v),
/// for checkpoints: restoring it continues bit for bit.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LazyState {
    v: Vec<f64>,
    s: f64,
    b: f64,
    v_norm2: f64,
    average: Option<LazyAverage>,
}

/// θ = [s·v, b] into `theta` (b, the intercept, only when there is one).
fn write_parameters(s: f64, v: &[f64], b: Option<f64>, theta: &mut [f64]) {
    for (t, v) in theta.iter_mut().zip(v) {
        *t = s * v;
    }
    if let Some(b) = b {
        theta[v.len()] = b;
    }
}

impl<'a> LazyLinear<'a> {
    /// The state, for a checkpoint.
    pub fn save(&self) -> LazyState {
        LazyState {
            v: self.v.clone(),
            s: self.s,
            b: self.b,
            v_norm2: self.v_norm2,
            average: self.average.clone(),
        }
    }

    /// Continues from a saved state (which must belong to the same model and averaging).
    pub fn restore(&mut self, state: LazyState) -> crate::Result<()> {
        let shape = |what: &str, expected: usize, found: usize| crate::Error::Shape {
            what: format!("{what} in a checkpoint's lazy state"),
            expected: expected.to_string(),
            found: found.to_string(),
        };
        if state.v.len() != self.d {
            return Err(shape("weights", self.d, state.v.len()));
        }
        match (&self.average, &state.average) {
            (None, None) => {}
            (Some(_), Some(avg)) if avg.u.is_empty() || avg.u.len() == self.d => {}
            (Some(_), Some(avg)) => return Err(shape("averaged weights", self.d, avg.u.len())),
            (mine, saved) => {
                return Err(crate::Error::Shape {
                    what: "iterate average in a checkpoint's lazy state".into(),
                    expected: if mine.is_some() { "one" } else { "none" }.into(),
                    found: if saved.is_some() { "one" } else { "none" }.into(),
                })
            }
        }
        let LazyState {
            v,
            s,
            b,
            v_norm2,
            average,
        } = state;
        (self.v, self.s, self.b, self.v_norm2, self.average) = (v, s, b, v_norm2, average);
        Ok(())
    }

    /// Starts from θ = [w, b] (b only with an intercept), averaging from update `average`.
    pub fn new(model: &'a dyn MarginModel, theta: &[f64], average: Option<u64>) -> Self {
        let intercept = model.has_intercept();
        let d = theta.len() - usize::from(intercept);
        let v = theta[..d].to_vec();
        let v_norm2 = v.iter().map(|x| x * x).sum();
        LazyLinear {
            model,
            lambda: model.l2(),
            intercept,
            d,
            b: if intercept { theta[d] } else { 0.0 },
            v,
            s: 1.0,
            v_norm2,
            average: average.map(|start| LazyAverage {
                start,
                count: 0,
                u: Vec::new(),
                a: 1.0,
                bv: 0.0,
                b: 0.0,
            }),
            scratch: Vec::new(),
        }
    }

    /// One step on the samples `rows` of `data` at rate η (their mean gradient plus the L2
    /// term); `n` is the number of this update (1-based). Returns the batch's mean loss plus
    /// the L2 term at the parameters before the step when `want_loss` (else 0, or NaN when a
    /// margin is not finite, so divergence is still caught). `ahead` lists the rows the walk
    /// visits next (may be empty): they are read ahead while the step waits for its loss
    /// derivative.
    #[inline]
    pub fn step(
        &mut self,
        data: &Dataset,
        rows: &[usize],
        ahead: &[usize],
        eta: f64,
        n: u64,
        want_loss: bool,
    ) -> f64 {
        match (rows, &self.average) {
            ([i], None) => self.step_single(data, *i, ahead, eta, want_loss),
            _ => self.step_batch(data, (rows, ahead), (eta, n), want_loss),
        }
    }

    /// [`step`](Self::step) for one sample without averaging (plain SGD): the batch step's
    /// operations for |B| = 1, in the same order, so the same bits (tested), without its
    /// loops over the batch and the averaging bookkeeping, which are a measurable part of an
    /// SGD epoch on data in cache.
    fn step_single(
        &mut self,
        data: &Dataset,
        i: usize,
        ahead: &[usize],
        eta: f64,
        want_loss: bool,
    ) -> f64 {
        let (x, y) = (data.row(i), data.target(i));
        let (xv, xx) = self.dot_reading_ahead(data, x, (&[], ahead), true);
        let m = self.s * xv + self.b;
        // A sum of one loss, as the batch step adds it up.
        let loss = if want_loss || !m.is_finite() {
            0.0 + self.model.loss_at(m, y)
        } else {
            0.0
        };
        let d = self.model.dloss_at(m, y);
        let loss = self.penalized(loss, 1.0, want_loss);
        let rescaled = self.shrink(eta);
        let step = step_per_unit(eta, 1.0, self.s) * d;
        if step != 0.0 {
            self.update_v(x, step, (!rescaled).then_some((xv, xx)));
        }
        // The batch step's sum of one derivative (0 + d, which differs from d only for −0).
        self.step_intercept(eta, 0.0 + d, 1.0);
        loss
    }

    /// [`step`](Self::step) for any batch, and with averaging.
    fn step_batch(
        &mut self,
        data: &Dataset,
        (rows, ahead): (&[usize], &[usize]),
        (eta, n): (f64, u64),
        want_loss: bool,
    ) -> f64 {
        let size = rows.len().max(1) as f64;
        // Margins and derivatives at the parameters before the step.
        self.scratch.clear();
        let mut loss = 0.0;
        // x·v and ‖x‖² of a single sample, for the closed-form update of ‖v‖² below.
        let (mut xv, mut xx) = (0.0, 0.0);
        for (k, &i) in rows.iter().enumerate() {
            let (x, y) = (data.row(i), data.target(i));
            // The rows of the walk ahead: within this batch, then the next ones.
            let walk = (&rows[k + 1..], ahead);
            (xv, xx) = self.dot_reading_ahead(data, x, walk, rows.len() == 1);
            let m = self.s * xv + self.b;
            if want_loss || !m.is_finite() {
                loss += self.model.loss_at(m, y);
            }
            self.scratch.push(self.model.dloss_at(m, y));
        }
        let loss = self.penalized(loss, size, want_loss);
        let rescaled = self.shrink(eta);
        // One sample, v unchanged since its dot product: ‖v‖² in closed form.
        let closed_form = (rows.len() == 1 && !rescaled).then_some((xv, xx));
        let (mu, carry) = match &mut self.average {
            Some(avg) if n >= avg.start.max(1) => {
                avg.count += 1;
                let mu = 1.0 / avg.count as f64;
                (Some(mu), (1.0 - mu) * avg.bv)
            }
            _ => (None, 0.0),
        };
        let a_new = self
            .average
            .as_ref()
            .map_or(1.0, |a| (1.0 - mu.unwrap_or(0.0)) * a.a);
        let first_average = self.average.as_ref().is_some_and(|a| a.count == 1);
        let mut d_sum = 0.0;
        // A multiply, not a division, after each derivative (a division's latency would be on
        // every sample's path).
        let per_unit = step_per_unit(eta, size, self.s);
        for (k, &i) in rows.iter().enumerate() {
            let d = self.scratch[k];
            d_sum += d;
            let step = per_unit * d;
            if step == 0.0 {
                continue;
            }
            let x = data.row(i);
            self.update_v(x, step, closed_form);
            if let (Some(_), Some(avg)) = (mu, self.average.as_mut()) {
                if !first_average && carry != 0.0 {
                    let gain = carry * step / a_new;
                    x.for_each(|j, xj| avg.u[j] += gain * xj);
                }
            }
        }
        self.step_intercept(eta, d_sum, size);
        if let (Some(mu), Some(avg)) = (mu, self.average.as_mut()) {
            if first_average {
                // The first averaged iterate is the iterate itself.
                avg.u = vec![0.0; self.d];
                avg.a = 1.0;
                avg.bv = self.s;
                avg.b = self.b;
            } else {
                avg.a = a_new;
                avg.bv = (1.0 - mu) * avg.bv + mu * self.s;
                avg.b += (self.b - avg.b) * mu;
                if avg.a < TINY {
                    fold(avg, &self.v);
                }
            }
        }
        loss
    }

    /// `(x·v, ‖x‖²)` (‖x‖² only when `norm`, else 0), asking for the rows of the walk ahead
    /// (`rest` of this batch, `then` the next batches), as `kernels::prefetch` describes: a dense
    /// row ahead line by line through the dot product's loop; sparse rows after it, while the
    /// step waits for its loss derivative, so that a prefetch that has to wait for a free miss
    /// buffer holds nothing up.
    fn dot_reading_ahead(
        &self,
        data: &Dataset,
        x: Row<'_>,
        (rest, then): (&[usize], &[usize]),
        norm: bool,
    ) -> (f64, f64) {
        match x {
            Row::Dense(values) => {
                let ahead = data.dense_row_ahead(rest, then);
                if norm {
                    kernels::dot_and_squared_norm_ahead(values, &self.v, ahead)
                } else {
                    (kernels::dot_ahead(values, &self.v, ahead), 0.0)
                }
            }
            Row::Sparse(_) => {
                let terms = if norm {
                    x.dot_and_squared_norm(&self.v)
                } else {
                    (x.dot(&self.v), 0.0)
                };
                data.read_upcoming_across(rest, then);
                terms
            }
        }
    }

    /// The batch's mean loss (from the sum of its `size` losses) plus the L2 term, when it is
    /// wanted or not finite; else 0.
    fn penalized(&self, loss_sum: f64, size: f64, want_loss: bool) -> f64 {
        if want_loss || !loss_sum.is_finite() {
            loss_sum / size + 0.5 * self.lambda * self.s * self.s * self.v_norm2
        } else {
            0.0
        }
    }

    /// The L2 shrink s ← (1 − ηλ)·s, renormalizing v when s gets tiny (or the factor is not
    /// positive); returns whether v was renormalized.
    fn shrink(&mut self, eta: f64) -> bool {
        let shrink = l2_shrink(eta, self.lambda);
        if shrink <= 0.0 {
            self.rescale(shrink);
            return true;
        }
        self.s *= shrink;
        if self.s < TINY {
            self.rescale(1.0);
            return true;
        }
        false
    }

    /// v ← v − step·x on the row's nonzeros, keeping ‖v‖² up to date: in closed form from
    /// `(x·v, ‖x‖²)` when given (v unchanged since that dot product), else summed on the way.
    fn update_v(&mut self, x: Row<'_>, step: f64, closed_form: Option<(f64, f64)>) {
        let (v, v_norm2) = (&mut self.v, &mut self.v_norm2);
        match closed_form {
            // ‖v − c·x‖² = ‖v‖² − 2c·x·v + c²‖x‖² costs O(1) instead of a chain of dependent
            // additions over the nonzeros, a large part of a sparse SGD epoch.
            Some((xv, xx)) => {
                // v − step·x, as v + (−step)·x: the same bits, in the row kernel.
                x.axpy(-step, v);
                *v_norm2 = (*v_norm2 + step * (step * xx - 2.0 * xv)).max(0.0);
            }
            None => {
                // The change of ‖v‖² in four interleaved partial sums (one sum would make every
                // nonzero wait for the previous addition).
                let (mut acc, mut k) = ([0.0f64; 4], 0usize);
                x.for_each(|j, xj| {
                    let old = v[j];
                    let new = old - step * xj;
                    acc[k & 3] += new * new - old * old;
                    k += 1;
                    v[j] = new;
                });
                *v_norm2 += (acc[0] + acc[1]) + (acc[2] + acc[3]);
            }
        }
    }

    /// b ← b − η·(Σ ℓ')/|B|, with an intercept.
    fn step_intercept(&mut self, eta: f64, d_sum: f64, size: f64) {
        if self.intercept {
            self.b -= eta * d_sum / size;
        }
    }

    /// v ← factor·s·v and s = 1 (the average's B follows v).
    fn rescale(&mut self, factor: f64) {
        let scale = self.s * factor;
        if let Some(avg) = self.average.as_mut().filter(|a| a.count > 0) {
            fold(avg, &self.v);
        }
        self.v.iter_mut().for_each(|x| *x *= scale);
        self.v_norm2 = self.v.iter().map(|x| x * x).sum();
        self.s = 1.0;
    }

    /// Writes θ = [s·v, b] into `theta`.
    pub fn parameters(&self, theta: &mut [f64]) {
        write_parameters(self.s, &self.v, self.intercept.then_some(self.b), theta);
    }

    /// Writes the averaged parameters (or θ before averaging starts) into `mean`.
    pub fn average(&self, mean: &mut [f64]) {
        match &self.average {
            Some(avg) if avg.count > 0 => {
                for ((m, u), v) in mean.iter_mut().zip(&avg.u).zip(&self.v) {
                    *m = avg.a * u + avg.bv * v;
                }
                if self.intercept {
                    mean[self.d] = avg.b;
                }
            }
            _ => self.parameters(mean),
        }
    }
}

/// The O(nnz) rule: [`LazyLinear`] with the parameters (and their average) written out for
/// observers.
pub struct LazySparseRule<'a> {
    lazy: LazyLinear<'a>,
    /// θ as last materialized.
    theta: Vec<f64>,
    /// θ̄ as last materialized (empty without averaging).
    mean: Vec<f64>,
}

impl<'a> LazySparseRule<'a> {
    /// Starts from θ = [w, b], averaging from update `average`.
    pub fn new(model: &'a dyn MarginModel, theta: Vec<f64>, average: Option<u64>) -> Self {
        LazySparseRule {
            lazy: LazyLinear::new(model, &theta, average),
            mean: if average.is_some() {
                theta.clone()
            } else {
                Vec::new()
            },
            theta,
        }
    }

    /// Continues from another rule's iterate and average (the average held in u alone, A = 1,
    /// B = 0: w̄ = u).
    fn restart(&mut self, theta: &[f64], average: Option<&Average>) {
        let mut lazy = LazyLinear::new(self.lazy.model, theta, average.map(Average::start));
        if let (Some(avg), Some(saved)) = (lazy.average.as_mut(), average) {
            avg.count = saved.count();
            if saved.count() > 0 {
                avg.u = saved.mean()[..lazy.d].to_vec();
                avg.b = if lazy.intercept {
                    saved.mean()[lazy.d]
                } else {
                    0.0
                };
            }
        }
        self.lazy = lazy;
    }
}

impl UpdateRule for LazySparseRule<'_> {
    fn kind(&self) -> RuleKind {
        RuleKind::LazySparse
    }

    fn step(&mut self, batch: Batch<'_>, lr: f64, n: u64, want_loss: bool) -> f64 {
        self.lazy
            .step(batch.data, batch.rows, batch.ahead, lr, n, want_loss)
    }

    fn materialize(&mut self) {
        self.lazy.parameters(&mut self.theta);
        if !self.mean.is_empty() {
            self.lazy.average(&mut self.mean);
        }
    }

    fn iterate(&self) -> &[f64] {
        &self.theta
    }

    fn parameters(&self) -> &[f64] {
        if self.mean.is_empty() {
            &self.theta
        } else {
            &self.mean
        }
    }

    fn save(&self) -> RuleState {
        let mut theta = vec![0.0; self.theta.len()];
        self.lazy.parameters(&mut theta);
        let average = self.lazy.average.as_ref().map(|avg| {
            let mut mean = vec![0.0; theta.len()];
            self.lazy.average(&mut mean);
            Average::from_parts(avg.start, avg.count, mean)
        });
        RuleState {
            theta,
            average,
            stages: Vec::new(),
            exact: Some(Exact::LazySparse(self.lazy.save())),
        }
    }

    fn restore(&mut self, state: RuleState) -> Result<()> {
        let averaging = self.lazy.average.is_some();
        state.check(self.theta.len(), averaging)?;
        if !state.stages.is_empty() {
            return Err(Error::Shape {
                what: "optimizer stages in the saved state".into(),
                expected: "none (plain gradient descent)".into(),
                found: state.stages.len().to_string(),
            });
        }
        match state.exact {
            Some(Exact::LazySparse(exact)) => self.lazy.restore(exact)?,
            _ => self.restart(&state.theta, state.average.as_ref()),
        }
        self.theta = state.theta;
        if let Some(a) = state.average {
            self.mean = a.mean().to_vec();
        }
        Ok(())
    }
}

/// u ← A·u + B·v, A = 1, B = 0: the average held in u alone.
fn fold(avg: &mut LazyAverage, v: &[f64]) {
    for (u, v) in avg.u.iter_mut().zip(v) {
        *u = avg.a * *u + avg.bv * v;
    }
    avg.a = 1.0;
    avg.bv = 0.0;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::{Entry, Features, Source};
    use crate::objective::{Linear, Logistic, L2};

    /// 40 sparse rows over 30 features, labels ±1, none all-zero (also the momentum path's
    /// test data).
    pub(crate) fn data() -> Dataset {
        let (mut indptr, mut entries, mut targets) = (vec![0], Vec::new(), Vec::new());
        for i in 0..40u32 {
            for j in (0..30u32).filter(|j| (i * 7 + j * 3) % 5 < 2 || *j == i % 30) {
                let value = ((i * 31 + j * 17) % 23) as f32 / 11.0 - 0.9;
                entries.push(Entry::new(j, if value == 0.0 { 0.5 } else { value }));
            }
            indptr.push(entries.len());
            targets.push(if (i * 13) % 7 < 3 { 1.0 } else { -1.0 });
        }
        let features = Features::Sparse {
            dim: 30,
            indptr,
            entries,
        };
        Dataset::new(features, targets, Source::default()).unwrap()
    }

    #[test]
    fn the_single_sample_step_gives_the_bits_of_the_batch_step() {
        let data = data();
        // λ·η large enough that s falls below 1e-9 and v is renormalized on the way.
        for (intercept, lambda, eta) in [(true, 1e-3, 0.5), (false, 0.3, 0.9), (true, 0.0, 0.2)] {
            let model = Linear::new(Logistic, 30, intercept, L2::new(lambda));
            let theta: Vec<f64> = (0..30 + usize::from(intercept))
                .map(|j| (j as f64 - 14.0) / 40.0)
                .collect();
            let (mut single, mut batch) = (
                LazyLinear::new(&model, &theta, None),
                LazyLinear::new(&model, &theta, None),
            );
            let mut rescaled = false;
            for n in 1..=400u64 {
                let i = (n as usize * 17) % data.len();
                let rate = eta / (1.0 + 0.01 * n as f64);
                let want = n % 3 == 0;
                let a = single.step(&data, &[i], &[], rate, n, want);
                let b = batch.step_batch(&data, (&[i], &[]), (rate, n), want);
                assert_eq!(a.to_bits(), b.to_bits(), "loss at update {n}");
                rescaled |= single.s.to_bits() == 1f64.to_bits() && n > 1;
            }
            assert!(
                rescaled || lambda < 0.1,
                "the test was meant to renormalize v"
            );
            let (mut p, mut q) = (vec![0.0; theta.len()], vec![0.0; theta.len()]);
            single.parameters(&mut p);
            batch.parameters(&mut q);
            assert!(p.iter().any(|x| *x != 0.0));
            for (x, y) in p.iter().zip(&q) {
                assert_eq!(x.to_bits(), y.to_bits());
            }
            assert_eq!(single.v_norm2.to_bits(), batch.v_norm2.to_bits());
            // The rule's generic state holds the same parameters, and the rule restarted from
            // them (no exact form) continues from the same point.
            let mut rule = LazySparseRule::new(&model, theta.clone(), None);
            rule.lazy = single;
            let mut state = rule.save();
            assert_eq!(state.theta, p);
            state.exact = None;
            let mut restarted = LazySparseRule::new(&model, theta.clone(), None);
            restarted.restore(state.clone()).unwrap();
            restarted.materialize();
            assert_eq!(restarted.iterate(), &p[..]);
            state.theta.pop();
            assert!(restarted.restore(state).is_err(), "a θ of another length");
        }
    }

    #[test]
    fn reading_ahead_changes_nothing() {
        let data = data();
        let model = Linear::new(Logistic, 30, true, L2::new(1e-2));
        let theta = vec![0.1; 31];
        let (mut with, mut without) = (
            LazyLinear::new(&model, &theta, None),
            LazyLinear::new(&model, &theta, None),
        );
        let order: Vec<usize> = (0..data.len()).map(|k| (k * 11) % data.len()).collect();
        for (k, &i) in order.iter().enumerate() {
            let n = k as u64 + 1;
            with.step(&data, &[i], &order[k + 1..], 0.3, n, true);
            without.step(&data, &[i], &[], 0.3, n, true);
        }
        let (mut p, mut q) = (vec![0.0; 31], vec![0.0; 31]);
        with.parameters(&mut p);
        without.parameters(&mut q);
        assert!(p.iter().zip(&q).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}

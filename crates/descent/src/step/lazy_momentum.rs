//! SGD with momentum in O(nnz) per update for L2-regularized linear models on sparse rows.
//!
//! With momentum μ ([`crate::optim::Momentum`], PyTorch's convention) and the L2 term λθ in
//! the gradient, an update at rate η moves every weight, touched by the batch or not: a weight
//! j whose rows the batch does not contain still has the gradient λθⱼ and a buffer that decays.
//! Written as the pair zⱼ = (θⱼ, bufⱼ), with sⱼ the batch's mean of ℓ'ᵢ·xᵢⱼ (zero for the
//! weights it does not touch), one update is
//!
//! ```text
//! zⱼ ← A·zⱼ + e·sⱼ
//! heavy ball: A = [[1 − ηλ, −ημ], [λ, μ]],               e = (−η, 1)
//! Nesterov:   A = [[1 − ηλ(1 + μ), −ημ²], [λ, μ]],        e = (−η(1 + μ), 1)
//! ```
//!
//! the same matrix A for every weight. So the weights are kept as zⱼ = P·yⱼ with one 2 × 2
//! matrix P for all of them: an update multiplies P by A (O(1)) and adds P⁻¹·e·sⱼ to yⱼ on the
//! batch's nonzeros only (O(nnz)). P grows ill-conditioned as the buffer's part decays (its
//! determinant is μᵏ, or μᵏ·Π(1 − ηλ) for Nesterov, after k updates); before its condition
//! number passes [`CONDITION_LIMIT`], z = P·y is written out (O(d)) and P reset to the
//! identity: every ~130 updates at μ = 0.9, ~1,400 at μ = 0.99. The intercept (not penalized)
//! and its buffer are two numbers, updated as the generic loop does. The sums Σθ², Σθ·buf and
//! Σbuf², which give the loss's L2 term, follow the same linear map (O(1) per update) plus
//! the changes on the nonzeros.
//!
//! This is the generic loop's algorithm (the same gradients, buffers and rates) computed in
//! another order, so results agree to rounding (tested); the trainer uses it for sparse
//! batches of up to [`super::lazy_sparse::MAX_BATCH`] samples of such models with momentum and
//! without iterate averaging.

use super::{Exact, RuleKind, RuleState, UpdateRule};
use crate::batches::Batch;
use crate::data::Dataset;
use crate::objective::MarginModel;
use crate::optim::{StageState, MOMENTUM_BUFFER};
use crate::{Error, Result};

/// Write z = P·y out when P's condition number would pass this: each element of y then
/// carries up to this factor times the rounding of a weight, so results stay within about
/// 10⁻¹⁰ of the generic loop's (relative), at an O(d) pass every log(LIMIT)/log(1/μ) updates.
pub const CONDITION_LIMIT: f64 = 1e6;

/// The weights and momentum buffers of a linear model, kept as (θⱼ, bufⱼ) = P·yⱼ.
pub struct LazyMomentum<'a> {
    model: &'a dyn MarginModel,
    /// The model's L2 weight λ and whether it has an intercept, asked once.
    lambda: f64,
    intercept: bool,
    mu: f64,
    nesterov: bool,
    /// yⱼ, one pair per weight (the two read together).
    y: Vec<[f64; 2]>,
    /// P, by rows: [p₀₀, p₀₁, p₁₀, p₁₁].
    p: [f64; 4],
    /// Σθⱼ², Σθⱼ·bufⱼ, Σbufⱼ² over the weights.
    sums: [f64; 3],
    /// The intercept and its buffer.
    b: f64,
    b_buf: f64,
    /// The batch's loss derivatives (reused between steps).
    scratch: Vec<f64>,
}

/// The complete state of a [`LazyMomentum`], for checkpoints: restoring it continues bit for
/// bit.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LazyMomentumState {
    y: Vec<[f64; 2]>,
    p: [f64; 4],
    sums: [f64; 3],
    b: f64,
    b_buf: f64,
}

/// P·y.
#[inline(always)]
fn apply(p: &[f64; 4], [a, c]: [f64; 2]) -> [f64; 2] {
    [p[0] * a + p[1] * c, p[2] * a + p[3] * c]
}

/// The product A·P of two 2 × 2 matrices (by rows).
fn product(a: &[f64; 4], p: &[f64; 4]) -> [f64; 4] {
    [
        a[0] * p[0] + a[1] * p[2],
        a[0] * p[1] + a[1] * p[3],
        a[2] * p[0] + a[3] * p[2],
        a[2] * p[1] + a[3] * p[3],
    ]
}

/// M⁻¹·e, when M is invertible with a condition number within [`CONDITION_LIMIT`].
fn solve(m: &[f64; 4], e: [f64; 2]) -> Option<[f64; 2]> {
    let det = m[0] * m[3] - m[1] * m[2];
    // ‖M‖²_F / |det M| = κ + 1/κ for the 2-norm condition number κ.
    let spread = m.iter().map(|x| x * x).sum::<f64>() / det.abs();
    if !(spread.is_finite() && spread <= CONDITION_LIMIT) {
        return None;
    }
    Some([
        (m[3] * e[0] - m[1] * e[1]) / det,
        (m[0] * e[1] - m[2] * e[0]) / det,
    ])
}

/// The sums Σθ², Σθ·buf, Σbuf² after z ← A·z for every weight.
fn map_sums(a: &[f64; 4], [tt, tb, bb]: [f64; 3]) -> [f64; 3] {
    [
        a[0] * a[0] * tt + 2.0 * a[0] * a[1] * tb + a[1] * a[1] * bb,
        a[0] * a[2] * tt + (a[0] * a[3] + a[1] * a[2]) * tb + a[1] * a[3] * bb,
        a[2] * a[2] * tt + 2.0 * a[2] * a[3] * tb + a[3] * a[3] * bb,
    ]
}

const IDENTITY: [f64; 4] = [1.0, 0.0, 0.0, 1.0];

impl<'a> LazyMomentum<'a> {
    /// Starts from θ = [w, b] (b only with an intercept) and a momentum buffer in θ's layout
    /// (`None`: no update yet, a zero buffer), for momentum μ ∈ (0, 1), Nesterov's when
    /// `nesterov`.
    pub fn new(
        model: &'a dyn MarginModel,
        theta: &[f64],
        buffer: Option<&[f64]>,
        mu: f64,
        nesterov: bool,
    ) -> Self {
        let intercept = model.has_intercept();
        let d = theta.len() - usize::from(intercept);
        let buf = |j: usize| buffer.map_or(0.0, |b| b[j]);
        let mut lazy = LazyMomentum {
            model,
            lambda: model.l2(),
            intercept,
            mu,
            nesterov,
            y: (0..d).map(|j| [theta[j], buf(j)]).collect(),
            p: IDENTITY,
            sums: [0.0; 3],
            b: if intercept { theta[d] } else { 0.0 },
            b_buf: if intercept { buf(d) } else { 0.0 },
            scratch: Vec::new(),
        };
        lazy.write_out();
        lazy
    }

    /// The state, for a checkpoint.
    pub fn save(&self) -> LazyMomentumState {
        LazyMomentumState {
            y: self.y.clone(),
            p: self.p,
            sums: self.sums,
            b: self.b,
            b_buf: self.b_buf,
        }
    }

    /// Continues from a saved state (which must belong to the same model).
    pub fn restore(&mut self, state: LazyMomentumState) -> crate::Result<()> {
        if state.y.len() != self.y.len() {
            return Err(crate::Error::Shape {
                what: "weights in a checkpoint's lazy momentum state".into(),
                expected: self.y.len().to_string(),
                found: state.y.len().to_string(),
            });
        }
        self.y = state.y;
        self.p = state.p;
        self.sums = state.sums;
        self.b = state.b;
        self.b_buf = state.b_buf;
        Ok(())
    }

    /// Writes θ = [w, b] and the momentum buffer (in θ's layout) into `theta` and `buffer`.
    fn parameters_and_buffer(&self, theta: &mut [f64], buffer: &mut [f64]) {
        for (j, y) in self.y.iter().enumerate() {
            [theta[j], buffer[j]] = apply(&self.p, *y);
        }
        if self.intercept {
            theta[self.y.len()] = self.b;
            buffer[self.y.len()] = self.b_buf;
        }
    }

    /// Writes θ = [w, b] into `theta`.
    pub fn parameters(&self, theta: &mut [f64]) {
        for (t, y) in theta.iter_mut().zip(&self.y) {
            *t = apply(&self.p, *y)[0];
        }
        if self.intercept {
            theta[self.y.len()] = self.b;
        }
    }

    /// One update on the samples `rows` of `data` at rate η (their mean gradient plus the L2
    /// term, through the momentum buffer). Returns the batch's mean loss plus the L2 term at
    /// the parameters before the update when `want_loss` (else 0, or NaN when a margin is not
    /// finite, so divergence is still caught). `ahead` lists the rows the walk visits next
    /// (may be empty): they are asked for while the update computes.
    pub fn step(
        &mut self,
        (data, rows, ahead): (&Dataset, &[usize], &[usize]),
        eta: f64,
        want_loss: bool,
    ) -> f64 {
        let size = rows.len().max(1) as f64;
        self.scratch.clear();
        let mut loss = 0.0;
        let [p00, p01, ..] = self.p;
        for (k, &i) in rows.iter().enumerate() {
            let (x, target) = (data.row(i), data.target(i));
            let (mut xa, mut xc) = (0.0, 0.0);
            x.for_each(|j, xj| {
                let [a, c] = self.y[j];
                xa += xj * a;
                xc += xj * c;
            });
            data.read_upcoming_across(&rows[k + 1..], ahead);
            let m = p00 * xa + p01 * xc + self.b;
            if want_loss || !m.is_finite() {
                loss += self.model.loss_at(m, target);
            }
            self.scratch.push(self.model.dloss_at(m, target));
        }
        let loss = if want_loss || !loss.is_finite() {
            loss / size + 0.5 * self.lambda * self.sums[0]
        } else {
            0.0
        };
        let (a, e) = self.transition(eta);
        let q = match solve(&product(&a, &self.p), e) {
            Some(q) => q,
            None => {
                // P·A too ill-conditioned: write z out and start again from P = I.
                self.write_out();
                match solve(&a, e) {
                    Some(q) => q,
                    None => {
                        // A itself is (nearly) singular (ηλ near 1 for Nesterov): apply it to
                        // every weight now.
                        self.p = a;
                        self.write_out();
                        self.add_steps(data, rows, size, e, e);
                        self.step_intercept(eta, size);
                        return loss;
                    }
                }
            }
        };
        self.p = product(&a, &self.p);
        self.sums = map_sums(&a, self.sums);
        self.add_steps(data, rows, size, e, q);
        self.step_intercept(eta, size);
        loss
    }

    /// The update's matrix A and input vector e at rate η.
    fn transition(&self, eta: f64) -> ([f64; 4], [f64; 2]) {
        let (mu, lambda) = (self.mu, self.lambda);
        if self.nesterov {
            (
                [1.0 - eta * lambda * (1.0 + mu), -eta * mu * mu, lambda, mu],
                [-eta * (1.0 + mu), 1.0],
            )
        } else {
            ([1.0 - eta * lambda, -eta * mu, lambda, mu], [-eta, 1.0])
        }
    }

    /// zⱼ += e·ℓ'ᵢ·xᵢⱼ/|B| on every nonzero of the batch (yⱼ += q·ℓ'ᵢ·xᵢⱼ/|B|, q = P⁻¹·e with
    /// the P after this update), keeping the sums up to date.
    fn add_steps(&mut self, data: &Dataset, rows: &[usize], size: f64, e: [f64; 2], q: [f64; 2]) {
        let p = self.p;
        let [mut tt, mut tb, mut bb] = self.sums;
        for (&i, &d) in rows.iter().zip(&self.scratch) {
            let weight = d / size;
            if weight == 0.0 {
                continue;
            }
            let (dt_unit, db_unit) = (e[0] * weight, e[1] * weight);
            let (qa, qc) = (q[0] * weight, q[1] * weight);
            data.row(i).for_each(|j, xj| {
                let y = &mut self.y[j];
                let [t, b] = apply(&p, *y);
                let (dt, db) = (dt_unit * xj, db_unit * xj);
                tt += dt * (2.0 * t + dt);
                tb += t * db + dt * (b + db);
                bb += db * (2.0 * b + db);
                y[0] += qa * xj;
                y[1] += qc * xj;
            });
        }
        self.sums = [tt.max(0.0), tb, bb.max(0.0)];
    }

    /// The intercept's buffer and step, as the generic loop computes them.
    fn step_intercept(&mut self, eta: f64, size: f64) {
        if self.intercept {
            let g = self.scratch.iter().sum::<f64>() / size;
            self.b_buf = self.mu * self.b_buf + g;
            let update = if self.nesterov {
                g + self.mu * self.b_buf
            } else {
                self.b_buf
            };
            self.b -= eta * update;
        }
    }

    /// z = P·y written out for every weight, P = I, and the sums recomputed on the way.
    fn write_out(&mut self) {
        let p = self.p;
        let mut sums = [0.0; 3];
        for y in &mut self.y {
            let [t, b] = apply(&p, *y);
            *y = [t, b];
            sums[0] += t * t;
            sums[1] += t * b;
            sums[2] += b * b;
        }
        self.p = IDENTITY;
        self.sums = sums;
    }
}

/// The O(nnz) momentum rule: [`LazyMomentum`] with the parameters written out for
/// observers. It runs the chain's one momentum stage itself, and saves that stage's buffer
/// as the stage would.
pub struct LazyMomentumRule<'a> {
    lazy: LazyMomentum<'a>,
    /// θ as last materialized.
    theta: Vec<f64>,
}

impl<'a> LazyMomentumRule<'a> {
    /// Starts from θ = [w, b] with a zero buffer, for momentum μ, Nesterov's when `nesterov`.
    pub fn new(model: &'a dyn MarginModel, theta: Vec<f64>, mu: f64, nesterov: bool) -> Self {
        LazyMomentumRule {
            lazy: LazyMomentum::new(model, &theta, None, mu, nesterov),
            theta,
        }
    }
}

impl UpdateRule for LazyMomentumRule<'_> {
    fn kind(&self) -> RuleKind {
        RuleKind::LazyMomentum
    }

    fn step(&mut self, batch: Batch<'_>, lr: f64, _n: u64, want_loss: bool) -> f64 {
        self.lazy
            .step((batch.data, batch.rows, batch.ahead), lr, want_loss)
    }

    fn materialize(&mut self) {
        self.lazy.parameters(&mut self.theta);
    }

    fn iterate(&self) -> &[f64] {
        &self.theta
    }

    fn parameters(&self) -> &[f64] {
        &self.theta
    }

    fn save(&self) -> RuleState {
        let (mut theta, mut buffer) = (vec![0.0; self.theta.len()], vec![0.0; self.theta.len()]);
        self.lazy.parameters_and_buffer(&mut theta, &mut buffer);
        let mut stage = StageState::default();
        stage.buffers.insert(MOMENTUM_BUFFER.into(), buffer);
        RuleState {
            theta,
            average: None,
            stages: vec![stage],
            exact: Some(Exact::LazyMomentum(self.lazy.save())),
        }
    }

    fn restore(&mut self, mut state: RuleState) -> Result<()> {
        let dim = self.theta.len();
        state.check(dim, false)?;
        let [stage] = &mut state.stages[..] else {
            return Err(Error::Shape {
                what: "optimizer stages in the saved state".into(),
                expected: "1 (momentum)".into(),
                found: state.stages.len().to_string(),
            });
        };
        let buffer = stage.buffers.remove(MOMENTUM_BUFFER);
        if let Some(b) = buffer.as_ref().filter(|b| b.len() != dim) {
            return Err(Error::Shape {
                what: "momentum buffer".into(),
                expected: dim.to_string(),
                found: b.len().to_string(),
            });
        }
        match state.exact {
            Some(Exact::LazyMomentum(exact)) => self.lazy.restore(exact)?,
            _ => {
                let l = &self.lazy;
                self.lazy =
                    LazyMomentum::new(l.model, &state.theta, buffer.as_deref(), l.mu, l.nesterov);
            }
        }
        self.theta = state.theta;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::{Hinge, LeastSquares, Linear, Logistic, L2};
    use crate::step::lazy_sparse::tests::data;

    /// The generic loop's update, written out densely: g = mean ℓ'·x + λθ (not on the
    /// intercept), buf = μ·buf + g, θ ← θ − η·buf (or η·(g + μ·buf)). Returns the loss.
    #[allow(clippy::too_many_arguments)]
    fn reference_step(
        model: &dyn MarginModel,
        data: &Dataset,
        rows: &[usize],
        eta: f64,
        (mu, nesterov): (f64, bool),
        theta: &mut [f64],
        buf: &mut [f64],
    ) -> f64 {
        let d = data.dim();
        let mut g = vec![0.0; theta.len()];
        let mut loss = 0.0;
        for &i in rows {
            let x = data.row(i);
            let b = if model.has_intercept() { theta[d] } else { 0.0 };
            let m = x.dot(&theta[..d]) + b;
            loss += model.loss_at(m, data.target(i));
            let dl = model.dloss_at(m, data.target(i)) / rows.len() as f64;
            x.for_each(|j, xj| g[j] += dl * xj);
            if model.has_intercept() {
                g[d] += dl;
            }
        }
        let lambda = model.l2();
        let norm2: f64 = theta[..d].iter().map(|t| t * t).sum();
        for j in 0..theta.len() {
            if j < d {
                g[j] += lambda * theta[j];
            }
            buf[j] = mu * buf[j] + g[j];
            let update = if nesterov { g[j] + mu * buf[j] } else { buf[j] };
            theta[j] -= eta * update;
        }
        loss / rows.len() as f64 + 0.5 * lambda * norm2
    }

    fn close(what: &str, a: f64, b: f64) {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        );
    }

    #[test]
    fn updates_equal_the_generic_loop_to_rounding() {
        let data = data();
        let models: [(&str, Box<dyn MarginModel>); 3] = [
            (
                "logistic",
                Box::new(Linear::new(Logistic, 30, true, L2::new(1e-2))),
            ),
            (
                "hinge",
                Box::new(Linear::new(Hinge, 30, false, L2::new(0.1))),
            ),
            (
                "least squares",
                Box::new(Linear::new(LeastSquares, 30, true, L2::new(0.0))),
            ),
        ];
        for (name, model) in &models {
            // μ = 0.5 writes z out every ~20 updates; 0.99 rarely.
            for momentum in [
                (0.9, false),
                (0.9, true),
                (0.5, false),
                (0.5, true),
                (0.99, true),
            ] {
                let dim = 30 + usize::from(model.has_intercept());
                let start: Vec<f64> = (0..dim).map(|j| (j as f64 - 14.0) / 60.0).collect();
                let mut lazy =
                    LazyMomentum::new(model.as_ref(), &start, None, momentum.0, momentum.1);
                let (mut theta, mut buf) = (start.clone(), vec![0.0; dim]);
                let mut written_out = false;
                for n in 1..=300usize {
                    let size = [1, 3, 8][n % 3];
                    let rows: Vec<usize> =
                        (0..size).map(|k| (n * 17 + k * 5) % data.len()).collect();
                    let eta = 0.05 / (1.0 + 0.01 * n as f64);
                    let det_before = lazy.p[0] * lazy.p[3] - lazy.p[1] * lazy.p[2];
                    let a = lazy.step((&data, &rows, &[]), eta, true);
                    let det_after = lazy.p[0] * lazy.p[3] - lazy.p[1] * lazy.p[2];
                    written_out |= det_after.abs() > det_before.abs();
                    let b = reference_step(
                        model.as_ref(),
                        &data,
                        &rows,
                        eta,
                        momentum,
                        &mut theta,
                        &mut buf,
                    );
                    let what = format!("{name} {momentum:?} update {n}");
                    close(&format!("{what}: loss"), a, b);
                    let mut p = vec![0.0; dim];
                    lazy.parameters(&mut p);
                    for j in 0..dim {
                        close(&format!("{what}: θ[{j}]"), p[j], theta[j]);
                    }
                }
                assert!(
                    theta.iter().any(|t| t.abs() > 0.05),
                    "{name}: the weights moved"
                );
                // (Hinge's λ = 0.1 gives A complex eigenvalues of one modulus: P rotates and
                // shrinks without growing ill-conditioned.)
                assert!(
                    written_out || momentum.0 > 0.95 || *name == "hinge",
                    "{name} {momentum:?}: P was reset"
                );
                let (mut p, mut b) = (vec![0.0; dim], vec![0.0; dim]);
                lazy.parameters_and_buffer(&mut p, &mut b);
                for j in 0..dim {
                    close("saved θ", p[j], theta[j]);
                    close("saved buffer", b[j], buf[j]);
                }
            }
        }
    }

    #[test]
    fn a_singular_update_is_applied_to_every_weight() {
        // Nesterov with ηλ = 1: A's determinant μ(1 − ηλ) is 0, P cannot follow.
        let data = data();
        let model = Linear::new(Logistic, 30, true, L2::new(2.0));
        let start = vec![0.1; 31];
        let mut lazy = LazyMomentum::new(&model, &start, None, 0.9, true);
        let (mut theta, mut buf) = (start.clone(), vec![0.0; 31]);
        for n in 0..20usize {
            let rows = [n % 40, (n * 7 + 3) % 40];
            let eta = if n % 4 == 1 { 0.5 } else { 0.01 };
            let a = lazy.step((&data, &rows, &[]), eta, true);
            let b = reference_step(&model, &data, &rows, eta, (0.9, true), &mut theta, &mut buf);
            close("loss", a, b);
        }
        let mut p = vec![0.0; 31];
        lazy.parameters(&mut p);
        for j in 0..31 {
            close("θ", p[j], theta[j]);
        }
    }

    #[test]
    fn a_saved_state_continues_bit_for_bit() {
        let data = data();
        let model = Linear::new(Logistic, 30, true, L2::new(1e-2));
        let mut lazy = LazyMomentum::new(&model, &[0.05; 31], None, 0.9, false);
        let step = |lazy: &mut LazyMomentum<'_>, n: usize| {
            let rows = [n % 40, (n * 3) % 40];
            lazy.step((&data, &rows, &[]), 0.1, n.is_multiple_of(2))
        };
        (0..50).for_each(|n| {
            step(&mut lazy, n);
        });
        let saved = lazy.save();
        let mut copy = LazyMomentum::new(&model, &[0.0; 31], None, 0.9, false);
        copy.restore(saved).unwrap();
        for n in 50..150 {
            assert_eq!(step(&mut lazy, n).to_bits(), step(&mut copy, n).to_bits());
        }
        let (mut p, mut q) = (vec![0.0; 31], vec![0.0; 31]);
        lazy.parameters(&mut p);
        copy.parameters(&mut q);
        assert!(p.iter().zip(&q).all(|(x, y)| x.to_bits() == y.to_bits()));
        let short = LazyMomentum::new(&model, &[0.0; 21], None, 0.9, false).save();
        assert!(copy.restore(short).is_err());
        // The rule's generic state: θ and the stage's buffer; a rule restarted from them
        // (no exact form) holds the same θ.
        let mut rule = LazyMomentumRule::new(&model, vec![0.0; 31], 0.9, false);
        rule.lazy = lazy;
        let mut state = rule.save();
        assert_eq!(state.theta, p);
        state.exact = None;
        let mut other = LazyMomentumRule::new(&model, vec![0.0; 31], 0.9, false);
        other.restore(state.clone()).unwrap();
        other.materialize();
        assert_eq!(other.iterate(), &p[..]);
        state.theta.pop();
        assert!(other.restore(state).is_err(), "a θ of another length");
    }
}

//! A multilayer perceptron with one hidden layer: x → tanh(W₁x + b₁) → softmax(W₂h + b₂),
//! cross-entropy loss over k classes (labels 0..k−1).
//!
//! θ = [W₁ (H×d, row-major), b₁ (H), W₂ (k×H, row-major), b₂ (k)]. Backpropagation per sample:
//! δ₂ = softmax(z₂) − e_y; ∇W₂ = δ₂hᵀ; ∇b₂ = δ₂; δ₁ = (W₂ᵀδ₂) ⊙ (1 − h²); ∇W₁ = δ₁xᵀ (only the
//! row's nonzeros); ∇b₁ = δ₁. The L2 term covers W₁ and W₂, not the biases. Parameters start
//! from Glorot-uniform weights drawn from the run's seed and zero biases (zeros would leave every
//! hidden unit identical forever).

use super::{argmax, Objective, Task, L2};
use crate::data::Row;
use rand::{RngExt, SeedableRng};
use std::cell::RefCell;

thread_local! {
    /// Each thread's working memory for one sample's passes (hidden activations, logits, the
    /// errors sent back), reused from sample to sample instead of allocated for each.
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// One hidden layer of `hidden` tanh units, softmax over `classes`.
#[derive(Debug, Clone, Copy)]
pub struct Mlp {
    n_features: usize,
    hidden: usize,
    classes: usize,
    penalty: L2,
}

impl Mlp {
    /// An MLP for `n_features` inputs.
    pub fn new(n_features: usize, hidden: usize, classes: usize, penalty: L2) -> Self {
        Mlp {
            n_features,
            hidden,
            classes,
            penalty,
        }
    }

    /// Offsets of W₁, b₁, W₂, b₂ in θ.
    fn offsets(&self) -> [usize; 4] {
        let (d, h, k) = (self.n_features, self.hidden, self.classes);
        [0, h * d, h * d + h, h * d + h + k * h]
    }

    /// Runs `f` on zeroed buffers for the hidden activations, the logits and the errors sent
    /// back (this thread's [`SCRATCH`]).
    fn with_scratch<R>(&self, f: impl FnOnce(&mut [f64], &mut [f64], &mut [f64]) -> R) -> R {
        SCRATCH.with_borrow_mut(|buffer| {
            let (h, k) = (self.hidden, self.classes);
            buffer.clear();
            buffer.resize(2 * h + k, 0.0);
            let (hid, rest) = buffer.split_at_mut(h);
            let (z, back) = rest.split_at_mut(k);
            f(hid, z, back)
        })
    }

    /// Hidden activations into `hid` and logits into `z`; returns logsumexp(z).
    fn forward(&self, theta: &[f64], x: Row<'_>, hid: &mut [f64], z: &mut [f64]) -> f64 {
        let (d, h) = (self.n_features, self.hidden);
        let [_, b1, w2, b2] = self.offsets();
        for (j, v) in hid.iter_mut().enumerate() {
            *v = (x.dot(&theta[j * d..(j + 1) * d]) + theta[b1 + j]).tanh();
        }
        for (c, zc) in z.iter_mut().enumerate() {
            let row = &theta[w2 + c * h..w2 + (c + 1) * h];
            *zc = row.iter().zip(hid.iter()).map(|(w, v)| w * v).sum::<f64>() + theta[b2 + c];
        }
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
    }
}

impl Objective for Mlp {
    fn name(&self) -> &'static str {
        "mlp"
    }

    fn dim(&self) -> usize {
        self.offsets()[3] + self.classes
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn task(&self) -> Task {
        Task::Multiclass(self.classes)
    }

    fn loss(&self, theta: &[f64], x: Row<'_>, y: f64) -> f64 {
        self.with_scratch(|hid, z, _| self.forward(theta, x, hid, z) - z[y as usize])
    }

    fn add_gradient(
        &self,
        theta: &[f64],
        x: Row<'_>,
        y: f64,
        weight: f64,
        grad: &mut [f64],
    ) -> f64 {
        let (d, h) = (self.n_features, self.hidden);
        let [_, b1, w2, b2] = self.offsets();
        self.with_scratch(|hid, z, back| {
            let lse = self.forward(theta, x, hid, z);
            let label = y as usize;
            let loss = lse - z[label];
            for (c, &zc) in z.iter().enumerate() {
                let delta = weight * ((zc - lse).exp() - if c == label { 1.0 } else { 0.0 });
                for j in 0..h {
                    grad[w2 + c * h + j] += delta * hid[j];
                    back[j] += theta[w2 + c * h + j] * delta;
                }
                grad[b2 + c] += delta;
            }
            for j in 0..h {
                let delta = back[j] * (1.0 - hid[j] * hid[j]);
                if delta != 0.0 {
                    x.axpy(delta, &mut grad[j * d..(j + 1) * d]);
                    grad[b1 + j] += delta;
                }
            }
            loss
        })
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        let [_, b1, w2, b2] = self.offsets();
        self.penalty.value(&theta[..b1]) + self.penalty.value(&theta[w2..b2])
    }

    fn add_penalty_gradient(&self, theta: &[f64], grad: &mut [f64]) {
        let [_, b1, w2, b2] = self.offsets();
        self.penalty.add_gradient(&theta[..b1], &mut grad[..b1]);
        self.penalty.add_gradient(&theta[w2..b2], &mut grad[w2..b2]);
    }

    fn predict(&self, theta: &[f64], x: Row<'_>) -> f64 {
        self.with_scratch(|hid, z, _| {
            self.forward(theta, x, hid, z);
            argmax(z) as f64
        })
    }

    fn loss_and_prediction(&self, theta: &[f64], x: Row<'_>, y: f64) -> (f64, f64) {
        self.with_scratch(|hid, z, _| {
            let lse = self.forward(theta, x, hid, z);
            (lse - z[y as usize], argmax(z) as f64)
        })
    }

    fn initial_parameters(&self, seed: u64) -> Vec<f64> {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x4d4c_5030_494e_4954);
        let (d, h, k) = (self.n_features, self.hidden, self.classes);
        let [_, b1, w2, b2] = self.offsets();
        let mut theta = vec![0.0; self.dim()];
        let s1 = (6.0 / (d + h) as f64).sqrt();
        let s2 = (6.0 / (h + k) as f64).sqrt();
        for w in &mut theta[..b1] {
            *w = s1 * (2.0 * rng.random::<f64>() - 1.0);
        }
        for w in &mut theta[w2..b2] {
            *w = s2 * (2.0 * rng.random::<f64>() - 1.0);
        }
        theta
    }
}

//! Optimizers as chains of small gradient transforms (optax's idea), plus iterate averaging.
//!
//! Every update of the training loop is
//!
//! ```text
//! θ ← θ − η_t · T(g),    g = mean batch gradient + ∇R(θ)
//! ```
//!
//! where T is a [`Chain`] of [`Transform`]s applied in order (identity when empty) and η_t comes
//! from the [`Schedule`](crate::schedule::Schedule). The learning rate is applied after the
//! chain, as `torch.optim.SGD` applies it after momentum; the L2 term lives in the gradient, as
//! PyTorch's `weight_decay` does, so plain SGD + momentum matches PyTorch's sequence.
//!
//! ```
//! use descent::optim::{Chain, Momentum};
//! let mut chain = Chain::new().then(Momentum::new(0.9, false));
//! let mut g = vec![1.0];
//! chain.apply(0, &[0.0], &mut g);
//! assert_eq!(g, vec![1.0]); // first step: buffer = g
//! ```

mod average;
mod momentum;

pub use average::Average;
pub use momentum::Momentum;
pub(crate) use momentum::BUFFER as MOMENTUM_BUFFER;

use std::collections::BTreeMap;

/// What one stage carries from one update to the next, as named buffers (each one value per
/// parameter, such as a momentum buffer or Adam's two moments) and named counters (such as
/// Adam's step count): one form for every stage, so checkpoints and update rules need not know
/// the stages.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageState {
    /// Buffers by name, each of the parameters' length.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub buffers: BTreeMap<String, Vec<f64>>,
    /// Counters by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counters: BTreeMap<String, u64>,
}

/// What a chain is, as far as the O(nnz) update rules are concerned: the one question the
/// trainer asks a chain (through [`Chain::lazy_form`]) when it chooses an update rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LazyForm {
    /// No stage: plain gradient descent.
    Identity,
    /// Exactly one momentum stage, with its μ and whether it is Nesterov's.
    Momentum {
        /// The coefficient μ.
        mu: f64,
        /// Nesterov's variant.
        nesterov: bool,
    },
    /// Anything else: only the generic rule runs it.
    Other,
}

/// One stage of an optimizer: rewrites the update direction in place.
pub trait Transform: Send {
    /// Rewrites `update` (on entry: the gradient, or the previous stage's output) for the
    /// 0-based update index `t` at parameters `theta`.
    fn apply(&mut self, t: u64, theta: &[f64], update: &mut [f64]);
    /// Forgets all state (buffers), as at the start of training.
    fn reset(&mut self);
    /// A short description, such as `momentum(0.9)`.
    fn name(&self) -> String;
    /// The state that carries from one update to the next (e.g. a momentum buffer), for
    /// checkpoints; empty when there is none yet.
    fn state(&self) -> StageState;
    /// Restores a [`state`](Transform::state) saved by the same kind of transform for
    /// `dim` parameters; a buffer of another length, or one it does not know, is refused.
    fn set_state(&mut self, state: StageState, dim: usize) -> crate::Result<()>;
    /// The coefficient μ and whether it is Nesterov's, when this stage is momentum (which
    /// an O(nnz) update rule can then run on sparse rows).
    fn momentum(&self) -> Option<(f64, bool)> {
        None
    }
}

/// Transforms applied in order.
#[derive(Default)]
pub struct Chain {
    stages: Vec<Box<dyn Transform>>,
}

impl Chain {
    /// The identity chain (plain gradient descent).
    pub fn new() -> Self {
        Chain::default()
    }

    /// Appends a stage.
    pub fn then(mut self, stage: impl Transform + 'static) -> Self {
        self.stages.push(Box::new(stage));
        self
    }

    /// Applies every stage in order.
    pub fn apply(&mut self, t: u64, theta: &[f64], update: &mut [f64]) {
        for stage in &mut self.stages {
            stage.apply(t, theta, update);
        }
    }

    /// The chain's capability as the O(nnz) update rules see it: none, one momentum stage,
    /// or something only the generic rule runs.
    pub fn lazy_form(&self) -> LazyForm {
        match &self.stages[..] {
            [] => LazyForm::Identity,
            [stage] => {
                stage
                    .momentum()
                    .map_or(LazyForm::Other, |(mu, nesterov)| LazyForm::Momentum {
                        mu,
                        nesterov,
                    })
            }
            _ => LazyForm::Other,
        }
    }

    /// Whether the chain has no stage (plain gradient descent).
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Every stage's state, in order (for checkpoints).
    pub fn states(&self) -> Vec<StageState> {
        self.stages.iter().map(|s| s.state()).collect()
    }

    /// Restores [`states`](Chain::states) saved by a chain of the same stages over `dim`
    /// parameters.
    pub fn set_states(&mut self, states: Vec<StageState>, dim: usize) -> crate::Result<()> {
        if states.len() != self.stages.len() {
            return Err(crate::Error::Shape {
                what: format!("optimizer stages of {}", self.name()),
                expected: self.stages.len().to_string(),
                found: states.len().to_string(),
            });
        }
        for (stage, state) in self.stages.iter_mut().zip(states) {
            stage.set_state(state, dim)?;
        }
        Ok(())
    }

    /// Resets every stage.
    pub fn reset(&mut self) {
        self.stages.iter_mut().for_each(|s| s.reset());
    }

    /// The stages' names joined by ` → `, or `sgd` for the identity.
    pub fn name(&self) -> String {
        if self.stages.is_empty() {
            return "sgd".into();
        }
        let names: Vec<String> = self.stages.iter().map(|s| s.name()).collect();
        names.join(" → ")
    }
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

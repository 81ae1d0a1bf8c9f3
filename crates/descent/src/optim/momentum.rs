//! Heavy-ball and Nesterov momentum, in `torch.optim.SGD`'s convention:
//!
//! ```text
//! buf₀ = g₀;   buf_t = μ·buf_{t−1} + g_t         (no dampening)
//! update = buf_t               (heavy ball)
//! update = g_t + μ·buf_t       (Nesterov)
//! ```
//!
//! The rate multiplies the update afterwards (θ ← θ − η·update). This differs from Sutskever
//! et al.'s form v = μv − ηg, θ += v, when η changes over time.

use super::{StageState, Transform};

/// The name of the momentum buffer in a [`StageState`].
pub(crate) const BUFFER: &str = "buffer";

/// Momentum with coefficient μ ∈ [0, 1), optionally Nesterov's.
#[derive(Debug, Clone)]
pub struct Momentum {
    mu: f64,
    nesterov: bool,
    buffer: Option<Vec<f64>>,
}

impl Momentum {
    /// Momentum μ (validated by the caller's config); Nesterov's variant when `nesterov`.
    pub fn new(mu: f64, nesterov: bool) -> Self {
        Momentum {
            mu,
            nesterov,
            buffer: None,
        }
    }
}

impl Transform for Momentum {
    fn apply(&mut self, _t: u64, _theta: &[f64], update: &mut [f64]) {
        let mu = self.mu;
        let buffer = match &mut self.buffer {
            Some(buf) => {
                for (b, g) in buf.iter_mut().zip(update.iter()) {
                    *b = mu * *b + g;
                }
                buf
            }
            None => self.buffer.insert(update.to_vec()),
        };
        if self.nesterov {
            for (u, b) in update.iter_mut().zip(buffer.iter()) {
                *u += mu * b;
            }
        } else {
            update.copy_from_slice(buffer);
        }
    }

    fn reset(&mut self) {
        self.buffer = None;
    }

    fn state(&self) -> StageState {
        let mut state = StageState::default();
        if let Some(buffer) = &self.buffer {
            state.buffers.insert(BUFFER.into(), buffer.clone());
        }
        state
    }

    fn set_state(&mut self, mut state: StageState, dim: usize) -> crate::Result<()> {
        let buffer = state.buffers.remove(BUFFER);
        if let Some(name) = state.buffers.keys().chain(state.counters.keys()).next() {
            return Err(crate::Error::Shape {
                what: format!("state of {}", self.name()),
                expected: format!("at most a buffer named \"{BUFFER}\""),
                found: format!("\"{name}\""),
            });
        }
        if let Some(buffer) = &buffer {
            if buffer.len() != dim {
                return Err(crate::Error::Shape {
                    what: "momentum buffer".into(),
                    expected: dim.to_string(),
                    found: buffer.len().to_string(),
                });
            }
        }
        self.buffer = buffer;
        Ok(())
    }

    fn momentum(&self) -> Option<(f64, bool)> {
        Some((self.mu, self.nesterov))
    }

    fn name(&self) -> String {
        let kind = if self.nesterov {
            "nesterov"
        } else {
            "momentum"
        };
        format!("{kind}({})", self.mu)
    }
}

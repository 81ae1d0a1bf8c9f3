//! A square grid over a window of the (θ₀, θ₁) plane, and surfaces evaluated on it.

use rayon::prelude::*;
use serde::Serialize;

/// The plotted region: θ₀ ∈ [a.0, a.1], θ₁ ∈ [b.0, b.1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    /// Range of the first parameter.
    pub a: (f64, f64),
    /// Range of the second parameter.
    pub b: (f64, f64),
}

impl Window {
    /// Whether θ lies inside.
    pub fn contains(&self, theta: &[f64]) -> bool {
        (self.a.0..=self.a.1).contains(&theta[0]) && (self.b.0..=self.b.1).contains(&theta[1])
    }
}

/// n × n points spanning a window, row-major with θ₁ (b) as the row and θ₀ (a) as the column.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Grid {
    /// The region.
    pub window: Window,
    /// Points per side.
    pub n: usize,
}

impl Grid {
    /// An `n` × `n` grid (n ≥ 3) over `window`.
    pub fn new(window: Window, n: usize) -> Self {
        Grid {
            window,
            n: n.max(3),
        }
    }

    /// θ at column `i` (a) and row `j` (b).
    pub fn point(&self, i: usize, j: usize) -> [f64; 2] {
        let step = |(lo, hi): (f64, f64), k: usize| lo + (hi - lo) * k as f64 / (self.n - 1) as f64;
        [step(self.window.a, i), step(self.window.b, j)]
    }

    /// `f` at every point, row by row (index j·n + i), evaluated in parallel.
    pub fn evaluate(&self, f: impl Fn(&[f64]) -> f64 + Sync) -> Vec<f64> {
        (0..self.n * self.n)
            .into_par_iter()
            .map(|k| f(&self.point(k % self.n, k / self.n)))
            .collect()
    }
}

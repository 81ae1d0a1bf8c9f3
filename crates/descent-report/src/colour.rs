//! One colour scale shared by every panel of a figure, so equal colours mean equal loss.
//!
//! Loss surfaces span orders of magnitude, and what matters is the height above the lowest
//! point: colours follow t = log₁₀(v − v_min + δ) with δ = 10⁻³·(v_max − v_min), mapped
//! through viridis. The colour bar is labelled with the loss values themselves.

use plotters::prelude::*;
use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};

/// A log-above-minimum colour scale over [min, max].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourScale {
    /// Lowest value.
    pub min: f64,
    /// Highest value.
    pub max: f64,
    delta: f64,
}

impl ColourScale {
    /// The scale covering every finite value of `surfaces`.
    pub fn covering<'a>(surfaces: impl IntoIterator<Item = &'a [f64]>) -> Self {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for s in surfaces {
            for &v in s.iter().filter(|v| v.is_finite()) {
                min = min.min(v);
                max = max.max(v);
            }
        }
        if !min.is_finite() {
            (min, max) = (0.0, 1.0);
        }
        let delta = ((max - min) * 1e-3).max(1e-12);
        ColourScale { min, max, delta }
    }

    /// t(v).
    pub fn transform(&self, v: f64) -> f64 {
        (v.clamp(self.min, self.max) - self.min + self.delta).log10()
    }

    /// The value at t.
    pub fn inverse(&self, t: f64) -> f64 {
        10f64.powf(t) - self.delta + self.min
    }

    /// The range of t.
    pub fn t_range(&self) -> (f64, f64) {
        (self.transform(self.min), self.transform(self.max))
    }

    /// The colour of v.
    pub fn colour(&self, v: f64) -> RGBColor {
        let (lo, hi) = self.t_range();
        let h = ((self.transform(v) - lo) / (hi - lo).max(1e-300)).clamp(0.0, 1.0);
        ViridisRGB.get_color(h as f32)
    }

    /// `count` contour levels evenly spaced in t, strictly inside the range.
    pub fn levels(&self, count: usize) -> Vec<f64> {
        let (lo, hi) = self.t_range();
        (1..=count)
            .map(|k| self.inverse(lo + (hi - lo) * k as f64 / (count + 1) as f64))
            .collect()
    }
}

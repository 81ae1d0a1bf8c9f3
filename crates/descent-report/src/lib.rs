//! # descent-report
//!
//! Pictures of what the `descent` library measures: loss surfaces with the paths of the
//! regimes across them, per-sample surfaces, gradient noise, basin maps and loss curves. Every
//! figure is written as PNG and SVG, atomically, with the DejaVu Sans font shipped in this crate
//! (no system font needed).
//!
//! A figure implements [`Figure`]: it draws itself on any plotters backend, and [`save`] renders
//! it twice.

#![deny(missing_docs)]

mod basins;
mod colour;
pub mod contour;
mod curves;
mod font;
pub mod html;
mod map;
mod surface;

pub use basins::{share_colour, BasinFigure};
pub use colour::ColourScale;
pub use curves::{Curve, CurveFigure, NoiseFigure, NoisePanel};
pub use map::{MapColours, MapFigure, MapPanel};
pub use surface::{clip_path, Marker, MarkerKind, PathLine, SurfaceFigure, SurfacePanel};

use descent::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The palette for methods and series, in order (colour-blind-safe Okabe–Ito).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(240, 228, 66),
];

/// Something that can be drawn.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws on `root` (already white).
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String>;
}

/// Writes `figure` to `base.png` and `base.svg` (each appears whole or not at all) and
/// returns both paths.
pub fn save(figure: &impl Figure, base: &Path) -> Result<[PathBuf; 2]> {
    font::register();
    let png = base.with_extension("png");
    let svg = base.with_extension("svg");
    let dir = match base.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |path: &Path, message: String| Error::io(path, std::io::Error::other(message));

    // PNG: plotters picks the encoder from the extension, so the temporary name ends in .png.
    let temp = tempfile::Builder::new()
        .prefix(".descent-")
        .suffix(".png")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&png, e))?;
    {
        let root = BitMapBackend::new(temp.path(), figure.size()).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&png, e.to_string()))?;
        figure.draw(&root).map_err(|e| fail(&png, e))?;
        root.present().map_err(|e| fail(&png, e.to_string()))?;
    }
    descent::output::readable_by_all(temp.path(), 0o644).map_err(|e| Error::io(&png, e))?;
    temp.persist(&png).map_err(|e| Error::io(&png, e.error))?;

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, figure.size()).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&svg, e.to_string()))?;
        figure.draw(&root).map_err(|e| fail(&svg, e))?;
        root.present().map_err(|e| fail(&svg, e.to_string()))?;
    }
    descent::output::replace(&svg, text.as_bytes())?;
    Ok([png, svg])
}

/// The corner of the plotting area `x` × `y` where a legend covers the fewest of `points`
/// (a box a third wide and a third high at each corner), upper right first among equals.
pub(crate) fn legend_corner(
    points: impl Iterator<Item = (f64, f64)>,
    x: (f64, f64),
    y: (f64, f64),
) -> plotters::prelude::SeriesLabelPosition {
    use plotters::prelude::SeriesLabelPosition::{LowerLeft, LowerRight, UpperLeft, UpperRight};
    let mut counts = [0usize; 4];
    let third = |v: f64, (lo, hi): (f64, f64)| (v - lo) / (hi - lo).max(1e-300) * 3.0;
    for (px, py) in points {
        let (u, v) = (third(px, x), third(py, y));
        let (left, right, low, high) = (u < 1.0, u > 2.0, v < 1.0, v > 2.0);
        counts[0] += usize::from(right && high);
        counts[1] += usize::from(left && high);
        counts[2] += usize::from(right && low);
        counts[3] += usize::from(left && low);
    }
    let best = (0..4).min_by_key(|&k| (counts[k], k)).unwrap_or(0);
    match best {
        1 => UpperLeft,
        2 => LowerRight,
        3 => LowerLeft,
        _ => UpperRight,
    }
}

/// Formats an axis or colour-bar number compactly.
pub(crate) fn short(v: f64) -> String {
    if v.abs() < 1e-9 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-3 {
        format!("{v:.1e}")
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod legend_tests {
    use super::legend_corner;
    use plotters::prelude::SeriesLabelPosition::{LowerLeft, UpperLeft, UpperRight};

    #[test]
    fn the_legend_goes_to_the_corner_with_the_fewest_points() {
        let (x, y) = ((0.0, 1.0), (0.0, 1.0));
        assert!(matches!(
            legend_corner(std::iter::empty(), x, y),
            UpperRight
        ));
        let upper_right = (0..10).map(|k| (0.9, 0.8 + 0.01 * k as f64));
        assert!(matches!(legend_corner(upper_right, x, y), UpperLeft));
        // A path along the top and down the right side leaves the lower left free.
        let only_lower_left_free = (0..30)
            .map(|k| (k as f64 / 30.0, 0.95))
            .chain((0..30).map(|k| (0.95, k as f64 / 30.0)));
        assert!(matches!(
            legend_corner(only_lower_left_free, x, y),
            LowerLeft
        ));
    }
}

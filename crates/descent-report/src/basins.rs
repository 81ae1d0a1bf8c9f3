//! Basin maps: for every start, the share of runs (over seeds) that ended in the population's
//! global minimum, one panel per method, over contours of the training loss.

use crate::colour::ColourScale;
use crate::{contour, Figure};
use descent::landscape::Grid;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Basin maps of several methods.
#[derive(Debug, Clone, PartialEq)]
pub struct BasinFigure {
    /// The title.
    pub title: String,
    /// The grid of the background surface.
    pub grid: Grid,
    /// Names of θ₀ and θ₁.
    pub axes: [String; 2],
    /// The training loss on the grid, drawn as contours.
    pub background: Vec<f64>,
    /// The starting points.
    pub starts: Vec<[f64; 2]>,
    /// Per method: its name and, per start, the share of runs reaching the global minimum.
    pub panels: Vec<(String, Vec<f64>)>,
    /// The population minima (the first is the global one).
    pub minima: Vec<[f64; 2]>,
}

/// The colour of a share: vermillion (0: never) through grey to blue (1: always).
pub fn share_colour(share: f64) -> RGBColor {
    let (a, b, mid) = (
        (213.0, 94.0, 0.0),
        (0.0, 114.0, 178.0),
        (190.0, 190.0, 190.0),
    );
    let s = share.clamp(0.0, 1.0);
    let mix = |x: (f64, f64, f64), y: (f64, f64, f64), t: f64| {
        RGBColor(
            (x.0 + (y.0 - x.0) * t) as u8,
            (x.1 + (y.1 - x.1) * t) as u8,
            (x.2 + (y.2 - x.2) * t) as u8,
        )
    };
    if s < 0.5 {
        mix(a, mid, s * 2.0)
    } else {
        mix(mid, b, (s - 0.5) * 2.0)
    }
}

impl Figure for BasinFigure {
    fn size(&self) -> (u32, u32) {
        (
            440 * self.panels.len().max(1) as u32,
            500 + KEY_HEIGHT as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = root
            .titled(&self.title, ("sans-serif", 18))
            .map_err(|e| e.to_string())?;
        let height = root.dim_in_pixel().1 as i32;
        let (maps, key) = root.split_vertically(height - KEY_HEIGHT);
        let areas = maps.split_evenly((1, self.panels.len().max(1)));
        let scale = ColourScale::covering([self.background.as_slice()]);
        for ((name, shares), area) in self.panels.iter().zip(areas.iter()) {
            self.panel(area, name, shares, &scale)
                .map_err(|e| e.to_string())?;
        }
        draw_key(&key).map_err(|e| e.to_string())
    }
}

/// The height in pixels of the key strip under the panels: the starts fill the whole window,
/// so a key inside a panel would cover some of them.
const KEY_HEIGHT: i32 = 34;

/// The key, in one row under the panels.
fn draw_key<DB: DrawingBackend>(
    key: &DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = ("sans-serif", 13).into_font().color(&BLACK);
    let y = KEY_HEIGHT / 2;
    let mut x = 16;
    for (share, text) in [
        (Some(1.0), "start: all runs reach the global minimum"),
        (Some(0.5), "half do"),
        (Some(0.0), "none do"),
        (
            None,
            "population minima (bold: global); contours: training loss",
        ),
    ] {
        match share {
            Some(s) => key.draw(&Circle::new((x, y), 6, share_colour(s).filled()))?,
            None => key.draw(&Cross::new((x, y), 6, BLACK.stroke_width(3)))?,
        }
        key.draw(&Text::new(text, (x + 12, y - 7), font.clone()))?;
        let width = key.estimate_text_size(text, &font)?.0 as i32;
        x += width + 40;
    }
    Ok(())
}

impl BasinFigure {
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        name: &str,
        shares: &[f64],
        scale: &ColourScale,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let w = self.grid.window;
        let mut chart = ChartBuilder::on(area)
            .caption(name, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(w.a.0..w.a.1, w.b.0..w.b.1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.axes[0].as_str())
            .y_desc(self.axes[1].as_str())
            .label_style(("sans-serif", 12))
            .draw()?;
        for level in scale.levels(10) {
            let segs = contour::segments(&self.background, self.grid.n, w.a, w.b, level);
            chart.draw_series(
                segs.into_iter()
                    .map(|[p, q]| PathElement::new(vec![p, q], BLACK.mix(0.15))),
            )?;
        }
        chart.draw_series(
            self.starts
                .iter()
                .zip(shares)
                .map(|(s, &share)| Circle::new((s[0], s[1]), 7, share_colour(share).filled())),
        )?;
        for (k, m) in self.minima.iter().enumerate() {
            let style = if k == 0 {
                BLACK.stroke_width(3)
            } else {
                BLACK.mix(0.6).stroke_width(2)
            };
            chart.draw_series(std::iter::once(Cross::new((m[0], m[1]), 9, style)))?;
        }
        Ok(())
    }
}

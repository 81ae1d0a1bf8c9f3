//! Maps over two settings (learning rate × batch size): one coloured cell per pair with its
//! value written in it, a colour bar beside the panels, and cells without a value (nothing
//! settled, not run) drawn apart in light grey, so "not settled" never reads as a value.

use crate::basins::share_colour;
use crate::Figure;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};

/// One panel: a value (or none) and a text per cell, `values[row][column]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MapPanel {
    /// The panel's title.
    pub title: String,
    /// Cell values; `None` is drawn grey.
    pub values: Vec<Vec<Option<f64>>>,
    /// The text written in each cell.
    pub texts: Vec<Vec<String>>,
    /// How this panel's values become colours (the colour bar shows the first panel's).
    pub colours: MapColours,
}

/// How values become colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MapColours {
    /// Shares in [0, 1]: vermillion (0) through grey to blue (1).
    Share,
    /// Values from `lo` to `hi` through viridis (low: dark).
    Range {
        /// The lowest value of the bar.
        lo: f64,
        /// The highest.
        hi: f64,
    },
}

/// Several maps on the same axes, one colour bar.
#[derive(Debug, Clone, PartialEq)]
pub struct MapFigure {
    /// The title.
    pub title: String,
    /// What the columns are.
    pub x_label: String,
    /// What the rows are.
    pub y_label: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Row names, top first.
    pub rows: Vec<String>,
    /// The panels.
    pub panels: Vec<MapPanel>,
    /// The colour bar's label (of the first panel's colouring).
    pub bar_label: String,
}

const CELL_W: i32 = 74;
const CELL_H: i32 = 40;
const LEFT: i32 = 110;
const TOP: i32 = 70;
const BAR: i32 = 120;

impl MapFigure {
    fn panel_width(&self) -> i32 {
        LEFT + CELL_W * self.columns.len() as i32 + 20
    }

    fn first_colours(&self) -> MapColours {
        self.panels.first().map_or(MapColours::Share, |p| p.colours)
    }
}

impl MapColours {
    fn colour(self, v: f64) -> RGBColor {
        match self {
            MapColours::Share => share_colour(v),
            MapColours::Range { lo, hi } => {
                let h = ((v - lo) / (hi - lo).max(1e-300)).clamp(0.0, 1.0);
                ViridisRGB.get_color(h as f32)
            }
        }
    }
}

impl Figure for MapFigure {
    fn size(&self) -> (u32, u32) {
        let w = self.panel_width() * self.panels.len() as i32 + BAR;
        let h = TOP + CELL_H * self.rows.len() as i32 + 70;
        (w.max(300) as u32, h.max(200) as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let font = |size: i32| ("sans-serif", size).into_font();
        root.draw(&Text::new(self.title.clone(), (10, 8), font(17)))
            .map_err(e)?;
        let rows = self.rows.len() as i32;
        for (p, panel) in self.panels.iter().enumerate() {
            let x0 = p as i32 * self.panel_width();
            root.draw(&Text::new(panel.title.clone(), (x0 + LEFT, 36), font(14)))
                .map_err(e)?;
            for (r, name) in self.rows.iter().enumerate() {
                let y = TOP + CELL_H * r as i32;
                root.draw(&Text::new(name.clone(), (x0 + 8, y + 13), font(13)))
                    .map_err(e)?;
                for c in 0..self.columns.len() {
                    let x = x0 + LEFT + CELL_W * c as i32;
                    let value = panel
                        .values
                        .get(r)
                        .and_then(|v| v.get(c))
                        .copied()
                        .flatten();
                    let fill = value.map_or(RGBColor(235, 235, 235), |v| panel.colours.colour(v));
                    root.draw(&Rectangle::new(
                        [(x, y), (x + CELL_W - 2, y + CELL_H - 2)],
                        fill.filled(),
                    ))
                    .map_err(e)?;
                    let dark = value.is_some_and(|_| {
                        let RGBColor(r, g, b) = fill;
                        0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b) < 110.0
                    });
                    let ink = if dark { WHITE } else { BLACK };
                    let text = panel
                        .texts
                        .get(r)
                        .and_then(|t| t.get(c))
                        .cloned()
                        .unwrap_or_default();
                    root.draw(&Text::new(text, (x + 6, y + 12), font(12).color(&ink)))
                        .map_err(e)?;
                }
            }
            for (c, name) in self.columns.iter().enumerate() {
                let x = x0 + LEFT + CELL_W * c as i32;
                root.draw(&Text::new(
                    name.clone(),
                    (x + 6, TOP + CELL_H * rows + 6),
                    font(12),
                ))
                .map_err(e)?;
            }
            root.draw(&Text::new(
                self.x_label.clone(),
                (x0 + LEFT, TOP + CELL_H * rows + 28),
                font(13),
            ))
            .map_err(e)?;
            root.draw(&Text::new(
                self.y_label.clone(),
                (x0 + 8, TOP - 18),
                font(12),
            ))
            .map_err(e)?;
        }
        // The colour bar.
        let bx = self.panel_width() * self.panels.len() as i32 + 10;
        let bar = self.first_colours();
        let (lo, hi) = match bar {
            MapColours::Share => (0.0, 1.0),
            MapColours::Range { lo, hi } => (lo, hi),
        };
        let height = (CELL_H * rows).max(80);
        let steps = 40;
        for k in 0..steps {
            let t = 1.0 - k as f64 / (steps - 1) as f64;
            let y = TOP + height * k / steps;
            root.draw(&Rectangle::new(
                [(bx, y), (bx + 18, y + height / steps + 1)],
                bar.colour(lo + (hi - lo) * t).filled(),
            ))
            .map_err(e)?;
        }
        for (t, y) in [
            (1.0, TOP),
            (0.5, TOP + height / 2),
            (0.0, TOP + height - 10),
        ] {
            root.draw(&Text::new(
                crate::short(lo + (hi - lo) * t),
                (bx + 24, y),
                font(12),
            ))
            .map_err(e)?;
        }
        root.draw(&Text::new(
            self.bar_label.clone(),
            (bx - 4, TOP - 18),
            font(12),
        ))
        .map_err(e)?;
        root.draw(&Rectangle::new(
            [(bx, TOP + height + 14), (bx + 18, TOP + height + 30)],
            RGBColor(235, 235, 235).filled(),
        ))
        .map_err(e)?;
        root.draw(&Text::new(
            "no value",
            (bx + 24, TOP + height + 16),
            font(11),
        ))
        .map_err(e)?;
        Ok(())
    }
}

//! Loss surfaces as heat maps with contours on one shared colour scale, the minima of every
//! surface marked, and the paths of the methods drawn across them.

use crate::colour::ColourScale;
use crate::{contour, short, Figure};
use descent::landscape::{Grid, Window};
use plotters::coord::Shift;
use plotters::element::BitMapElement;
use plotters::prelude::*;

/// What a marker shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// A minimum of the training loss (×).
    TrainingMinimum,
    /// A minimum of the population loss (○).
    PopulationMinimum,
    /// The common starting point (□).
    Start,
}

/// A marked point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marker {
    /// Where.
    pub theta: [f64; 2],
    /// What.
    pub kind: MarkerKind,
}

/// A method's path of iterates.
#[derive(Debug, Clone, PartialEq)]
pub struct PathLine {
    /// The legend text.
    pub name: String,
    /// θ after each update.
    pub points: Vec<[f64; 2]>,
    /// Its colour.
    pub colour: RGBColor,
}

/// One heat map.
#[derive(Debug, Clone, PartialEq)]
pub struct SurfacePanel {
    /// The panel's title.
    pub title: String,
    /// The surface on the figure's grid (row j·n + i).
    pub values: Vec<f64>,
    /// Paths drawn on this panel only (after the figure's own), e.g. the one step of SGD that
    /// descended this surface.
    pub paths: Vec<PathLine>,
}

/// Panels side by side on one colour scale, each with the same markers and paths.
#[derive(Debug, Clone, PartialEq)]
pub struct SurfaceFigure {
    /// The figure's title.
    pub title: String,
    /// The grid every panel is evaluated on.
    pub grid: Grid,
    /// Names of θ₀ and θ₁.
    pub axes: [String; 2],
    /// The surfaces.
    pub panels: Vec<SurfacePanel>,
    /// Markers drawn on every panel.
    pub markers: Vec<Marker>,
    /// Paths drawn on every panel.
    pub paths: Vec<PathLine>,
    /// Panels per row.
    pub columns: usize,
    /// Pixels per panel side.
    pub panel_size: u32,
    /// What the second surface is, for the legend ("population", "held-out").
    pub reference: String,
}

const TITLE_HEIGHT: u32 = 40;
const BAR_WIDTH: u32 = 110;

impl SurfaceFigure {
    fn rows(&self) -> usize {
        self.panels.len().div_ceil(self.columns.max(1))
    }

    fn scale(&self) -> ColourScale {
        ColourScale::covering(self.panels.iter().map(|p| p.values.as_slice()))
    }
}

impl Figure for SurfaceFigure {
    fn size(&self) -> (u32, u32) {
        let cols = self.columns.min(self.panels.len()).max(1) as u32;
        (
            cols * self.panel_size + BAR_WIDTH,
            self.rows() as u32 * self.panel_size + TITLE_HEIGHT,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = root
            .titled(&self.title, ("sans-serif", 22))
            .map_err(|e| e.to_string())?;
        let (width, _) = root.dim_in_pixel();
        let (panels_area, bar_area) = root.split_horizontally(width.saturating_sub(BAR_WIDTH));
        let scale = self.scale();
        let cols = self.columns.min(self.panels.len()).max(1);
        let areas = panels_area.split_evenly((self.rows(), cols));
        for (k, (panel, area)) in self.panels.iter().zip(areas.iter()).enumerate() {
            self.draw_panel(area, panel, &scale, k == 0)
                .map_err(|e| e.to_string())?;
        }
        draw_colour_bar(&bar_area, &scale).map_err(|e| e.to_string())
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

impl SurfaceFigure {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &SurfacePanel,
        scale: &ColourScale,
        legend: bool,
    ) -> DrawResult<DB> {
        let w = self.grid.window;
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(w.a.0..w.a.1, w.b.0..w.b.1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.axes[0].as_str())
            .y_desc(self.axes[1].as_str())
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 13))
            .draw()?;

        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let mut buffer = Vec::with_capacity((pw * ph * 3) as usize);
        for py in 0..ph {
            for px in 0..pw {
                let a = w.a.0 + (w.a.1 - w.a.0) * (f64::from(px) + 0.5) / f64::from(pw);
                let b = w.b.1 - (w.b.1 - w.b.0) * (f64::from(py) + 0.5) / f64::from(ph);
                let c = scale.colour(bilinear(&self.grid, &panel.values, a, b));
                buffer.extend_from_slice(&[c.0, c.1, c.2]);
            }
        }
        if let Some(image) = BitMapElement::with_owned_buffer((w.a.0, w.b.1), (pw, ph), buffer) {
            chart.draw_series(std::iter::once(image))?;
        }
        let contour_style = WHITE.mix(0.35).stroke_width(1);
        for level in scale.levels(12) {
            let segs = contour::segments(&panel.values, self.grid.n, w.a, w.b, level);
            chart.draw_series(
                segs.into_iter()
                    .map(|[p, q]| PathElement::new(vec![p, q], contour_style)),
            )?;
        }
        for path in self.paths.iter().chain(&panel.paths) {
            let colour = path.colour;
            let style = colour.stroke_width(2);
            // Segment by segment: plotters joins the segments of a wide polyline with miters,
            // which shoot far out where a path reverses (an oscillating full-batch step).
            let segments: Vec<Vec<(f64, f64)>> = clip_path(&path.points, w)
                .iter()
                .flat_map(|piece| piece.windows(2).map(|s| s.to_vec()).collect::<Vec<_>>())
                .collect();
            let series = chart.draw_series(
                segments
                    .into_iter()
                    .map(|segment| PathElement::new(segment, style)),
            )?;
            if legend {
                series.label(path.name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
                });
            }
            if let Some(end) = path.points.last().filter(|p| w.contains(&p[..])) {
                chart.draw_series(std::iter::once(Circle::new(
                    (end[0], end[1]),
                    5,
                    colour.filled(),
                )))?;
                chart.draw_series(std::iter::once(Circle::new(
                    (end[0], end[1]),
                    5,
                    BLACK.stroke_width(1),
                )))?;
            }
        }
        let mut labelled = [false; 3];
        for marker in &self.markers {
            let at = (marker.theta[0], marker.theta[1]);
            let kind = marker.kind as usize;
            let first = legend && !labelled[kind];
            labelled[kind] = true;
            match marker.kind {
                MarkerKind::TrainingMinimum => {
                    let s = chart.draw_series(std::iter::once(Cross::new(
                        at,
                        7,
                        WHITE.stroke_width(3),
                    )))?;
                    if first {
                        s.label("training minimum")
                            .legend(|(x, y)| Cross::new((x + 9, y), 6, BLACK.stroke_width(2)));
                    }
                }
                MarkerKind::PopulationMinimum => {
                    let s = chart.draw_series(std::iter::once(Circle::new(
                        at,
                        9,
                        RED.stroke_width(3),
                    )))?;
                    if first {
                        s.label(format!("{} minimum", self.reference))
                            .legend(|(x, y)| Circle::new((x + 9, y), 6, RED.stroke_width(2)));
                    }
                }
                MarkerKind::Start => {
                    let square = EmptyElement::at(at)
                        + Rectangle::new([(-5, -5), (5, 5)], WHITE.filled())
                        + Rectangle::new([(-5, -5), (5, 5)], BLACK.stroke_width(1));
                    let s = chart.draw_series(std::iter::once(square))?;
                    if first {
                        s.label("start").legend(|(x, y)| {
                            Rectangle::new([(x + 4, y - 5), (x + 14, y + 5)], BLACK.stroke_width(1))
                        });
                    }
                }
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .position(crate::legend_corner(
                    self.paths
                        .iter()
                        .chain(&panel.paths)
                        .flat_map(|p| p.points.iter().map(|q| (q[0], q[1])))
                        .chain(self.markers.iter().map(|m| (m.theta[0], m.theta[1]))),
                    w.a,
                    w.b,
                ))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .label_font(("sans-serif", 12))
                .draw()?;
        }
        Ok(())
    }
}

/// Splits a path into the pieces inside the window, cutting segments at its border
/// (Liang–Barsky), so a step that leaves the window does not run over the next panel.
pub fn clip_path(points: &[[f64; 2]], w: Window) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for pair in points.windows(2) {
        let (p, q) = (pair[0], pair[1]);
        match clip_segment(p, q, w) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if current.len() > 1 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current = vec![a];
                }
                current.push(b);
            }
            None => {
                if current.len() > 1 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        pieces.push(current);
    }
    if pieces.is_empty() {
        if let Some(p) = points.first().filter(|p| w.contains(&p[..])) {
            pieces.push(vec![(p[0], p[1])]);
        }
    }
    pieces
}

/// The part of segment pq inside the window, if any.
fn clip_segment(p: [f64; 2], q: [f64; 2], w: Window) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (den, num) in [
        (-dx, p[0] - w.a.0),
        (dx, w.a.1 - p[0]),
        (-dy, p[1] - w.b.0),
        (dy, w.b.1 - p[1]),
    ] {
        if den == 0.0 {
            if num < 0.0 {
                return None;
            }
        } else {
            let t = num / den;
            if den < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then(|| {
        (
            (p[0] + t0 * dx, p[1] + t0 * dy),
            (p[0] + t1 * dx, p[1] + t1 * dy),
        )
    })
}

/// The surface at (a, b) by bilinear interpolation between grid points.
fn bilinear(grid: &Grid, values: &[f64], a: f64, b: f64) -> f64 {
    let w = grid.window;
    let n = grid.n;
    let fx = ((a - w.a.0) / (w.a.1 - w.a.0) * (n - 1) as f64).clamp(0.0, (n - 1) as f64);
    let fy = ((b - w.b.0) / (w.b.1 - w.b.0) * (n - 1) as f64).clamp(0.0, (n - 1) as f64);
    let (i, j) = ((fx as usize).min(n - 2), (fy as usize).min(n - 2));
    let (tx, ty) = (fx - i as f64, fy - j as f64);
    let v = |i: usize, j: usize| values[j * n + i];
    (1.0 - ty) * ((1.0 - tx) * v(i, j) + tx * v(i + 1, j))
        + ty * ((1.0 - tx) * v(i, j + 1) + tx * v(i + 1, j + 1))
}

fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: &ColourScale,
) -> DrawResult<DB> {
    let (lo, hi) = scale.t_range();
    let mut chart = ChartBuilder::on(area)
        .margin_top(30)
        .margin_bottom(44)
        .margin_right(8)
        .y_label_area_size(62)
        .caption("loss", ("sans-serif", 14))
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(8)
        .y_label_formatter(&|t| short(scale.inverse(*t)))
        .label_style(("sans-serif", 12))
        .draw()?;
    let steps = 200;
    chart.draw_series((0..steps).map(|k| {
        let t0 = lo + (hi - lo) * k as f64 / steps as f64;
        let t1 = lo + (hi - lo) * (k + 1) as f64 / steps as f64;
        let colour = scale.colour(scale.inverse((t0 + t1) / 2.0));
        Rectangle::new([(0.0, t0), (1.0, t1)], colour.filled())
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cut_at_the_window() {
        let w = Window {
            a: (0.0, 1.0),
            b: (0.0, 1.0),
        };
        let pieces = clip_path(
            &[[0.5, 0.5], [1.5, 0.5], [1.5, 0.7], [0.5, 0.7], [0.2, 0.2]],
            w,
        );
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert_eq!(pieces[0], vec![(0.5, 0.5), (1.0, 0.5)]);
        assert_eq!(pieces[1], vec![(1.0, 0.7), (0.5, 0.7), (0.2, 0.2)]);
        assert!(clip_path(&[[2.0, 2.0], [3.0, 3.0]], w).is_empty());
    }
}

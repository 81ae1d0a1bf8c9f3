//! Line charts (loss against epochs, updates, time; distances between iterates) and the
//! gradient-noise scatter.

use crate::{short, Figure};
use descent::landscape::noise::GradientNoise;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One series.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The legend text.
    pub name: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// Its colour.
    pub colour: RGBColor,
    /// An interval around the curve, as (x, low, high), drawn as a translucent band in the
    /// curve's colour; empty for none. The figure's caption says what interval it is.
    pub band: Vec<(f64, f64, f64)>,
}

impl Curve {
    /// A curve without an interval band.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, colour: RGBColor) -> Self {
        Curve {
            name: name.into(),
            points,
            colour,
            band: Vec::new(),
        }
    }

    /// The same curve with the interval band `band` as (x, low, high).
    pub fn with_band(mut self, band: Vec<(f64, f64, f64)>) -> Self {
        self.band = band;
        self
    }
}

/// Curves on one pair of axes; a log axis plots log₁₀ of the values and labels ticks with the
/// values themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveFigure {
    /// The title.
    pub title: String,
    /// The x-axis label.
    pub x_label: String,
    /// The y-axis label.
    pub y_label: String,
    /// The series.
    pub curves: Vec<Curve>,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
}

fn axis(v: f64, log: bool) -> Option<f64> {
    match log {
        true if v > 0.0 => Some(v.log10()),
        true => None,
        false => v.is_finite().then_some(v),
    }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.04).max(1e-9);
    (lo - pad, hi + pad)
}

impl Figure for CurveFigure {
    fn size(&self) -> (u32, u32) {
        (820, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let points: Vec<Vec<(f64, f64)>> = self
            .curves
            .iter()
            .map(|c| {
                c.points
                    .iter()
                    .filter_map(|&(x, y)| Some((axis(x, self.log_x)?, axis(y, self.log_y)?)))
                    .collect()
            })
            .collect();
        let bands: Vec<Vec<(f64, f64)>> = self
            .curves
            .iter()
            .map(|c| band_polygon(&c.band, self.log_x, self.log_y))
            .collect();
        let xs = range(points.iter().flatten().map(|p| p.0));
        let ys = range(
            points
                .iter()
                .flatten()
                .chain(bands.iter().flatten())
                .map(|p| p.1),
        );
        let (log_x, log_y) = (self.log_x, self.log_y);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| tick(*v, log_x, xs))
            .y_label_formatter(&|v| tick(*v, log_y, ys))
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .light_line_style(BLACK.mix(0.05))
            .draw()
            .map_err(|e| e.to_string())?;
        let corner = crate::legend_corner(points.iter().chain(&bands).flatten().copied(), xs, ys);
        for (curve, polygon) in self.curves.iter().zip(&bands) {
            if polygon.len() >= 3 {
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        polygon.clone(),
                        curve.colour.mix(0.18).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
            }
        }
        for (curve, pts) in self.curves.iter().zip(points) {
            let colour = curve.colour;
            chart
                // Segment by segment, so that sharp reversals of noisy curves get no miter spikes.
                .draw_series(
                    pts.windows(2)
                        .map(|s| PathElement::new(s.to_vec(), colour.stroke_width(2)))
                        .collect::<Vec<_>>(),
                )
                .map_err(|e| e.to_string())?
                .label(curve.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(corner)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(|e| e.to_string())
    }
}

/// The outline of an interval band on the figure's axes: along the lows, back along the highs;
/// points a log axis cannot show are left out.
fn band_polygon(band: &[(f64, f64, f64)], log_x: bool, log_y: bool) -> Vec<(f64, f64)> {
    let shown: Vec<(f64, f64, f64)> = band
        .iter()
        .filter_map(|&(x, lo, hi)| Some((axis(x, log_x)?, axis(lo, log_y)?, axis(hi, log_y)?)))
        .collect();
    let lows = shown.iter().map(|&(x, lo, _)| (x, lo));
    let highs = shown.iter().rev().map(|&(x, _, hi)| (x, hi));
    lows.chain(highs).collect()
}

/// A tick label: the value itself, or 10^v on a log axis, where an axis spanning a decade or
/// more labels only whole powers of ten (1, 10, 100, not 3.162).
fn tick(v: f64, log: bool, range: (f64, f64)) -> String {
    if !log {
        return short(v);
    }
    if range.1 - range.0 >= 1.0 && (v - v.round()).abs() > 1e-6 {
        return String::new();
    }
    short(10f64.powf(v))
}

/// One point of a path where gradients were measured.
#[derive(Debug, Clone, PartialEq)]
pub struct NoisePanel {
    /// The panel's title.
    pub title: String,
    /// The statistics there.
    pub noise: GradientNoise,
}

/// Per-sample gradients scattered around the full-batch gradient, with the expected spread of
/// batches of 1 and `batch` samples drawn as circles.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseFigure {
    /// The title.
    pub title: String,
    /// Names of ∂/∂θ₀ and ∂/∂θ₁.
    pub axes: [String; 2],
    /// The points.
    pub panels: Vec<NoisePanel>,
    /// The mini-batch size whose spread is drawn.
    pub batch: usize,
}

impl Figure for NoiseFigure {
    fn size(&self) -> (u32, u32) {
        (380 * self.panels.len().max(1) as u32, 440)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let root = root
            .titled(&self.title, ("sans-serif", 20))
            .map_err(|e| e.to_string())?;
        let areas = root.split_evenly((1, self.panels.len().max(1)));
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            draw_noise_panel(area, panel, &self.axes, self.batch).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

fn draw_noise_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &NoisePanel,
    axes: &[String; 2],
    batch: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let n = &panel.noise;
    let g = (n.full[0], n.full[1]);
    let spread = n.batch_spread(1);
    // A square window around G wide enough for most per-sample gradients and the origin.
    let mut extent = (g.0.abs().max(g.1.abs()) * 1.3).max(spread * 2.5);
    let mut dists: Vec<f64> = n
        .per_sample
        .iter()
        .map(|p| (p[0] - g.0).hypot(p[1] - g.1))
        .collect();
    dists.sort_by(f64::total_cmp);
    if let Some(&d90) = dists.get(dists.len() * 9 / 10) {
        extent = extent.max(d90 * 1.2);
    }
    let centre = (g.0 / 2.0, g.1 / 2.0);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 14))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(
            centre.0 - extent..centre.0 + extent,
            centre.1 - extent..centre.1 + extent,
        )?;
    chart
        .configure_mesh()
        .x_desc(axes[0].as_str())
        .y_desc(axes[1].as_str())
        .x_label_formatter(&|v| short(*v))
        .y_label_formatter(&|v| short(*v))
        .label_style(("sans-serif", 11))
        .axis_desc_style(("sans-serif", 12))
        .light_line_style(BLACK.mix(0.05))
        .draw()?;
    chart
        .draw_series(
            n.per_sample
                .iter()
                .map(|p| Circle::new((p[0], p[1]), 2, RGBColor(86, 180, 233).mix(0.6).filled())),
        )?
        .label("per-sample gradients g_i")
        .legend(|(x, y)| Circle::new((x + 9, y), 3, RGBColor(86, 180, 233).filled()));
    let ring = |r: f64| {
        (0..=90).map(move |k| {
            let t = std::f64::consts::TAU * k as f64 / 90.0;
            (g.0 + r * t.cos(), g.1 + r * t.sin())
        })
    };
    chart
        .draw_series(LineSeries::new(
            ring(spread),
            RGBColor(213, 94, 0).stroke_width(2),
        ))?
        .label("spread of SGD steps (b = 1)")
        .legend(|(x, y)| {
            PathElement::new(
                vec![(x, y), (x + 18, y)],
                RGBColor(213, 94, 0).stroke_width(2),
            )
        });
    let small = n.batch_spread(batch);
    chart
        .draw_series(LineSeries::new(
            ring(small),
            RGBColor(0, 158, 115).stroke_width(2),
        ))?
        .label(format!("spread of mini-batches (b = {batch})"))
        .legend(|(x, y)| {
            PathElement::new(
                vec![(x, y), (x + 18, y)],
                RGBColor(0, 158, 115).stroke_width(2),
            )
        });
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), g],
            BLACK.stroke_width(3),
        )))?
        .label("full-batch gradient G")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(3)));
    chart.draw_series(std::iter::once(Circle::new(g, 5, BLACK.filled())))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 11))
        .draw()?;
    Ok(())
}

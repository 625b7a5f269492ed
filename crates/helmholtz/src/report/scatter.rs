//! Scatter plots of labelled points (latent codes coloured by class) as PNG.

use std::path::Path;

use plotters::prelude::*;

use super::plot::render_with;
use crate::error::Result;

/// Ten distinguishable colours (matplotlib's `tab10`), one per class label modulo 10.
pub const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A scatter plot: points with optional class labels.
#[derive(Debug, Clone, Default)]
pub struct Scatter {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// A class label per point (colours and legend), if any.
    pub labels: Option<Vec<u32>>,
}

/// Render and write a scatter plot PNG of `w x h` pixels, atomically.
pub fn save_scatter(path: &Path, plot: &Scatter, w: u32, h: u32) -> Result<()> {
    let buf = render_with(w, h, &plot.title, |root| draw(root, plot))?;
    super::histogram::write_rgb(path, w, h, buf)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    plot: &Scatter,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let finite: Vec<(usize, (f64, f64))> = plot
        .points
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, (x, y))| x.is_finite() && y.is_finite())
        .collect();
    if finite.is_empty() {
        return Ok(());
    }
    let span = |f: fn(&(f64, f64)) -> f64| {
        let (lo, hi) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, p)| {
                (l.min(f(p)), h.max(f(p)))
            });
        let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
        (lo - pad)..(hi + pad)
    };
    let mut ctx = ChartBuilder::on(root)
        .caption(&plot.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(50)
        .build_cartesian_2d(span(|p| p.0), span(|p| p.1))?;
    ctx.configure_mesh()
        .x_desc(&plot.x_label)
        .y_desc(&plot.y_label)
        .label_style(("sans-serif", 12))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    let label_of = |i: usize| plot.labels.as_ref().and_then(|l| l.get(i).copied());
    let mut classes: Vec<u32> = finite.iter().filter_map(|(i, _)| label_of(*i)).collect();
    classes.sort_unstable();
    classes.dedup();
    if classes.is_empty() {
        ctx.draw_series(
            finite
                .iter()
                .map(|(_, p)| Circle::new(*p, 2, TAB10[0].mix(0.6).filled())),
        )?;
        return Ok(());
    }
    for c in &classes {
        let color = TAB10[*c as usize % TAB10.len()];
        ctx.draw_series(
            finite
                .iter()
                .filter(|(i, _)| label_of(*i) == Some(*c))
                .map(|(_, p)| Circle::new(*p, 2, color.mix(0.7).filled())),
        )?
        .label(c.to_string())
        .legend(move |(x, y)| Circle::new((x + 6, y), 4, color.filled()));
    }
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

//! Scatter plots of labelled points (latent codes coloured by class) as PNG.

use std::path::Path;

use plotters::prelude::*;

use super::axes::{Drawn, Frame, Root, Ticks};
use super::legend::{Legend, Mark};
use super::plot::{render_with, write_rgb};
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
    write_rgb(path, w, h, buf)
}

fn draw<DB: DrawingBackend>(root: &Root<DB>, plot: &Scatter) -> Drawn<DB> {
    let finite: Vec<(usize, (f64, f64))> = plot
        .points
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, (x, y))| x.is_finite() && y.is_finite())
        .collect();
    if finite.is_empty() {
        root.fill(&WHITE)?;
        return Ok(());
    }
    let span = |f: fn(&(f64, f64)) -> f64| {
        let (lo, hi) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, p)| {
                (l.min(f(p)), h.max(f(p)))
            });
        let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
        (lo - pad, hi + pad)
    };
    let label_of = |i: usize| plot.labels.as_ref().and_then(|l| l.get(i).copied());
    let mut classes: Vec<u32> = finite.iter().filter_map(|(i, _)| label_of(*i)).collect();
    classes.sort_unstable();
    classes.dedup();
    let color = |c: u32| TAB10[c as usize % TAB10.len()];
    let mut legend = Legend::default();
    for &c in &classes {
        legend.add(&c.to_string(), Mark::Dot(color(c)));
    }
    let frame = Frame {
        title: &plot.title,
        x_label: &plot.x_label,
        y_label: &plot.y_label,
        x: span(|p| p.0),
        y: span(|p| p.1),
        x_ticks: Ticks::Real,
        y_ticks: Ticks::Real,
    };
    let area = frame.draw(root, &legend)?;
    for &(i, p) in &finite {
        let c = label_of(i).map_or(TAB10[0].mix(0.6), |c| color(c).mix(0.7));
        area.draw(&Circle::new(p, 2, c.filled()))?;
    }
    Ok(())
}

//! Histograms of scores (overlaid groups) and bar charts (one bar per category, or a group of
//! bars side by side per category), as PNG.

use std::path::Path;

use plotters::prelude::*;

use super::axes::{Drawn, Frame, Root, Ticks};
use super::ink::{DASH, Ink};
use super::legend::{Legend, Mark};
use super::plot::{REFERENCE_WIDTH, render_with, write_rgb};
use super::scatter::TAB10;
use crate::error::Result;

/// Opacity of overlaid histogram groups.
const OVERLAY: f64 = 0.45;

/// Overlaid histograms of several groups of values on shared bins.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Title above the plot.
    pub title: String,
    /// x-axis label, with units.
    pub x_label: String,
    /// y-axis label; empty: "density" or "count".
    pub y_label: String,
    /// The groups: legend name and values (non-finite values are skipped).
    pub groups: Vec<(String, Vec<f64>)>,
    /// Number of bins over the range of all values.
    pub bins: usize,
    /// Plot densities (each group integrates to 1) instead of counts.
    pub density: bool,
}

/// Render and write a histogram PNG of `w x h` pixels, atomically.
pub fn save_histogram(path: &Path, plot: &Histogram, w: u32, h: u32) -> Result<()> {
    let buf = render_with(w, h, &plot.title, |root| draw_histogram(root, plot))?;
    write_rgb(path, w, h, buf)
}

fn draw_histogram<DB: DrawingBackend>(root: &Root<DB>, plot: &Histogram) -> Drawn<DB> {
    let all = plot
        .groups
        .iter()
        .flat_map(|(_, v)| v.iter())
        .filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
        (l.min(v), h.max(v))
    });
    if !lo.is_finite() {
        root.fill(&WHITE)?;
        return Ok(());
    }
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let bins = plot.bins.max(1);
    let width = (hi - lo) / bins as f64;
    let counts: Vec<Vec<f64>> = plot
        .groups
        .iter()
        .map(|(_, values)| {
            let mut c = vec![0f64; bins];
            let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            for v in &finite {
                c[(((v - lo) / width) as usize).min(bins - 1)] += 1.0;
            }
            if plot.density && !finite.is_empty() {
                c.iter_mut().for_each(|x| *x /= finite.len() as f64 * width);
            }
            c
        })
        .collect();
    let top = counts
        .iter()
        .flatten()
        .fold(0f64, |a, &b| a.max(b))
        .max(1e-12)
        * 1.08;
    let mut legend = Legend::default();
    for (g, (name, _)) in plot.groups.iter().enumerate() {
        legend.add(name, Mark::Patch(TAB10[g % TAB10.len()], OVERLAY));
    }
    let y_label = match (plot.y_label.is_empty(), plot.density) {
        (false, _) => plot.y_label.as_str(),
        (true, true) => "density",
        (true, false) => "count",
    };
    let frame = Frame {
        title: &plot.title,
        x_label: &plot.x_label,
        y_label,
        x: (lo, hi),
        y: (0.0, top),
        x_ticks: Ticks::Real,
        y_ticks: Ticks::numbers(!plot.density),
    };
    let area = frame.draw(root, &legend)?;
    for (g, c) in counts.iter().enumerate() {
        let color = TAB10[g % TAB10.len()];
        for (b, &y) in c.iter().enumerate() {
            let x0 = lo + b as f64 * width;
            let bar = [(x0, 0.0), (x0 + width, y)];
            area.draw(&Rectangle::new(bar, color.mix(OVERLAY).filled()))?;
        }
    }
    Ok(())
}

/// A bar chart: one bar per category, or for several groups a bar per group side by side.
#[derive(Debug, Clone, Default)]
pub struct Bars {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label, with units.
    pub y_label: String,
    /// The categories along the x axis.
    pub categories: Vec<String>,
    /// `(legend name, one value per category)` per group (e.g. empirical and exact
    /// probabilities of each state).
    pub groups: Vec<(String, Vec<f64>)>,
    /// Fixed y range (e.g. `(0.0, 1.0)` for AUCs); else from 0 to the largest value.
    pub y_range: Option<(f64, f64)>,
    /// A horizontal reference line `(y, label)` (e.g. chance level).
    pub reference: Option<(f64, String)>,
    /// Label the y axis with whole numbers only (counts).
    pub integer_y: bool,
}

impl Bars {
    /// One bar per `(category, value)`.
    pub fn single(bars: impl IntoIterator<Item = (String, f64)>) -> Self {
        let (categories, values) = bars.into_iter().unzip();
        Self {
            categories,
            groups: vec![(String::new(), values)],
            ..Self::default()
        }
    }
}

/// Render and write a bar chart PNG of `w x h` pixels, atomically.
pub fn save_bars(path: &Path, plot: &Bars, w: u32, h: u32) -> Result<()> {
    let buf = render_with(w, h, &plot.title, |root| draw_bars(root, plot))?;
    write_rgb(path, w, h, buf)
}

fn draw_bars<DB: DrawingBackend>(root: &Root<DB>, plot: &Bars) -> Drawn<DB> {
    let n = plot.categories.len();
    if n == 0 || plot.groups.is_empty() {
        root.fill(&WHITE)?;
        return Ok(());
    }
    let (y0, y1) = plot.y_range.unwrap_or_else(|| {
        let values = plot.groups.iter().flat_map(|(_, v)| v.iter());
        let top = values
            .copied()
            .filter(|v| v.is_finite())
            .fold(0f64, f64::max);
        (0.0, if top > 0.0 { top * 1.1 } else { 1.0 })
    });
    let mut legend = Legend::default();
    for (g, (name, _)) in plot.groups.iter().enumerate() {
        legend.add(name, Mark::Patch(TAB10[g % TAB10.len()], 1.0));
    }
    if let Some((_, label)) = &plot.reference {
        let mark = Mark::Line {
            color: BLACK,
            width: REFERENCE_WIDTH,
            dashed: true,
            marker: false,
        };
        legend.add(label, mark);
    }
    let frame = Frame {
        title: &plot.title,
        x_label: &plot.x_label,
        y_label: &plot.y_label,
        x: (-0.5, n as f64 - 0.5),
        y: (y0, y1),
        x_ticks: Ticks::Names(&plot.categories),
        y_ticks: Ticks::numbers(plot.integer_y),
    };
    let area = frame.draw(root, &legend)?;
    // The groups of a category share 70% of its width, side by side.
    let slot = 0.7 / plot.groups.len() as f64;
    for (g, (_, values)) in plot.groups.iter().enumerate() {
        let color = TAB10[g % TAB10.len()];
        for (i, v) in values.iter().take(n).enumerate() {
            let left = i as f64 - 0.35 + g as f64 * slot;
            let v = if v.is_finite() { v.clamp(y0, y1) } else { y0 };
            area.draw(&Rectangle::new(
                [(left, y0), (left + slot, v)],
                color.filled(),
            ))?;
        }
    }
    if let Some((y, _)) = &plot.reference {
        let canvas = area.strip_coord_spec();
        let (w, h) = canvas.dim_in_pixel();
        let py = (y1 - y) / (y1 - y0) * f64::from(h);
        let mut ink = Ink::new(w, h);
        ink.polyline(
            &[(0.0, py), (f64::from(w), py)],
            REFERENCE_WIDTH,
            Some(DASH),
        );
        ink.paint(&canvas, BLACK, 1.0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_of_bars_render() {
        // A Boltzmann machine with 12 visible units has 4096 states.
        let n = 4096;
        let bars = Bars {
            categories: (0..n).map(|i| format!("{i:012b}")).collect(),
            groups: vec![
                ("empirical".into(), vec![1.0 / n as f64; n]),
                ("exact".into(), vec![1.0 / n as f64; n]),
            ],
            ..Bars::default()
        };
        assert!(render_with(800, 420, "bars", |root| draw_bars(root, &bars)).is_ok());
    }
}

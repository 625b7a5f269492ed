//! Histograms of scores (overlaid groups) and bar charts, as PNG.

use std::path::Path;

use plotters::prelude::*;

use super::plot::render_with;
use super::scatter::TAB10;
use crate::error::{Error, Result};
use crate::io::write_atomic;

/// Overlaid histograms of several groups of values on shared bins.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
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

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    plot: &Histogram,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let all = plot
        .groups
        .iter()
        .flat_map(|(_, v)| v.iter())
        .filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
        (l.min(v), h.max(v))
    });
    if !lo.is_finite() {
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
    let mut ctx = ChartBuilder::on(root)
        .caption(&plot.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, 0f64..top)?;
    ctx.configure_mesh()
        .x_desc(&plot.x_label)
        .y_desc(if plot.density { "density" } else { "count" })
        .label_style(("sans-serif", 12))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (g, ((name, _), c)) in plot.groups.iter().zip(&counts).enumerate() {
        let color = TAB10[g % TAB10.len()];
        ctx.draw_series(c.iter().enumerate().map(|(b, &y)| {
            let x0 = lo + b as f64 * width;
            Rectangle::new([(x0, 0.0), (x0 + width, y)], color.mix(0.45).filled())
        }))?
        .label(name.clone())
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.mix(0.6).filled())
        });
    }
    if plot.groups.len() > 1 {
        ctx.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 12))
            .draw()?;
    }
    Ok(())
}

/// A bar chart: one labelled bar per category.
#[derive(Debug, Clone, Default)]
pub struct Bars {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// `(category, value)` per bar.
    pub bars: Vec<(String, f64)>,
    /// Fixed y range (e.g. `(0.0, 1.0)` for AUCs); else from 0 to the largest value.
    pub y_range: Option<(f64, f64)>,
    /// A horizontal reference line `(y, label)` (e.g. chance level).
    pub reference: Option<(f64, String)>,
}

/// Render and write a bar chart PNG of `w x h` pixels, atomically.
pub fn save_bars(path: &Path, plot: &Bars, w: u32, h: u32) -> Result<()> {
    let buf = render_with(w, h, &plot.title, |root| draw_bars(root, plot))?;
    write_rgb(path, w, h, buf)
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    plot: &Bars,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let n = plot.bars.len();
    if n == 0 {
        return Ok(());
    }
    let (y0, y1) = plot.y_range.unwrap_or_else(|| {
        let top = plot.bars.iter().map(|b| b.1).fold(0f64, f64::max);
        (0.0, if top > 0.0 { top * 1.1 } else { 1.0 })
    });
    let labels: Vec<String> = plot.bars.iter().map(|b| b.0.clone()).collect();
    let mut ctx = ChartBuilder::on(root)
        .caption(&plot.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), y0..y1)?;
    let fmt = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    ctx.configure_mesh()
        .x_desc(&plot.x_label)
        .y_desc(&plot.y_label)
        .x_labels(n + 1)
        .x_label_formatter(&fmt)
        .disable_x_mesh()
        .label_style(("sans-serif", 12))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    ctx.draw_series(plot.bars.iter().enumerate().map(|(i, (_, v))| {
        let x = i as f64;
        Rectangle::new([(x - 0.35, y0), (x + 0.35, *v)], TAB10[0].filled())
    }))?;
    if let Some((y, label)) = &plot.reference {
        let line = vec![(-0.5, *y), (n as f64 - 0.5, *y)];
        ctx.draw_series(DashedLineSeries::new(line, 5, 5, BLACK.stroke_width(1)))?
            .label(label.clone())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
        ctx.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 12))
            .draw()?;
    }
    Ok(())
}

/// Encode an RGB buffer as PNG and write it atomically.
pub(crate) fn write_rgb(path: &Path, w: u32, h: u32, buf: Vec<u8>) -> Result<()> {
    let img = image::RgbImage::from_raw(w, h, buf)
        .ok_or_else(|| Error::Internal("plot buffer size".into()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("PNG encoding: {e}")))?;
    write_atomic(path, &out.into_inner())
}

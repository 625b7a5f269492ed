//! Line charts as PNG (plotters, with an embedded DejaVu Sans font so no system fonts are needed):
//! lines, markers and shaded bands are drawn by `ink` (anti-aliased, clipped to the plot area), the
//! frame by `axes` and the legend, beside the plot, by `legend`.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use super::axes::{Drawn, Frame, Root, Ticks};
use super::ink::{DASH, Ink};
use super::legend::{Legend, MARKER, Mark};
use super::scatter::TAB10;
use crate::error::{Error, Result};
use crate::io::write_atomic;

static FONT: Once = Once::new();

/// DejaVu Sans (Bitstream Vera licence; see assets/DejaVuSans-LICENSE.txt).
const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

pub(crate) fn register_font() {
    FONT.call_once(|| {
        // Registration fails only for an unparsable font, which the tests would catch.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

/// Colours cycled through by series (and named by index by bands): tab10's first five, then
/// cyan.
const PALETTE: [RGBColor; 6] = [TAB10[0], TAB10[3], TAB10[2], TAB10[1], TAB10[4], TAB10[9]];

/// Colours of the reference lines, in order over the horizontal then the vertical ones.
const REFERENCE: [RGBColor; 3] = [RGBColor(0, 0, 0), RGBColor(120, 120, 120), TAB10[5]];

/// Stroke widths in pixels: series, series with more points than pixels, reference lines.
const WIDTH: f64 = 2.0;
const DENSE_WIDTH: f64 = 1.25;
pub(crate) const REFERENCE_WIDTH: f64 = 1.25;

/// One named line.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry; an empty name gets none.
    pub name: String,
    /// `(x, y)` points; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// Draw markers at the points as well as the line.
    pub markers: bool,
    /// Draw as a dashed reference line.
    pub dashed: bool,
    /// Draw the points as markers only, without a line (a scatter of data).
    pub scatter: bool,
}

impl Series {
    /// A solid line.
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            markers: false,
            dashed: false,
            scatter: false,
        }
    }

    /// Unconnected markers.
    pub fn scatter(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            scatter: true,
            ..Self::line(name, points)
        }
    }
}

/// A shaded interval: the area between a lower and an upper curve (e.g. a 95% band), drawn
/// semi-transparent beneath the series.
#[derive(Debug, Clone)]
pub struct Band {
    /// Legend entry; an empty name gets none.
    pub name: String,
    /// `(x, lower, upper)`; drawn in order of `x`; non-finite points are skipped.
    pub points: Vec<(f64, f64, f64)>,
    /// Colour: the index of a series' colour (series `i` takes colour `i`).
    pub color: usize,
    /// Opacity of the shading, 0 to 1 (nested bands: the inner one darker).
    pub opacity: f64,
}

/// A chart: title, axis labels, series and bands.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label, with units.
    pub x_label: String,
    /// y-axis label, with units.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Shaded intervals, drawn beneath the lines.
    pub bands: Vec<Band>,
    /// Horizontal reference lines `(y, label)`.
    pub hlines: Vec<(f64, String)>,
    /// Vertical reference lines `(x, label)`.
    pub vlines: Vec<(f64, String)>,
    /// Label the x axis with whole numbers only (epochs, steps, sweeps, sizes).
    pub integer_x: bool,
    /// Label the y axis with whole numbers only (counts).
    pub integer_y: bool,
}

fn finite(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

fn finite_band(p: &&(f64, f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite() && p.2.is_finite()
}

/// The data ranges, padded by 5%: every point, band and reference line lies inside.
fn bounds(chart: &Chart) -> Option<((f64, f64), (f64, f64))> {
    let points = chart.series.iter().flat_map(|s| s.points.iter().copied());
    let bands = chart
        .bands
        .iter()
        .flat_map(|b| b.points.iter().filter(finite_band))
        .flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]);
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (x, y) in points.chain(bands).filter(finite) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    for (y, _) in &chart.hlines {
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    for (x, _) in &chart.vlines {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
    }
    if !(x0.is_finite() && y0.is_finite()) {
        return None;
    }
    let pad = |lo: f64, hi: f64| {
        let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
        (lo - 0.05 * span, hi + 0.05 * span)
    };
    Some((pad(x0, x1), pad(y0, y1)))
}

/// Render `chart` into an RGB buffer of `w x h` pixels.
pub fn render(chart: &Chart, w: u32, h: u32) -> Result<Vec<u8>> {
    render_with(w, h, &chart.title, |root| draw(root, chart))
}

/// Run `paint` on a `w x h` bitmap (with the embedded font registered) and return its RGB
/// pixels; `title` names the picture in errors. Every chart kind renders through this.
pub(crate) fn render_with<E: std::fmt::Display>(
    w: u32,
    h: u32,
    title: &str,
    paint: impl FnOnce(&Root<BitMapBackend<'_>>) -> std::result::Result<(), E>,
) -> Result<Vec<u8>> {
    register_font();
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        paint(&root).map_err(|e| Error::Internal(format!("plotting `{title}`: {e}")))?;
        root.present()
            .map_err(|e| Error::Internal(format!("plotting: {e}")))?;
    }
    Ok(buf)
}

/// The legend of `chart`: series, then bands, then reference lines.
fn legend(chart: &Chart) -> Legend {
    let mut legend = Legend::default();
    for (i, s) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mark = if s.scatter {
            Mark::Dot(color)
        } else {
            Mark::Line {
                color,
                width: WIDTH,
                dashed: s.dashed,
                marker: s.markers,
            }
        };
        legend.add(&s.name, mark);
    }
    for b in &chart.bands {
        legend.add(
            &b.name,
            Mark::Patch(PALETTE[b.color % PALETTE.len()], b.opacity),
        );
    }
    let references = chart.hlines.iter().chain(&chart.vlines);
    for (k, (_, name)) in references.enumerate() {
        let mark = Mark::Line {
            color: REFERENCE[k % REFERENCE.len()],
            width: REFERENCE_WIDTH,
            dashed: true,
            marker: false,
        };
        legend.add(name, mark);
    }
    legend
}

fn draw<DB: DrawingBackend>(root: &Root<DB>, chart: &Chart) -> Drawn<DB> {
    let Some((x, y)) = bounds(chart) else {
        root.fill(&WHITE)?;
        return Ok(());
    };
    let frame = Frame {
        title: &chart.title,
        x_label: &chart.x_label,
        y_label: &chart.y_label,
        x,
        y,
        x_ticks: Ticks::numbers(chart.integer_x),
        y_ticks: Ticks::numbers(chart.integer_y),
    };
    let plot = frame.draw(root, &legend(chart))?;
    let canvas = plot.strip_coord_spec();
    let (w, h) = canvas.dim_in_pixel();
    let to_px = Scale::new(x, y, w, h);
    let mut ink = Ink::new(w, h);
    for b in &chart.bands {
        let mut cols: Vec<(f64, f64, f64)> = b
            .points
            .iter()
            .filter(finite_band)
            .map(|&(x, lo, hi)| (to_px.x(x), to_px.y(lo), to_px.y(hi)))
            .collect();
        cols.sort_by(|a, b| a.0.total_cmp(&b.0));
        ink.band(&cols);
        ink.paint(&canvas, PALETTE[b.color % PALETTE.len()], b.opacity)?;
    }
    let references = chart
        .hlines
        .iter()
        .map(|&(y, _)| [(x.0, y), (x.1, y)])
        .chain(chart.vlines.iter().map(|&(x, _)| [(x, y.0), (x, y.1)]));
    for (k, line) in references.enumerate() {
        ink.polyline(&line.map(|p| to_px.point(p)), REFERENCE_WIDTH, Some(DASH));
        ink.paint(&canvas, REFERENCE[k % REFERENCE.len()], 1.0)?;
    }
    for (i, s) in chart.series.iter().enumerate() {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| finite(p))
            .map(|&p| to_px.point(p))
            .collect();
        if !s.scatter {
            let width = if pts.len() as u32 > w {
                DENSE_WIDTH
            } else {
                WIDTH
            };
            ink.polyline(&pts, width, s.dashed.then_some(DASH));
        }
        if s.scatter || s.markers {
            pts.iter().for_each(|&p| ink.dot(p, MARKER));
        }
        ink.paint(&canvas, PALETTE[i % PALETTE.len()], 1.0)?;
    }
    Ok(())
}

/// Data to pixel coordinates of a plot area `w x h` pixels showing the ranges `x` and `y`.
struct Scale {
    x: (f64, f64),
    y: (f64, f64),
    w: f64,
    h: f64,
}

impl Scale {
    fn new(x: (f64, f64), y: (f64, f64), w: u32, h: u32) -> Self {
        Self {
            x,
            y,
            w: f64::from(w),
            h: f64::from(h),
        }
    }

    fn x(&self, v: f64) -> f64 {
        (v - self.x.0) / (self.x.1 - self.x.0) * self.w
    }

    fn y(&self, v: f64) -> f64 {
        (self.y.1 - v) / (self.y.1 - self.y.0) * self.h
    }

    fn point(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.x(x), self.y(y))
    }
}

/// Render and write a chart PNG atomically.
pub fn save_chart(path: &Path, chart: &Chart, w: u32, h: u32) -> Result<()> {
    write_rgb(path, w, h, render(chart, w, h)?)
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

/// Small multiples: one chart per metric, stacked two per row, into one PNG.
pub fn save_panels(path: &Path, charts: &[Chart]) -> Result<()> {
    if charts.is_empty() {
        return Ok(());
    }
    let (pw, ph) = (460u32, 300u32);
    let cols = charts.len().min(2) as u32;
    let rows = (charts.len() as u32).div_ceil(cols);
    let (w, h) = (pw * cols, ph * rows);
    let mut canvas = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    for (i, c) in charts.iter().enumerate() {
        let panel = render(c, pw, ph)?;
        let img = image::RgbImage::from_raw(pw, ph, panel)
            .ok_or_else(|| Error::Internal("panel size".into()))?;
        let (ox, oy) = ((i as u32 % cols) * pw, (i as u32 / cols) * ph);
        image::imageops::overlay(&mut canvas, &img, ox as i64, oy as i64);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    canvas
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("PNG encoding: {e}")))?;
    write_atomic(path, &out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stay_inside_the_plot_area() -> Result<()> {
        // A zigzag with sharp turns: plotters' mitred polygon used to spike far past the axes.
        let zigzag = (0..400)
            .map(|i| (f64::from(i), if i % 2 == 0 { 0.0 } else { 1.0 }))
            .collect();
        let chart = Chart {
            series: vec![Series::line("", zigzag)],
            ..Chart::default()
        };
        let (w, h) = (300, 200);
        let buf = render(&chart, w, h)?;
        // Nothing but the margin above the plot area (no title) and the column right of it.
        let white = |x: u32, y: u32| buf[((y * w + x) * 3) as usize..][..3] == [255, 255, 255];
        assert!((0..w).all(|x| (0..8).all(|y| white(x, y))));
        assert!((0..h).all(|y| (w - 8..w).all(|x| white(x, y))));
        Ok(())
    }

    #[test]
    fn only_named_items_get_legend_entries() {
        let chart = Chart {
            series: vec![
                Series::line("mean", vec![(0.0, 0.0), (1.0, 1.0)]),
                Series::line("", vec![(0.0, 1.0), (1.0, 0.0)]),
            ],
            bands: vec![Band {
                name: "95%".into(),
                points: vec![(0.0, -1.0, 1.0), (1.0, 0.0, 2.0)],
                color: 0,
                opacity: 0.3,
            }],
            hlines: vec![(0.5, String::new())],
            ..Chart::default()
        };
        assert_eq!(legend(&chart).len(), 2);
        assert!(render(&chart, 320, 240).is_ok());
    }
}

//! Line charts as PNG (plotters, with an embedded DejaVu Sans font so no system fonts are needed).

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

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

/// Colours cycled through by series.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];

/// One named line.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry.
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

/// A chart: title, axis labels and series.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Horizontal reference lines `(y, label)`.
    pub hlines: Vec<(f64, String)>,
    /// Vertical reference lines `(x, label)`.
    pub vlines: Vec<(f64, String)>,
    /// Label the x axis with whole numbers only (epochs, sizes).
    pub integer_x: bool,
}

fn bounds(chart: &Chart) -> Option<((f64, f64), (f64, f64))> {
    let pts = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in pts {
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
    if !x0.is_finite() {
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
    paint: impl FnOnce(
        &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    ) -> std::result::Result<(), E>,
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

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &Chart,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let Some(((x0, x1), (y0, y1))) = bounds(chart) else {
        return Ok(());
    };
    let mut ctx = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let int_fmt = |x: &f64| format!("{x:.0}");
    let span = (x1 - x0).max(1.0);
    let mut mesh = ctx.configure_mesh();
    mesh.x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .label_style(("sans-serif", 12))
        .light_line_style(RGBColor(235, 235, 235));
    if chart.integer_x {
        mesh.x_labels((span.round() as usize + 1).min(10))
            .x_label_formatter(&int_fmt);
    }
    mesh.draw()?;
    for (i, s) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let style = color.stroke_width(2);
        if s.scatter {
            ctx.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?
                .label(s.name.clone())
                .legend(move |(x, y)| Circle::new((x + 8, y), 3, color.filled()));
            continue;
        }
        let drawn = if s.dashed {
            ctx.draw_series(DashedLineSeries::new(pts.clone(), 6, 4, style))?
        } else {
            ctx.draw_series(LineSeries::new(pts.clone(), style))?
        };
        drawn.label(s.name.clone()).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
        });
        if s.markers {
            ctx.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    for (y, label) in &chart.hlines {
        let line = vec![(x0, *y), (x1, *y)];
        ctx.draw_series(DashedLineSeries::new(line, 5, 5, BLACK.stroke_width(1)))?
            .label(label.clone())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
    }
    for (x, label) in &chart.vlines {
        let line = vec![(*x, y0), (*x, y1)];
        ctx.draw_series(DashedLineSeries::new(
            line,
            5,
            5,
            RGBColor(120, 120, 120).stroke_width(1),
        ))?
        .label(label.clone())
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RGBColor(120, 120, 120)));
    }
    if chart.series.len() + chart.hlines.len() + chart.vlines.len() > 1 {
        ctx.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 12))
            .draw()?;
    }
    Ok(())
}

/// Render and write a chart PNG atomically.
pub fn save_chart(path: &Path, chart: &Chart, w: u32, h: u32) -> Result<()> {
    let buf = render(chart, w, h)?;
    let img = image::RgbImage::from_raw(w, h, buf)
        .ok_or_else(|| Error::Internal("chart buffer size".into()))?;
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

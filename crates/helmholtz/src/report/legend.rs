//! Legends, drawn in a column right of the plot area so that they never cover the data. Each
//! entry's sample is drawn as its series is (same width, dashes, markers, shading).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ink::{DASH, Ink};

/// How an entry's sample looks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
    /// A line `width` pixels wide, solid or dashed, with a marker on it or not.
    Line {
        color: RGBColor,
        width: f64,
        dashed: bool,
        marker: bool,
    },
    /// A marker alone (points without a line).
    Dot(RGBColor),
    /// A shaded patch at an opacity (bands, bars, histogram groups).
    Patch(RGBColor, f64),
}

/// The named entries of one chart, in drawing order.
#[derive(Debug, Default)]
pub(crate) struct Legend {
    entries: Vec<(String, Mark)>,
}

const FONT: (&str, u32) = ("sans-serif", 12);
/// Height of one entry, width of a sample and the padding around them, in pixels.
const ROW: i32 = 18;
const SAMPLE: i32 = 28;
const PAD: i32 = 6;
/// Radius of markers, here and on the plot.
pub(crate) const MARKER: f64 = 3.0;

impl Legend {
    /// Add an entry; one without a name (a helper line) gets none.
    pub(crate) fn add(&mut self, name: &str, mark: Mark) {
        if !name.trim().is_empty() {
            self.entries.push((name.to_string(), mark));
        }
    }

    /// The number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// A legend is drawn when anything has a name.
    fn shown(&self) -> bool {
        !self.entries.is_empty()
    }

    /// The width of the column the legend needs beside the plot (0 when it is not shown).
    pub(crate) fn width<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<u32, DrawingAreaErrorKind<DB::ErrorType>> {
        if !self.shown() {
            return Ok(0);
        }
        let style = TextStyle::from(FONT.into_font());
        let mut text = 0;
        for (name, _) in &self.entries {
            text = text.max(area.estimate_text_size(name, &style)?.0);
        }
        // Margin, box edge, sample, gap, text, box edge, margin.
        Ok(text + (SAMPLE + 5 * PAD) as u32)
    }

    /// Draw the legend into `area` (the column beside the plot), its box starting `top` pixels
    /// below the column's top edge.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        top: i32,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if !self.shown() {
            return Ok(());
        }
        let (w, h) = area.dim_in_pixel();
        let rows = self.entries.len() as i32;
        let right = w as i32 - PAD;
        area.draw(&Rectangle::new(
            [(PAD, top), (right, top + rows * ROW + PAD)],
            RGBColor(200, 200, 200).stroke_width(1),
        ))?;
        let style = TextStyle::from(FONT.into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        let mut ink = Ink::new(w, h);
        for (k, (name, mark)) in self.entries.iter().enumerate() {
            let y = f64::from(top + PAD / 2 + k as i32 * ROW + ROW / 2);
            let (x0, x1) = (f64::from(2 * PAD), f64::from(2 * PAD + SAMPLE));
            let (color, opacity) = match *mark {
                Mark::Line {
                    color,
                    width,
                    dashed,
                    marker,
                } => {
                    ink.polyline(&[(x0, y), (x1, y)], width, dashed.then_some(DASH));
                    if marker {
                        ink.dot(((x0 + x1) / 2.0, y), MARKER);
                    }
                    (color, 1.0)
                }
                Mark::Dot(color) => {
                    ink.dot(((x0 + x1) / 2.0, y), MARKER);
                    (color, 1.0)
                }
                Mark::Patch(color, opacity) => {
                    ink.band(&[(x0, y - 5.0, y + 5.0), (x1, y - 5.0, y + 5.0)]);
                    (color, opacity)
                }
            };
            ink.paint(area, color, opacity)?;
            area.draw_text(name, &style, (3 * PAD + SAMPLE, y as i32))?;
        }
        Ok(())
    }
}

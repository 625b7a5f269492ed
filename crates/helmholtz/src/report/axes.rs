//! The frame every chart kind shares: the title, axes whose tick labels suit the data (whole
//! numbers on count axes, as many decimals as the tick step needs, category names), the grid, and
//! the legend in a column right of the plot area.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::legend::Legend;

/// The plot area of a chart, in data coordinates.
pub(crate) type PlotArea<DB> = DrawingArea<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The whole picture a chart is drawn on.
pub(crate) type Root<DB> = DrawingArea<DB, Shift>;

/// The result of drawing on a backend `DB`.
pub(crate) type Drawn<DB, T = ()> =
    Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// How an axis labels its ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ticks<'a> {
    /// Real numbers, with as many decimals as the step between ticks needs.
    Real,
    /// Whole numbers only (counts, epochs, steps, sweeps).
    Integer,
    /// Category `i` named at `i`.
    Names(&'a [String]),
}

impl Ticks<'_> {
    /// Whole numbers when `integer`, else real numbers.
    pub(crate) fn numbers(integer: bool) -> Self {
        if integer { Self::Integer } else { Self::Real }
    }
}

/// Title, axis labels, data ranges and tick styles of a chart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    pub(crate) title: &'a str,
    pub(crate) x_label: &'a str,
    pub(crate) y_label: &'a str,
    pub(crate) x: (f64, f64),
    pub(crate) y: (f64, f64),
    pub(crate) x_ticks: Ticks<'a>,
    pub(crate) y_ticks: Ticks<'a>,
}

const FONT: (&str, u32) = ("sans-serif", 12);
/// At most this many labelled ticks on an axis.
const MAX_TICKS: usize = 10;
/// Room for the rotated y-axis label and the tick marks beside the widest tick label.
const Y_LABEL_ROOM: u32 = 34;

impl Frame<'_> {
    /// Paint the background, title, axes and grid on `root` and the legend beside them; returns
    /// the plot area to draw the data in.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &Root<DB>,
        legend: &Legend,
    ) -> Drawn<DB, PlotArea<DB>> {
        root.fill(&WHITE)?;
        let body = if self.title.is_empty() {
            root.clone()
        } else {
            root.titled(self.title, ("sans-serif", 18))?
        };
        let (w, _) = body.dim_in_pixel();
        let (chart, side) = body.split_horizontally(w.saturating_sub(legend.width(&body)?));
        let x = Axis::new(self.x, self.x_ticks);
        let y = Axis::new(self.y, self.y_ticks);
        let style = TextStyle::from(FONT.into_font());
        let mut widest = 0;
        for v in y.key_points() {
            widest = widest.max(chart.estimate_text_size(&y.label(v), &style)?.0);
        }
        let mut ctx = ChartBuilder::on(&chart)
            .margin(10)
            .x_label_area_size(38)
            .y_label_area_size(widest + Y_LABEL_ROOM)
            .build_cartesian_2d(x.range.0..x.range.1, y.range.0..y.range.1)?;
        let x_fmt = |v: &f64| x.label(*v);
        let y_fmt = |v: &f64| y.label(*v);
        let mut mesh = ctx.configure_mesh();
        mesh.x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_labels(x.ticks)
            .y_labels(y.ticks)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(FONT)
            .axis_desc_style(FONT)
            .bold_line_style(RGBColor(215, 215, 215))
            .light_line_style(RGBColor(242, 242, 242));
        if let Ticks::Names(_) = self.x_ticks {
            mesh.disable_x_mesh();
        }
        mesh.draw()?;
        let plot = ctx.plotting_area().clone();
        let top = plot.get_pixel_range().1.start - side.get_pixel_range().1.start;
        legend.draw(&side, top)?;
        Ok(plot)
    }
}

/// One axis: its range, how many ticks it asks plotters for, and how it labels them.
struct Axis<'a> {
    range: (f64, f64),
    ticks: usize,
    style: Ticks<'a>,
    decimals: usize,
}

impl<'a> Axis<'a> {
    fn new(range: (f64, f64), style: Ticks<'a>) -> Self {
        let mut axis = Self {
            range,
            ticks: MAX_TICKS,
            style,
            decimals: 0,
        };
        // Whole-number axes ask for fewer ticks until the step between them is a whole number.
        if !matches!(style, Ticks::Real) {
            while axis.ticks > 2 && axis.step() < 1.0 {
                axis.ticks -= 1;
            }
        }
        axis.decimals = decimals(axis.step());
        axis
    }

    /// The ticks plotters will draw (it picks them with the same rule).
    fn key_points(&self) -> Vec<f64> {
        RangedCoordf64::from(self.range.0..self.range.1).key_points(self.ticks)
    }

    fn step(&self) -> f64 {
        match self.key_points()[..] {
            [a, b, ..] => b - a,
            _ => (self.range.1 - self.range.0).abs(),
        }
    }

    fn label(&self, v: f64) -> String {
        let whole = v.round();
        let is_whole = (v - whole).abs() <= 1e-9 * v.abs().max(1.0);
        match self.style {
            Ticks::Real => {
                let s = format!("{v:.*}", self.decimals);
                // "-0.0" reads as a different number from "0.0".
                if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
                    s[1..].to_string()
                } else {
                    s
                }
            }
            Ticks::Integer if is_whole => format!("{whole:.0}"),
            Ticks::Names(names) if is_whole && whole >= 0.0 => {
                names.get(whole as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        }
    }
}

/// The fewest decimals that write every multiple of `step` exactly (0.25 -> 2, 5000 -> 0).
fn decimals(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    (0..12)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(12)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(range: (f64, f64), style: Ticks<'_>) -> Vec<String> {
        let axis = Axis::new(range, style);
        axis.key_points()
            .into_iter()
            .map(|v| axis.label(v))
            .collect()
    }

    #[test]
    fn count_axes_read_as_whole_numbers() {
        let got = labels((-250.0, 10250.0), Ticks::Real);
        assert!(got.iter().all(|l| l.parse::<i64>().is_ok()), "{got:?}");
        for l in labels((0.9, 3.1), Ticks::Integer) {
            assert!(l.is_empty() || l.parse::<i64>().is_ok(), "{l}");
        }
        assert_eq!(labels((0.9, 3.1), Ticks::Integer), ["1", "2", "3"]);
    }

    #[test]
    fn real_axes_get_the_decimals_of_their_step() {
        let got = labels((-0.01, 0.26), Ticks::Real);
        assert!(got.iter().all(|l| l.len() == got[0].len()), "{got:?}");
        assert!(got.contains(&"0.10".to_string()) || got.contains(&"0.1".to_string()));
        assert!(!labels((-1.0, 1.0), Ticks::Real).contains(&"-0.0".to_string()));
        assert_eq!(decimals(0.25), 2);
        assert_eq!(decimals(5000.0), 0);
        assert_eq!(decimals(0.2), 1);
    }

    #[test]
    fn category_axes_name_their_bars() {
        let names: Vec<String> = ["000", "100", "010"].map(String::from).to_vec();
        assert_eq!(labels((-0.5, 2.5), Ticks::Names(&names)), names);
    }
}

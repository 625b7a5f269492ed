//! Anti-aliased strokes, dots and shaded bands, clipped to a rectangle of pixels.
//!
//! plotters turns a wide polyline into one polygon with mitred joints, whose spikes leave the plot
//! area and whose width changes with the slope; here each shape instead adds coverage (the share
//! of a pixel it covers, 0 to 1) to a mask the size of the plot area, and `paint` blends one
//! colour through the mask. A stroke is the set of points within half its width of a segment, so
//! its width is the same at every slope, and nothing can be drawn outside the mask.
//!
//! # Shapes
//! Coordinates are pixels with `(0, 0)` the top-left corner of the mask; pixel `(i, j)` covers
//! `[i, i + 1) x [j, j + 1)`.

use plotters::coord::Shift;
use plotters::prelude::*;

/// A coverage mask of `w x h` pixels.
pub(crate) struct Ink {
    w: usize,
    h: usize,
    cover: Vec<f32>,
}

/// The dash pattern of every dashed line and its legend entry: `(on, off)` in pixels.
pub(crate) const DASH: (f64, f64) = (7.0, 4.0);

impl Ink {
    /// An empty mask over `w x h` pixels.
    pub(crate) fn new(w: u32, h: u32) -> Self {
        let (w, h) = (w as usize, h as usize);
        Self {
            w,
            h,
            cover: vec![0.0; w * h],
        }
    }

    /// A polyline `width` pixels wide with round joints; `dash` draws only the `on` pixels of
    /// every `on + off` along its length (the pattern runs on across the joints).
    pub(crate) fn polyline(&mut self, pts: &[(f64, f64)], width: f64, dash: Option<(f64, f64)>) {
        let r = width / 2.0;
        let Some((on, off)) = dash else {
            for pair in pts.windows(2) {
                self.segment(pair[0], pair[1], r, false);
            }
            if let [p] = pts {
                self.dot(*p, r);
            }
            return;
        };
        let period = on + off;
        let mut phase = 0.0;
        for pair in pts.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let len = (b.0 - a.0).hypot(b.1 - a.1);
            let at = |s: f64| {
                let t = s / len;
                (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
            };
            let mut s = 0.0;
            while s < len {
                let within = phase % period;
                let step = if within < on {
                    on - within
                } else {
                    period - within
                };
                let end = (s + step).min(len);
                if within < on {
                    self.segment(at(s), at(end), r, true);
                }
                phase += end - s;
                s = end;
            }
        }
    }

    /// A filled disc of radius `r`.
    pub(crate) fn dot(&mut self, c: (f64, f64), r: f64) {
        self.segment(c, c, r, false);
    }

    /// The region between two curves: `cols` are `(x, y_a, y_b)` sorted by `x`, and every pixel
    /// column whose centre lies within their x range is shaded between the two interpolated ys.
    pub(crate) fn band(&mut self, cols: &[(f64, f64, f64)]) {
        let (Some(first), Some(last)) = (cols.first(), cols.last()) else {
            return;
        };
        let lo_col = (first.0 - 0.5).ceil().max(0.0) as usize;
        let hi_col = ((last.0 - 0.5).floor() + 1.0).clamp(0.0, self.w as f64) as usize;
        let mut k = 0;
        for i in lo_col..hi_col {
            let cx = i as f64 + 0.5;
            while k + 2 < cols.len() && cols[k + 1].0 < cx {
                k += 1;
            }
            let (p, q) = (cols[k], cols[(k + 1).min(cols.len() - 1)]);
            let t = if q.0 > p.0 {
                (cx - p.0) / (q.0 - p.0)
            } else {
                0.0
            };
            let ya = p.1 + t * (q.1 - p.1);
            let yb = p.2 + t * (q.2 - p.2);
            let (top, bottom) = (ya.min(yb), ya.max(yb));
            let rows =
                top.floor().max(0.0) as usize..bottom.ceil().clamp(0.0, self.h as f64) as usize;
            for j in rows {
                let share = (bottom.min(j as f64 + 1.0) - top.max(j as f64)).clamp(0.0, 1.0);
                self.add(i, j, share);
            }
        }
    }

    /// Blend `color` at `opacity` through the mask onto `area` (whose origin is the mask's
    /// top-left corner), then clear the mask.
    pub(crate) fn paint<DB: DrawingBackend>(
        &mut self,
        area: &DrawingArea<DB, Shift>,
        color: RGBColor,
        opacity: f64,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        for j in 0..self.h {
            for i in 0..self.w {
                let c = std::mem::take(&mut self.cover[j * self.w + i]);
                if c > 1.0 / 255.0 {
                    area.draw_pixel((i as i32, j as i32), &color.mix(opacity * f64::from(c)))?;
                }
            }
        }
        Ok(())
    }

    /// The points within `r` of the segment `a`-`b`: rounded ends, or cut square at the ends
    /// (`butt`, for dashes, so that the gaps keep their length).
    fn segment(&mut self, a: (f64, f64), b: (f64, f64), r: f64, butt: bool) {
        if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
            return;
        }
        let reach = r + 1.0;
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy);
        let (ux, uy) = if len > 0.0 {
            (dx / len, dy / len)
        } else {
            (1.0, 0.0)
        };
        let rows = clamp_range(a.1.min(b.1) - reach, a.1.max(b.1) + reach, self.h);
        for j in rows {
            let cy = j as f64 + 0.5;
            // Only the x range where the row comes within `reach` of the segment's line.
            let (x0, x1) = if uy.abs() > 1e-6 {
                let mid = a.0 + (cy - a.1) * ux / uy;
                let half = reach / uy.abs();
                (mid - half, mid + half)
            } else {
                (a.0.min(b.0) - reach, a.0.max(b.0) + reach)
            };
            let x0 = x0.max(a.0.min(b.0) - reach);
            let x1 = x1.min(a.0.max(b.0) + reach);
            for i in clamp_range(x0, x1, self.w) {
                let (px, py) = (i as f64 + 0.5 - a.0, cy - a.1);
                let along = px * ux + py * uy;
                let across = (px * uy - py * ux).abs();
                // How far past the nearer end (negative: between the ends).
                let beyond = (-along).max(along - len);
                let share = if butt {
                    (r + 0.5 - across).clamp(0.0, 1.0) * (0.5 - beyond).clamp(0.0, 1.0)
                } else {
                    (r + 0.5 - across.hypot(beyond.max(0.0))).clamp(0.0, 1.0)
                };
                self.add(i, j, share);
            }
        }
    }

    fn add(&mut self, i: usize, j: usize, share: f64) {
        let c = &mut self.cover[j * self.w + i];
        *c = c.max(share as f32);
    }
}

/// The pixel indices from `floor(lo)` to `ceil(hi)`, within `0..n`.
fn clamp_range(lo: f64, hi: f64, n: usize) -> std::ops::Range<usize> {
    let lo = lo.floor().clamp(0.0, n as f64) as usize;
    let hi = hi.ceil().clamp(0.0, n as f64) as usize;
    lo..hi.max(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_covered(ink: &Ink, i: usize) -> f32 {
        (0..ink.h).map(|j| ink.cover[j * ink.w + i]).sum()
    }

    #[test]
    fn a_stroke_is_as_wide_at_every_slope() {
        // The ink across a stroke, measured perpendicular to it, is its width whatever the slope.
        for slope in [0.0f64, 0.3, 1.0, 3.0] {
            let mut ink = Ink::new(200, 400);
            ink.polyline(&[(0.0, 50.0), (200.0, 50.0 + 200.0 * slope)], 2.0, None);
            let vertical = rows_covered(&ink, 50) as f64;
            let width = vertical / (1.0 + slope * slope).sqrt();
            assert!((width - 2.0).abs() < 0.15, "slope {slope}: width {width}");
        }
    }

    #[test]
    fn nothing_lands_outside_the_mask() {
        let mut ink = Ink::new(20, 10);
        ink.polyline(&[(-50.0, -50.0), (70.0, 60.0), (10.0, 1e9)], 3.0, None);
        assert_eq!(ink.cover.len(), 200);
        assert!(ink.cover.iter().any(|&c| c > 0.0));
    }

    #[test]
    fn dashes_leave_gaps_of_the_pattern() {
        let mut ink = Ink::new(100, 10);
        ink.polyline(&[(0.0, 5.0), (100.0, 5.0)], 2.0, Some((6.0, 4.0)));
        let inked: Vec<bool> = (0..100).map(|i| ink.cover[5 * 100 + i] > 0.5).collect();
        assert_eq!(inked.iter().filter(|&&b| b).count(), 60);
        assert!(inked[..6].iter().all(|&b| b) && inked[6..10].iter().all(|&b| !b));
    }

    #[test]
    fn a_band_covers_the_area_between_its_curves() {
        let mut ink = Ink::new(50, 50);
        ink.band(&[(0.0, 10.0, 20.0), (50.0, 30.0, 20.5)]);
        let area: f32 = ink.cover.iter().sum();
        // Column by column, |y_b - y_a| at the column's centre (the curves cross at x ~ 25.6).
        let exact: f64 = (0..50)
            .map(|i| {
                let x = i as f64 + 0.5;
                ((20.0 + 0.01 * x) - (10.0 + 0.4 * x)).abs()
            })
            .sum();
        assert!((f64::from(area) - exact).abs() < 1e-3, "{area} vs {exact}");
    }
}

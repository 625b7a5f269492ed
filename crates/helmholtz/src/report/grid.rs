//! Grids of small images (samples, reconstructions, filters) written as PNG.

use std::path::Path;

use image::{GrayImage, Luma};

use crate::error::{Error, Result};
use crate::io::write_atomic;

/// How tile values map to grey levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shade {
    /// Values are intensities in [0, 1] (clamped): 0 is black, 1 is white.
    Unit,
    /// Each tile is scaled so that 0 is mid-grey and its largest |value| is black or white
    /// (for weight filters, whose sign matters).
    Signed,
    /// Each tile is min-max scaled to [0, 1].
    MinMax,
}

/// Layout of a grid.
#[derive(Debug, Clone, Copy)]
pub struct GridSpec {
    /// Tile height and width in pixels (before scaling).
    pub tile: [usize; 2],
    /// Tiles per row.
    pub cols: usize,
    /// Each source pixel becomes `scale x scale` output pixels.
    pub scale: usize,
    /// Grey value of the separating lines.
    pub border: u8,
}

impl GridSpec {
    /// Square-ish grid of `n` tiles of shape `tile`, scaled 2x.
    pub fn for_count(n: usize, tile: [usize; 2]) -> Self {
        let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
        Self {
            tile,
            cols,
            scale: 2,
            border: 128,
        }
    }
}

/// Most pixels in one picture (4096 x 4096): a grid that would be larger is drawn at scale 1,
/// and if that is still too large, shows only its first tiles.
pub const MAX_PIXELS: u128 = 1 << 24;

/// Pixels of a grid of `n` tiles `tile` in `cols` columns at `scale` (1-pixel gaps).
fn grid_pixels(n: usize, cols: usize, [h, w]: [usize; 2], scale: usize) -> u128 {
    let cols = cols.clamp(1, n.max(1));
    let rows = n.div_ceil(cols) as u128;
    let (h, w, s) = (h as u128, w as u128, scale as u128);
    (cols as u128 * (w * s + 1) + 1).saturating_mul(rows * (h * s + 1) + 1)
}

/// The most tiles `tile` a square-ish grid (as [`GridSpec::for_count`]) shows within
/// [`MAX_PIXELS`] at scale 1 (0 when not even one fits).
pub fn max_tiles(tile: [usize; 2]) -> usize {
    let fits = |k: usize| grid_pixels(k, square_cols(k), tile, 1) <= MAX_PIXELS;
    // The pixels grow with the tiles, so the largest count that fits is found by bisection.
    let (mut lo, mut hi) = (0usize, 1usize << 24);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

fn square_cols(n: usize) -> usize {
    (n as f64).sqrt().ceil().max(1.0) as usize
}

/// Render `values` (`n` tiles of `tile[0] * tile[1]` values each, row-major) as a grid image;
/// within [`MAX_PIXELS`], by drawing at scale 1 and then only the first tiles that fit.
pub fn render_grid(values: &[f32], spec: GridSpec, shade: Shade) -> Result<GrayImage> {
    let [h, w] = spec.tile;
    let per = h.saturating_mul(w);
    if per == 0 || values.is_empty() || !values.len().is_multiple_of(per) {
        return Err(Error::data(
            "image grid",
            format!("{} values do not form tiles of {h}x{w}", values.len()),
        ));
    }
    let mut n = values.len() / per;
    let mut s = spec.scale.max(1);
    if grid_pixels(n, spec.cols.max(1), spec.tile, s) > MAX_PIXELS {
        s = 1;
    }
    let mut cols = spec.cols.max(1);
    if grid_pixels(n, cols, spec.tile, s) > MAX_PIXELS {
        n = max_tiles(spec.tile).min(n);
        cols = cols.min(square_cols(n));
        while n > 1 && grid_pixels(n, cols, spec.tile, s) > MAX_PIXELS {
            n -= n.div_ceil(10);
        }
        if n == 0 {
            return Err(Error::data(
                "image grid",
                format!("one {h}x{w} tile is larger than a picture may be ({MAX_PIXELS} pixels)"),
            ));
        }
    }
    let values = &values[..n * per];
    let cols = cols.min(n);
    let rows = n.div_ceil(cols);
    let gap = 1;
    let width = cols * (w * s + gap) + gap;
    let height = rows * (h * s + gap) + gap;
    let mut img = GrayImage::from_pixel(width as u32, height as u32, Luma([spec.border]));
    for (t, tile) in values.chunks_exact(per).enumerate() {
        let (ty, tx) = (t / cols, t % cols);
        let map = shade_map(tile, shade);
        for y in 0..h {
            for x in 0..w {
                let g = map(tile[y * w + x]);
                for dy in 0..s {
                    for dx in 0..s {
                        let px = gap + tx * (w * s + gap) + x * s + dx;
                        let py = gap + ty * (h * s + gap) + y * s + dy;
                        img.put_pixel(px as u32, py as u32, Luma([g]));
                    }
                }
            }
        }
    }
    Ok(img)
}

fn shade_map(tile: &[f32], shade: Shade) -> Box<dyn Fn(f32) -> u8> {
    fn to_u8(v: f32) -> u8 {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }
    match shade {
        Shade::Unit => Box::new(to_u8),
        Shade::Signed => {
            let m = tile.iter().fold(0f32, |a, v| a.max(v.abs())).max(1e-12);
            Box::new(move |v| to_u8(0.5 + 0.5 * v / m))
        }
        Shade::MinMax => {
            let (lo, hi) = tile
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                    (l.min(v), h.max(v))
                });
            let span = (hi - lo).max(1e-12);
            Box::new(move |v| to_u8((v - lo) / span))
        }
    }
}

/// Encode an image as PNG bytes.
pub fn png_bytes(img: &GrayImage) -> Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("PNG encoding: {e}")))?;
    Ok(out.into_inner())
}

/// Render and write a grid PNG atomically.
pub fn save_grid(path: &Path, values: &[f32], spec: GridSpec, shade: Shade) -> Result<()> {
    let img = render_grid(values, spec, shade)?;
    write_atomic(path, &png_bytes(&img)?)
}

/// Write `n` examples (row-major `[n, d]` `values`): as a `.npy` array of shape `[n, d]` when
/// `path` ends in `.npy` (for numpy), otherwise as a PNG grid laid out by `spec`.
pub fn save_examples(
    path: &Path,
    values: &[f32],
    n: usize,
    spec: GridSpec,
    shade: Shade,
) -> Result<()> {
    if is_npy(path) {
        let d = values.len() / n.max(1);
        crate::data::write_npy_f32(path, &[n, d], values)
    } else {
        save_grid(path, values, spec, shade)
    }
}

/// The picture shape of `d`-wide examples: square images when `d` is a square, else one row.
pub fn image_shape(d: usize) -> [usize; 2] {
    let side = (d as f64).sqrt().round() as usize;
    if side * side == d {
        [side, side]
    } else {
        [1, d]
    }
}

/// Whether `path` names a `.npy` file.
pub fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_places_tiles_and_shades() -> Result<()> {
        // Two 2x2 tiles: all black, all white; one column of tiles, scale 1.
        let vals = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let spec = GridSpec {
            tile: [2, 2],
            cols: 1,
            scale: 1,
            border: 7,
        };
        let img = render_grid(&vals, spec, Shade::Unit)?;
        assert_eq!((img.width(), img.height()), (4, 7));
        assert_eq!(img.get_pixel(0, 0).0[0], 7);
        assert_eq!(img.get_pixel(1, 1).0[0], 0);
        assert_eq!(img.get_pixel(1, 4).0[0], 255);
        let signed = render_grid(
            &[-2.0, 0.0, 1.0, 2.0],
            GridSpec { cols: 1, ..spec },
            Shade::Signed,
        )?;
        assert_eq!(signed.get_pixel(1, 1).0[0], 0);
        assert_eq!(signed.get_pixel(2, 1).0[0], 128);
        assert_eq!(signed.get_pixel(2, 2).0[0], 255);
        Ok(())
    }

    #[test]
    fn large_grids_are_capped() -> Result<()> {
        // 10,000 tiles of 64 x 64 at scale 2 would be 1.7e8 pixels: drawn at scale 1, and only
        // the first that fit.
        let k = max_tiles([64, 64]);
        assert!(k > 1000 && k < 10_000, "{k}");
        let vals = vec![0.5; 10_000 * 64 * 64];
        let img = render_grid(&vals, GridSpec::for_count(10_000, [64, 64]), Shade::Unit)?;
        assert!(u128::from(img.width()) * u128::from(img.height()) <= MAX_PIXELS);
        assert_eq!(max_tiles([1, 1 << 30]), 0);
        Ok(())
    }
}

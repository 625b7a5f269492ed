//! Pictures of a GAN: the fixed-noise sample grid of every epoch and the paper's Figure 2
//! check (samples beside their nearest training images).

use std::path::Path;

use burn::prelude::*;

use super::model::Gan;
use crate::error::Result;
use crate::eval::parzen::squared_distances;
use crate::io::RunDir;
use crate::kernels::ops;
use crate::report::{GridSpec, Shade, image_shape, save_grid};

/// Tiles of the fixed-noise grid.
pub const FIXED_TILES: usize = 100;
/// Sample / neighbour pairs in the nearest-neighbour figure.
pub const NEIGHBOUR_PAIRS: usize = 30;

/// Write `G(z)` for the fixed noise `z` as `fixed-noise-<epoch>.png` and `fixed-noise.png`.
pub fn write_fixed_noise(gan: &Gan, z: &Tensor<2>, run: &RunDir, epoch: usize) -> Result<()> {
    let n = z.dims()[0];
    let values = ops::to_f32_vec(gan.generate(z.clone()));
    let spec = GridSpec::for_count(n, image_shape(gan.config().input));
    save_grid(
        &run.file(&format!("fixed-noise-{epoch:03}.png")),
        &values,
        spec,
        Shade::Unit,
    )?;
    save_grid(&run.file("fixed-noise.png"), &values, spec, Shade::Unit)?;
    run.add_figure(
        "fixed-noise.png",
        &format!(
            "G(z) for the same {n} noise vectors z after every epoch (this one: epoch {epoch}; \
             each epoch's grid is kept as fixed-noise-NNN.png)"
        ),
    )
}

/// Index of the nearest row of `train` (`[m, d]`) to each row of `samples` (`[n, d]`).
pub fn nearest_rows(samples: &[f32], train: &[f32], d: usize) -> Vec<usize> {
    let n = samples.len() / d.max(1);
    let m = train.len() / d.max(1);
    let dist = squared_distances(samples, train, d);
    (0..n)
        .map(|i| {
            let row = &dist[i * m..(i + 1) * m];
            row.iter()
                .enumerate()
                .fold(
                    (0, f32::INFINITY),
                    |best, (j, &v)| if v < best.1 { (j, v) } else { best },
                )
                .0
        })
        .collect()
}

/// Figure 2 of the paper: each sample (odd columns) beside its nearest training image (even
/// columns), showing that the model does not memorise; written to `file`.
pub fn write_nearest(samples: &[f32], train: &[f32], d: usize, file: &Path) -> Result<()> {
    let n = (samples.len() / d).min(NEIGHBOUR_PAIRS);
    let samples = &samples[..n * d];
    let nearest = nearest_rows(samples, train, d);
    let mut values = Vec::with_capacity(2 * n * d);
    for (i, &j) in nearest.iter().enumerate() {
        values.extend_from_slice(&samples[i * d..(i + 1) * d]);
        values.extend_from_slice(&train[j * d..(j + 1) * d]);
    }
    let spec = GridSpec {
        cols: 10,
        ..GridSpec::for_count(2 * n, image_shape(d))
    };
    save_grid(file, &values, spec, Shade::Unit)
}

/// Caption of [`write_nearest`]'s picture.
pub const NEAREST_CAPTION: &str = "samples G(z) (columns 1, 3, 5, ...) each beside its nearest \
    training image in Euclidean distance (the column to its right), as the paper's Figure 2";

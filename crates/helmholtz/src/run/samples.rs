//! `<family> sample` and `<family> eval` on a run: the requests, the summary and the picture,
//! written once.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::driver::register_picture;
use crate::data::{DataConfig, DataSource};
use crate::error::{Error, Result};
use crate::io::RunDir;
use crate::kernels::runtime::DeviceKind;
use crate::report::{GridSpec, Shade, image_shape, is_npy, max_tiles, save_examples};

/// What `<family> sample` runs.
#[derive(Debug, Clone)]
pub struct SampleRequest {
    /// Samples (tiles in the picture).
    pub n: usize,
    /// Seed of the draws.
    pub seed: u64,
    /// Device to sample on.
    pub device: DeviceKind,
    /// Where to write the samples [default: a picture in the run directory].
    pub out: Option<PathBuf>,
}

impl SampleRequest {
    /// Write the `n` drawn `values` (`[n, width]`) as [`save_samples`] does, by default to
    /// `RUN/samples-<n>.png`, captioned `"<what> for <n> draws <of>, seed <seed>"`.
    pub fn save(
        &self,
        run: &RunDir,
        values: &[f32],
        width: usize,
        shade: Shade,
        [what, of]: [&str; 2],
    ) -> Result<SampleSummary> {
        let (n, seed) = (self.n, self.seed);
        let caption = format!("{what} for {n} draws {of}, seed {seed}");
        let name = format!("samples-{n}.png");
        let file = save_samples(
            run,
            self.out.as_deref(),
            &name,
            values,
            n,
            width,
            shade,
            &caption,
        )?;
        Ok(SampleSummary { file, n })
    }
}

/// Bytes per sample value while drawing: the value and the network's activations behind it.
pub const SAMPLE_BYTES: usize = 16;

/// Refuse `n` samples `width` values wide (the parameter `name`) that do not fit the memory
/// budget, or, unless `out` is a `.npy` file, one picture.
pub fn check_samples(name: &'static str, n: usize, width: usize, out: Option<&Path>) -> Result<()> {
    crate::budget::check(name, crate::budget::bytes(&[n, width, SAMPLE_BYTES]))?;
    if out.is_some_and(is_npy) {
        return Ok(());
    }
    let tile = image_shape(width);
    let most = max_tiles(tile);
    if n > most {
        return Err(Error::param(
            name,
            format!(
                "{n} samples do not fit in one picture (at most {most} of {}x{}); to keep them all, set `out` to `samples.npy`",
                tile[0], tile[1]
            ),
        ));
    }
    Ok(())
}

impl SampleRequest {
    /// [`check_samples`] of this request's `n` samples `width` values wide.
    pub fn check(&self, width: usize) -> Result<()> {
        check_samples("n", self.n, width, self.out.as_deref())
    }
}

/// What a later evaluation of a run may change: another source of data of the same width
/// (read with the run's own data settings), the seed, the device.
#[derive(Debug, Clone, Default)]
pub struct EvalTarget {
    /// Another source of the same width [default: the run's].
    pub source: Option<DataSource>,
    /// Seed of the evaluation's random choices [default: the run's seed].
    pub seed: Option<u64>,
    /// Device to evaluate on.
    pub device: DeviceKind,
}

impl EvalTarget {
    /// The requested seed, or the run's.
    pub fn seed_or(&self, run_seed: u64) -> u64 {
        self.seed.unwrap_or(run_seed)
    }

    /// Check that the evaluation's data (`data`, `got` values wide) fit a model `width` wide
    /// trained in `run`.
    pub fn check_width(data: &DataConfig, got: usize, width: usize, run: &RunDir) -> Result<()> {
        crate::data::check_width(
            &format!("data `{}`", data.source),
            got,
            &format!("the model in {}", run.path().display()),
            width,
        )
    }

    /// The run's `data` settings, reading the requested source if there is one.
    pub fn data_or(&self, data: &DataConfig) -> DataConfig {
        DataConfig {
            source: self.source.clone().unwrap_or_else(|| data.source.clone()),
            ..data.clone()
        }
    }
}

/// What `<family> sample` reports.
#[derive(Debug, Clone, Serialize)]
pub struct SampleSummary {
    /// The file written (PNG grid or `.npy` array).
    pub file: PathBuf,
    /// Samples drawn.
    pub n: usize,
}

/// Write `n` samples `values` (`[n, width]`) to `out`, by default `RUN/<default_name>`: a grid
/// picture (an image when `width` is a square, shaded by `shade`) or, for a `.npy` path, the
/// array. A picture inside the run is added to its figures with `caption`.
#[allow(clippy::too_many_arguments)]
pub fn save_samples(
    run: &RunDir,
    out: Option<&Path>,
    default_name: &str,
    values: &[f32],
    n: usize,
    width: usize,
    shade: Shade,
    caption: &str,
) -> Result<PathBuf> {
    let file = run.output(out, default_name)?;
    let grid = GridSpec::for_count(n, image_shape(width));
    save_examples(&file, values, n, grid, shade)?;
    register_picture(run, &file, caption)?;
    Ok(file)
}

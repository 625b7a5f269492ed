//! Pictures and reports: PNG image grids, line charts, scatter plots, histograms, bar charts and
//! the self-contained HTML run report.

mod axes;
mod grid;
mod histogram;
mod html;
mod ink;
mod legend;
mod plot;
mod scatter;

pub use grid::{
    GridSpec, MAX_PIXELS, Shade, image_shape, is_npy, max_tiles, png_bytes, render_grid,
    save_examples, save_grid,
};
pub use histogram::{Bars, Histogram, save_bars, save_histogram};
pub use html::{base64, escape, write_run_report};
pub use plot::{Band, Chart, Series, render, save_chart, save_panels};
pub use scatter::{Scatter, TAB10, save_scatter};

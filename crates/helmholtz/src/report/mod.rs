//! Pictures and reports: PNG image grids, line charts and the self-contained HTML run report.

mod grid;
mod html;
mod plot;

pub use grid::{GridSpec, Shade, png_bytes, render_grid, save_grid};
pub use html::{base64, escape, write_run_report};
pub use plot::{Chart, Series, render, save_chart, save_panels};

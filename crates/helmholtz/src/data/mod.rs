//! Data: IDX, CSV and NPY readers, the embedded digits, preprocessing and seeded batching.
//!
//! ```
//! use helmholtz::data::{DataSource, TableOptions};
//! # fn main() -> helmholtz::Result<()> {
//! let split = DataSource::Digits.load(&TableOptions::default(), 0)?;
//! assert_eq!((split.train.len(), split.test.len(), split.train.dim()), (8000, 2000, 784));
//! assert_eq!(split.train.image_shape(), Some([28, 28]));
//! # Ok(())
//! # }
//! ```

mod batch;
mod dataset;
pub mod idx;
pub mod npy;
mod source;
pub mod table;

pub use batch::{BatchOrder, epoch_permutation};
pub use dataset::{
    Binarize, DataSplit, Dataset, PreparedSplit, check_finite, check_width, data_units,
};
pub use idx::{IdxArray, read_idx, write_idx};
pub use npy::{NpyArray, read_npy, read_npy_f64, unsupported_dtype, write_npy_f32, write_npy_f64};
pub use source::{DataConfig, DataSource, FASHION_MNIST_DIR, TableOptions, load_idx_dir};
pub use table::{Table, read_csv};

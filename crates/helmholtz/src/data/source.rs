//! Where data come from: the embedded digits, Debian's Fashion-MNIST, or a path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::dataset::{DataSplit, Dataset};
use super::idx::{IdxArray, parse_idx, read_idx};
use super::npy::read_npy;
use super::table::read_csv;
use crate::error::{Error, Result, quoted};

/// The embedded digits: 8,000 training and 2,000 test MNIST digits (IDX, gzipped).
mod embedded {
    pub const TRAIN_IMAGES: &[u8] =
        include_bytes!("../../../../data/digits10k/train-images-idx3-ubyte.gz");
    pub const TRAIN_LABELS: &[u8] =
        include_bytes!("../../../../data/digits10k/train-labels-idx1-ubyte.gz");
    pub const TEST_IMAGES: &[u8] =
        include_bytes!("../../../../data/digits10k/t10k-images-idx3-ubyte.gz");
    pub const TEST_LABELS: &[u8] =
        include_bytes!("../../../../data/digits10k/t10k-labels-idx1-ubyte.gz");
}

/// Debian's `dataset-fashion-mnist` installs here.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// A data source as named on the command line (`--data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// The embedded 10,000 MNIST digits.
    Digits,
    /// Fashion-MNIST from `$HELMHOLTZ_DATA/fashion-mnist`, `$HELMHOLTZ_DATA` or Debian's folder.
    FashionMnist,
    /// A folder of IDX files, or a `.csv` / `.npy` file.
    Path(PathBuf),
}

impl std::str::FromStr for DataSource {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "digits" => DataSource::Digits,
            "fashion-mnist" | "fashion" => DataSource::FashionMnist,
            "" => return Err(Error::param("data", "must name a data set or a path")),
            path => DataSource::Path(PathBuf::from(path)),
        })
    }
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSource::Digits => write!(f, "digits"),
            DataSource::FashionMnist => write!(f, "fashion-mnist"),
            DataSource::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// How a single table (CSV/NPY) is split and which column is the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableOptions {
    /// Target column of a CSV file (kept out of the features).
    pub target: Option<String>,
    /// Fraction of rows held out as the test set.
    pub test_fraction: f64,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            target: None,
            test_fraction: 0.2,
        }
    }
}

impl DataSource {
    /// Load the train/test split. Intensities of byte images are scaled to [0, 1]; a single
    /// table is split with `split_seed`.
    pub fn load(&self, table: &TableOptions, split_seed: u64) -> Result<DataSplit> {
        match self {
            DataSource::Digits => load_embedded(),
            DataSource::FashionMnist => load_idx_dir(&fashion_mnist_dir()?, "fashion-mnist"),
            DataSource::Path(p) if p.is_dir() => load_idx_dir(p, &p.display().to_string()),
            DataSource::Path(p) => load_table(p, table, split_seed),
        }
    }
}

fn fashion_mnist_dir() -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(root) = std::env::var_os("HELMHOLTZ_DATA") {
        let root = PathBuf::from(root);
        candidates.push(root.join("fashion-mnist"));
        candidates.push(root);
    }
    candidates.push(PathBuf::from(FASHION_MNIST_DIR));
    first_idx_dir(&candidates)
}

/// The first folder in `candidates` holding Fashion-MNIST's training images.
fn first_idx_dir(candidates: &[PathBuf]) -> Result<PathBuf> {
    candidates
        .iter()
        .find(|c| find_idx(c, "train-images-idx3-ubyte").is_some())
        .cloned()
        .ok_or_else(|| Error::DataMissing {
            name: "fashion-mnist".into(),
            looked_in: candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", "),
            hint: "install it with `sudo apt-get install dataset-fashion-mnist`, or point $HELMHOLTZ_DATA at a \
                   folder holding the four Fashion-MNIST IDX files"
                .into(),
        })
}

/// `dir/name` or `dir/name.gz`, whichever exists.
fn find_idx(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

fn load_embedded() -> Result<DataSplit> {
    let p = |n: &str| PathBuf::from(format!("<embedded digits>/{n}"));
    let train = images_with_labels(
        parse_idx(embedded::TRAIN_IMAGES.to_vec(), 3, &p("train-images"))?,
        parse_idx(embedded::TRAIN_LABELS.to_vec(), 1, &p("train-labels"))?,
        "digits (train)",
        (&p("train-images"), &p("train-labels")),
    )?;
    let test = images_with_labels(
        parse_idx(embedded::TEST_IMAGES.to_vec(), 3, &p("t10k-images"))?,
        parse_idx(embedded::TEST_LABELS.to_vec(), 1, &p("t10k-labels"))?,
        "digits (test)",
        (&p("t10k-images"), &p("t10k-labels")),
    )?;
    Ok(DataSplit { train, test })
}

/// Load `train-*` and `t10k-*` IDX files (raw or gzipped) from a folder.
pub fn load_idx_dir(dir: &Path, name: &str) -> Result<DataSplit> {
    let half = |prefix: &str, label: &str| -> Result<Dataset> {
        let img = find_idx(dir, &format!("{prefix}-images-idx3-ubyte")).ok_or_else(|| {
            Error::bad_file(
                dir,
                format!("no {prefix}-images-idx3-ubyte[.gz] in this folder"),
            )
        })?;
        let lab = find_idx(dir, &format!("{prefix}-labels-idx1-ubyte"));
        let images = read_idx(&img, 3)?;
        match lab {
            Some(lab) => images_with_labels(
                images,
                read_idx(&lab, 1)?,
                &format!("{name} ({label})"),
                (&img, &lab),
            ),
            None => images_only(images, &format!("{name} ({label})")),
        }
    };
    Ok(DataSplit {
        train: half("train", "train")?,
        test: half("t10k", "test")?,
    })
}

fn images_only(images: IdxArray, name: &str) -> Result<Dataset> {
    let (rows, cols) = (images.dims[1], images.dims[2]);
    let features = images.data.iter().map(|&b| b as f32 / 255.0).collect();
    Dataset::new(name, features, rows * cols, None)?.with_image_shape(rows, cols)
}

fn images_with_labels(
    images: IdxArray,
    labels: IdxArray,
    name: &str,
    paths: (&Path, &Path),
) -> Result<Dataset> {
    if images.len() != labels.len() {
        return Err(Error::bad_file(
            paths.1,
            format!(
                "holds {} labels but {} holds {} images",
                labels.len(),
                paths.0.display(),
                images.len()
            ),
        ));
    }
    let labels: Vec<u32> = labels.data.iter().map(|&b| u32::from(b)).collect();
    check_classes(&labels).map_err(|reason| Error::bad_file(paths.1, reason))?;
    let ds = images_only(images, name)?;
    let shape = ds.image_shape();
    let ds = Dataset::new(name, ds.features().to_vec(), ds.dim(), Some(labels))?;
    match shape {
        Some([r, c]) => ds.with_image_shape(r, c),
        None => Ok(ds),
    }
}

/// Labels number classes `0..K`: `K` is 10 (the digit and Fashion-MNIST classes) or, where
/// more distinct labels occur, their number. A label beyond (a 255 in a damaged label file)
/// would otherwise become a class of its own, silently.
fn check_classes(labels: &[u32]) -> std::result::Result<(), String> {
    let distinct = labels
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let classes = distinct.max(10);
    match labels.iter().position(|&l| l as usize >= classes) {
        Some(k) => Err(format!(
            "item {k} has label {}; labels number the classes 0 to {} ({distinct} distinct labels here)",
            labels[k],
            classes - 1
        )),
        None => Ok(()),
    }
}

/// The target column of a table as class labels: whole numbers from 0 (see [`check_classes`]).
fn table_labels(path: &Path, name: &str, values: &[f64]) -> Result<Vec<u32>> {
    let mut labels = Vec::with_capacity(values.len());
    for (k, &v) in values.iter().enumerate() {
        if !(v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX)) {
            return Err(Error::bad_file(
                path,
                format!(
                    "data row {}: target {} = {v} is not a class label (a whole number from 0)",
                    k + 1,
                    quoted(name)
                ),
            ));
        }
        labels.push(v as u32);
    }
    check_classes(&labels)
        .map_err(|reason| Error::bad_file(path, format!("target {}: {reason}", quoted(name))))?;
    Ok(labels)
}

fn load_table(path: &Path, opts: &TableOptions, split_seed: u64) -> Result<DataSplit> {
    use rand::SeedableRng;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let name = path.display().to_string();
    let all = match ext.as_str() {
        "csv" => {
            // The operating system's own words for a missing file ("No such file ...").
            std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
            let t = read_csv(path, opts.target.as_deref())?;
            let labels = match (&t.target, &t.target_name) {
                (Some(y), Some(name)) => Some(table_labels(path, name, y)?),
                _ => None,
            };
            let dim = t.columns.len();
            if dim == 0 {
                return Err(Error::bad_file(
                    path,
                    "CSV file has no feature columns besides the target",
                ));
            }
            Dataset::new(&name, t.features, dim, labels).map_err(|e| rename_data_error(e, path))?
        }
        "npy" => {
            let a = read_npy(path)?;
            let scale = if a.from_u8 { 1.0 / 255.0 } else { 1.0 };
            let data: Vec<f32> = a.data.iter().map(|v| v * scale).collect();
            match a.shape.as_slice() {
                [_] => Dataset::new(&name, data, 1, None),
                [_, d] => Dataset::new(&name, data, *d, None),
                [_, r, c] => {
                    Dataset::new(&name, data, r * c, None).and_then(|d| d.with_image_shape(*r, *c))
                }
                _ => unreachable_rank(path),
            }
            .map_err(|e| rename_data_error(e, path))?
        }
        _ if !path.exists() => {
            std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
            return Err(Error::io(path, std::io::ErrorKind::NotFound.into()));
        }
        _ => {
            return Err(Error::bad_file(
                path,
                "expected a folder of IDX files, a .csv file or a .npy file",
            ));
        }
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(split_seed);
    DataSplit::holdout(all, opts.test_fraction, &mut rng)
}

fn unreachable_rank(path: &Path) -> Result<Dataset> {
    Err(Error::bad_file(
        path,
        "arrays must have 1, 2 or 3 dimensions",
    ))
}

/// Data errors in a file are reported against the file.
fn rename_data_error(e: Error, path: &Path) -> Error {
    match e {
        Error::BadData { reason, .. } => Error::bad_file(path, reason),
        other => other,
    }
}

/// Everything needed to reload a run's data: where from, how tables are split, how to binarise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataConfig {
    /// The source as given with `--data`.
    pub source: DataSource,
    /// Binarisation applied after loading (intensities in [0, 1] only).
    pub binarize: super::Binarize,
    /// Target column and test fraction for single-table sources.
    pub table: TableOptions,
    /// Train on the first `n` training examples only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_examples: Option<usize>,
}

impl DataConfig {
    /// The embedded digits (8,000 train / 2,000 test), binarised at 0.5.
    pub fn digits() -> Self {
        Self {
            source: DataSource::Digits,
            binarize: super::Binarize::Threshold,
            table: TableOptions::default(),
            train_examples: None,
        }
    }

    /// Load the split, binarise it and keep the first `train_examples` training examples; random choices (table split, stochastic binarisation)
    /// are seeded from `seed`, so a run reloads exactly the data it was trained on.
    pub fn load(&self, seed: u64) -> Result<DataSplit> {
        let mut split = self
            .source
            .load(&self.table, crate::rng::derive_seed(seed, &[0x5350_4c49]))?;
        if self.binarize != super::Binarize::None {
            split.train.require_unit_interval(
                "binarisation needs (scale the data, or set `binarize` to `none`)",
            )?;
            split.test.require_unit_interval(
                "binarisation needs (scale the data, or set `binarize` to `none`)",
            )?;
        }
        split.binarize(
            self.binarize,
            &mut crate::rng::rng_for(seed, &[0x4249_4e41]),
        );
        if let Some(n) = self.train_examples {
            crate::error::check::positive_count("train-examples", n)?;
            split.train = split.train.head(n);
        }
        split.dim()?;
        Ok(split)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fashion_mnist_says_how_to_install() {
        let err = first_idx_dir(&[PathBuf::from("/no/such/dir")]).expect_err("no such folder");
        let msg = err.to_string();
        assert!(
            msg.contains("/no/such/dir") && msg.contains("apt-get install dataset-fashion-mnist"),
            "{msg}"
        );
        assert!(err.is_usage());
    }
}

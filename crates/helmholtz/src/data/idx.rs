//! MNIST-format IDX files (LeCun's format), raw or gzipped.
//!
//! Layout: two zero bytes, a type byte (`0x08` = unsigned byte, the only type MNIST-style
//! sets use), the number of dimensions `r`, then `r` big-endian `u32` sizes, then the data
//! in row-major order. Images are `idx3` (`[n, rows, cols]`), labels `idx1` (`[n]`).
//!
//! Every check names the file: truncation, a wrong magic number, an unsupported type, a
//! dimension count other than the one asked for, trailing bytes, and an empty array.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, IoContext, Result};

/// Type byte of unsigned-byte IDX data.
const IDX_UBYTE: u8 = 0x08;

/// An unsigned-byte IDX array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Sizes of each dimension, outermost first.
    pub dims: Vec<usize>,
    /// The values in row-major order.
    pub data: Vec<u8>,
}

impl IdxArray {
    /// Number of items along the first dimension.
    pub fn len(&self) -> usize {
        self.dims.first().copied().unwrap_or(0)
    }

    /// True when the first dimension is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Decompress `bytes` if they start with the gzip magic number; otherwise return them as is.
pub(crate) fn maybe_gunzip(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| {
                Error::bad_file(path, format!("corrupt or truncated gzip stream ({e})"))
            })?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Read an IDX file (raw or `.gz`) that must have `expected_rank` dimensions.
pub fn read_idx(path: impl AsRef<Path>, expected_rank: usize) -> Result<IdxArray> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).at(path)?;
    parse_idx(bytes, expected_rank, path)
}

/// Parse IDX bytes (possibly gzipped); `path` is only used in error messages.
pub fn parse_idx(bytes: Vec<u8>, expected_rank: usize, path: &Path) -> Result<IdxArray> {
    let bytes = maybe_gunzip(bytes, path)?;
    if bytes.len() < 4 {
        return Err(Error::bad_file(
            path,
            format!(
                "truncated IDX file: {} bytes, the header alone needs 4",
                bytes.len()
            ),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        return Err(Error::bad_file(
            path,
            format!(
                "wrong magic number 0x{magic:08x}: not an IDX file (expected 0x0000080{expected_rank})"
            ),
        ));
    }
    if bytes[2] != IDX_UBYTE {
        return Err(Error::bad_file(
            path,
            format!(
                "IDX data type 0x{:02x} is not supported (helmholtz reads unsigned-byte IDX, type 0x08)",
                bytes[2]
            ),
        ));
    }
    let rank = bytes[3] as usize;
    if rank != expected_rank {
        return Err(Error::bad_file(
            path,
            format!(
                "expected a {expected_rank}-dimensional IDX array, the header says {rank} dimensions"
            ),
        ));
    }
    let header_len = 4 + 4 * rank;
    if bytes.len() < header_len {
        return Err(Error::bad_file(
            path,
            format!(
                "truncated IDX file: header needs {header_len} bytes, file has {}",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::bad_file(path, format!("IDX dimensions {dims:?} overflow")))?;
    if count == 0 {
        return Err(Error::bad_file(
            path,
            format!("IDX array is empty (dimensions {dims:?})"),
        ));
    }
    let have = bytes.len() - header_len;
    if have < count {
        return Err(Error::bad_file(
            path,
            format!(
                "truncated IDX file: dimensions {dims:?} need {count} data bytes, file has {have}"
            ),
        ));
    }
    if have > count {
        return Err(Error::bad_file(
            path,
            format!(
                "{} unexpected bytes after the {count} data bytes of dimensions {dims:?}",
                have - count
            ),
        ));
    }
    let mut data = bytes;
    data.drain(..header_len);
    Ok(IdxArray { dims, data })
}

/// Encode an unsigned-byte IDX array (the inverse of [`parse_idx`] before gzip).
pub fn encode_idx(array: &IdxArray) -> Result<Vec<u8>> {
    let count: usize = array.dims.iter().product();
    if count != array.data.len() {
        return Err(Error::ShapeMismatch {
            what: "IDX array data".into(),
            expected: vec![count],
            got: vec![array.data.len()],
        });
    }
    if array.dims.len() > u8::MAX as usize {
        return Err(Error::data("IDX array", "more than 255 dimensions"));
    }
    let mut out = Vec::with_capacity(4 + 4 * array.dims.len() + count);
    out.extend_from_slice(&[0, 0, IDX_UBYTE, array.dims.len() as u8]);
    for &d in &array.dims {
        let d = u32::try_from(d)
            .map_err(|_| Error::data("IDX array", format!("dimension {d} exceeds u32")))?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(&array.data);
    Ok(out)
}

/// Write an IDX file, gzipped when `path` ends in `.gz`; written to a temporary file and renamed.
pub fn write_idx(path: impl AsRef<Path>, array: &IdxArray) -> Result<()> {
    use std::io::Write;
    let path = path.as_ref();
    let raw = encode_idx(array)?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&raw).at(path)?;
        enc.finish().at(path)?
    } else {
        raw
    };
    crate::io::write_atomic(path, &bytes)
}

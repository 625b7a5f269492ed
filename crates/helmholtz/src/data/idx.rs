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

use crate::budget;
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

/// Bytes held per value of an IDX file while it becomes a data set: the byte itself and the
/// `f32` feature, copied once more when labels are attached.
const BYTES_PER_VALUE: usize = 9;

/// Read an IDX file (raw or `.gz`) that must have `expected_rank` dimensions.
///
/// The header is read from the (decompressed) stream first; the size it declares is checked
/// against the memory budget, and then at most that many bytes are read (one more tells
/// trailing data), so that a small gzip file that inflates to gigabytes is refused after
/// reading its header.
pub fn read_idx(path: impl AsRef<Path>, expected_rank: usize) -> Result<IdxArray> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).at(path)?;
    read_idx_from(std::io::BufReader::new(file), expected_rank, path)
}

/// Parse IDX bytes (possibly gzipped); `path` is only used in error messages.
pub fn parse_idx(bytes: Vec<u8>, expected_rank: usize, path: &Path) -> Result<IdxArray> {
    read_idx_from(bytes.as_slice(), expected_rank, path)
}

/// Read an IDX array from `input`, gunzipping it when it starts with the gzip magic number.
fn read_idx_from(
    mut input: impl std::io::BufRead,
    expected_rank: usize,
    path: &Path,
) -> Result<IdxArray> {
    let gzipped = input.fill_buf().at(path)?.starts_with(&[0x1f, 0x8b]);
    if gzipped {
        read_raw(flate2::bufread::GzDecoder::new(input), expected_rank, path)
    } else {
        read_raw(input, expected_rank, path)
    }
}

/// Read up to `buf.len()` bytes; fewer only at the end of the stream.
fn read_full(input: &mut impl Read, buf: &mut [u8], path: &Path) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(stream_error(path, e)),
        }
    }
    Ok(got)
}

/// A read error: a corrupt gzip stream is bad input, anything else an I/O failure.
fn stream_error(path: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            Error::bad_file(path, format!("corrupt or truncated gzip stream ({e})"))
        }
        _ => Error::io(path, e),
    }
}

fn read_raw(mut input: impl Read, expected_rank: usize, path: &Path) -> Result<IdxArray> {
    let mut magic = [0u8; 4];
    let got = read_full(&mut input, &mut magic, path)?;
    if got < 4 {
        return Err(Error::bad_file(
            path,
            format!("truncated IDX file: {got} bytes, the header alone needs 4"),
        ));
    }
    if magic[0] != 0 || magic[1] != 0 {
        let magic = u32::from_be_bytes(magic);
        return Err(Error::bad_file(
            path,
            format!(
                "wrong magic number 0x{magic:08x}: not an IDX file (expected 0x0000080{expected_rank})"
            ),
        ));
    }
    if magic[2] != IDX_UBYTE {
        return Err(Error::bad_file(
            path,
            format!(
                "IDX data type 0x{:02x} is not supported (helmholtz reads unsigned-byte IDX, type 0x08)",
                magic[2]
            ),
        ));
    }
    let rank = magic[3] as usize;
    if rank != expected_rank {
        return Err(Error::bad_file(
            path,
            format!(
                "expected a {expected_rank}-dimensional IDX array, the header says {rank} dimensions"
            ),
        ));
    }
    let mut sizes = vec![0u8; 4 * rank];
    let got = read_full(&mut input, &mut sizes, path)?;
    if got < sizes.len() {
        return Err(Error::bad_file(
            path,
            format!(
                "truncated IDX file: header needs {} bytes, file has {}",
                4 + 4 * rank,
                4 + got
            ),
        ));
    }
    let dims: Vec<usize> = sizes
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
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
    budget::check_file(
        path,
        &format!("an IDX array of dimensions {dims:?}"),
        budget::bytes(&[count, BYTES_PER_VALUE]),
    )?;
    let mut data = Vec::with_capacity(count + 1);
    input
        .take(count as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| stream_error(path, e))?;
    let have = data.len();
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
            format!("unexpected bytes after the {count} data bytes of dimensions {dims:?}"),
        ));
    }
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

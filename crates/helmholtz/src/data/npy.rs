//! NumPy `.npy` arrays: little-endian `f4`, `f8` and `u1`, 1-, 2- or 3-dimensional.
//!
//! Format (NEP 1): the magic `\x93NUMPY`, a version `(major, minor)`, a little-endian header
//! length (`u16` in version 1, `u32` in versions 2 and 3), a Python-literal dict with `descr`,
//! `fortran_order` and `shape`, then the raw data. Arrays are returned as `f32` in C order.

use std::path::Path;

use crate::budget;
use crate::error::{Error, IoContext, Result, quoted};

/// A numeric array read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// Values in C (row-major) order.
    pub data: Vec<f32>,
    /// True when the file held unsigned bytes (images), which callers scale by 1/255.
    pub from_u8: bool,
}

#[derive(Clone, Copy)]
enum Dtype {
    F32,
    F64,
    U8,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
            Dtype::U8 => 1,
        }
    }
}

/// Bytes of `f32` per byte of a `u1` array (the widest conversion).
const BYTES_PER_F32_FROM_U8: usize = 4;

/// Read a `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray> {
    let path = path.as_ref();
    // The values as `f32`: as many bytes as a float32 array, at most.
    let bytes = read_within_budget(path, BYTES_PER_F32_FROM_U8)?;
    parse_npy(&bytes, path)
}

/// The file's bytes, once the budget allows them and `per_byte` bytes of values per file
/// byte.
fn read_within_budget(path: &Path, per_byte: usize) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path).at(path)?.len();
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    budget::check_file(
        path,
        &format!("reading this {len}-byte array"),
        budget::bytes(&[len, 2 + per_byte]),
    )?;
    std::fs::read(path).at(path)
}

/// A checked `.npy` file: its shape, element type, order and data bytes.
struct Raw<'a> {
    shape: Vec<usize>,
    dtype: Dtype,
    fortran: bool,
    body: &'a [u8],
}

/// Check the magic, header and size of `.npy` bytes; `path` is used in error messages.
fn parse_raw<'a>(bytes: &'a [u8], path: &Path) -> Result<Raw<'a>> {
    let bad = |reason: String| Error::bad_file(path, reason);
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file (missing the \\x93NUMPY magic)".into()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(format!(".npy format version {v} is not supported"))),
    };
    let end = start + header_len;
    let header = bytes
        .get(start..end)
        .ok_or_else(|| bad("truncated .npy header".into()))?;
    let header = std::str::from_utf8(header).map_err(|_| bad(".npy header is not text".into()))?;
    let descr = dict_value(header, "descr")
        .ok_or_else(|| bad("`descr` missing from .npy header".into()))?;
    let dtype = match descr.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => Dtype::F32,
        "<f8" => Dtype::F64,
        "|u1" | "<u1" | "u1" => Dtype::U8,
        other => return Err(bad(unsupported_dtype(other))),
    };
    let fortran = dict_value(header, "fortran_order")
        .ok_or_else(|| bad("`fortran_order` missing from .npy header".into()))?
        .starts_with("True");
    let shape =
        parse_shape(header).ok_or_else(|| bad("cannot read `shape` in .npy header".into()))?;
    if shape.is_empty() || shape.len() > 3 {
        return Err(bad(format!(
            "array has {} dimensions; helmholtz reads 1-, 2- or 3-dimensional arrays",
            shape.len()
        )));
    }
    let Some((count, need)) = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|count| Some((count, count.checked_mul(dtype.size())?)))
    else {
        return Err(bad(format!(
            "shape {shape:?} holds more values than memory can address"
        )));
    };
    if count == 0 {
        return Err(bad(format!("array is empty (shape {shape:?})")));
    }
    let body = &bytes[end..];
    if body.len() != need {
        return Err(bad(format!(
            "shape {shape:?} needs {need} data bytes, file has {}{}",
            body.len(),
            if body.len() < need {
                " (truncated)"
            } else {
                ""
            }
        )));
    }
    Ok(Raw {
        shape,
        dtype,
        fortran,
        body,
    })
}

/// Read a `.npy` file as `f64` values without rounding through `f32` (float32 and uint8 files
/// are widened): `(shape, values in C order)`.
pub fn read_npy_f64(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<f64>)> {
    let path = path.as_ref();
    // The values as `f64`: eight bytes per value, at most eight per file byte (uint8).
    let bytes = read_within_budget(path, 8)?;
    let raw = parse_raw(&bytes, path)?;
    let mut data: Vec<f64> = match raw.dtype {
        Dtype::F32 => raw
            .body
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        Dtype::F64 => raw
            .body
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        Dtype::U8 => raw.body.iter().map(|&b| f64::from(b)).collect(),
    };
    if raw.fortran && raw.shape.len() > 1 {
        data = fortran_to_c(&data, &raw.shape);
    }
    Ok((raw.shape, data))
}

/// Parse `.npy` bytes; `path` is used in error messages.
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<NpyArray> {
    let Raw {
        shape,
        dtype,
        fortran,
        body,
    } = parse_raw(bytes, path)?;
    let mut data: Vec<f32> = match dtype {
        Dtype::F32 => body
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F64 => body
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect(),
        Dtype::U8 => body.iter().map(|&b| b as f32).collect(),
    };
    if fortran && shape.len() > 1 {
        data = fortran_to_c(&data, &shape);
    }
    Ok(NpyArray {
        shape,
        data,
        from_u8: matches!(dtype, Dtype::U8),
    })
}

/// Write an `f32` array as `.npy` (version 1, C order); temporary file + rename.
pub fn write_npy_f32(path: impl AsRef<Path>, shape: &[usize], data: &[f32]) -> Result<()> {
    write_npy(
        path.as_ref(),
        shape,
        "<f4",
        data.iter().flat_map(|v| v.to_le_bytes()),
    )
}

/// Write an `f64` array as `.npy` (version 1, C order); temporary file + rename.
pub fn write_npy_f64(path: impl AsRef<Path>, shape: &[usize], data: &[f64]) -> Result<()> {
    write_npy(
        path.as_ref(),
        shape,
        "<f8",
        data.iter().flat_map(|v| v.to_le_bytes()),
    )
}

fn write_npy(
    path: &Path,
    shape: &[usize],
    descr: &str,
    bytes: impl Iterator<Item = u8>,
) -> Result<()> {
    let shape_txt = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Pad so that the data starts on a 64-byte boundary, ending the header with '\n'.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(bytes);
    crate::io::write_atomic(path, &out)
}

/// The text after `'key':` up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat_single = format!("'{key}':");
    let pat_double = format!("\"{key}\":");
    let at = header
        .find(&pat_single)
        .map(|i| i + pat_single.len())
        .or_else(|| header.find(&pat_double).map(|i| i + pat_double.len()))?;
    let rest = header[at..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

fn parse_shape(header: &str) -> Option<Vec<usize>> {
    let at = header
        .find("'shape':")
        .or_else(|| header.find("\"shape\":"))?;
    let rest = &header[at..];
    let open = rest.find('(')?;
    let close = rest[open..].find(')')? + open;
    rest[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>().ok())
        .collect()
}

/// Reorder column-major data into row-major order.
fn fortran_to_c<T: Copy>(data: &[T], shape: &[usize]) -> Vec<T> {
    let rank = shape.len();
    let mut f_strides = vec![1usize; rank];
    for i in 1..rank {
        f_strides[i] = f_strides[i - 1] * shape[i - 1];
    }
    let mut out = Vec::with_capacity(data.len());
    let mut idx = vec![0usize; rank];
    for _ in 0..data.len() {
        let off: usize = idx.iter().zip(&f_strides).map(|(i, s)| i * s).sum();
        out.push(data[off]);
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// Why an array of numpy dtype `descr` (`<U1`, `<c8`, ...) cannot be read as data.
pub fn unsupported_dtype(descr: &str) -> String {
    format!(
        "dtype {} is not supported (use little-endian float32 <f4, float64 <f8 or uint8 |u1)",
        quoted(descr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_f32() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let path = dir.path().join("a.npy");
        let data: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).collect();
        write_npy_f32(&path, &[3, 4], &data)?;
        let back = read_npy(&path)?;
        assert_eq!(back.shape, vec![3, 4]);
        assert_eq!(back.data, data);
        Ok(())
    }

    #[test]
    fn fortran_order_is_transposed_back() {
        // Column-major [[0, 1, 2], [3, 4, 5]] is stored as 0 3 1 4 2 5.
        let stored = [0.0, 3.0, 1.0, 4.0, 2.0, 5.0];
        assert_eq!(
            fortran_to_c(&stored, &[2, 3]),
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
    }

    #[test]
    fn a_shape_whose_product_overflows_is_refused_not_wrapped() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let path = dir.path().join("huge.npy");
        // 2^33 x 2^33 overflows usize; 2^62 x 4 bytes overflows the byte count.
        for shape in ["(8589934592, 8589934592)", "(4611686018427387904,)"] {
            let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
            let mut padded = header.into_bytes();
            while (10 + padded.len() + 1) % 64 != 0 {
                padded.push(b' ');
            }
            padded.push(b'\n');
            let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
            bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
            bytes.extend_from_slice(&padded);
            bytes.extend_from_slice(&[0u8; 40]);
            std::fs::write(&path, &bytes).map_err(|e| Error::io(&path, e))?;
            let e = read_npy(&path).expect_err("an overflowing shape");
            assert!(
                e.to_string()
                    .contains("more values than memory can address"),
                "{e}"
            );
        }
        Ok(())
    }
}

//! Named `f32` tensors in safetensors files (readable from Python's `safetensors`).

use std::collections::BTreeMap;
use std::path::Path;

use burn::prelude::*;
use burn::tensor::TensorData;
use safetensors::tensor::Dtype;

use super::write_atomic;
use crate::error::{Error, IoContext, Result, quoted};

/// A host copy of one tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// Values in row-major order.
    pub data: Vec<f32>,
}

impl Blob {
    /// Copy a tensor to the host.
    pub fn from_tensor<const D: usize>(t: &Tensor<D>) -> Self {
        let shape = t.dims().to_vec();
        let data = crate::kernels::ops::to_f32_vec(t.clone());
        Self { shape, data }
    }

    /// Move the values onto `device` as a rank-`D` tensor, checking the shape.
    pub fn to_tensor<const D: usize>(&self, name: &str, device: &Device) -> Result<Tensor<D>> {
        if self.shape.len() != D {
            return Err(Error::ShapeMismatch {
                what: format!("checkpoint tensor `{name}` rank"),
                expected: vec![D],
                got: vec![self.shape.len()],
            });
        }
        let mut dims = [0usize; D];
        dims.copy_from_slice(&self.shape);
        Ok(Tensor::from_data(
            TensorData::new(self.data.clone(), dims),
            device,
        ))
    }
}

/// An ordered set of named tensors plus string metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TensorFile {
    /// Tensors by name.
    pub tensors: BTreeMap<String, Blob>,
    /// Free-form metadata stored in the file header.
    pub metadata: BTreeMap<String, String>,
}

impl TensorFile {
    /// Add a tensor (copied to the host).
    pub fn put<const D: usize>(&mut self, name: &str, t: &Tensor<D>) {
        self.tensors.insert(name.to_owned(), Blob::from_tensor(t));
    }

    /// Add a tensor from host values.
    pub fn put_blob(&mut self, name: &str, blob: Blob) {
        self.tensors.insert(name.to_owned(), blob);
    }

    /// Store `values` (f64) as an f32 tensor of `shape`, with the exact values in the metadata
    /// (JSON, key `<name>_f64`): what a checkpoint needs to resume bit for bit.
    pub fn put_f64(&mut self, name: &str, shape: Vec<usize>, values: &[f64]) {
        self.put_blob(
            name,
            Blob {
                shape,
                data: values.iter().map(|&x| x as f32).collect(),
            },
        );
        self.metadata.insert(
            format!("{name}_f64"),
            serde_json::to_string(values).unwrap_or_default(),
        );
    }

    /// The metadata entry `key` parsed as a `T`, if present and well-formed.
    pub fn meta<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.metadata.get(key).and_then(|v| v.parse().ok())
    }

    /// The exact values stored by [`TensorFile::put_f64`], checked to have `len` entries;
    /// `path` names the file in errors.
    pub fn get_f64(&self, name: &str, len: usize, path: &Path) -> Result<Vec<f64>> {
        let key = format!("{name}_f64");
        let text = self
            .metadata
            .get(&key)
            .ok_or_else(|| Error::bad_file(path, format!("`{key}` is missing")))?;
        let values: Vec<f64> = serde_json::from_str(text)
            .map_err(|e| Error::bad_file(path, format!("`{key}`: {e}")))?;
        if values.len() != len {
            return Err(Error::bad_file(
                path,
                format!("`{key}` has {} values, expected {len}", values.len()),
            ));
        }
        Ok(values)
    }

    /// Take the tensor `name` as a rank-`D` tensor on `device` whose shape must be `shape`.
    pub fn get<const D: usize>(
        &self,
        name: &str,
        shape: [usize; D],
        device: &Device,
        path: &Path,
    ) -> Result<Tensor<D>> {
        self.blob(name, &shape, path)?.to_tensor(name, device)
    }

    /// The tensor `name`, whose shape must be `shape` (`path` names the file in errors).
    pub fn blob(&self, name: &str, shape: &[usize], path: &Path) -> Result<&Blob> {
        let blob = self
            .tensors
            .get(name)
            .ok_or_else(|| Error::bad_file(path, format!("tensor `{name}` is missing")))?;
        if blob.shape != shape {
            return Err(Error::ShapeMismatch {
                what: format!("{}: tensor `{name}`", path.display()),
                expected: shape.to_vec(),
                got: blob.shape.clone(),
            });
        }
        Ok(blob)
    }

    /// The file's bytes in the safetensors format: an 8-byte little-endian header length, the
    /// JSON header (tensors by name, with `__metadata__`), then the tensors' data in name order.
    /// Everything is written in sorted order, so equal contents give equal bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut header = serde_json::Map::new();
        if !self.metadata.is_empty() {
            header.insert("__metadata__".into(), serde_json::json!(self.metadata));
        }
        let mut offset = 0usize;
        for (name, blob) in &self.tensors {
            let elements: usize = blob.shape.iter().product();
            if elements != blob.data.len() {
                return Err(Error::Internal(format!(
                    "tensor `{name}`: shape {:?} does not hold {} values",
                    blob.shape,
                    blob.data.len()
                )));
            }
            let end = offset + 4 * elements;
            header.insert(
                name.clone(),
                serde_json::json!({"dtype": "F32", "shape": blob.shape, "data_offsets": [offset, end]}),
            );
            offset = end;
        }
        let mut text =
            serde_json::to_string(&header).map_err(|e| Error::Internal(e.to_string()))?;
        // Pad the header with spaces so that the data start on an 8-byte boundary.
        while text.len() % 8 != 0 {
            text.push(' ');
        }
        let mut out = Vec::with_capacity(8 + text.len() + offset);
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
        for blob in self.tensors.values() {
            out.extend(blob.data.iter().flat_map(|v| v.to_le_bytes()));
        }
        Ok(out)
    }

    /// Write the file atomically (see [`TensorFile::to_bytes`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes()?)
    }

    /// Read a safetensors file with F32 tensors.
    pub fn load(path: &Path) -> Result<Self> {
        // The bytes, the tensors copied out of them, and the model built from those.
        let len = std::fs::metadata(path).at(path)?.len();
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        crate::budget::check_file(
            path,
            &format!("loading this {len}-byte file"),
            crate::budget::bytes(&[len, 3]),
        )?;
        let bytes = std::fs::read(path).at(path)?;
        Self::from_bytes(&bytes, path)
    }

    /// Read the bytes of a safetensors file with F32 tensors; `path` names them in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| Error::bad_file(path, format!("not a safetensors file ({e})")))?;
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|e| Error::bad_file(path, format!("not a safetensors file ({e})")))?;
        let mut file = TensorFile {
            metadata: header
                .metadata()
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            ..Default::default()
        };
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "tensor {} is {:?}, expected F32",
                        quoted(&name),
                        view.dtype()
                    ),
                ));
            }
            let data = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            file.tensors.insert(
                name,
                Blob {
                    shape: view.shape().to_vec(),
                    data,
                },
            );
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_names_shapes_values_and_metadata() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let path = dir.path().join("m.safetensors");
        let device = Device::flex();
        let w = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, -2.0, 3.5, 0.25, 5.0, 6.0], [2, 3]),
            &device,
        );
        let mut f = TensorFile::default();
        f.put("weight", &w);
        f.metadata.insert("family".into(), "rbm".into());
        f.save(&path)?;
        let back = TensorFile::load(&path)?;
        assert_eq!(back.metadata.get("family").map(String::as_str), Some("rbm"));
        let w2: Tensor<2> = back.get("weight", [2, 3], &device, &path)?;
        assert_eq!(Blob::from_tensor(&w2), Blob::from_tensor(&w));
        assert!(back.get::<2>("weight", [3, 2], &device, &path).is_err());
        Ok(())
    }

    #[test]
    fn equal_contents_give_equal_bytes_that_safetensors_reads() -> Result<()> {
        let make = |order: &[usize]| {
            let mut f = TensorFile::default();
            for &i in order {
                let blob = Blob {
                    shape: vec![i + 1, 2],
                    data: (0..2 * (i + 1))
                        .map(|v| v as f32 * 0.5 - i as f32)
                        .collect(),
                };
                f.put_blob(&format!("t{i}"), blob);
                f.metadata.insert(format!("key{i}"), format!("value {i}"));
            }
            f
        };
        let (a, b) = (
            make(&[0, 1, 2, 3, 4]).to_bytes()?,
            make(&[4, 2, 0, 3, 1]).to_bytes()?,
        );
        assert_eq!(a, b);
        // The header ends on an 8-byte boundary and the reference reader accepts the file.
        let header = u64::from_le_bytes(
            a[..8]
                .try_into()
                .map_err(|_| Error::Internal("len".into()))?,
        );
        assert_eq!(header % 8, 0);
        let st = safetensors::SafeTensors::deserialize(&a)
            .map_err(|e| Error::Internal(format!("safetensors rejects it: {e}")))?;
        let t3 = st
            .tensor("t3")
            .map_err(|e| Error::Internal(e.to_string()))?;
        assert_eq!(t3.shape(), &[4, 2]);
        assert_eq!(&t3.data()[4..8], &(-2.5f32).to_le_bytes());
        Ok(())
    }
}

//! Named `f32` tensors in safetensors files (readable from Python's `safetensors`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::prelude::*;
use burn::tensor::TensorData;
use safetensors::tensor::{Dtype, TensorView};

use super::write_atomic;
use crate::error::{Error, IoContext, Result};

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
        blob.to_tensor(name, device)
    }

    /// Write as safetensors (F32, little-endian), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = self
            .tensors
            .iter()
            .map(|(k, b)| {
                (
                    k.clone(),
                    b.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                    b.shape.clone(),
                )
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(k, data, shape)| {
                TensorView::new(Dtype::F32, shape.clone(), data)
                    .map(|v| (k.clone(), v))
                    .map_err(|e| Error::Internal(format!("safetensors: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let meta: HashMap<String, String> = self.metadata.clone().into_iter().collect();
        let out = safetensors::serialize(views, Some(meta))
            .map_err(|e| Error::Internal(format!("safetensors: {e}")))?;
        write_atomic(path, &out)
    }

    /// Read a safetensors file with F32 tensors.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).at(path)?;
        let st = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::bad_file(path, format!("not a safetensors file ({e})")))?;
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
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
                    format!("tensor `{name}` is {:?}, expected F32", view.dtype()),
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
}

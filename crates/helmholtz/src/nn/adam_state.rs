//! Checkpoints of burn's Adam state: per parameter `name`, the moments as
//! `adam.moment_1.<name>` and `adam.moment_2.<name>` (a parameter whose name `vector` accepts
//! is stored as `[n]` instead of `[1, n]`), and the step count in the metadata.

use std::path::Path;

use burn::optim::{AdamState, AdaptiveMomentumState};
use burn::prelude::*;

use crate::error::Result;
use crate::io::{Blob, TensorFile};

/// Put the Adam `states` of the parameters `names` into `file`, the step count under the
/// metadata key `time_key`. Parameters not yet stepped (`None`) are left out.
pub fn put_adam_states(
    file: &mut TensorFile,
    names: &[String],
    states: &[Option<AdamState<2>>],
    time_key: &str,
    vector: impl Fn(&str) -> bool,
) {
    let mut time = 0;
    for (name, state) in names.iter().zip(states) {
        if let Some(s) = state {
            let m = &s.momentum;
            let stored = |t: &Tensor<2>| {
                let mut blob = Blob::from_tensor(t);
                if vector(name) {
                    blob.shape = vec![blob.data.len()];
                }
                blob
            };
            file.put_blob(&format!("adam.moment_1.{name}"), stored(&m.moment_1));
            file.put_blob(&format!("adam.moment_2.{name}"), stored(&m.moment_2));
            time = m.time;
        }
    }
    file.metadata.insert(time_key.into(), time.to_string());
}

/// The Adam states [`put_adam_states`] stored for parameters `names` of `shapes` (`None` where
/// a parameter has none yet); `path` names the file in errors.
pub fn get_adam_states(
    file: &TensorFile,
    names: &[String],
    shapes: &[[usize; 2]],
    time_key: &str,
    vector: impl Fn(&str) -> bool,
    device: &Device,
    path: &Path,
) -> Result<Vec<Option<AdamState<2>>>> {
    let time = file.meta::<usize>(time_key).unwrap_or(0);
    names
        .iter()
        .zip(shapes)
        .map(|(name, &dims)| {
            let key1 = format!("adam.moment_1.{name}");
            if !file.tensors.contains_key(&key1) {
                return Ok(None);
            }
            let load = |key: &str| -> Result<Tensor<2>> {
                if vector(name) {
                    let v: Tensor<1> = file.get(key, [dims[0] * dims[1]], device, path)?;
                    Ok(v.reshape(dims))
                } else {
                    file.get(key, dims, device, path)
                }
            };
            let m1 = load(&key1)?;
            let m2 = load(&format!("adam.moment_2.{name}"))?;
            Ok(Some(AdamState::new(AdaptiveMomentumState::new(
                time, m1, m2,
            ))))
        })
        .collect()
}

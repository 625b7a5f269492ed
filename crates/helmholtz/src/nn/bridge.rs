//! Between the two paths of the kit: burn tensors with burn's Adam states (the tensor path and
//! the checkpoint format) and host [`Dense`] layers with flat Adam moments (the host path).
//!
//! A model's parameters are a list of matrices in a fixed order; a dense layer is two
//! consecutive entries `(W [in, out], b [1, out])`. [`HostParams`] is that list on the host
//! with its Adam moments; [`HostParams::layers`] reads it as dense layers (moments flattened per
//! layer as `[W..., b...]`, the layout of [`super::dense::adam_layers`]) and
//! [`HostParams::from_layers`] is the inverse. [`HostParams::side_by_side`] joins two layers on
//! the same input into one (`[in, a + b]`), as a VAE's two Gaussian heads are run by the host.

use burn::optim::{AdamState, AdaptiveMomentumState};
use burn::prelude::*;
use burn::tensor::TensorData;

use super::dense::Dense;
use super::layers;
use super::mlp::{Activation, Mlp};
use crate::kernels::ops;

/// Adam `(m, v)` per layer, each flattened as `[W..., b...]`.
pub type Moments = Vec<(Vec<f32>, Vec<f32>)>;

/// One parameter matrix on the host with its Adam moments (zeros when never stepped).
#[derive(Debug, Clone, PartialEq)]
pub struct HostParam {
    /// `[rows, cols]`.
    pub dims: [usize; 2],
    /// Values, row-major.
    pub value: Vec<f32>,
    /// Adam's first moment.
    pub m: Vec<f32>,
    /// Adam's second moment.
    pub v: Vec<f32>,
}

/// A model's parameters on the host with the Adam step count (`0`: never stepped).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostParams {
    /// The parameters in the model's order.
    pub params: Vec<HostParam>,
    /// Adam steps taken.
    pub steps: u64,
}

/// Columns of `a` (`[rows, ca]`) then of `b` (`[rows, cb]`), row by row.
fn join_columns(a: &[f32], b: &[f32], rows: usize) -> Vec<f32> {
    let (ca, cb) = (a.len() / rows, b.len() / rows);
    let mut out = Vec::with_capacity(a.len() + b.len());
    for r in 0..rows {
        out.extend_from_slice(&a[r * ca..(r + 1) * ca]);
        out.extend_from_slice(&b[r * cb..(r + 1) * cb]);
    }
    out
}

/// The inverse of [`join_columns`] with `ca` columns on the left.
fn split_columns(x: &[f32], rows: usize, ca: usize) -> (Vec<f32>, Vec<f32>) {
    let c = x.len() / rows;
    let (mut a, mut b) = (Vec::with_capacity(rows * ca), Vec::new());
    for row in x.chunks_exact(c) {
        a.extend_from_slice(&row[..ca]);
        b.extend_from_slice(&row[ca..]);
    }
    (a, b)
}

impl HostParam {
    fn from_tensor(t: &Tensor<2>, state: Option<&AdamState<2>>) -> Self {
        let dims = t.dims();
        let zeros = || vec![0.0; dims[0] * dims[1]];
        let moment = |pick: fn(&AdamState<2>) -> &Tensor<2>| {
            state.map_or_else(zeros, |s| ops::to_f32_vec(pick(s).clone()))
        };
        Self {
            dims,
            value: ops::to_f32_vec(t.clone()),
            m: moment(|s| &s.momentum.moment_1),
            v: moment(|s| &s.momentum.moment_2),
        }
    }

    /// `a` and `b` (same rows) side by side: `[rows, ca + cb]`, moments likewise.
    fn join(a: &Self, b: &Self) -> Self {
        let rows = a.dims[0];
        Self {
            dims: [rows, a.dims[1] + b.dims[1]],
            value: join_columns(&a.value, &b.value, rows),
            m: join_columns(&a.m, &b.m, rows),
            v: join_columns(&a.v, &b.v, rows),
        }
    }

    /// The inverse of [`HostParam::join`] with `ca` columns in the first part.
    fn split(&self, ca: usize) -> (Self, Self) {
        let rows = self.dims[0];
        let (va, vb) = split_columns(&self.value, rows, ca);
        let (ma, mb) = split_columns(&self.m, rows, ca);
        let (sa, sb) = split_columns(&self.v, rows, ca);
        let part = |cols, value, m, v| Self {
            dims: [rows, cols],
            value,
            m,
            v,
        };
        (part(ca, va, ma, sa), part(self.dims[1] - ca, vb, mb, sb))
    }
}

impl HostParams {
    /// Host copies of `tensors` and of their Adam `states` (zeros where a state is missing).
    pub fn from_tensors(tensors: &[&Tensor<2>], states: &[Option<AdamState<2>>]) -> Self {
        let steps = states.iter().flatten().map(|s| s.momentum.time).next();
        Self {
            params: tensors
                .iter()
                .enumerate()
                .map(|(i, t)| HostParam::from_tensor(t, states.get(i).and_then(Option::as_ref)))
                .collect(),
            steps: steps.unwrap_or(0) as u64,
        }
    }

    /// Write the values into `tensors` and, once stepped, the moments into `states`.
    pub fn to_tensors(&self, tensors: Vec<&mut Tensor<2>>, states: &mut [Option<AdamState<2>>]) {
        for (k, (p, t)) in self.params.iter().zip(tensors).enumerate() {
            let device = t.device();
            let tensor =
                |v: &[f32]| Tensor::from_data(TensorData::new(v.to_vec(), p.dims), &device);
            *t = tensor(&p.value);
            if self.steps > 0 {
                states[k] = Some(AdamState::new(AdaptiveMomentumState::new(
                    self.steps as usize,
                    tensor(&p.m),
                    tensor(&p.v),
                )));
            }
        }
    }

    /// Join the layers `k` and `k + 1` (parameters `2k .. 2k + 4`) side by side into one.
    pub fn join_layers(&mut self, k: usize) {
        let [w1, b1, w2, b2]: [HostParam; 4] = self
            .params
            .drain(2 * k..2 * k + 4)
            .collect::<Vec<_>>()
            .try_into()
            .expect("four parameters");
        let joined = [HostParam::join(&w1, &w2), HostParam::join(&b1, &b2)];
        self.params.splice(2 * k..2 * k, joined);
    }

    /// The inverse of [`HostParams::join_layers`]: layer `k` split after `cols` outputs.
    pub fn split_layer(&mut self, k: usize, cols: usize) {
        let (w1, w2) = self.params[2 * k].split(cols);
        let (b1, b2) = self.params[2 * k + 1].split(cols);
        self.params.splice(2 * k..2 * k + 2, [w1, b1, w2, b2]);
    }

    /// The parameters read as dense layers `(W, b)` with their moments.
    pub fn layers(&self) -> (Vec<Dense>, Moments) {
        self.params
            .chunks_exact(2)
            .map(|wb| {
                let (w, b) = (&wb[0], &wb[1]);
                let layer = Dense {
                    inp: w.dims[0],
                    out: w.dims[1],
                    w: w.value.clone(),
                    b: b.value.clone(),
                };
                (
                    layer,
                    ([&w.m[..], &b.m].concat(), [&w.v[..], &b.v].concat()),
                )
            })
            .unzip()
    }

    /// The inverse of [`HostParams::layers`].
    pub fn from_layers<'a>(
        layers: impl IntoIterator<Item = &'a Dense>,
        moments: &[(Vec<f32>, Vec<f32>)],
        steps: u64,
    ) -> Self {
        let mut params = Vec::new();
        for (l, (m, v)) in layers.into_iter().zip(moments) {
            let nw = l.w.len();
            let param = |dims, value: &[f32], m: &[f32], v: &[f32]| HostParam {
                dims,
                value: value.to_vec(),
                m: m.to_vec(),
                v: v.to_vec(),
            };
            params.push(param([l.inp, l.out], &l.w, &m[..nw], &v[..nw]));
            params.push(param([1, l.out], &l.b, &m[nw..], &v[nw..]));
        }
        Self { params, steps }
    }
}

impl Mlp {
    /// The host network of burn `layers` and their Adam `states` (two per layer: `W`, `b`).
    pub fn from_tensor_layers(
        layers: &[layers::Dense],
        states: &[Option<AdamState<2>>],
        activations: Vec<Activation>,
    ) -> Self {
        let tensors: Vec<&Tensor<2>> = layers.iter().flat_map(|l| [&l.weight, &l.bias]).collect();
        let params = HostParams::from_tensors(&tensors, states);
        let (dense, moments) = params.layers();
        let mut mlp = Mlp::new(dense, activations);
        mlp.set_moments(moments, params.steps);
        mlp
    }

    /// Write the parameters into burn `layers` and, once stepped, the Adam moments into
    /// `states`: the inverse of [`Mlp::from_tensor_layers`].
    pub fn to_tensor_layers(
        &self,
        layers: &mut [layers::Dense],
        states: &mut [Option<AdamState<2>>],
    ) {
        let tensors = layers
            .iter_mut()
            .flat_map(|l| [&mut l.weight, &mut l.bias])
            .collect();
        HostParams::from_layers(&self.layers, self.moments(), self.steps)
            .to_tensors(tensors, states);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(values: Vec<f32>, dims: [usize; 2]) -> Tensor<2> {
        Tensor::from_data(TensorData::new(values, dims), &Device::default())
    }

    #[test]
    fn tensors_and_states_survive_the_round_trip_through_joined_layers() {
        let count = |n: usize, from: f32| (0..n).map(|i| from + i as f32).collect::<Vec<_>>();
        let dims = [[3, 2], [1, 2], [3, 4], [1, 4]];
        let mut tensors: Vec<Tensor<2>> = dims
            .iter()
            .enumerate()
            .map(|(k, d)| tensor(count(d[0] * d[1], 100.0 * k as f32), *d))
            .collect();
        let states: Vec<Option<AdamState<2>>> = dims
            .iter()
            .map(|d| {
                let n = d[0] * d[1];
                Some(AdamState::new(AdaptiveMomentumState::new(
                    7,
                    tensor(count(n, 0.5), *d),
                    tensor(count(n, 0.25), *d),
                )))
            })
            .collect();
        let refs: Vec<&Tensor<2>> = tensors.iter().collect();
        let mut host = HostParams::from_tensors(&refs, &states);
        host.join_layers(0);
        let (layers, moments) = host.layers();
        assert_eq!((layers.len(), layers[0].inp, layers[0].out), (1, 3, 6));
        // Row 1 of the joined weight: row 1 of the first (2 values) then of the second (4).
        assert_eq!(&layers[0].w[6..12], &[2.0, 3.0, 204.0, 205.0, 206.0, 207.0]);
        assert_eq!(&layers[0].b, &[100.0, 101.0, 300.0, 301.0, 302.0, 303.0]);
        let mut back = HostParams::from_layers(&layers, &moments, host.steps);
        back.split_layer(0, 2);
        let mut restored = vec![None; 4];
        let originals: Vec<Vec<f32>> = tensors.iter().map(|t| ops::to_f32_vec(t.clone())).collect();
        back.to_tensors(tensors.iter_mut().collect(), &mut restored);
        for (k, t) in tensors.iter().enumerate() {
            assert_eq!(t.dims(), dims[k]);
            assert_eq!(ops::to_f32_vec(t.clone()), originals[k]);
            let (a, b) = (
                &restored[k].as_ref().expect("a restored state").momentum,
                &states[k].as_ref().expect("a state").momentum,
            );
            assert_eq!(a.time, 7);
            assert_eq!(
                ops::to_f32_vec(a.moment_1.clone()),
                ops::to_f32_vec(b.moment_1.clone())
            );
            assert_eq!(
                ops::to_f32_vec(a.moment_2.clone()),
                ops::to_f32_vec(b.moment_2.clone())
            );
        }
    }
}

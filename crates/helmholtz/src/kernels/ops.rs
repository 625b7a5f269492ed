//! Tensor-level fused operations: host kernels on flex tensors, burn expressions elsewhere.
//!
//! Each function computes the same mathematical result on every device; only the source of
//! random numbers differs (our counter-based streams on the CPU, burn's seeded generator on a
//! GPU). `rng` is advanced identically on every path.
//!
//! # Shapes
//! `x`: `[rows, cols]` pre-activations; `shift`: `[cols]`; row results: `rows` values.

use burn::backend::{DispatchDevice, Flex};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softplus};
use burn::tensor::{DType, Distribution, TensorData};
use rand::Rng;

use super::gemm::{MatRef, gemm_into, matmul as host_matmul};
use super::rows;

/// True when `device` is the flex CPU backend (without autodiff), whose buffers we can borrow.
pub fn is_host(device: &Device) -> bool {
    matches!(device.as_dispatch(), DispatchDevice::Flex(_))
}

/// The values of any tensor as `f32` on the host (zero-copy for a uniquely owned flex tensor).
pub fn to_f32_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    let data = t.into_data();
    let data = if data.dtype() == DType::F32 {
        data
    } else {
        data.convert::<f32>()
    };
    data.try_into_vec::<f32>().unwrap_or_default()
}

/// The values of any tensor as `f64` on the host.
pub fn to_f64_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .unwrap_or_default()
}

/// Contiguous `f32` values of a host tensor and its shape.
pub(crate) fn take_host<const D: usize>(t: Tensor<D>) -> (Vec<f32>, [usize; D]) {
    let dims = t.dims();
    (to_f32_vec(t), dims)
}

/// A tensor on `device` from host values (zero-copy on the CPU).
pub(crate) fn from_host<const D: usize>(
    values: Vec<f32>,
    dims: [usize; D],
    device: &Device,
) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, dims), device)
}

/// Run `f` on the contiguous `f32` buffer of a CPU tensor without copying it; `None` when the
/// tensor is not a contiguous flex `f32` tensor.
pub(crate) fn with_host_slice<const D: usize, R>(
    t: &Tensor<D>,
    f: impl FnOnce(&[f32]) -> R,
) -> Option<R> {
    if !is_host(&t.device()) {
        return None;
    }
    let flex = t.clone().try_into_primitive::<Flex>().ok()?;
    if flex.dtype() != DType::F32 {
        return None;
    }
    flex.as_slice::<f32>().map(f)
}

/// The values of a small vector (biases), copied to the host.
pub fn to_vec(t: &Tensor<1>) -> Vec<f32> {
    to_f32_vec(t.clone())
}

/// `a @ b` for 2-D tensors (transposed views included).
pub fn matmul(a: &Tensor<2>, b: &Tensor<2>) -> Tensor<2> {
    let device = a.device();
    let (m, n) = (a.dims()[0], b.dims()[1]);
    with_mat_refs(a, b, |va, vb| {
        from_host(host_matmul(va, vb), [m, n], &device)
    })
    .unwrap_or_else(|| a.clone().matmul(b.clone()))
}

/// Run `f` on strided host views of two flex `f32` matrices; `None` for other tensors.
fn with_mat_refs<R>(
    a: &Tensor<2>,
    b: &Tensor<2>,
    f: impl FnOnce(MatRef<'_>, MatRef<'_>) -> R,
) -> Option<R> {
    if !is_host(&a.device()) {
        return None;
    }
    let fa = a.clone().try_into_primitive::<Flex>().ok()?;
    let fb = b.clone().try_into_primitive::<Flex>().ok()?;
    Some(f(mat_ref(&fa)?, mat_ref(&fb)?))
}

fn mat_ref(t: &burn::backend::flex::FlexTensor) -> Option<MatRef<'_>> {
    if t.dtype() != DType::F32 {
        return None;
    }
    let layout = t.layout();
    let (rows, cols, rs, cs) = layout.as_2d_strides()?;
    if rs < 0 || cs < 0 {
        return None;
    }
    let view = MatRef {
        data: t.storage::<f32>(),
        offset: layout.start_offset(),
        rows,
        cols,
        row_stride: rs as usize,
        col_stride: cs as usize,
    };
    view.in_bounds().then_some(view)
}

/// `dst <- alpha dst + beta (a @ b)`, in place on the CPU when `dst` is uniquely owned.
pub fn matmul_into(
    dst: Tensor<2>,
    alpha: f32,
    a: &Tensor<2>,
    b: &Tensor<2>,
    beta: f32,
) -> Tensor<2> {
    let device = dst.device();
    if is_host(&device) {
        let (mut c, dims) = take_host(dst);
        let done = with_mat_refs(a, b, |va, vb| {
            gemm_into(&mut c, va, vb, alpha, beta, alpha != 0.0)
        });
        let dst = from_host(c, dims, &device);
        if done.is_some() {
            return dst;
        }
        return dst.mul_scalar(alpha) + a.clone().matmul(b.clone()).mul_scalar(beta);
    }
    dst.mul_scalar(alpha) + a.clone().matmul(b.clone()).mul_scalar(beta)
}

/// Column means of `x`, `[cols]`, accumulated in f64 on the CPU.
pub fn column_means(x: &Tensor<2>) -> Tensor<1> {
    let device = x.device();
    let [rows, cols] = x.dims();
    if is_host(&device) {
        let (v, _) = take_host(x.clone());
        let mut sums = vec![0f64; cols];
        for row in v.chunks_exact(cols) {
            for (s, &x) in sums.iter_mut().zip(row) {
                *s += x as f64;
            }
        }
        let means = sums
            .iter()
            .map(|s| (s / rows.max(1) as f64) as f32)
            .collect();
        return from_host(means, [cols], &device);
    }
    x.clone().mean_dim(0).squeeze_dim::<1>(0)
}

/// `v <- v - decay p`, then `p <- p + v` (weight decay folded into a momentum step).
pub fn decay_step<const D: usize>(
    p: Tensor<D>,
    v: Tensor<D>,
    decay: f32,
) -> (Tensor<D>, Tensor<D>) {
    if !is_host(&p.device()) {
        let v = v - p.clone().mul_scalar(decay);
        return (p + v.clone(), v);
    }
    host_velocity_step(p, v, |pv, vv| rows::decay_step(pv, vv, decay))
}

/// `step` in place on the host buffers of a parameter `p` and its velocity `v`, which must be
/// flex tensors; the new `(param, velocity)`.
fn host_velocity_step<const D: usize>(
    p: Tensor<D>,
    v: Tensor<D>,
    step: impl FnOnce(&mut [f32], &mut [f32]),
) -> (Tensor<D>, Tensor<D>) {
    let device = p.device();
    let (mut pv, dims) = take_host(p);
    let (mut vv, _) = take_host(v);
    step(&mut pv, &mut vv);
    (from_host(pv, dims, &device), from_host(vv, dims, &device))
}

/// `sigmoid(alpha * x + shift)`.
pub fn sigmoid_affine(x: Tensor<2>, alpha: f32, shift: &Tensor<1>) -> Tensor<2> {
    let device = x.device();
    if is_host(&device) {
        let (mut v, dims) = take_host(x);
        rows::sigmoid_affine(&mut v, &to_vec(shift), alpha);
        return from_host(v, dims, &device);
    }
    sigmoid(x.mul_scalar(alpha) + shift.clone().unsqueeze::<2>())
}

/// A row kernel that turns `x` in place into the parameters of a distribution and writes a
/// draw from it into `sample`, given a `shift` per column, a scale and the noise key.
type DrawKernel = fn(&mut [f32], &mut [f32], &[f32], f32, u64);

/// The parameters of a distribution and a draw from it: `kernel` on the host buffer of `x`,
/// `fallback` on the tensor `alpha * x + shift` on any other device. `rng` advances by one key
/// on every path.
fn affine_draw(
    x: Tensor<2>,
    alpha: f32,
    shift: &Tensor<1>,
    rng: &mut impl Rng,
    kernel: DrawKernel,
    fallback: impl FnOnce(Tensor<2>) -> (Tensor<2>, Tensor<2>),
) -> (Tensor<2>, Tensor<2>) {
    let key = rng.next_u64();
    let device = x.device();
    if !is_host(&device) {
        return fallback(x.mul_scalar(alpha) + shift.clone().unsqueeze::<2>());
    }
    let (mut v, dims) = take_host(x);
    let mut s = vec![0f32; v.len()];
    kernel(&mut v, &mut s, &to_vec(shift), alpha, key);
    (from_host(v, dims, &device), from_host(s, dims, &device))
}

/// Probabilities `p = sigmoid(alpha * x + shift)` and a Bernoulli draw from them.
pub fn sigmoid_bernoulli(
    x: Tensor<2>,
    alpha: f32,
    shift: &Tensor<1>,
    rng: &mut impl Rng,
) -> (Tensor<2>, Tensor<2>) {
    affine_draw(x, alpha, shift, rng, rows::sigmoid_bernoulli, |a| {
        let p = sigmoid(a);
        let s = bernoulli(&p);
        (p, s)
    })
}

/// A Bernoulli draw with the given probabilities (burn's generator; any device).
pub fn bernoulli<const D: usize>(p: &Tensor<D>) -> Tensor<D> {
    p.random_like(Distribution::Default)
        .lower(p.clone())
        .float()
}

/// Mean `m = alpha * x + shift` and a draw `m + N(0, I)`.
pub fn gaussian_affine(
    x: Tensor<2>,
    alpha: f32,
    shift: &Tensor<1>,
    rng: &mut impl Rng,
) -> (Tensor<2>, Tensor<2>) {
    affine_draw(x, alpha, shift, rng, rows::gaussian, |mean| {
        let noise = mean.random_like(Distribution::Normal(0.0, 1.0));
        (mean.clone(), mean + noise)
    })
}

/// Row sums `sum_j softplus(x[r, j] + shift[j])` in f64.
pub fn softplus_row_sums(x: &Tensor<2>, shift: &Tensor<1>) -> Vec<f64> {
    let device = x.device();
    if is_host(&device) {
        let (v, _) = take_host(x.clone());
        return rows::softplus_row_sums(&v, &to_vec(shift));
    }
    let a = (x.clone() + shift.clone().unsqueeze::<2>()).cast(DType::F64);
    column_to_f64(softplus(a, 1.0).sum_dim(1))
}

/// The hidden half-step of annealed importance sampling (see [`rows::ais_hidden`]):
/// returns per-row `sum_j softplus(beta a_j) - softplus(beta_prev a_j)` with `a = x + shift`,
/// and a draw `h ~ Bernoulli(sigmoid(beta a))`.
pub fn ais_hidden(
    x: Tensor<2>,
    shift: &Tensor<1>,
    beta_prev: f32,
    beta: f32,
    rng: &mut impl Rng,
) -> (Vec<f64>, Tensor<2>) {
    let key = rng.next_u64();
    let device = x.device();
    if is_host(&device) {
        let (mut v, dims) = take_host(x);
        let mut s = vec![0f32; v.len()];
        let delta = rows::ais_hidden(&mut v, &mut s, &to_vec(shift), (beta_prev, beta), key);
        return (delta, from_host(s, dims, &device));
    }
    let a = x + shift.clone().unsqueeze::<2>();
    let a64 = a.clone().cast(DType::F64);
    let delta = softplus(a64.clone().mul_scalar(beta as f64), 1.0)
        - softplus(a64.mul_scalar(beta_prev as f64), 1.0);
    let p = sigmoid(a.mul_scalar(beta));
    (column_to_f64(delta.sum_dim(1)), bernoulli(&p))
}

fn column_to_f64(t: Tensor<2>) -> Vec<f64> {
    to_f64_vec(t)
}

/// Classical momentum ascent with weight decay, returning the new `(param, velocity)`:
/// `v <- momentum v + lr (scale g - decay p)`, `p <- p + v`.
pub fn momentum_ascent<const D: usize>(
    p: Tensor<D>,
    v: Tensor<D>,
    g: Tensor<D>,
    lr: f32,
    momentum: f32,
    decay: f32,
    scale: f32,
) -> (Tensor<D>, Tensor<D>) {
    if !is_host(&p.device()) {
        let step = v.mul_scalar(momentum)
            + (g.mul_scalar(scale) - p.clone().mul_scalar(decay)).mul_scalar(lr);
        return (p + step.clone(), step);
    }
    let (gv, _) = take_host(g);
    host_velocity_step(p, v, |pv, vv| {
        rows::momentum_ascent(pv, vv, &gv, lr, momentum, decay, scale)
    })
}

/// True when every element is finite.
pub fn all_finite<const D: usize>(t: &Tensor<D>) -> bool {
    let data = t.to_data().convert::<f32>();
    data.as_slice::<f32>()
        .map(|s| s.iter().all(|v| v.is_finite()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn host_matmul_equals_burn_matmul_with_transposes() {
        let device = Device::flex();
        device.seed(1);
        let a = Tensor::<2>::random([30, 50], Distribution::Normal(0.0, 1.0), &device);
        let b = Tensor::<2>::random([40, 50], Distribution::Normal(0.0, 1.0), &device);
        let fast = matmul(&a, &b.clone().transpose());
        let slow = a.matmul(b.transpose());
        let diff: f32 = (fast - slow).abs().max().into_scalar();
        assert!(diff < 1e-4, "max diff {diff}");
    }

    #[test]
    fn sigmoid_bernoulli_frequencies_match_probabilities() {
        let device = Device::flex();
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        // 20,000 rows of the same 4 pre-activations: each column's frequency ~ p.
        let x = Tensor::<2>::from_data(
            TensorData::new([-2.0f32, -0.5, 0.0, 1.5].repeat(20_000), [20_000, 4]),
            &device,
        );
        let shift = Tensor::<1>::zeros([4], &device);
        let (p, s) = sigmoid_bernoulli(x, 1.0, &shift, &mut rng);
        let freq = to_vec(&s.mean_dim(0).squeeze_dim::<1>(0));
        let probs = to_vec(&p.slice([0..1, 0..4]).squeeze_dim::<1>(0));
        for (f, q) in freq.iter().zip(&probs) {
            // Standard error sqrt(q(1-q)/n) <= 0.0036; allow 4.
            assert!((f - q).abs() < 4.0 * 0.0036, "freq {f} vs p {q}");
        }
    }
}

//! The CPU engine: block Gibbs sampling, CD/PCD updates and AIS on host buffers.
//!
//! The tensor-op versions in [`super::model`], [`super::cd`] and [`super::ais`] run anywhere
//! (they are what a GPU runs) but, on the CPU, pay for a dozen thread wake-ups and buffer
//! passes per Gibbs half-step. Here independent chains are split into row blocks, and each
//! block runs every sweep with single-threaded products and fused sigmoid/draw kernels: a
//! sampling job is one parallel region, a CD update two (the chains, then the weight update
//! split by rows of `W`).
//!
//! The row blocks depend on the row count only, never on the number of threads (see
//! [`crate::kernels::split`]), so the same seed gives the same bits on any number of threads.
//! Random draws use the same keys, in the same order, and the same element numbering
//! (`row * cols + col` of the whole matrix) as the tensor-op versions, so both paths draw the
//! same samples; tests check that they agree.

use std::ops::Range;

use rayon::prelude::*;

use super::config::VisibleKind;
use crate::kernels::gemm::{MatRef, gemm_single};
use crate::kernels::rows::{Stream, ais_hidden_block, gaussian_block, sigmoid_bernoulli_block};
use crate::kernels::split;

/// The affine map `alpha * x + shift` applied to pre-activations before the nonlinearity.
#[derive(Clone, Copy)]
pub(crate) struct Affine<'a> {
    pub alpha: f32,
    pub shift: &'a [f32],
}

/// Borrowed RBM parameters, row-major.
#[derive(Clone, Copy)]
pub(crate) struct HostRbm<'a> {
    /// `W`, `[nv, nh]`.
    pub w: &'a [f32],
    /// `b`, `[nv]`.
    pub b: &'a [f32],
    /// `c`, `[nh]`.
    pub c: &'a [f32],
    pub nv: usize,
    pub nh: usize,
    pub kind: VisibleKind,
}

impl<'a> HostRbm<'a> {
    fn w(&self) -> MatRef<'a> {
        MatRef {
            data: self.w,
            offset: 0,
            rows: self.nv,
            cols: self.nh,
            row_stride: self.nh,
            col_stride: 1,
        }
    }

    fn w_t(&self) -> MatRef<'a> {
        MatRef {
            data: self.w,
            offset: 0,
            rows: self.nh,
            cols: self.nv,
            row_stride: 1,
            col_stride: self.nh,
        }
    }

    /// The map `v W + c` of the hidden pre-activations.
    pub fn hidden_affine(&self) -> Affine<'a> {
        Affine {
            alpha: 1.0,
            shift: self.c,
        }
    }

    /// The map `W h + b` of the visible pre-activations.
    pub fn visible_affine(&self) -> Affine<'a> {
        Affine {
            alpha: 1.0,
            shift: self.b,
        }
    }

    /// `p <- sigmoid(alpha v W + shift)`, `s ~ Bernoulli(p)` for a block of rows.
    pub fn hidden(&self, v: &[f32], p: &mut [f32], s: &mut [f32], map: Affine<'_>, stream: Stream) {
        gemm_single(p, rows_of(v, self.nv), self.w(), 0.0, 1.0, false);
        sigmoid_bernoulli_block(p, s, map.shift, map.alpha, stream);
    }

    /// `mean <- E[v | h]` at `alpha W h + shift` and a draw `s`, for a block of rows.
    pub fn visible(
        &self,
        h: &[f32],
        mean: &mut [f32],
        s: &mut [f32],
        map: Affine<'_>,
        stream: Stream,
    ) {
        gemm_single(mean, rows_of(h, self.nh), self.w_t(), 0.0, 1.0, false);
        match self.kind {
            VisibleKind::Bernoulli => {
                sigmoid_bernoulli_block(mean, s, map.shift, map.alpha, stream)
            }
            VisibleKind::Gaussian => gaussian_block(mean, s, map.shift, map.alpha, stream),
        }
    }

    /// AIS hidden step for a block at inverse temperatures `betas = (beta_prev, beta)`: fills
    /// `delta` with the per-row hidden part of the log-weight increment.
    pub fn ais_hidden(
        &self,
        v: &[f32],
        p: &mut [f32],
        s: &mut [f32],
        delta: &mut [f64],
        betas: (f32, f32),
        stream: Stream,
    ) {
        gemm_single(p, rows_of(v, self.nv), self.w(), 0.0, 1.0, false);
        ais_hidden_block(p, s, delta, self.c, betas, stream);
    }
}

/// A row-major `[len / cols, cols]` view of a slice.
pub(crate) fn rows_of(x: &[f32], cols: usize) -> MatRef<'_> {
    MatRef {
        data: x,
        offset: 0,
        rows: x.len() / cols.max(1),
        cols,
        row_stride: cols,
        col_stride: 1,
    }
}

/// Split `0..rows`, each row costing `row_work` multiply-adds, into balanced blocks by the
/// shape alone ([`split::block_count`]): a block's products, and so their rounding, depend on
/// its size, so a split by thread count would change the bits. Every block packs `W` (or, in
/// [`cd_update`], the batch) once more, so a 100-row batch is two blocks of 50.
pub(crate) fn row_blocks(rows: usize, row_work: usize) -> Vec<Range<usize>> {
    let count = split::block_count(rows, rows.saturating_mul(row_work));
    split::blocks(rows, count, 1)
}

/// Disjoint mutable row blocks of a row-major buffer.
pub(crate) fn split_rows<'a, T>(
    buf: &'a mut [T],
    cols: usize,
    blocks: &[Range<usize>],
) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(blocks.len());
    let mut rest = buf;
    for r in blocks {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(r.len() * cols);
        out.push(head);
        rest = tail;
    }
    out
}

/// Keys of one block Gibbs sweep: the hidden half-step, then the visible one.
pub(crate) type SweepKeys = (u64, u64);

/// Run `keys.len()` sweeps `v -> h -> v` on every row of `v` (`[n, nv]`), in place; `mean`
/// receives `E[v | h]` of the last sweep.
pub(crate) fn gibbs(rbm: &HostRbm<'_>, v: &mut [f32], mean: &mut [f32], keys: &[SweepKeys]) {
    let rows = v.len() / rbm.nv;
    let blocks = row_blocks(rows, 2 * keys.len() * rbm.nv * rbm.nh);
    let vs = split_rows(v, rbm.nv, &blocks);
    let ms = split_rows(mean, rbm.nv, &blocks);
    vs.into_par_iter()
        .zip(ms)
        .zip(blocks.par_iter())
        .for_each(|((vb, mb), r)| {
            let n = r.len();
            let (mut p, mut h) = (vec![0f32; n * rbm.nh], vec![0f32; n * rbm.nh]);
            for &(kh, kv) in keys {
                rbm.hidden(
                    vb,
                    &mut p,
                    &mut h,
                    rbm.hidden_affine(),
                    Stream::new(kh).at(r.start * rbm.nh),
                );
                rbm.visible(
                    &h,
                    mb,
                    vb,
                    rbm.visible_affine(),
                    Stream::new(kv).at(r.start * rbm.nv),
                );
            }
        });
}

/// Buffers of one CD/PCD update on the host.
pub(crate) struct CdBuffers {
    /// `p(h | v0)`, `[batch, nh]`.
    pub ph0: Vec<f32>,
    /// End of the negative chains, `[chains, nv]`.
    pub vk: Vec<f32>,
    /// `p(h | vk)`, `[chains, nh]`.
    pub phk: Vec<f32>,
    /// `E[v | h0]` of the first visible step (CD only), `[batch, nv]`.
    pub first_mean: Option<Vec<f32>>,
}

/// Random keys of one update, in the order the tensor-op path draws them.
pub(crate) struct CdKeys {
    /// Positive phase `h0 ~ p(h | v0)`.
    pub positive: u64,
    /// The k sweeps of the negative phase, each (visible, hidden).
    pub sweeps: Vec<SweepKeys>,
}

/// The chains of a CD-k (`chains = None`: start at the data) or PCD-k update. Under PCD the
/// chains are hidden states (`[m, nh]`), advanced in place.
pub(crate) fn cd_chains(
    rbm: &HostRbm<'_>,
    v0: &[f32],
    chains: Option<&mut [f32]>,
    keys: &CdKeys,
) -> CdBuffers {
    let (nv, nh) = (rbm.nv, rbm.nh);
    let batch = v0.len() / nv;
    let sweeps = keys.sweeps.len();
    // CD: the positive phase and the k sweeps per row; PCD: the positive phase only (the
    // sweeps run on the chains, below).
    let row_work = if chains.is_none() { 1 + 2 * sweeps } else { 1 } * nv * nh;
    let blocks = row_blocks(batch, row_work);
    let mut ph0 = vec![0f32; batch * nh];
    match chains {
        None => {
            let mut vk = vec![0f32; batch * nv];
            let mut phk = vec![0f32; batch * nh];
            let mut first = vec![0f32; batch * nv];
            let parts = split_rows(&mut ph0, nh, &blocks)
                .into_iter()
                .zip(split_rows(&mut vk, nv, &blocks))
                .zip(split_rows(&mut phk, nh, &blocks))
                .zip(split_rows(&mut first, nv, &blocks))
                .zip(blocks.iter());
            parts
                .collect::<Vec<_>>()
                .into_par_iter()
                .for_each(|((((p0, vb), pk), fm), r)| {
                    let v0b = &v0[r.start * nv..r.end * nv];
                    let mut h = vec![0f32; r.len() * nh];
                    let stream = Stream::new(keys.positive).at(r.start * nh);
                    rbm.hidden(v0b, p0, &mut h, rbm.hidden_affine(), stream);
                    sweep(rbm, vb, pk, &mut h, Some(fm), &keys.sweeps, r);
                });
            CdBuffers {
                ph0,
                vk,
                phk,
                first_mean: Some(first),
            }
        }
        Some(chains) => {
            split_rows(&mut ph0, nh, &blocks)
                .into_par_iter()
                .zip(blocks.par_iter())
                .for_each(|(p0, r)| {
                    let mut h = vec![0f32; r.len() * nh];
                    let stream = Stream::new(keys.positive).at(r.start * nh);
                    rbm.hidden(
                        &v0[r.start * nv..r.end * nv],
                        p0,
                        &mut h,
                        rbm.hidden_affine(),
                        stream,
                    );
                });
            let m = chains.len() / nh;
            let cblocks = row_blocks(m, 2 * sweeps * nv * nh);
            let mut vk = vec![0f32; m * nv];
            let mut phk = vec![0f32; m * nh];
            split_rows(chains, nh, &cblocks)
                .into_par_iter()
                .zip(split_rows(&mut vk, nv, &cblocks))
                .zip(split_rows(&mut phk, nh, &cblocks))
                .zip(cblocks.par_iter())
                .for_each(|(((hb, vb), pk), r)| sweep(rbm, vb, pk, hb, None, &keys.sweeps, r));
            CdBuffers {
                ph0,
                vk,
                phk,
                first_mean: None,
            }
        }
    }
}

/// `k` sweeps `h -> v -> h` for one block: leaves the last visible draw in `v`, the last
/// `p(h | v)` in `p` and the last hidden draw in `h`; `first` receives `E[v | h]` of sweep 1.
fn sweep(
    rbm: &HostRbm<'_>,
    v: &mut [f32],
    p: &mut [f32],
    h: &mut [f32],
    mut first: Option<&mut [f32]>,
    keys: &[SweepKeys],
    r: &Range<usize>,
) {
    let (nv, nh) = (rbm.nv, rbm.nh);
    let mut mean = vec![0f32; r.len() * nv];
    for &(kv, kh) in keys {
        rbm.visible(
            h,
            &mut mean,
            v,
            rbm.visible_affine(),
            Stream::new(kv).at(r.start * nv),
        );
        if let Some(f) = first.take() {
            f.copy_from_slice(&mean);
        }
        rbm.hidden(
            v,
            p,
            h,
            rbm.hidden_affine(),
            Stream::new(kh).at(r.start * nh),
        );
    }
}

/// Mutable parameters and velocities of an RBM on the host.
pub(crate) struct HostState<'a> {
    pub nv: usize,
    pub nh: usize,
    pub w: &'a mut [f32],
    pub b: &'a mut [f32],
    pub c: &'a mut [f32],
    pub vw: &'a mut [f32],
    pub vb: &'a mut [f32],
    pub vc: &'a mut [f32],
}

/// Learning rate, momentum and L2 weight decay of one update.
#[derive(Clone, Copy)]
pub(crate) struct Rates {
    pub lr: f32,
    pub momentum: f32,
    pub decay: f32,
    /// False for plain gradient ascent (no momentum in any epoch, no decay): the step goes
    /// straight into `W` and the weight velocity stays as it is (zero).
    pub velocity: bool,
}

/// The CD/PCD ascent step from `(v0, ph0, vk, phk)`, split over rows of `W`:
/// `VW <- m VW + lr/B v0^T ph0 - lr/M vk^T phk - lr wd W`, `W <- W + VW`, and the biases with
/// the column means (no decay). Identical arithmetic to `ContrastiveDivergence::apply`.
pub(crate) fn cd_update(s: HostState<'_>, v0: &[f32], buf: &CdBuffers, rates: Rates) {
    let Rates {
        lr,
        momentum,
        decay,
        velocity,
    } = rates;
    let (nv, nh) = (s.nv, s.nh);
    let (nb, nm) = (v0.len() / nv, buf.vk.len() / nv);
    let blocks = row_blocks(nv, (nb + nm) * nh);
    let mean_v0 = column_means(v0, nv);
    let mean_vk = column_means(&buf.vk, nv);
    split_rows(s.w, nh, &blocks)
        .into_par_iter()
        .zip(split_rows(s.vw, nh, &blocks))
        .zip(blocks.par_iter())
        .for_each(|((wb, vb), r)| {
            // The step accumulates in `VW` (then `W <- W + VW` with decay), or straight in `W`.
            let step = |dst: &mut [f32], keep: f32| {
                gemm_single(
                    dst,
                    columns(v0, r, nb, nv),
                    rows_of(&buf.ph0, nh),
                    keep,
                    lr / nb as f32,
                    true,
                );
                gemm_single(
                    dst,
                    columns(&buf.vk, r, nm, nv),
                    rows_of(&buf.phk, nh),
                    1.0,
                    -lr / nm as f32,
                    true,
                );
            };
            if velocity {
                step(vb, momentum);
                crate::kernels::rows::decay_block(wb, vb, lr * decay);
            } else {
                step(wb, 1.0);
            }
        });
    for i in 0..nv {
        s.vb[i] = momentum * s.vb[i] + lr * (mean_v0[i] - mean_vk[i]);
        s.b[i] += s.vb[i];
    }
    let mean_p0 = column_means(&buf.ph0, nh);
    let mean_pk = column_means(&buf.phk, nh);
    for j in 0..nh {
        s.vc[j] = momentum * s.vc[j] + lr * (mean_p0[j] - mean_pk[j]);
        s.c[j] += s.vc[j];
    }
}

/// The transpose of columns `r` of a row-major `[n, cols]` buffer, as an `[r.len(), n]` view.
fn columns<'a>(x: &'a [f32], r: &Range<usize>, n: usize, cols: usize) -> MatRef<'a> {
    MatRef {
        data: x,
        offset: r.start,
        rows: r.len(),
        cols: n,
        row_stride: 1,
        col_stride: cols,
    }
}

/// Column means accumulated in f64, rounded to f32 (as `ops::column_means`).
fn column_means(x: &[f32], cols: usize) -> Vec<f32> {
    let rows = (x.len() / cols).max(1) as f64;
    let mut sums = vec![0f64; cols];
    for row in x.chunks_exact(cols) {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s += v as f64;
        }
    }
    sums.iter().map(|s| (s / rows) as f32).collect()
}

/// Mean over rows of `sum_i (a_i - b_i)^2`, in f64.
pub(crate) fn squared_error(a: &[f32], b: &[f32], cols: usize) -> f64 {
    let rows = (a.len() / cols).max(1) as f64;
    a.iter()
        .zip(b)
        .map(|(x, y)| ((x - y) as f64).powi(2))
        .sum::<f64>()
        / rows
}

/// Mean-field reconstruction error `mean_rows |v0 - E[v | h = p(h | v0)]|^2` given `p(h | v0)`.
pub(crate) fn reconstruction_error(rbm: &HostRbm<'_>, v0: &[f32], ph0: &[f32]) -> f64 {
    let rows = v0.len() / rbm.nv;
    let mut mean = vec![0f32; rows * rbm.nv];
    crate::kernels::gemm::gemm_into(&mut mean, rows_of(ph0, rbm.nh), rbm.w_t(), 0.0, 1.0, false);
    match rbm.kind {
        VisibleKind::Bernoulli => crate::kernels::rows::sigmoid_affine(&mut mean, rbm.b, 1.0),
        VisibleKind::Gaussian => mean
            .chunks_exact_mut(rbm.nv)
            .for_each(|r| r.iter_mut().zip(rbm.b).for_each(|(m, b)| *m += b)),
    }
    squared_error(v0, &mean, rbm.nv)
}

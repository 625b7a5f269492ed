//! RBM numbers checked against enumeration of every state.

mod common;

use burn::prelude::*;
use burn::tensor::{Distribution, TensorData};
use helmholtz::Result;
use helmholtz::api::Trainable;
use helmholtz::data::{Binarize, DataConfig};
use helmholtz::energy::rbm::{
    self, AisConfig, CdConfig, ContrastiveDivergence, Gradient, NegativePhase, Rbm, RbmConfig,
    RbmParams, RbmRunConfig, VisibleKind, ais_log_z, binary_states, exact_log_likelihood_gradient,
    log_p_all_visible, log_sum_exp, log_z_exact,
};
use helmholtz::train::Silent;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn device() -> Device {
    Device::flex()
}

/// An RBM with N(0, scale^2) weights and biases, so that the distribution is far from uniform.
fn random_rbm(v: usize, h: usize, kind: VisibleKind, scale: f32, seed: u64) -> Result<Rbm> {
    let d = device();
    d.seed(seed);
    let cfg = RbmConfig {
        visible_kind: kind,
        ..RbmConfig::new(v, h)
    };
    Rbm::from_parts(
        cfg,
        Tensor::random([v, h], Distribution::Normal(0.0, scale as f64), &d),
        Tensor::random([v], Distribution::Normal(0.0, scale as f64), &d),
        Tensor::random([h], Distribution::Normal(0.0, scale as f64), &d),
    )
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    helmholtz::kernels::ops::to_f32_vec(t)
}

#[test]
fn free_energy_equals_minus_log_sum_over_hidden_states() -> Result<()> {
    for kind in [VisibleKind::Bernoulli, VisibleKind::Gaussian] {
        let rbm = random_rbm(5, 4, kind, 1.0, 3)?;
        let d = device();
        let v = match kind {
            VisibleKind::Bernoulli => binary_states(5, 0, 32, &d),
            VisibleKind::Gaussian => Tensor::random([32, 5], Distribution::Normal(0.0, 1.5), &d),
        };
        let f = rbm.free_energy(&v);
        let hs = binary_states(4, 0, 16, &d);
        for (r, fr) in f.iter().enumerate() {
            // F(v) = -log sum_h exp(-E(v, h)), E from the model's own energy function.
            let vr = v.clone().slice([r..r + 1, 0..5]).repeat_dim(0, 16);
            let e: Vec<f64> = to_vec(rbm.energy(&vr, &hs))
                .iter()
                .map(|&x| -(x as f64))
                .collect();
            let want = -log_sum_exp(&e);
            assert!(
                (fr - want).abs() < 1e-4 * want.abs().max(1.0),
                "{kind:?} row {r}: F = {fr}, enumeration {want}"
            );
        }
    }
    Ok(())
}

#[test]
fn exact_log_z_agrees_across_enumerations() -> Result<()> {
    // log Z three ways for a Bernoulli RBM with 8 visible and 6 hidden units: summing out
    // the hidden layer, summing out the visible layer, and brute force over all (v, h).
    let rbm = random_rbm(8, 6, VisibleKind::Bernoulli, 1.0, 5)?;
    let over_hidden = log_z_exact(&rbm)?; // H < V: enumerates hidden states
    let d = device();
    let all_v = binary_states(8, 0, 256, &d);
    let minus_f: Vec<f64> = rbm.free_energy(&all_v).iter().map(|f| -f).collect();
    let via_visible = log_sum_exp(&minus_f);
    let mut terms = Vec::new();
    let hs = binary_states(6, 0, 64, &d);
    for r in 0..256 {
        let vr = all_v.clone().slice([r..r + 1, 0..8]).repeat_dim(0, 64);
        terms.extend(to_vec(rbm.energy(&vr, &hs)).iter().map(|&e| -(e as f64)));
    }
    let brute = log_sum_exp(&terms);
    assert!(
        (over_hidden - brute).abs() < 1e-4,
        "hidden-sum {over_hidden} vs brute {brute}"
    );
    assert!(
        (via_visible - brute).abs() < 1e-4,
        "visible-sum {via_visible} vs brute {brute}"
    );
    // Gaussian visibles: the closed-form Gaussian integral over v against a numeric check on
    // one visible unit: Z = sum_h e^{c h} \int e^{-(v-b)^2/2 + v w h} dv.
    let g = random_rbm(1, 2, VisibleKind::Gaussian, 0.7, 9)?;
    let (w, b, c) = (
        to_vec(g.weight().clone()),
        to_vec(g.visible_bias().clone()),
        to_vec(g.hidden_bias().clone()),
    );
    let mut z = 0f64;
    for hs in 0..4u32 {
        let h = [(hs & 1) as f64, ((hs >> 1) & 1) as f64];
        let wh = w[0] as f64 * h[0] + w[1] as f64 * h[1];
        let ch = c[0] as f64 * h[0] + c[1] as f64 * h[1];
        // Trapezoid rule on [-30, 30] with step 1e-3.
        let integral: f64 = (0..60_000)
            .map(|i| -30.0 + i as f64 * 1e-3)
            .map(|v| (-(v - b[0] as f64).powi(2) / 2.0 + v * wh).exp() * 1e-3)
            .sum();
        z += ch.exp() * integral;
    }
    let got = log_z_exact(&g)?;
    assert!(
        (got - z.ln()).abs() < 1e-4,
        "Gaussian log Z {got} vs quadrature {}",
        z.ln()
    );
    Ok(())
}

/// Train a small RBM on a slice of the embedded digits.
fn small_digit_rbm(hidden: usize, epochs: usize) -> Result<(Rbm, rbm::PreparedData)> {
    let params = RbmParams::default()
        .hidden(hidden)
        .negative_phase(NegativePhase::Cd)
        .epochs(epochs)
        .seed(1);
    let cfg = RbmRunConfig::new(params, DataConfig::digits());
    let prepared = rbm::prepare_data(&mut cfg.clone())?;
    let d = device();
    let mut rng = StdRng::seed_from_u64(1);
    let mut model = Rbm::new(RbmConfig::new(784, hidden), &d, &mut rng)?;
    model.init_visible_bias(&prepared.split.train.column_means());
    let mut cd = ContrastiveDivergence::new(cfg.params.cd.clone(), &model)?;
    for _ in 0..epochs {
        for start in (0..prepared.split.train.len()).step_by(100) {
            let idx: Vec<usize> = (start..(start + 100).min(prepared.split.train.len())).collect();
            let x = prepared.split.train.batch_tensor(&idx, &d);
            cd.step(&mut model, &x, 0.05, 0.5, false, &mut rng);
        }
    }
    Ok((model, prepared))
}

#[test]
fn ais_estimate_is_within_a_tenth_of_a_nat_of_exact_log_z() -> Result<()> {
    // 20 hidden units: log Z by enumerating 2^20 hidden states is exact.
    let (model, prepared) = small_digit_rbm(20, 3)?;
    let base_bias = rbm::base_bias(&prepared.split.train, VisibleKind::Bernoulli);
    let exact = log_z_exact(&model)?;
    let est = ais_log_z(
        &model,
        &base_bias,
        &AisConfig::default(),
        &mut StdRng::seed_from_u64(7),
        &Silent,
    )?;
    assert!(
        (est.log_z - exact).abs() < 0.1,
        "AIS {:.4} ± {:.4} vs exact {exact:.4}",
        est.log_z,
        est.log_z_se
    );
    // AIS is valid from any base model; from the uniform one (b_A = 0) the visible-bias part of
    // the weights, sum_k (beta_k - beta_{k-1}) (b - b_A).v, is large, so it is checked too. That
    // base is far from the model, so the estimate is noisier: we allow 4 of its standard errors
    // (a 1% error in that term moves the estimate by about 4 nats).
    let uniform = vec![0f32; 784];
    let est0 = ais_log_z(
        &model,
        &uniform,
        &AisConfig::default(),
        &mut StdRng::seed_from_u64(8),
        &Silent,
    )?;
    assert!(
        (est0.log_z - exact).abs() < 4.0 * est0.log_z_se,
        "AIS from uniform {:.4} ± {:.4} vs exact {exact:.4}",
        est0.log_z,
        est0.log_z_se
    );
    // The model learned something: the test log-likelihood beats the base-rate model's.
    let test = prepared.split.test.to_tensor(&device());
    let f = model.free_energy(&test);
    let ll = -f.iter().sum::<f64>() / f.len() as f64 - exact;
    let base = rbm::base_log_z(VisibleKind::Bernoulli, &base_bias, 0);
    let base_ll: f64 = {
        let x = to_vec(test);
        let n = x.len() / 784;
        x.chunks(784)
            .map(|row| {
                row.iter()
                    .zip(&base_bias)
                    .map(|(v, b)| *v as f64 * *b as f64)
                    .sum::<f64>()
            })
            .sum::<f64>()
            / n as f64
            - base
    };
    assert!(
        ll > base_ll + 20.0,
        "RBM {ll:.2} nats vs base rate {base_ll:.2}"
    );
    Ok(())
}

/// The CD-`k` gradient estimate on `data` (positive phase and chains seeded with 3).
fn cd_gradient(model: &Rbm, data: &Tensor<2>, k: usize) -> Result<Gradient> {
    let config = CdConfig {
        k,
        negative: NegativePhase::Cd,
        ..CdConfig::default()
    };
    let mut cd = ContrastiveDivergence::new(config, model)?;
    let (stats, _) = cd.statistics(model, data, &mut StdRng::seed_from_u64(3));
    Ok(stats.gradient())
}

#[test]
fn cd_gradient_with_long_chains_matches_exact_gradient() -> Result<()> {
    // With k -> large the CD chain reaches the model distribution, so the CD estimate of
    // E_model[v p(h|v)^T] becomes unbiased. 20,000 chains of k = 100 steps: the per-entry standard
    // error of the model term is below 0.5 / sqrt(20000) = 0.0035; we allow 0.02 (about 6 SE).
    let model = random_rbm(6, 4, VisibleKind::Bernoulli, 0.8, 11)?;
    let d = device();
    let patterns = [
        [1.0f32, 1.0, 1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 1.0, 1.0, 0.0],
        [1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
    ];
    let rows: Vec<f32> = (0..20_000).flat_map(|i| patterns[i % 3]).collect();
    let data = Tensor::<2>::from_data(TensorData::new(rows, [20_000, 6]), &d);
    let (gw, gb, gc) = exact_log_likelihood_gradient(&model, &data)?;
    let est = cd_gradient(&model, &data, 100)?;
    for (name, a, b) in [
        ("W", to_vec(est.w), to_vec(gw)),
        ("b", to_vec(est.b), to_vec(gb)),
        ("c", to_vec(est.c), to_vec(gc)),
    ] {
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 0.02, "{name}: CD-100 {x} vs exact {y}");
        }
    }
    // CD-1 is biased on this model: at least one entry is far off (so the test can fail).
    let worst = to_vec(cd_gradient(&model, &data, 1)?.w)
        .iter()
        .zip(to_vec(exact_log_likelihood_gradient(&model, &data)?.0))
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(
        worst > 0.05,
        "CD-1 should be visibly biased here (max deviation {worst})"
    );
    Ok(())
}

/// Total variation between the empirical distribution of `states` (rows of a binary
/// `[n, v]` matrix) and `p` over the `2^v` states.
fn total_variation(states: &[f32], v: usize, log_p: &[f64]) -> f64 {
    let n = states.len() / v;
    let mut counts = vec![0f64; 1 << v];
    for row in states.chunks(v) {
        let idx = row
            .iter()
            .enumerate()
            .map(|(i, &x)| (x as usize) << i)
            .sum::<usize>();
        counts[idx] += 1.0;
    }
    0.5 * counts
        .iter()
        .zip(log_p)
        .map(|(c, lp)| (c / n as f64 - lp.exp()).abs())
        .sum::<f64>()
}

#[test]
fn block_gibbs_samples_follow_the_exact_distribution() -> Result<()> {
    // 20,000 independent chains, 50 sweeps each, from uniform noise, on an RBM with 5 visible
    // and 3 hidden units. For n samples over K = 32 states the expected total variation of an
    // exact sampler is about 0.5 * sum_k sqrt(2 p_k / (pi n)) <= 0.5 sqrt(2 K / (pi n)) = 0.011;
    // the bound 0.03 leaves room for sampling noise but not for a wrong conditional.
    let model = random_rbm(5, 3, VisibleKind::Bernoulli, 1.2, 21)?;
    let log_p = log_p_all_visible(&model)?;
    let d = device();
    let mut rng = StdRng::seed_from_u64(5);
    let start = Tensor::<2>::random([20_000, 5], Distribution::Default, &d)
        .lower_elem(0.5)
        .float();
    let (_, fused) = model.gibbs(start.clone(), 50, &mut rng);
    let tv_fused = total_variation(&to_vec(fused), 5, &log_p);
    let (_, reference) = model.gibbs_with_tensor_ops(start, 50, &mut rng);
    let tv_ref = total_variation(&to_vec(reference), 5, &log_p);
    assert!(
        tv_fused < 0.03 && tv_ref < 0.03,
        "total variation: engine {tv_fused:.4}, tensor ops {tv_ref:.4}"
    );
    // A wrong model (another RBM's distribution) is rejected by the same bound.
    let other = log_p_all_visible(&random_rbm(5, 3, VisibleKind::Bernoulli, 1.2, 22)?)?;
    let (_, s) = model.gibbs(Tensor::<2>::zeros([20_000, 5], &d), 50, &mut rng);
    assert!(total_variation(&to_vec(s), 5, &other) > 0.05);
    Ok(())
}

#[test]
fn cpu_engine_and_tensor_ops_take_the_same_steps() -> Result<()> {
    // Same keys, same element numbering: the fused engine and the tensor-op path draw the same
    // samples, so after several updates the parameters agree to rounding. With momentum and
    // decay the engine steps through the velocity; without either (plain gradient ascent) it
    // adds the step to the weights directly.
    for (decay, momentum) in [(1e-3, 0.5), (0.0, 0.0)] {
        for negative in [NegativePhase::Cd, NegativePhase::Pcd] {
            for kind in [VisibleKind::Bernoulli, VisibleKind::Gaussian] {
                let base = random_rbm(30, 20, kind, 0.1, 31)?;
                let d = device();
                d.seed(2);
                let x = Tensor::<2>::random([64, 30], Distribution::Default, &d);
                let x = if kind == VisibleKind::Bernoulli {
                    x.lower_elem(0.5).float()
                } else {
                    x
                };
                let cfg = CdConfig {
                    k: 2,
                    negative,
                    chains: 40,
                    weight_decay: decay,
                    initial_momentum: momentum,
                    momentum,
                    ..CdConfig::default()
                };
                let (mut a, mut b) = (base.clone(), base.clone());
                let mut cda = ContrastiveDivergence::new(cfg.clone(), &a)?;
                let mut cdb = ContrastiveDivergence::new(cfg, &b)?;
                let (mut ra, mut rb) = (StdRng::seed_from_u64(9), StdRng::seed_from_u64(9));
                for _ in 0..5 {
                    let ea = cda.step(&mut a, &x, 0.05, momentum, true, &mut ra);
                    let eb = cdb.step_with_tensor_ops(&mut b, &x, 0.05, momentum, true, &mut rb);
                    let (ea, eb) = (ea.unwrap_or(f64::NAN), eb.unwrap_or(f64::NAN));
                    assert!(
                        (ea - eb).abs() < 1e-3 * eb.abs().max(1.0),
                        "{negative:?}/{kind:?}: recon {ea} vs {eb}"
                    );
                }
                let diff = (a.weight().clone() - b.weight().clone())
                    .abs()
                    .max()
                    .into_scalar::<f32>();
                assert!(
                    diff < 1e-4,
                    "{negative:?}/{kind:?}/momentum {momentum}: weights differ by {diff}"
                );
            }
        }
    }
    Ok(())
}

fn run_config(epochs: usize) -> RbmRunConfig {
    let params = RbmParams::default()
        .hidden(16)
        .epochs(epochs)
        .batch_size(200)
        .seed(4);
    let data = DataConfig {
        binarize: Binarize::Stochastic,
        ..DataConfig::digits()
    };
    RbmRunConfig {
        sample_steps: 5,
        ais: AisConfig {
            runs: 10,
            betas: 50,
        },
        ..RbmRunConfig::new(params, data)
    }
}

#[test]
fn resumed_runs_equal_uninterrupted_runs_bit_for_bit() -> Result<()> {
    // 3 epochs of 38 batches: stopped after epoch 1, and interrupted in epoch 2 (batch 55).
    common::check_resume::<Rbm>(run_config(3), 1, 55)
}

#[test]
fn pseudo_likelihood_flips_one_unit_chosen_by_the_example_itself() -> Result<()> {
    let rbm = random_rbm(6, 3, VisibleKind::Bernoulli, 1.0, 11)?;
    let mut rng = StdRng::seed_from_u64(3);
    let rows: Vec<f32> = (0..40 * 6)
        .map(|_| f32::from(rand::RngExt::random_bool(&mut rng, 0.5)))
        .collect();
    let data = helmholtz::data::Dataset::new("x", rows.clone(), 6, None)?;
    let pl = rbm.pseudo_likelihood(&data, 5)?;
    assert_eq!(pl.estimate, helmholtz::api::Estimate::PseudoLikelihood);
    let free = |v: &[f32]| {
        let t = Tensor::from_data(TensorData::new(v.to_vec(), [1, 6]), &device());
        rbm.free_energy(&t)[0]
    };
    for (r, score) in pl.per_example.iter().enumerate() {
        // d ln sigmoid(F(v') - F(v)) for one of the d single flips.
        let v = &rows[r * 6..(r + 1) * 6];
        let closest = (0..6)
            .map(|i| {
                let mut w = v.to_vec();
                w[i] = 1.0 - w[i];
                let x = free(&w) - free(v);
                (-6.0 * (-x).exp().ln_1p() - score).abs()
            })
            .fold(f64::MAX, f64::min);
        assert!(closest < 1e-4, "example {r}: {closest}");
    }
    // The same example scores the same wherever it sits, and alone.
    let reversed: Vec<usize> = (0..40).rev().collect();
    let back = rbm.pseudo_likelihood(&data.select(&reversed), 5)?;
    for (i, &r) in reversed.iter().enumerate() {
        assert_eq!(back.per_example[i], pl.per_example[r]);
    }
    assert_eq!(
        rbm.pseudo_likelihood(&data.head(1), 5)?.per_example[0],
        pl.per_example[0]
    );
    // Gaussian units have nothing to flip.
    let gaussian = random_rbm(6, 3, VisibleKind::Gaussian, 1.0, 11)?;
    assert!(gaussian.pseudo_likelihood(&data, 5).is_err());
    Ok(())
}

#[test]
fn a_fit_stops_through_its_interrupt_flag() -> Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let digits = DataConfig::digits().load(0)?;
    let stop = Arc::new(AtomicBool::new(true));
    let control = helmholtz::api::FitControl {
        progress: &Silent,
        interrupt: Some(&stop),
    };
    let params = RbmParams::default().hidden(8).epochs(2).batch_size(100);
    let err = params.fit_with(&digits.train.head(500), control).err();
    assert!(
        matches!(err, Some(helmholtz::Error::Stopped { epoch: 1, batch: 1 })),
        "{err:?}"
    );
    Ok(())
}

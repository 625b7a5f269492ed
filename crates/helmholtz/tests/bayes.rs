//! Bayesian inference: distributions against closed forms, and SVI / SGLD / SGHMC against the
//! exact conjugate posterior of Bayesian linear regression with known noise.

mod common;

use helmholtz::bayes::distributions::{Bernoulli, Categorical, LogNormal, Normal, Uniform};
use helmholtz::bayes::linear::{BayesLinear, Noise};
use helmholtz::bayes::mcmc::{ChainConfig, SghmcParams, StepSchedule, sghmc, sgld};
use helmholtz::bayes::mixture::ToyMixture;
use helmholtz::bayes::model::{Samples, mean_std};
use helmholtz::bayes::svi::{SviConfig, svi};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// `∫ f` on `[lo, hi]` by the composite Simpson rule.
fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let n = 20_000;
    let h = (hi - lo) / n as f64;
    let mut s = f(lo) + f(hi);
    for i in 1..n {
        s += f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn log_probs_match_closed_forms() {
    let n = Normal::new(0.0, 1.0).expect("normal");
    assert!(close(n.log_prob(0.0), -0.918_938_533_204_672_8, 1e-14));
    assert!(close(n.log_prob(1.0), -1.418_938_533_204_673, 1e-14));
    let n2 = Normal::new(1.0, 2.0).expect("normal");
    assert!(close(
        n2.log_prob(3.0),
        -0.5 - 2f64.ln() - 0.918_938_533_204_672_8,
        1e-14
    ));
    // Each density integrates to 1.
    assert!(close(
        integrate(|x| n2.log_prob(x).exp(), -20.0, 22.0),
        1.0,
        1e-9
    ));
    let ln = LogNormal::new(0.3, 0.5).expect("lognormal");
    assert!(close(
        integrate(|x| ln.log_prob(x).exp(), 1e-9, 40.0),
        1.0,
        1e-7
    ));
    assert!(close(
        integrate(|x| x * ln.log_prob(x).exp(), 1e-9, 40.0),
        ln.mean(),
        1e-7
    ));
    let u = Uniform::new(0.0, 10.0).expect("uniform");
    assert!(close(u.log_prob(3.0), -(10f64.ln()), 1e-15));
    assert_eq!(u.log_prob(-0.1), f64::NEG_INFINITY);
    let b = Bernoulli::from_prob(0.2).expect("bernoulli");
    assert!(close(b.log_prob(1), 0.2f64.ln(), 1e-14) && close(b.log_prob(0), 0.8f64.ln(), 1e-14));
    // From logits it stays exact far in the tails: ln sigmoid(-40) = -40 - ln(1 + e^-40).
    assert!(close(
        Bernoulli::from_logit(-40.0).log_prob(1),
        -40.0,
        1e-12
    ));
    let c = Categorical::from_probs(&[0.1, 0.2, 0.7]).expect("categorical");
    assert!(close(c.log_prob(2), 0.7f64.ln(), 1e-14));
    assert!(close(
        c.entropy(),
        -(0.1 * 0.1f64.ln() + 0.2 * 0.2f64.ln() + 0.7 * 0.7f64.ln()),
        1e-14
    ));
}

#[test]
fn kl_divergences_match_closed_forms_and_quadrature() {
    let (p, q) = (
        Normal::new(0.0, 1.0).expect("p"),
        Normal::new(1.0, 2.0).expect("q"),
    );
    // ln 2 + (1 + 1)/8 - 1/2.
    assert!(close(p.kl(&q), 2f64.ln() + 0.25 - 0.5, 1e-14));
    let quad = integrate(
        |x| p.log_prob(x).exp() * (p.log_prob(x) - q.log_prob(x)),
        -30.0,
        30.0,
    );
    assert!(close(p.kl(&q), quad, 1e-9), "{quad}");
    assert!(close(p.kl(&p), 0.0, 1e-15));
    let (lp, lq) = (
        LogNormal::new(0.0, 0.5).expect("lp"),
        LogNormal::new(0.5, 1.0).expect("lq"),
    );
    let quad = integrate(
        |x| lp.log_prob(x).exp() * (lp.log_prob(x) - lq.log_prob(x)),
        1e-9,
        60.0,
    );
    assert!(close(lp.kl(&lq), quad, 1e-6), "{} vs {quad}", lp.kl(&lq));
    let (up, uq) = (
        Uniform::new(1.0, 3.0).expect("up"),
        Uniform::new(0.0, 10.0).expect("uq"),
    );
    assert!(close(up.kl(&uq), 5f64.ln(), 1e-15));
    assert_eq!(uq.kl(&up), f64::INFINITY);
    let (bp, bq) = (
        Bernoulli::from_prob(0.3).expect("bp"),
        Bernoulli::from_prob(0.6).expect("bq"),
    );
    let direct = 0.3 * (0.3f64 / 0.6).ln() + 0.7 * (0.7f64 / 0.4).ln();
    assert!(close(bp.kl(&bq), direct, 1e-14));
    let (cp, cq) = (
        Categorical::from_probs(&[0.5, 0.25, 0.25]).expect("cp"),
        Categorical::from_probs(&[0.2, 0.3, 0.5]).expect("cq"),
    );
    let direct =
        0.5 * (0.5f64 / 0.2).ln() + 0.25 * (0.25f64 / 0.3).ln() + 0.25 * (0.25f64 / 0.5).ln();
    assert!(close(cp.kl(&cq).expect("kl"), direct, 1e-14));
}

#[test]
fn samplers_have_the_right_moments() {
    let mut rng = StdRng::seed_from_u64(1);
    let n = 200_000;
    let check = |name: &str, draws: Vec<f64>, mean: f64, var: f64| {
        let (m, s) = mean_std(&draws);
        // Mean within 4 standard errors; variance within 2%.
        assert!(
            (m - mean).abs() < 4.0 * (var / n as f64).sqrt(),
            "{name}: mean {m} vs {mean}"
        );
        assert!(
            (s * s / var - 1.0).abs() < 0.02,
            "{name}: var {} vs {var}",
            s * s
        );
    };
    let d = Normal::new(1.0, 2.0).expect("n");
    check(
        "normal",
        (0..n).map(|_| d.sample(&mut rng)).collect(),
        1.0,
        4.0,
    );
    let d = LogNormal::new(0.0, 0.5).expect("ln");
    check(
        "lognormal",
        (0..n).map(|_| d.sample(&mut rng)).collect(),
        d.mean(),
        d.variance(),
    );
    let d = Uniform::new(-1.0, 3.0).expect("u");
    check(
        "uniform",
        (0..n).map(|_| d.sample(&mut rng)).collect(),
        1.0,
        16.0 / 12.0,
    );
    let d = Bernoulli::from_prob(0.3).expect("b");
    check(
        "bernoulli",
        (0..n).map(|_| f64::from(d.sample(&mut rng))).collect(),
        0.3,
        0.21,
    );
    let d = Categorical::from_probs(&[0.2, 0.5, 0.3]).expect("c");
    // E[k] = 0.5 + 0.6 = 1.1, E[k^2] = 0.5 + 1.2 = 1.7.
    check(
        "categorical",
        (0..n).map(|_| d.sample(&mut rng) as f64).collect(),
        1.1,
        1.7 - 1.21,
    );
}

/// The seed's data with the noise known (σ = 0.5): the posterior of (slope, intercept) is exact.
fn conjugate() -> BayesLinear {
    let mut model = BayesLinear::seed_example(&mut StdRng::seed_from_u64(42));
    model.noise = Noise::Known(0.5);
    model
}

fn compare(name: &str, samples: &Samples, model: &BayesLinear, std_tol: f64) {
    let exact = model.exact_posterior().expect("exact");
    let sd = exact.std();
    for (j, s) in samples.summaries().iter().enumerate() {
        assert!(
            (s.mean - exact.mean[j]).abs() < 0.05,
            "{name} {}: mean {} vs {}",
            s.name,
            s.mean,
            exact.mean[j]
        );
        assert!(
            (s.std / sd[j] - 1.0).abs() < std_tol,
            "{name} {}: std {} vs {}",
            s.name,
            s.std,
            sd[j]
        );
    }
}

#[test]
fn svi_matches_the_conjugate_posterior() {
    let model = conjugate();
    // Adam's second-moment memory makes the scales converge slowly from the initial 0.1: run
    // longer than the seed and decay the learning rate to damp the final jitter.
    let cfg = SviConfig {
        steps: 20_000,
        particles: 4,
        lr_final: Some(0.001),
        ..SviConfig::default()
    };
    let mut rng = StdRng::seed_from_u64(7);
    let fit = svi(&model, &cfg, &mut rng, &mut |_, _| {}).expect("svi");
    // The guide itself: its locations and scales, not a Monte-Carlo summary of them.
    let exact = model.exact_posterior().expect("exact");
    for j in 0..2 {
        let (m, s) = (fit.guide.loc[j], fit.guide.log_scale[j].exp());
        assert!(
            (m - exact.mean[j]).abs() < 0.05,
            "mean {j}: {m} vs {}",
            exact.mean[j]
        );
        let sd = exact.std()[j];
        assert!((s / sd - 1.0).abs() < 0.10, "std {j}: {s} vs {sd}");
    }
    compare(
        "svi draws",
        &fit.guide.sample(20_000, &mut rng),
        &model,
        0.10,
    );
}

#[test]
fn sgld_and_sghmc_match_the_conjugate_posterior() {
    let model = conjugate();
    let chain = ChainConfig {
        steps: 60_000,
        burn_in: 5_000,
        thin: 5,
        batch_size: Some(20),
    };
    let schedule = StepSchedule {
        a: 2e-5,
        b: 1.0,
        gamma: 0.0,
    };
    let s = sgld(&model, schedule, &chain, &mut StdRng::seed_from_u64(8)).expect("sgld");
    compare("sgld", &s, &model, 0.20);
    let p = SghmcParams {
        lr: 2e-5,
        friction: 0.1,
    };
    let s = sghmc(&model, p, &chain, &mut StdRng::seed_from_u64(9)).expect("sghmc");
    compare("sghmc", &s, &model, 0.20);
}

#[test]
fn sgld_visits_both_modes_of_the_toy_mixture() {
    // Welling & Teh's Figure 1: modes near (0, 1) and (1, -1); batch size 1 as in the paper.
    let model = ToyMixture::generate(100, &mut StdRng::seed_from_u64(3));
    let chain = ChainConfig {
        steps: 200_000,
        burn_in: 1000,
        thin: 10,
        batch_size: Some(1),
    };
    let schedule = StepSchedule {
        a: 0.01,
        b: 1.0,
        gamma: 0.2,
    };
    let s = sgld(&model, schedule, &chain, &mut StdRng::seed_from_u64(4)).expect("sgld");
    let near = |a: f64, b: f64| {
        (0..s.len())
            .filter(|&i| {
                let r = s.row(i);
                (r[0] - a).powi(2) + (r[1] - b).powi(2) < 0.25
            })
            .count() as f64
            / s.len() as f64
    };
    let (m1, m2) = (near(0.0, 1.0), near(1.0, -1.0));
    assert!(m1 > 0.1 && m2 > 0.1, "mode fractions {m1}, {m2}");
}

#[test]
fn seed_example_recovers_the_line() {
    let mut rng = StdRng::seed_from_u64(42);
    let model = BayesLinear::seed_example(&mut rng);
    let fit = svi(&model, &SviConfig::default(), &mut rng, &mut |_, _| {}).expect("svi");
    let s = fit.guide.sample(1000, &mut rng).summaries();
    assert!((s[0].mean - 3.0).abs() < 0.05, "slope {:?}", s[0]);
    assert!((s[1].mean - 2.0).abs() < 0.2, "intercept {:?}", s[1]);
    assert!((s[2].mean - 0.5).abs() < 0.1, "sigma {:?}", s[2]);
}

#[test]
fn normal_cdf_and_predictive_quantiles_match_published_values() {
    use helmholtz::bayes::distributions::standard_normal_cdf;
    use helmholtz::bayes::predictive::RegressionDraws;
    // Φ from tables (Abramowitz & Stegun 26.2).
    assert!(close(standard_normal_cdf(0.0), 0.5, 1e-7));
    assert!(close(
        standard_normal_cdf(1.96),
        0.975_002_104_851_779_5,
        2e-7
    ));
    assert!(close(
        standard_normal_cdf(-1.0),
        0.158_655_253_931_457_05,
        2e-7
    ));
    assert!(close(
        standard_normal_cdf(3.0),
        0.998_650_101_968_369_9,
        2e-7
    ));
    // One draw f = 1, σ = 2: the predictive is N(1, 4).
    let one = RegressionDraws {
        n: 1,
        f: vec![1.0],
        sigma: vec![2.0],
    };
    assert!(close(
        one.y_quantile(0, 0.975),
        1.0 + 2.0 * 1.959_963_984_540_054,
        1e-5
    ));
    assert!(close(
        one.y_quantile(0, 0.025),
        1.0 - 2.0 * 1.959_963_984_540_054,
        1e-5
    ));
    let n = Normal::new(1.0, 2.0).expect("normal");
    assert!(close(one.log_likelihood(0, 2.5), n.log_prob(2.5), 1e-12));
    // Two equal-weight draws at ±3 with σ = 1: the mixture's median is 0 by symmetry, and
    // ln p(0) = ln N(0; 3, 1).
    let two = RegressionDraws {
        n: 1,
        f: vec![-3.0, 3.0],
        sigma: vec![1.0, 1.0],
    };
    assert!(close(two.y_quantile(0, 0.5), 0.0, 1e-6));
    let m = Normal::new(3.0, 1.0).expect("normal");
    assert!(close(two.log_likelihood(0, 0.0), m.log_prob(0.0), 1e-12));
    let metrics = two.metrics(&[0.0]);
    assert!(close(metrics.rmse, 0.0, 1e-12) && close(metrics.coverage_95, 1.0, 0.0));
}

#[test]
fn calibration_error_of_known_predictions() {
    use helmholtz::bayes::predictive::class_metrics;
    use helmholtz::eval::calibration::expected_calibration_error;
    // Four predictions: confidences 0.9, 0.9 (one right, one wrong) in bin (0.8, 0.9], and
    // 0.6, 0.6 (both right) in bin (0.5, 0.6]. ECE = 2/4 |0.5 - 0.9| + 2/4 |1 - 0.6| = 0.4.
    let probs = [0.9, 0.1, 0.1, 0.9, 0.6, 0.4, 0.4, 0.6];
    let labels = [0, 0, 0, 1];
    assert!(close(
        expected_calibration_error(&probs, 2, &labels, 10),
        0.4,
        1e-12
    ));
    let m = class_metrics(&probs, 2, &labels);
    assert!(close(m.accuracy, 0.75, 1e-12));
    let ll = (0.9f64.ln() + 0.1f64.ln() + 0.6f64.ln() + 0.6f64.ln()) / 4.0;
    assert!(close(m.test_log_likelihood, ll, 1e-12));
    // Perfectly confident and right: no calibration error.
    assert!(close(
        expected_calibration_error(&[1.0, 0.0], 2, &[0], 10),
        0.0,
        0.0
    ));
}

#[test]
fn network_log_joint_gradient_matches_finite_differences() {
    use helmholtz::bayes::mlp::MlpRegression;
    use helmholtz::bayes::model::LogJoint;
    let mut rng = StdRng::seed_from_u64(3);
    let x: Vec<f64> = (0..40).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
    let y: Vec<f64> = x.chunks(2).map(|r| r[0] * r[1] + 0.5).collect();
    let model = MlpRegression::new(&x, &y, 2, 5, &mut rng).expect("model");
    let p = model.params().len();
    let theta: Vec<f64> = (0..p)
        .map(|j| {
            if j + 1 == p {
                0.7
            } else {
                ((j * 7 + 3) as f64).sin() * 0.8
            }
        })
        .collect();
    let mut grad = vec![0.0; p];
    let batch = [1usize, 4, 7, 19];
    model.log_joint(&theta, Some(&batch), &mut grad);
    let mut scratch = vec![0.0; p];
    for j in 0..p {
        let h = 1e-6;
        let (mut up, mut down) = (theta.clone(), theta.clone());
        up[j] += h;
        down[j] -= h;
        let fd = (model.log_joint(&up, Some(&batch), &mut scratch)
            - model.log_joint(&down, Some(&batch), &mut scratch))
            / (2.0 * h);
        assert!(
            (fd - grad[j]).abs() <= 1e-5 * (1.0 + fd.abs()),
            "parameter {j}: analytic {} vs finite difference {fd}",
            grad[j]
        );
    }
}

#[test]
fn bbb_linear_model_matches_the_conjugate_posterior() {
    use helmholtz::api::Trainable;
    use helmholtz::bayes::params::{BnnData, BnnParams, Method};
    use helmholtz::bayes::run::{BnnTask, Posterior, RegressionData};
    // The seed's data and priors (w ~ N(0, 1), b ~ N(0, 10²)); σ is learned, so compare
    // against the closed form at the true σ = 0.5.
    let mut model = BayesLinear::seed_example(&mut StdRng::seed_from_u64(5));
    let task = BnnTask::Regression(RegressionData {
        columns: vec!["x".into()],
        train_x: model.x.clone(),
        train_y: model.y.clone(),
        test_x: Vec::new(),
        test_y: Vec::new(),
    });
    let posterior = BnnParams::for_data(&BnnData::Seed, Method::Bbb)
        .epochs(2000)
        .seed(11)
        .fit(&task)
        .expect("fit");
    let Posterior::Mlp(mlp) = posterior else {
        panic!("Bayes by Backprop returns a network");
    };
    let s = mlp
        .linear_samples(20_000, &mut StdRng::seed_from_u64(6))
        .expect("linear")
        .summaries();
    model.noise = Noise::Known(0.5);
    let exact = model.exact_posterior().expect("exact");
    for (j, name) in ["slope", "intercept"].iter().enumerate() {
        assert_eq!(s[j].name, *name);
        assert!(
            close(s[j].mean, exact.mean[j], 0.05),
            "{name}: {:?} vs {}",
            s[j],
            exact.mean[j]
        );
        let ratio = s[j].std / exact.std()[j];
        assert!((0.8..1.2).contains(&ratio), "{name} std ratio {ratio}");
    }
    assert!(close(s[2].mean, 0.5, 0.1), "sigma {:?}", s[2]);
}

#[test]
fn network_posterior_is_wider_in_the_gap_and_calibrated() {
    use helmholtz::bayes::params::{BnnData, BnnRunConfig, Method};
    use helmholtz::bayes::run::{Bnn, gap_example, open_run};
    use helmholtz::run::{self, RunOptions};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = BnnRunConfig::new(BnnData::Gap, Method::Sghmc);
    cfg.params.chain.steps = 30_000;
    cfg.params.chain.burn_in = 10_000;
    let summary = run::train::<Bnn>(cfg, Some(&dir.path().join("gap")), &RunOptions::default())
        .expect("train");
    let eval = summary
        .eval
        .expect("evaluation")
        .held_out
        .expect("held-out metrics");
    assert!(
        eval.coverage_95.is_some_and(|c| (0.90..=0.99).contains(&c)),
        "held-out 95% coverage {:?}",
        eval.coverage_95
    );
    let (_, _, _, posterior) = open_run(&dir.path().join("gap")).expect("open");
    let width = |xs: &[f64]| {
        let draws = posterior
            .regression_draws(xs, 100, &mut StdRng::seed_from_u64(0))
            .expect("draws");
        let band = draws.band(xs);
        band.iter().map(|p| p.upper - p.lower).sum::<f64>() / band.len() as f64
    };
    let (train_x, _) = gap_example(200, &mut StdRng::seed_from_u64(1));
    let gap: Vec<f64> = (0..21).map(|i| -0.5 + i as f64 * 0.05).collect();
    let (on_data, in_gap) = (width(&train_x), width(&gap));
    assert!(
        in_gap > 2.0 * on_data,
        "95% band of f: {in_gap} in the gap vs {on_data} on the data"
    );
}

/// Stop + resume and Ctrl-C + resume give the uninterrupted run's tensors, for every method:
/// the guide and Adam's moments (SVI), the chain's state, momentum and kept draws (SGLD,
/// SGHMC), the network and Adam's state (BBB, with a last epoch of fewer steps for the step
/// methods).
#[test]
fn every_method_resumes_bit_for_bit() -> helmholtz::Result<()> {
    use helmholtz::bayes::params::{BnnData, BnnRunConfig, Method};
    use helmholtz::bayes::run::Bnn;
    let mut svi = BnnRunConfig::new(BnnData::Seed, Method::Svi);
    svi.params.svi.steps = 350;
    svi.params.svi.batch_size = Some(30);
    common::check_resume::<Bnn>(svi, 2, 150)?;
    for method in [Method::Sgld, Method::Sghmc] {
        let mut chain = BnnRunConfig::new(BnnData::Gap, method);
        chain.params.chain.steps = 3500;
        chain.params.chain.burn_in = 1000;
        chain.params.chain.batch_size = Some(50);
        common::check_resume::<Bnn>(chain, 2, 1500)?;
    }
    let mut bbb = BnnRunConfig::new(BnnData::Gap, Method::Bbb);
    bbb.params.hidden = vec![8];
    bbb.params.train.epochs = 4;
    bbb.params.train.batch_size = 50;
    common::check_resume::<Bnn>(bbb.clone(), 2, 7)?;
    bbb.params.bbb.local_reparam = false;
    common::check_resume::<Bnn>(bbb, 1, 5)
}

/// The host kit's Bayes by Backprop step is burn autodiff's, given the same noise streams:
/// weight sampling and local reparameterisation, Gaussian and scale-mixture priors, three
/// steps of a 12-9-7-3 classifier, every parameter within 1e-4.
#[test]
fn bbb_host_engine_steps_like_burn_autodiff() -> helmholtz::Result<()> {
    use helmholtz::bayes::bbb::{Activation, BbbConfig, BbbTrainer, Prior, Targets};
    use helmholtz::kernels::runtime::DeviceKind;
    use helmholtz::nn::Engine;
    let (n, d) = (40, 12);
    let mut rng = StdRng::seed_from_u64(3);
    let x: Vec<f32> = (0..n * d).map(|_| rng.random::<f32>()).collect();
    let y: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
    let device = DeviceKind::Cpu.device(0)?;
    for local_reparam in [true, false] {
        for prior in [Prior::Gaussian { sigma: 0.7 }, Prior::blundell()] {
            let config = BbbConfig {
                activation: if local_reparam {
                    Activation::Relu
                } else {
                    Activation::Tanh
                },
                weight_prior: prior,
                bias_prior: prior,
                local_reparam,
                init_std: 0.05,
                ..BbbConfig::classifier(d, vec![9, 7], 3)
            };
            let train = |engine| -> helmholtz::Result<Vec<(String, Vec<f32>)>> {
                let mut t = BbbTrainer::new(
                    config.clone(),
                    &x,
                    Targets::Classes(y.clone()),
                    &device,
                    5,
                    engine,
                )?;
                assert_eq!(t.on_host(), engine == Engine::Auto);
                let mut step_rng = StdRng::seed_from_u64(9);
                for s in 0..3 {
                    let idx: Vec<usize> = (s * 10..s * 10 + 16).collect();
                    t.step(&idx, 0.01, &mut step_rng)?;
                }
                Ok(t.model()
                    .to_file()?
                    .tensors
                    .into_iter()
                    .map(|(k, b)| (k, b.data))
                    .collect())
            };
            let (host, reference) = (train(Engine::Auto)?, train(Engine::Tensor)?);
            assert_eq!(host.len(), reference.len());
            // The steps moved every parameter tensor (so agreeing means something).
            let start = BbbTrainer::new(
                config.clone(),
                &x,
                Targets::Classes(y.clone()),
                &device,
                5,
                Engine::Tensor,
            )?
            .model()
            .to_file()?;
            for (name, a) in &host {
                let moved = a
                    .iter()
                    .zip(&start.tensors[name].data)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(moved > 1e-3, "{name} did not move ({moved})");
            }
            for ((name, a), (_, b)) in host.iter().zip(&reference) {
                let worst = a
                    .iter()
                    .zip(b)
                    .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
                    .fold(0f32, f32::max);
                assert!(
                    worst < 1e-4,
                    "{name} (local {local_reparam}, {prior:?}): differs by {worst}"
                );
            }
        }
    }
    Ok(())
}

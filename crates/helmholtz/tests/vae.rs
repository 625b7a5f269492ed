//! VAE numbers checked against closed forms, Monte-Carlo estimates and finite differences;
//! the importance-weighted bound against the ELBO; runs against themselves (determinism, resume).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::prelude::*;
use burn::tensor::TensorData;
use helmholtz::api::Persist;
use helmholtz::data::{Binarize, DataConfig, DataSource, TableOptions};
use helmholtz::io::TensorFile;
use helmholtz::latent::vae::{
    self, EvalRequest, Latent, Likelihood, Sampling, Vae, VaeConfig, VaeRunConfig, bce_with_logits,
    elbo, elbo_per_example, iw_bound, kl_standard_normal, reparameterize, standard_normal,
};
use helmholtz::run::{self, EvalTarget, RunOptions};
use helmholtz::train::Silent;
use helmholtz::{Error, Result};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn device() -> Device {
    Device::flex()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    helmholtz::kernels::ops::to_f64_vec(t)
}

fn mean_sem(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn bce_from_logits_equals_the_naive_formula_and_stays_finite() {
    let d = device();
    let logits: Vec<f32> = (-40..=40).map(|i| i as f32 * 0.5).collect();
    for x in [0.0f32, 0.3, 1.0] {
        let n = logits.len();
        let xs = Tensor::<2>::from_data(TensorData::new(vec![x; n], [1, n]), &d);
        let ls = Tensor::<2>::from_data(TensorData::new(logits.clone(), [1, n]), &d);
        let got = values(bce_with_logits(xs, ls));
        for (l, g) in logits.iter().zip(&got) {
            // The naive -x log s - (1 - x) log(1 - s), s = sigmoid(l), in f64.
            let s = 1.0 / (1.0 + (-*l as f64).exp());
            let naive = -(x as f64) * s.ln() - (1.0 - x as f64) * (1.0 - s).ln();
            if naive.is_finite() {
                assert!(
                    (g - naive).abs() <= 1e-5 * naive.abs().max(1.0),
                    "x {x}, l {l}: {g} vs {naive}"
                );
            }
        }
    }
    // |l| = 100: sigmoid rounds to 0 or 1 in f32, the naive formula gives inf or NaN; the
    // softplus form gives softplus(l) - x l exactly: 100, 0, 100, 0 and 0.3 * 100 + ... .
    let xs = Tensor::<2>::from_data([[0.0f32, 1.0, 1.0, 0.0, 0.3]], &d);
    let ls = Tensor::<2>::from_data([[100.0f32, 100.0, -100.0, -100.0, -100.0]], &d);
    let got = values(bce_with_logits(xs, ls));
    let want = [100.0, 0.0, 100.0, 0.0, 30.0];
    for (g, w) in got.iter().zip(want) {
        assert!(g.is_finite() && (g - w).abs() < 1e-4, "{got:?}");
    }
}

#[test]
fn analytic_kl_matches_a_monte_carlo_estimate() {
    // KL(q || p) = E_q[log q(z) - log p(z)], estimated from 200,000 reparameterised draws:
    // log q(z) - log p(z) = sum_j -eps_j^2/2 - log_var_j/2 + z_j^2/2 (2 pi cancels).
    let d = device();
    let (mu, lv) = ([0.5f32, -1.0, 2.0], [0.0f32, -1.0, 0.7]);
    let n = 200_000;
    let mut rng = StdRng::seed_from_u64(11);
    let eps = standard_normal([n, 3], &d, &mut rng);
    let mu_t = Tensor::<2>::from_data(TensorData::new(mu.repeat(n), [n, 3]), &d);
    let lv_t = Tensor::<2>::from_data(TensorData::new(lv.repeat(n), [n, 3]), &d);
    let z = values(reparameterize(mu_t, lv_t, eps.clone()));
    let e = values(eps);
    let samples: Vec<f64> = z
        .chunks_exact(3)
        .zip(e.chunks_exact(3))
        .map(|(z, e)| {
            (0..3)
                .map(|j| 0.5 * (z[j] * z[j] - e[j] * e[j] - lv[j] as f64))
                .sum()
        })
        .collect();
    let (mc, sem) = mean_sem(&samples);
    let analytic = values(kl_standard_normal(
        Tensor::<2>::from_data([mu], &d),
        Tensor::<2>::from_data([lv], &d),
    ))[0];
    // Closed form by hand: 1/2 sum (mu^2 + exp(lv) - 1 - lv) = 3.3137...
    let by_hand: f64 = (0..3)
        .map(|j| 0.5 * ((mu[j] as f64).powi(2) + (lv[j] as f64).exp() - 1.0 - lv[j] as f64))
        .sum();
    assert!((analytic - by_hand).abs() < 1e-5, "{analytic} vs {by_hand}");
    assert!(
        (analytic - mc).abs() < 3.0 * sem,
        "analytic {analytic}, MC {mc} ± {sem}"
    );
}

#[test]
fn reparameterised_gradient_matches_finite_differences() {
    // f(z) = z^2 with z ~ N(mu, sigma^2): E f = mu^2 + sigma^2, so dE/dmu = 2 mu and
    // dE/dsigma = 2 sigma. The pathwise gradient of the Monte-Carlo estimate must agree (a) with
    // a central finite difference of that same estimate (common random numbers), to rounding,
    // and (b) with the closed form, within 3 standard errors of the estimator.
    let d = device();
    let (mu, sigma, n) = (0.7f32, 1.3f32, 100_000);
    let mut rng = StdRng::seed_from_u64(5);
    let eps = standard_normal([n, 1], &d, &mut rng);
    let estimate = |mu_leaf: Tensor<2>, sigma_leaf: Tensor<2>| -> Tensor<1> {
        let log_var = sigma_leaf.log().mul_scalar(2.0).repeat_dim(0, n);
        reparameterize(mu_leaf.repeat_dim(0, n), log_var, eps.clone())
            .square()
            .mean()
    };
    let leaf = |v: f32| Tensor::<2>::from_data([[v]], &d).autodiff().require_grad();
    let (m, s) = (leaf(mu), leaf(sigma));
    let grads = estimate(m.clone(), s.clone()).backward();
    let g_mu = values(m.grad(&grads).expect("grad mu"))[0];
    let g_sigma = values(s.grad(&grads).expect("grad sigma"))[0];

    let plain = |v: f32| Tensor::<2>::from_data([[v]], &d);
    let at = |mu: f32, sigma: f32| values(estimate(plain(mu), plain(sigma)))[0];
    let h = 1e-2f32;
    let fd_mu = (at(mu + h, sigma) - at(mu - h, sigma)) / (2.0 * h as f64);
    let fd_sigma = (at(mu, sigma + h) - at(mu, sigma - h)) / (2.0 * h as f64);
    assert!(
        (g_mu - fd_mu).abs() < 2e-3 * fd_mu.abs(),
        "d/dmu {g_mu} vs FD {fd_mu}"
    );
    assert!(
        (g_sigma - fd_sigma).abs() < 2e-3 * fd_sigma.abs(),
        "d/dsigma {g_sigma} vs FD {fd_sigma}"
    );

    // Per-sample pathwise gradients 2z and 2 z eps give the estimator's standard errors.
    let e = values(eps);
    let z: Vec<f64> = e.iter().map(|e| mu as f64 + sigma as f64 * e).collect();
    let (_, se_mu) = mean_sem(&z.iter().map(|z| 2.0 * z).collect::<Vec<_>>());
    let (_, se_sigma) = mean_sem(
        &z.iter()
            .zip(&e)
            .map(|(z, e)| 2.0 * z * e)
            .collect::<Vec<_>>(),
    );
    assert!(
        (g_mu - 2.0 * mu as f64).abs() < 3.0 * se_mu,
        "{g_mu} vs {}",
        2.0 * mu
    );
    assert!(
        (g_sigma - 2.0 * sigma as f64).abs() < 3.0 * se_sigma,
        "{g_sigma} vs {}",
        2.0 * sigma
    );
}

#[test]
fn gaussian_decoder_log_likelihood_is_the_normal_density() -> Result<()> {
    let d = device();
    let cfg = VaeConfig {
        input: 3,
        hidden: vec![4],
        likelihood: Likelihood::Gaussian,
        ..VaeConfig::new(3)
    };
    // A fresh model has log sigma = 0: log p = sum_j -(x_j - m_j)^2 / 2 - log(2 pi) / 2.
    let vae = Vae::new(cfg, &d, &mut StdRng::seed_from_u64(0))?;
    let x = Tensor::<2>::from_data([[0.5f32, -1.0, 2.0]], &d);
    let m = Tensor::<2>::from_data([[0.0f32, 0.0, 1.0]], &d);
    let got = values(vae.log_likelihood(x, m))[0];
    let want = -(0.25 + 1.0 + 1.0) / 2.0 - 1.5 * (2.0 * std::f64::consts::PI).ln();
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    Ok(())
}

#[test]
fn safetensors_layout_names_and_shapes() -> Result<()> {
    let cfg = VaeConfig {
        hidden: vec![16, 8],
        latent: Latent::Gaussian { dim: 3 },
        likelihood: Likelihood::Gaussian,
        ..VaeConfig::new(6)
    };
    let vae = Vae::new(cfg.clone(), &device(), &mut StdRng::seed_from_u64(0))?;
    let file = vae.to_file();
    let shapes: Vec<(&str, Vec<usize>)> = file
        .tensors
        .iter()
        .map(|(k, b)| (k.as_str(), b.shape.clone()))
        .collect();
    let want: Vec<(&str, Vec<usize>)> = vec![
        ("decoder.0.bias", vec![8]),
        ("decoder.0.weight", vec![3, 8]),
        ("decoder.1.bias", vec![16]),
        ("decoder.1.weight", vec![8, 16]),
        ("decoder.log_sigma", vec![6]),
        ("decoder.out.bias", vec![6]),
        ("decoder.out.weight", vec![16, 6]),
        ("encoder.0.bias", vec![16]),
        ("encoder.0.weight", vec![6, 16]),
        ("encoder.1.bias", vec![8]),
        ("encoder.1.weight", vec![16, 8]),
        ("encoder.log_var.bias", vec![3]),
        ("encoder.log_var.weight", vec![8, 3]),
        ("encoder.mu.bias", vec![3]),
        ("encoder.mu.weight", vec![8, 3]),
    ];
    assert_eq!(shapes, want);
    assert_eq!(
        vae.num_parameters(),
        want.iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum::<usize>()
    );
    // Round trip, and a wrong architecture is a shape error naming the tensor.
    let path = Path::new("model.safetensors");
    let back = Vae::from_file(cfg.clone(), &file, &device(), path)?;
    assert_eq!(back.to_file(), file);
    let wider = VaeConfig {
        hidden: vec![17, 8],
        ..cfg
    };
    let e = Vae::from_file(wider, &file, &device(), path).expect_err("shape mismatch");
    assert!(e.is_usage() && e.to_string().contains("encoder.0"), "{e}");
    Ok(())
}

fn digits(binarize: Binarize) -> DataConfig {
    DataConfig {
        source: DataSource::Digits,
        binarize,
        table: TableOptions::default(),
        train_examples: None,
    }
}

/// A small, briefly trained run: `hidden` 128, 2,000 training digits, batch 100.
fn small_config(latent: Latent, epochs: usize) -> VaeRunConfig {
    let mut cfg = VaeRunConfig::new(digits(Binarize::Threshold));
    cfg.params.model.hidden = vec![128];
    cfg.params.model.latent = latent;
    cfg.params.train.epochs = epochs;
    cfg.params.train.batch_size = 100;
    cfg.data.train_examples = Some(2000);
    cfg.eval_k = 10;
    cfg
}

fn quiet(interrupt: Option<Arc<AtomicBool>>, stop_after: Option<usize>) -> RunOptions<'static> {
    RunOptions {
        progress: &Silent,
        interrupt,
        stop_after,
        skip_eval: true,
        command_line: Vec::new(),
    }
}

fn train_small(cfg: VaeRunConfig, dir: &Path) -> Result<PathBuf> {
    Ok(run::train::<Vae>(cfg, Some(dir), &quiet(None, None))?.run_dir)
}

/// `L_1`, `L_10`, `L_100` and the ELBO on 300 test digits; checks the ordering.
fn check_iw_ordering(run: &Path) -> Result<()> {
    let (_, cfg, model) = vae::open_run(run, Default::default())?;
    let prepared = vae::prepare_data(&mut cfg.clone())?;
    let x = prepared.split.test.head(300).to_tensor(&model.device());
    let (elbo_b, _, _) = elbo_per_example(&model, &x, &mut StdRng::seed_from_u64(1));
    let mut bounds = Vec::new();
    for k in [1, 10, 100] {
        bounds.push(iw_bound(
            &model,
            &x,
            k,
            &mut StdRng::seed_from_u64(2),
            &Silent,
        )?);
    }
    // Paired differences per example and their standard errors.
    let diff = |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(x, y)| x - y).collect() };
    let (d1, s1) = mean_sem(&diff(&bounds[0].per_example, &elbo_b.per_example));
    let (d10, s10) = mean_sem(&diff(&bounds[1].per_example, &bounds[0].per_example));
    let (d100, s100) = mean_sem(&diff(&bounds[2].per_example, &bounds[1].per_example));
    // E L_1 = ELBO: equal within 3 standard errors of the paired difference.
    assert!(d1.abs() < 3.0 * s1, "L_1 - ELBO = {d1:.3} ± {s1:.3}");
    // L_k rises with k: by more than its noise.
    assert!(d10 > 3.0 * s10, "L_10 - L_1 = {d10:.3} ± {s10:.3}");
    assert!(
        d100 > 0.0 && d100 > 2.0 * s100,
        "L_100 - L_10 = {d100:.3} ± {s100:.3}"
    );
    assert!(bounds[2].mean() > elbo_b.mean());
    Ok(())
}

#[test]
fn iw_bound_rises_with_k_above_the_elbo_gaussian() -> Result<()> {
    let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let run = train_small(
        small_config(Latent::Gaussian { dim: 8 }, 3),
        &tmp.path().join("g"),
    )?;
    check_iw_ordering(&run)
}

#[test]
fn iw_bound_rises_with_k_above_the_elbo_categorical() -> Result<()> {
    let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let latent = Latent::Categorical {
        groups: 10,
        classes: 10,
    };
    let run = train_small(small_config(latent, 3), &tmp.path().join("c"))?;
    check_iw_ordering(&run)
}

#[test]
fn same_seed_same_bits_and_resume_replays_an_interrupted_run() -> Result<()> {
    let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let mut cfg = small_config(
        Latent::Categorical {
            groups: 4,
            classes: 5,
        },
        2,
    );
    cfg.params.objective.straight_through = true;
    cfg.params.objective.warmup_epochs = 1.5;
    cfg.data.train_examples = Some(600);
    let a = train_small(cfg.clone(), &tmp.path().join("a"))?;
    let b = train_small(cfg.clone(), &tmp.path().join("b"))?;
    // The same tensors and metadata, bit for bit (the files' header order may differ).
    let read = |p: &Path, f: &str| TensorFile::load(&p.join(f));
    assert!(
        read(&a, "model.safetensors")? == read(&b, "model.safetensors")?,
        "same seed, different models"
    );

    // Interrupted after the first batch (the flag is already set), then resumed.
    let c = tmp.path().join("c");
    let flag = Arc::new(AtomicBool::new(true));
    let err = run::train::<Vae>(cfg.clone(), Some(&c), &quiet(Some(flag), None))
        .expect_err("interrupted");
    assert!(
        matches!(
            err,
            Error::Interrupted {
                epoch: 1,
                batch: 1,
                ..
            }
        ),
        "{err}"
    );
    run::resume::<Vae>(&c, None, &quiet(None, None))?;
    for f in ["model.safetensors", "trainer.safetensors"] {
        assert!(read(&a, f)? == read(&c, f)?, "{f} differs after resume");
    }
    // The metrics agree too, timings aside.
    let strip = |p: &Path| -> Result<Vec<serde_json::Value>> {
        let text = std::fs::read_to_string(p.join("metrics.jsonl")).map_err(|e| Error::io(p, e))?;
        Ok(text
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.remove("seconds");
                    o.remove("update_seconds");
                }
                v
            })
            .collect())
    };
    assert_eq!(strip(&a)?, strip(&c)?);
    // Adam's moments are in the trainer file under documented names.
    let t = TensorFile::load(&a.join("trainer.safetensors"))?;
    assert_eq!(
        t.tensors["adam.moment_1.encoder.0.weight"].shape,
        vec![784, 128]
    );
    assert_eq!(t.metadata.get("adam.time").map(String::as_str), Some("12"));
    Ok(())
}

#[test]
fn the_resume_contract_holds_on_both_engines_and_latents() -> Result<()> {
    // 600 examples in batches of 100: 6 updates an epoch; stopped after epoch 1, or
    // interrupted after update 4 (mid-epoch), and resumed.
    let categorical = Latent::Categorical {
        groups: 4,
        classes: 5,
    };
    for latent in [Latent::Gaussian { dim: 4 }, categorical] {
        for engine in [vae::Engine::Auto, vae::Engine::Tensor] {
            let mut cfg = small_config(latent, 2);
            cfg.data.train_examples = Some(600);
            cfg.params.objective.engine = engine;
            cfg.params.objective.tau.rate = 0.05;
            common::check_resume::<Vae>(cfg, 1, 4)?;
        }
    }
    Ok(())
}

#[test]
fn bad_input_is_a_usage_error_naming_the_flag_or_file() -> Result<()> {
    // Latent size 0, non-positive temperature, k = 0.
    let e = "gaussian:0".parse::<Latent>().expect_err("zero latent");
    assert!(e.is_usage() && e.to_string().starts_with("latent:"), "{e}");
    let mut cfg = small_config(
        Latent::Categorical {
            groups: 2,
            classes: 3,
        },
        1,
    );
    cfg.params.objective.tau.tau0 = 0.0;
    let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let e =
        run::train::<Vae>(cfg, Some(&tmp.path().join("x")), &quiet(None, None)).expect_err("tau 0");
    assert!(e.is_usage() && e.to_string().starts_with("tau:"), "{e}");
    assert!(!tmp.path().join("x").exists());
    let d = device();
    let model = Vae::new(
        VaeConfig {
            hidden: vec![4],
            ..VaeConfig::new(3)
        },
        &d,
        &mut StdRng::seed_from_u64(0),
    )?;
    let x = Tensor::<2>::zeros([2, 3], &d);
    let e = iw_bound(&model, &x, 0, &mut StdRng::seed_from_u64(0), &Silent).expect_err("k = 0");
    assert!(e.is_usage() && e.to_string().starts_with("k:"), "{e}");

    // A run directory of another family, and data of another width than the checkpoint.
    let rbm = tmp.path().join("rbm-run");
    std::fs::create_dir_all(&rbm).map_err(|e| Error::io(&rbm, e))?;
    std::fs::write(rbm.join("config.json"), r#"{"family": "rbm"}"#)
        .map_err(|e| Error::io(&rbm, e))?;
    std::fs::write(rbm.join("model.safetensors"), b"").map_err(|e| Error::io(&rbm, e))?;
    let e = vae::evaluate_run(&rbm, &EvalRequest::default(), &Silent).expect_err("rbm run");
    assert!(e.is_usage() && e.to_string().contains("`rbm`"), "{e}");

    let mut cfg = small_config(Latent::Gaussian { dim: 2 }, 1);
    cfg.data.train_examples = Some(200);
    let run = train_small(cfg, &tmp.path().join("g"))?;
    let csv = tmp.path().join("five.csv");
    let rows: String = (0..20)
        .map(|i| format!("{},0,1,0,{}\n", i % 2, (i + 1) % 2))
        .collect();
    std::fs::write(&csv, format!("a,b,c,d,e\n{rows}")).map_err(|e| Error::io(&csv, e))?;
    let request = EvalRequest {
        target: EvalTarget {
            source: Some(DataSource::Path(csv.clone())),
            ..EvalTarget::default()
        },
        ..EvalRequest::default()
    };
    let e = vae::evaluate_run(&run, &request, &Silent).expect_err("width 5 vs 784");
    assert!(
        e.is_usage() && e.to_string().contains("five.csv") && e.to_string().contains("784"),
        "{e}"
    );
    let e = vae::evaluate_run(
        &run,
        &EvalRequest {
            k: Some(0),
            ..EvalRequest::default()
        },
        &Silent,
    )
    .expect_err("k = 0");
    assert!(e.to_string().starts_with("k:"), "{e}");
    Ok(())
}

#[test]
fn a_trained_model_beats_its_initialisation_and_draws_pictures() -> Result<()> {
    let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let cfg = small_config(Latent::Gaussian { dim: 2 }, 2);
    let run = run::train::<Vae>(
        cfg.clone(),
        Some(&tmp.path().join("m")),
        &RunOptions {
            skip_eval: false,
            ..quiet(None, None)
        },
    )?;
    let eval = run.eval.expect("evaluated");
    // A model that predicts every pixel with probability 1/2 scores 784 ln 2 = 543 nats.
    assert!(
        eval.test_nll_iw < 250.0 && eval.test_nll_iw <= -eval.test_elbo + 1.0,
        "{eval:?}"
    );
    for f in [
        "manifold.png",
        "samples.png",
        "reconstructions.png",
        "interpolation.png",
        "report.html",
    ] {
        assert!(run.run_dir.join(f).is_file(), "{f} missing");
    }
    // The untrained model's ELBO on the same test digits is far lower.
    let d = device();
    let x = vae::prepare_data(&mut cfg.clone())?
        .split
        .test
        .to_tensor(&d);
    let model = Vae::new(
        VaeConfig {
            input: 784,
            ..cfg.params.model
        },
        &d,
        &mut StdRng::seed_from_u64(0),
    )?;
    let before = values(
        elbo(&model, &x, Sampling::Hard, &mut StdRng::seed_from_u64(0))
            .elbo()
            .mean(),
    )[0];
    assert!(
        before < eval.test_elbo - 100.0,
        "untrained {before} vs trained {}",
        eval.test_elbo
    );
    Ok(())
}

#[test]
fn the_host_engine_trains_like_burns_autodiff() -> Result<()> {
    // Same model, data, seed, settings and noise; the host engine (hand-written backward and
    // Adam) and burn's autodiff round differently, and over 3 epochs the differences grow, but
    // their test ELBOs on 300 digits agree to within a few nats (each is ~+60 nats above the
    // untrained model). Step by step they agree to rounding: see the test below.
    let tmp = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let mut elbos = Vec::new();
    for engine in [vae::Engine::Auto, vae::Engine::Tensor] {
        let mut cfg = small_config(Latent::Gaussian { dim: 8 }, 3);
        cfg.params.objective.engine = engine;
        let dir = train_small(cfg, &tmp.path().join(format!("{engine:?}")))?;
        let (_, cfg, model) = vae::open_run(&dir, Default::default())?;
        let x = vae::prepare_data(&mut cfg.clone())?
            .split
            .test
            .head(300)
            .to_tensor(&model.device());
        let (bound, _, _) = elbo_per_example(&model, &x, &mut StdRng::seed_from_u64(3));
        elbos.push(bound.mean());
    }
    assert!(
        (elbos[0] - elbos[1]).abs() < 3.0,
        "host {} vs autodiff {}",
        elbos[0],
        elbos[1]
    );
    Ok(())
}

/// The parameters and per-example losses after `steps` updates of a 784-64 VAE on a batch of 64
/// digits, trained by `engine` from the same initialisation and the same generator.
fn after_steps(
    latent: Latent,
    objective: &vae::ElboConfig,
    engine: vae::Engine,
    steps: usize,
) -> Result<(TensorFile, Vec<f64>)> {
    let d = device();
    let data = vae::prepare_data(&mut small_config(latent, 1))?.split;
    let config = VaeConfig {
        input: 784,
        hidden: vec![64],
        latent,
        ..VaeConfig::new(784)
    };
    let model = Vae::new(config, &d, &mut StdRng::seed_from_u64(5))?;
    let objective = vae::ElboConfig {
        engine,
        ..objective.clone()
    };
    let pictures = vae::PictureData {
        examples: data.test.head(4),
        unstandardize: None,
    };
    let mut fit = vae::VaeFit::new(model, objective, pictures)?;
    assert_eq!(fit.uses_host_engine(), engine == vae::Engine::Auto);
    let x = data.train.head(64).to_tensor(&d);
    let mut rng = StdRng::seed_from_u64(6);
    let mut losses = Vec::new();
    for batch in 0..steps {
        let step = helmholtz::train::Step {
            epoch: 1,
            batch,
            batches: steps,
            epochs: 1,
        };
        losses.push(fit.step(x.clone(), &step, &mut rng)?);
    }
    Ok((fit.into_vae()?.to_file(), losses))
}

/// One host-engine fit against burn's autodiff: the same losses at every step and the same
/// parameters after the last, to `1e-4` (absolute, or relative where values exceed 1).
fn check_engines_agree(latent: Latent, objective: &vae::ElboConfig) -> Result<()> {
    let steps = 4;
    let (host, host_losses) = after_steps(latent, objective, vae::Engine::Auto, steps)?;
    let (tensor, tensor_losses) = after_steps(latent, objective, vae::Engine::Tensor, steps)?;
    for (a, b) in host_losses.iter().zip(&tensor_losses) {
        assert!(
            (a - b).abs() < 1e-4 * b.abs(),
            "{latent}: losses {host_losses:?} vs {tensor_losses:?}"
        );
    }
    assert_eq!(
        host.tensors.keys().collect::<Vec<_>>(),
        tensor.tensors.keys().collect::<Vec<_>>()
    );
    let mut worst = (0f32, String::new());
    for (name, a) in &host.tensors {
        let b = &tensor.tensors[name];
        assert_eq!(a.shape, b.shape, "{name}");
        for (i, (x, y)) in a.data.iter().zip(&b.data).enumerate() {
            let err = (x - y).abs() / y.abs().max(1.0);
            if err > worst.0 {
                worst = (err, format!("{name}[{i}]: host {x} vs autodiff {y}"));
            }
        }
    }
    assert!(worst.0 < 1e-4, "{latent}: {}", worst.1);
    Ok(())
}

#[test]
fn the_host_engine_takes_the_steps_of_burns_autodiff() -> Result<()> {
    // Both engines draw each step's noise from the keyed stream of one key taken from the
    // same generator, so after 4 Adam steps (lr 1e-3, parameters moving by ~4e-3) they agree
    // to rounding. KL warm-up and a fast tau schedule make beta and tau differ per step.
    let objective = vae::ElboConfig {
        warmup_epochs: 2.0,
        tau: helmholtz::latent::gumbel::TauSchedule {
            tau0: 1.0,
            tau_min: 0.3,
            rate: 0.2,
        },
        ..vae::ElboConfig::default()
    };
    check_engines_agree(Latent::Gaussian { dim: 8 }, &objective)?;
    let categorical = Latent::Categorical {
        groups: 6,
        classes: 5,
    };
    check_engines_agree(categorical, &objective)?;
    let straight_through = vae::ElboConfig {
        straight_through: true,
        ..objective
    };
    check_engines_agree(categorical, &straight_through)
}

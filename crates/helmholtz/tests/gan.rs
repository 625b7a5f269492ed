//! GAN family: the Parzen estimator, the Fréchet distance, mode-collapse detection and the
//! gradient signs of the adversarial losses, each against an independent closed form.

mod common;

use burn::prelude::*;
use helmholtz::adversarial::gan::{
    Gan, GanConfig, GanLoss, GanParams, GanRunConfig, discriminator_loss, generator_loss,
};
use helmholtz::api::{Persist, Trainable};
use helmholtz::data::{Binarize, DataConfig, DataSource, TableOptions};
use helmholtz::eval::classifier::{Classifier, class_entropy, is_collapsed, mode_coverage};
use helmholtz::eval::frechet::{frechet_distance, frechet_distance_of, symmetric_eigen};
use helmholtz::eval::parzen::{parzen_estimate, parzen_log_likelihood};
use helmholtz::io::Blob;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

fn gaussian(n: usize, d: usize, s: f64, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = Normal::new(0.0, s).expect("test setup");
    (0..n * d).map(|_| normal.sample(&mut rng) as f32).collect()
}

#[test]
fn parzen_equals_direct_log_sum_exp() {
    let d = 3;
    let samples = gaussian(7, d, 1.0, 1);
    let x = gaussian(4, d, 1.0, 2);
    let sigma = 0.7;
    let got = parzen_log_likelihood(&samples, &x, d, sigma).expect("test setup");
    for (i, g) in got.iter().enumerate() {
        // log (1/N) sum_j N(x_i; s_j, sigma^2 I), summed directly in f64.
        let p: f64 = samples
            .chunks(d)
            .map(|s| {
                let r2: f64 = (0..d)
                    .map(|k| (x[i * d + k] as f64 - s[k] as f64).powi(2))
                    .sum();
                (-r2 / (2.0 * sigma * sigma)).exp()
                    / (2.0 * std::f64::consts::PI * sigma * sigma).powf(d as f64 / 2.0)
            })
            .sum::<f64>()
            / 7.0;
        assert!((g - p.ln()).abs() < 1e-4, "example {i}: {g} vs {}", p.ln());
    }
}

#[test]
fn parzen_recovers_gaussian_log_density() {
    // Samples from N(0, s^2 I) in d = 2: the mean test log-density of N(0, s^2 I) is exactly
    // -(d/2) log(2 pi s^2) - d/2 in expectation. A Parzen window on many samples with a
    // validated sigma approaches it from below (kernel smoothing adds variance).
    let (d, s) = (2, 1.0);
    let samples = gaussian(20_000, d, s, 3);
    let validation = gaussian(1000, d, s, 4);
    let test = gaussian(2000, d, s, 5);
    let sigmas: Vec<f64> = (0..12).map(|i| 0.05 * 1.3f64.powi(i)).collect();
    let est = parzen_estimate(&samples, &validation, &test, d, &sigmas).expect("test setup");
    let exact: f64 = test
        .chunks(d)
        .map(|x| {
            let r2: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum();
            -r2 / (2.0 * s * s) - 0.5 * d as f64 * (2.0 * std::f64::consts::PI * s * s).ln()
        })
        .sum::<f64>()
        / 2000.0;
    assert!(
        (est.mean - exact).abs() < 0.05,
        "Parzen {:.4} ± {:.4} (sigma {:.3}) vs exact {exact:.4}",
        est.mean,
        est.se,
        est.sigma
    );
    assert!(est.sigma > 0.05 && est.sigma < 0.6, "sigma {}", est.sigma);
}

#[test]
fn collapsed_generator_is_flagged() {
    // A constant generator: every sample lands in one class, entropy exactly 0.
    let collapsed = [0, 0, 0, 10_000, 0, 0, 0, 0, 0, 0];
    assert!(class_entropy(&collapsed).abs() < 1e-12);
    assert!(is_collapsed(&collapsed));
    // Uniform over 10 classes: entropy ln 10, not flagged.
    let uniform = [1000; 10];
    assert!((class_entropy(&uniform) - 10f64.ln()).abs() < 1e-12);
    assert!(!is_collapsed(&uniform));
    // One class above half: flagged although the entropy is moderate.
    let mut skewed = [500; 10];
    skewed[0] = 5500;
    assert!(class_entropy(&skewed) > 0.5 * 10f64.ln());
    assert!(is_collapsed(&skewed));
}

#[test]
fn constant_generator_is_flagged_by_the_classifier() {
    // A generator whose output layer has zero weights emits the same image for every z: here
    // the first test digit. Through the in-project classifier its 2,000 samples fall into one
    // class (entropy 0, flagged), while the test images themselves cover all ten.
    let device = Device::flex();
    let split = DataConfig {
        source: DataSource::Digits,
        binarize: Binarize::None,
        table: TableOptions::default(),
        train_examples: None,
    }
    .load(0)
    .expect("test setup");
    let classifier = Classifier::train(&split.train.head(3000), &device, 1).expect("test setup");
    let config = GanConfig::new(784);
    let gan = Gan::new(config.clone(), &device, &mut StdRng::seed_from_u64(2)).expect("test setup");
    let mut file = gan.to_file();
    let last = config.generator_hidden.len();
    let target = split.test.row(0);
    // G ends in tanh on [-1, 1]; the image x = (tanh(b) + 1) / 2, so b = atanh(2x - 1).
    let bias = target
        .iter()
        .map(|&x| (2.0 * x - 1.0).clamp(-0.999, 0.999).atanh())
        .collect();
    let w_shape = vec![config.generator_hidden[last - 1], 784];
    let zeros = vec![0.0; w_shape[0] * w_shape[1]];
    file.put_blob(
        &format!("generator.{last}.weight"),
        Blob {
            shape: w_shape,
            data: zeros,
        },
    );
    file.put_blob(
        &format!("generator.{last}.bias"),
        Blob {
            shape: vec![784],
            data: bias,
        },
    );
    let collapsed =
        Gan::from_file(config, &file, &device, std::path::Path::new("test")).expect("test setup");
    let samples = collapsed.sample_values(2000, &mut StdRng::seed_from_u64(3));
    let err = samples
        .chunks(784)
        .flat_map(|s| s.iter().zip(target).map(|(a, b)| (a - b).abs()))
        .fold(0f32, f32::max);
    assert!(err < 2e-3, "not constant: {err}");
    let test = split.test.features();
    let c = mode_coverage(&classifier, &samples, test, &device);
    assert!(c.entropy < 0.01 && c.collapsed, "{c:?}");
    assert_eq!(c.max_class_fraction, 1.0);
    let real = mode_coverage(&classifier, &test[..2000 * 784], test, &device);
    assert!(
        real.entropy > 0.9 * 10f64.ln() && !real.collapsed,
        "{real:?}"
    );
    assert!(
        real.frechet_distance < 0.05 * c.frechet_distance,
        "{real:?} vs {c:?}"
    );
}

/// d loss / d logits at `logit` for a 1-element logit tensor.
fn grad_of(logit: f32, f: impl Fn(Tensor<2>) -> Tensor<1>) -> f32 {
    let device = Device::flex();
    let l = Tensor::<2>::from_data([[logit]], &device)
        .autodiff()
        .require_grad();
    let grads = f(l.clone()).backward();
    l.grad(&grads).expect("test setup").into_scalar::<f32>()
}

#[test]
fn loss_gradient_signs() {
    let device = Device::flex();
    let zero = || Tensor::<2>::from_data([[0.0f32]], &device).autodiff();
    for logit in [-3.0f32, 0.0, 2.0] {
        let sigma = 1.0 / (1.0 + (-logit as f64).exp());
        // Non-saturating: L = softplus(-l), dL/dl = -(1 - sigmoid(l)) < 0: G pushes D(G(z)) up.
        let g = grad_of(logit, |l| generator_loss(l, GanLoss::NonSaturating));
        assert!((g as f64 + (1.0 - sigma)).abs() < 1e-5, "ns {g}");
        // Minimax: L = -softplus(l), dL/dl = -sigmoid(l) < 0, vanishing as D(G(z)) -> 0.
        let g = grad_of(logit, |l| generator_loss(l, GanLoss::Minimax));
        assert!((g as f64 + sigma).abs() < 1e-5, "minimax {g}");
        // D on a real example (target 1): dL/dl = sigmoid(l) - 1 < 0 pushes the real logit up.
        let g = grad_of(logit, |l| discriminator_loss(l, zero(), 1.0));
        assert!((g as f64 - (sigma - 1.0)).abs() < 1e-5, "real {g}");
        // D on a fake: dL/dl = sigmoid(l) > 0 pushes the fake logit down.
        let g = grad_of(logit, |l| discriminator_loss(zero(), l, 1.0));
        assert!((g as f64 - sigma).abs() < 1e-5, "fake {g}");
        // One-sided smoothing (target 0.9): dL/dl = sigmoid(l) - 0.9.
        let g = grad_of(logit, |l| discriminator_loss(l, zero(), 0.9));
        assert!((g as f64 - (sigma - 0.9)).abs() < 1e-5, "smoothed {g}");
    }
    // Saturation: at a confident D (l = -6) the minimax gradient is ~400x weaker.
    let ns = grad_of(-6.0, |l| generator_loss(l, GanLoss::NonSaturating));
    let mm = grad_of(-6.0, |l| generator_loss(l, GanLoss::Minimax));
    assert!(ns.abs() > 100.0 * mm.abs());
}

#[test]
fn jacobi_eigen_decomposes() {
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
    let (mut w, _) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
    w.sort_by(f64::total_cmp);
    assert!((w[0] - 1.0).abs() < 1e-12 && (w[1] - 3.0).abs() < 1e-12);
}

#[test]
fn frechet_distance_closed_forms() {
    // Identical Gaussians: 0.
    let s = [2.0, 0.3, 0.0, 0.3, 1.0, 0.2, 0.0, 0.2, 0.5];
    let mu = [1.0, -1.0, 0.5];
    assert!(frechet_distance(&mu, &s, &mu, &s, 3).abs() < 1e-9);
    // 1-D: FD = (m1 - m2)^2 + s1^2 + s2^2 - 2 s1 s2 = (m1 - m2)^2 + (s1 - s2)^2.
    let fd = frechet_distance(&[1.0], &[4.0], &[-2.0], &[9.0], 1);
    assert!((fd - (9.0 + 1.0)).abs() < 1e-9, "{fd}");
    // Diagonal 2-D: sum of the per-axis 1-D distances.
    let fd = frechet_distance(
        &[0.0, 0.0],
        &[1.0, 0.0, 0.0, 4.0],
        &[1.0, 0.0],
        &[4.0, 0.0, 0.0, 1.0],
        2,
    );
    assert!((fd - (1.0 + 1.0 + 1.0)).abs() < 1e-9, "{fd}");
    // From samples: two draws of the same Gaussian are close.
    let a = gaussian(20_000, 4, 1.0, 7);
    let b = gaussian(20_000, 4, 1.0, 8);
    assert!(frechet_distance_of(&a, &b, 4) < 0.01);
}

#[test]
fn resumed_runs_equal_uninterrupted_runs_bit_for_bit() -> helmholtz::Result<()> {
    // 3 epochs of 4 batches (256 examples less 25 held out, batch 64): stopped after epoch 1,
    // and interrupted in epoch 2 (update 6), on the host engine with dropout.
    let params = GanParams::default()
        .generator_hidden(vec![32])
        .discriminator_hidden(vec![32])
        .noise_dim(8)
        .epochs(3)
        .seed(3);
    let data = DataConfig {
        train_examples: Some(256),
        ..DataConfig::digits()
    };
    let cfg = GanRunConfig {
        params,
        ..GanRunConfig::new(data)
    };
    common::check_resume::<Gan>(cfg, 1, 6)
}

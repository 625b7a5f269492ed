//! The Gumbel-Softmax sampler checked against the categorical distribution it relaxes.

use burn::prelude::*;
use burn::tensor::TensorData;
use helmholtz::kernels::argmax;
use helmholtz::latent::gumbel::{
    TauSchedule, gumbel_noise, gumbel_softmax, kl_to_uniform, log_prob_one_hot, one_hot_argmax,
    straight_through,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn device() -> Device {
    Device::flex()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    helmholtz::kernels::ops::to_f32_vec(t)
}

const LOGITS: [f32; 5] = [0.5, -1.0, 1.2, 0.0, -0.3];

/// `softmax(LOGITS)` in f64, computed independently of the library.
fn class_probabilities() -> Vec<f64> {
    let z: f64 = LOGITS.iter().map(|&l| (l as f64).exp()).sum();
    LOGITS.iter().map(|&l| (l as f64).exp() / z).collect()
}

/// `n` copies of LOGITS as `[n, 1, 5]`.
fn repeated(n: usize, d: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(LOGITS.repeat(n), [n, 1, 5]), d)
}

#[test]
fn argmax_frequencies_match_class_probabilities_chi_square() {
    // Gumbel-max trick: argmax of a Gumbel-Softmax sample ~ Categorical(softmax(logits)).
    let (d, n) = (device(), 20_000);
    let mut rng = StdRng::seed_from_u64(7);
    let y = gumbel_softmax(repeated(n, &d), gumbel_noise([n, 1, 5], &d, &mut rng), 1.0);
    let v = values(y);
    let mut counts = [0f64; 5];
    for row in v.chunks_exact(5) {
        counts[argmax(row)] += 1.0;
    }
    let chi2: f64 = counts
        .iter()
        .zip(class_probabilities())
        .map(|(c, p)| (c - n as f64 * p).powi(2) / (n as f64 * p))
        .sum();
    // 4 degrees of freedom: P(chi2 > 18.47) = 0.001.
    assert!(chi2 < 18.47, "chi-square {chi2:.2}, counts {counts:?}");
}

#[test]
fn samples_approach_one_hot_as_the_temperature_falls() {
    let (d, n) = (device(), 2_000);
    let mut rng = StdRng::seed_from_u64(1);
    let noise = gumbel_noise([n, 1, 5], &d, &mut rng);
    let hard = values(one_hot_argmax(&(repeated(n, &d) + noise.clone())));
    let mut previous = 0.0;
    for tau in [5.0, 1.0, 0.1, 0.01] {
        let y = values(gumbel_softmax(repeated(n, &d), noise.clone(), tau));
        let mean_max = y
            .chunks_exact(5)
            .map(|r| r.iter().cloned().fold(0f32, f32::max) as f64)
            .sum::<f64>()
            / n as f64;
        assert!(
            mean_max > previous,
            "tau {tau}: mean max {mean_max} <= {previous}"
        );
        previous = mean_max;
        // Every sample lies on the simplex.
        for r in y.chunks_exact(5) {
            assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        if tau == 0.01 {
            // At tau = 0.01 almost every sample is (numerically) the Gumbel-max one-hot vector.
            let dist = y
                .iter()
                .zip(&hard)
                .map(|(a, b)| (a - b).abs() as f64)
                .sum::<f64>()
                / n as f64;
            assert!(
                mean_max > 0.99 && dist < 0.02,
                "mean max {mean_max}, L1 to one-hot {dist}"
            );
        }
    }
}

#[test]
fn straight_through_is_exactly_one_hot_forward_with_relaxed_gradients() {
    let d = device();
    let mut rng = StdRng::seed_from_u64(3);
    let (n, g, k) = (4, 3, 5);
    let raw: Vec<f32> = (0..n * g * k)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.3)
        .collect();
    let noise = gumbel_noise([n, g, k], &d, &mut rng);
    let weights = Tensor::<3>::from_data(
        TensorData::new(
            (0..n * g * k)
                .map(|i| (i % 7) as f32 - 3.0)
                .collect::<Vec<_>>(),
            [n, g, k],
        ),
        &d,
    );
    let leaf = || {
        Tensor::<3>::from_data(TensorData::new(raw.clone(), [n, g, k]), &d)
            .autodiff()
            .require_grad()
    };

    let logits = leaf();
    let y = straight_through(gumbel_softmax(logits.clone(), noise.clone(), 0.5));
    let forward = values(y.clone().inner());
    for group in forward.chunks_exact(k) {
        assert_eq!(group.iter().filter(|&&v| v == 1.0).count(), 1, "{group:?}");
        assert_eq!(
            group.iter().filter(|&&v| v == 0.0).count(),
            k - 1,
            "{group:?}"
        );
    }
    let grad_st = values((y * weights.clone()).sum().backward_grad(&logits));

    // The backward pass is that of the relaxed sample.
    let logits = leaf();
    let soft = gumbel_softmax(logits.clone(), noise, 0.5);
    let grad_soft = values((soft * weights).sum().backward_grad(&logits));
    assert!(grad_st.iter().any(|g| g.abs() > 1e-3), "{grad_st:?}");
    for (a, b) in grad_st.iter().zip(&grad_soft) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

/// `d self / d leaf`.
trait BackwardGrad {
    fn backward_grad(self, leaf: &Tensor<3>) -> Tensor<3>;
}

impl BackwardGrad for Tensor<1> {
    fn backward_grad(self, leaf: &Tensor<3>) -> Tensor<3> {
        let grads = self.backward();
        leaf.grad(&grads).expect("the leaf requires a gradient")
    }
}

#[test]
fn kl_to_uniform_and_log_probabilities_match_direct_sums() {
    let d = device();
    let logits = Tensor::<3>::from_data(TensorData::new(LOGITS.repeat(2), [1, 2, 5]), &d);
    let p = class_probabilities();
    // KL(q || U(5)) = sum_k q_k log(5 q_k), twice (two identical groups).
    let want: f64 = 2.0 * p.iter().map(|q| q * (5.0 * q).ln()).sum::<f64>();
    let got = values(kl_to_uniform(logits.clone()))[0] as f64;
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    // log q of classes 2 and 4.
    let mut z = vec![0f32; 10];
    z[2] = 1.0;
    z[5 + 4] = 1.0;
    let z = Tensor::<3>::from_data(TensorData::new(z, [1, 2, 5]), &d);
    let got = values(log_prob_one_hot(logits, z))[0] as f64;
    assert!((got - (p[2].ln() + p[4].ln())).abs() < 1e-5);
}

#[test]
fn tau_schedule_rejects_non_positive_temperatures() {
    for (s, flag) in [
        (
            TauSchedule {
                tau0: 0.0,
                ..TauSchedule::default()
            },
            "tau:",
        ),
        (
            TauSchedule {
                tau_min: -1.0,
                ..TauSchedule::default()
            },
            "tau-min",
        ),
        (
            TauSchedule {
                rate: -1e-3,
                ..TauSchedule::default()
            },
            "anneal-rate",
        ),
        (
            TauSchedule {
                tau0: 0.1,
                tau_min: 5.0,
                ..TauSchedule::default()
            },
            "tau-min:",
        ),
    ] {
        let e = s.validate().expect_err("invalid schedule");
        assert!(e.is_usage() && e.to_string().starts_with(flag), "{e}");
    }
}

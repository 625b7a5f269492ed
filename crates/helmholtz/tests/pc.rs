//! Predictive coding against independent truths: Bogacz's tutorial model (the posterior mode as
//! the root of the stationarity condition, the error-node network's fixed point, variance
//! learning), and the hierarchical network on the embedded digits.

use helmholtz::data::{Binarize, DataConfig};
use helmholtz::nn::dense::AdamSettings;
use helmholtz::nn::mlp::Activation;
use helmholtz::predictive_coding::network::{Learning, PcNetwork, Source, Target};
use helmholtz::predictive_coding::run::complete_lower_half;
use helmholtz::predictive_coding::{Perception, VarianceLearning, learned_variance};

/// The real root of `2 φ^3 - 3 φ - 3 = 0` (the tutorial's stationarity condition with
/// `u = 2, v_p = 3, Σ_p = Σ_u = 1`), by Cardano's formula.
fn cardano_root() -> f64 {
    // φ^3 + p φ + q = 0 with p = -3/2, q = -3/2.
    let (p, q) = (-1.5f64, -1.5f64);
    let disc = (q / 2.0).powi(2) + (p / 3.0).powi(3);
    (-q / 2.0 + disc.sqrt()).cbrt() + (-q / 2.0 - disc.sqrt()).cbrt()
}

#[test]
fn the_gradient_dynamics_stop_at_the_root_of_the_stationarity_condition() {
    let m = Perception::default();
    let root = cardano_root();
    assert!((m.mode().expect("mode") - root).abs() < 1e-9);
    let tr = m.gradient_dynamics(0.01, 5.0).expect("exercise 2");
    let phi = *tr.phi.last().expect("trajectory");
    assert!((phi - root).abs() < 1e-6, "φ = {phi}, root {root}");
    assert_eq!(tr.phi[0], 3.0, "starts at the prior mean");
}

#[test]
fn the_error_node_network_reaches_the_same_point_with_the_errors_it_predicts() {
    let m = Perception::default();
    let root = cardano_root();
    let tr = m.error_network(0.01, 20.0).expect("exercise 3");
    let phi = *tr.phi.last().expect("trajectory");
    assert!((phi - root).abs() < 1e-6, "φ = {phi}, root {root}");
    // At the fixed point the nodes hold the precision-weighted prediction errors.
    let ep = *tr.eps_p.last().expect("ε_p");
    let eu = *tr.eps_u.last().expect("ε_u");
    assert!((ep - (root - 3.0)).abs() < 1e-6, "ε_p = {ep}");
    assert!((eu - (2.0 - root * root)).abs() < 1e-6, "ε_u = {eu}");
    // Five time units (the tutorial's figure) are not enough for the error nodes.
    let short = m.error_network(0.01, 5.0).expect("short");
    assert!((short.phi.last().expect("φ") - root).abs() > 1e-6);
}

#[test]
fn the_grid_posterior_is_normalised_and_peaks_at_the_mode() {
    let m = Perception::default();
    let grid = m.posterior(0.01, 5.0, 0.01).expect("exercise 1");
    let area: f64 = grid
        .windows(2)
        .map(|w| 0.5 * (w[0].1 + w[1].1) * 0.01)
        .sum();
    assert!((area - 1.0).abs() < 1e-12, "{area}");
    let peak = grid
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("grid")
        .0;
    assert!((peak - cardano_root()).abs() <= 0.005 + 1e-12, "{peak}");
}

#[test]
fn the_interneuron_rule_learns_the_generating_variance_within_five_percent() {
    let run = VarianceLearning::default();
    let curve = run.run().expect("exercise 5");
    assert_eq!(curve.len(), run.trials + 1);
    assert_eq!(curve[0], 1.0);
    let sigma = learned_variance(&curve);
    assert!((sigma - 2.0).abs() < 0.1, "Σ = {sigma}");
    // With a different generating variance it follows.
    let other = VarianceLearning {
        variance: 0.5,
        seed: 3,
        ..VarianceLearning::default()
    };
    let s = learned_variance(&other.run().expect("exercise 5"));
    assert!((s - 0.5).abs() < 0.025, "Σ = {s}");
}

/// Traced learning with inference step 0.1 and Adam's defaults.
fn how(steps: usize) -> Learning {
    Learning {
        steps,
        rate: 0.1,
        adam: AdamSettings::default(),
        trace: true,
    }
}

/// Rows `[n, 784]` of the embedded digits.
fn digits(n: usize, binarize: Binarize) -> (Vec<f32>, Vec<usize>) {
    let data = DataConfig {
        binarize,
        ..DataConfig::digits()
    }
    .load(0)
    .expect("digits");
    let x = data.train.features()[..n * 784].to_vec();
    let y = data.train.labels().expect("labels")[..n]
        .iter()
        .map(|&c| c as usize)
        .collect();
    (x, y)
}

#[test]
fn learning_lowers_the_free_energy_and_inference_never_raises_it_on_digits() {
    let (x, y) = digits(512, Binarize::None);
    let mut net = PcNetwork::new(&[784, 64, 64, 10], Activation::Tanh, 5).expect("net");
    let mut first = None;
    let mut last = 0.0;
    for epoch in 0..3 {
        for b in 0..8 {
            let (xs, ys) = (
                &x[b * 64 * 784..(b + 1) * 64 * 784],
                &y[b * 64..(b + 1) * 64],
            );
            let target = Target::Labels {
                y: ys,
                precision: 1.0,
            };
            let inf = net
                .learn(Source::Clamped(xs), target, 64, &how(20))
                .expect("learn");
            for w in inf.energies.windows(2) {
                assert!(
                    w[1] <= w[0] + 1e-6 * w[0].abs(),
                    "epoch {epoch}: {} -> {}",
                    w[0],
                    w[1]
                );
            }
            let f = *inf.energies.last().expect("energies");
            first.get_or_insert(f);
            last = f;
        }
    }
    assert!(last < 0.5 * first.expect("first"), "{first:?} -> {last}");
}

#[test]
fn the_generative_network_fills_in_only_the_hidden_half() {
    let (x, _) = digits(256, Binarize::Threshold);
    let mut net = PcNetwork::new(&[8, 32, 784], Activation::Tanh, 6).expect("net");
    for b in 0..4 {
        let xs = &x[b * 64 * 784..(b + 1) * 64 * 784];
        let target = Target::Pixels { x: xs, mask: None };
        let inf = net
            .learn(Source::Prior, target, 64, &how(30))
            .expect("learn");
        for w in inf.energies.windows(2) {
            assert!(w[1] <= w[0] + 1e-6 * w[0].abs(), "{} -> {}", w[0], w[1]);
        }
    }
    let (filled, mask) = complete_lower_half(&net, &x[..4 * 784], 4, 784, 50, 0.1).expect("fill");
    for i in 0..4 * 784 {
        if mask[i] > 0.0 {
            assert_eq!(filled[i], x[i]);
        } else {
            assert!((0.0..=1.0).contains(&filled[i]));
        }
    }
    assert!(mask.iter().filter(|&&m| m == 0.0).count() == 4 * 392);
}

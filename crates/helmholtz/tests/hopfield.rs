//! Hopfield networks: the energy is a Lyapunov function of asynchronous recall, stored
//! patterns are fixed points below capacity, the Hebbian storage capacity is Amit-Gutfreund-
//! Sompolinsky's 0.138, and the modern network's update lowers its energy.

use helmholtz::Result;
use helmholtz::energy::hopfield::{
    CapacityConfig, Hopfield, LearningRule, ModernHopfield, Threshold, UpdateOrder, capacity_curve,
    overlap,
};
use helmholtz::rng::rng_for;
use helmholtz::train::Silent;
use rand::RngExt;

/// A random symmetric network: weights N(0,1)-like, random thresholds and external input.
fn random_net(n: usize, seed: u64) -> Result<Hopfield> {
    let mut rng = rng_for(seed, &[1]);
    let mut w = vec![0f32; n * n];
    for i in 0..n {
        for j in 0..i {
            let v = rng.random::<f32>() * 2.0 - 1.0;
            w[i * n + j] = v;
            w[j * n + i] = v;
        }
    }
    let theta = (0..n).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    let input = (0..n).map(|_| rng.random::<f32>() - 0.5).collect();
    Hopfield::new(w, theta, input)
}

fn random_patterns(p: usize, n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rng_for(seed, &[2]);
    (0..p * n)
        .map(|_| f32::from(rng.random::<bool>()))
        .collect()
}

#[test]
fn the_energy_is_the_seeds_formula() -> Result<()> {
    // E = -sum_{i<j} w_ij u_i u_j - sum_i (s_i - theta_i) u_i on a hand-checked 3-unit net.
    let w = vec![0.0, 1.0, -2.0, 1.0, 0.0, 0.5, -2.0, 0.5, 0.0];
    let net = Hopfield::new(w, vec![0.1, 0.2, 0.3], vec![1.0, 0.0, -1.0])?;
    // u = (1, 1, 0): -(w01) - (1 - 0.1) - (0 - 0.2) = -1 - 0.9 + 0.2.
    assert!((net.energy(&[1, 1, 0]) - (-1.7)).abs() < 1e-6);
    // u = (1, 1, 1): -(1 - 2 + 0.5) - (0.9 - 0.2 - 1.3) = 0.5 + 0.6.
    assert!((net.energy(&[1, 1, 1]) - 1.1).abs() < 1e-6);
    assert_eq!(net.energy(&[0, 0, 0]), 0.0);
    Ok(())
}

#[test]
fn asynchronous_recall_never_raises_the_energy() -> Result<()> {
    for seed in 0..20 {
        let n = 60;
        let net = random_net(n, seed)?;
        let mut rng = rng_for(seed, &[3]);
        let mut u: Vec<u8> = (0..n).map(|_| u8::from(rng.random::<bool>())).collect();
        let rec = net.recall(&mut u, UpdateOrder::Asynchronous, 100, &mut rng);
        assert!(rec.converged, "seed {seed}: no fixed point in 100 sweeps");
        for (k, pair) in rec.energies.windows(2).enumerate() {
            assert!(
                pair[1] <= pair[0] + 1e-9,
                "seed {seed}: energy rose at update {k}: {pair:?}"
            );
        }
        // The tracked energy is the energy of the final state, and that state is stable.
        let last = *rec.energies.last().expect("energies");
        assert!((last - net.energy(&u)).abs() < 1e-3 * (1.0 + last.abs()));
        let input = net.inputs(&u);
        for i in 0..n {
            let stable = if u[i] == 1 {
                input[i] >= 0.0
            } else {
                input[i] <= 0.0
            };
            assert!(
                stable,
                "seed {seed}: unit {i} would flip at the fixed point"
            );
        }
    }
    Ok(())
}

#[test]
fn stored_patterns_are_fixed_points_below_capacity() -> Result<()> {
    // Hebbian at alpha = 0.02 (N = 250, P = 5), Storkey at 0.1, pseudo-inverse at 0.5: every
    // stored pattern is left unchanged by a full asynchronous sweep.
    for (rule, p) in [
        (LearningRule::Hebbian, 5),
        (LearningRule::Storkey, 25),
        (LearningRule::PseudoInverse, 125),
    ] {
        let n = 250;
        let patterns = random_patterns(p, n, rule as u64);
        let net = Hopfield::store(&patterns, n, rule, Threshold::Balanced)?;
        for k in 0..p {
            let target: Vec<u8> = patterns[k * n..(k + 1) * n]
                .iter()
                .map(|&v| v as u8)
                .collect();
            let mut u = target.clone();
            let rec = net.recall(
                &mut u,
                UpdateOrder::Asynchronous,
                1,
                &mut rng_for(0, &[k as u64]),
            );
            assert_eq!(rec.flips, 0, "{rule:?}: pattern {k} is not a fixed point");
            assert_eq!(u, target);
        }
    }
    Ok(())
}

#[test]
fn a_corrupted_pattern_is_recalled() -> Result<()> {
    // 3 patterns in 400 units (alpha = 0.0075): 20% of the units flipped come back.
    let n = 400;
    let patterns = random_patterns(3, n, 11);
    let net = Hopfield::store(&patterns, n, LearningRule::Hebbian, Threshold::Balanced)?;
    let target: Vec<u8> = patterns[n..2 * n].iter().map(|&v| v as u8).collect();
    let mut u = target.clone();
    let mut rng = rng_for(4, &[]);
    for x in u.iter_mut() {
        if rng.random::<f64>() < 0.2 {
            *x ^= 1;
        }
    }
    assert!(overlap(&u, &target) < 0.8);
    let rec = net.recall(&mut u, UpdateOrder::Asynchronous, 20, &mut rng);
    assert!(rec.converged);
    assert_eq!(overlap(&u, &target), 1.0);
    Ok(())
}

#[test]
fn hebbian_critical_load_is_near_0_138() -> Result<()> {
    // Amit, Gutfreund & Sompolinsky: alpha_c = 0.138 as N -> infinity. At N = 500 the finite-size
    // transition is smooth, so the band is wider than the 0.12-0.16 asked of N = 1000 (measured
    // there by `helmholtz hopfield capacity --n 1000`); the other rules must store more.
    let cfg = CapacityConfig {
        sizes: vec![500],
        rules: vec![LearningRule::Hebbian],
        trials: 4,
        probes: 50,
        ..CapacityConfig::default()
    };
    let loads: Vec<f64> = (2..=30).map(|k| k as f64 / 100.0).collect();
    let curve = capacity_curve(LearningRule::Hebbian, 500, &loads, &cfg, &Silent)?;
    let alpha = curve
        .critical_load
        .expect("the overlap falls below 0.95 by alpha = 0.3");
    assert!((0.11..=0.17).contains(&alpha), "critical load {alpha}");
    // Far below capacity recall is perfect, far above it has collapsed.
    assert!(curve.points[0].mean_overlap > 0.999);
    assert!(curve.points.last().expect("points").mean_overlap < 0.6);

    let storkey = capacity_curve(LearningRule::Storkey, 500, &[0.2], &cfg, &Silent)?;
    assert!(
        storkey.points[0].mean_overlap > 0.95,
        "Storkey at 0.2: {:?}",
        storkey.points
    );
    Ok(())
}

#[test]
fn the_modern_update_lowers_the_energy_and_retrieves() -> Result<()> {
    // Ramsauer et al., theorem 1: E(X softmax(beta X^T xi)) <= E(xi). 60 patterns of 32 units.
    let (n, p) = (32, 60);
    let patterns: Vec<f32> = random_patterns(p, n, 5)
        .iter()
        .map(|v| 2.0 * v - 1.0)
        .collect();
    let net = ModernHopfield::new(patterns.clone(), n, 1.0)?;
    let mut rng = rng_for(6, &[]);
    let queries: Vec<f32> = (0..10 * n)
        .map(|_| rng.random::<f32>() * 4.0 - 2.0)
        .collect();
    let (before, after) = (net.energy(&queries), net.energy(&net.update(&queries)));
    for (b, a) in before.iter().zip(&after) {
        assert!(*a <= b + 1e-4, "energy rose from {b} to {a}");
    }
    // A pattern with a quarter of its units zeroed is pulled back to the pattern.
    let mut q = patterns[7 * n..8 * n].to_vec();
    q[..n / 4].iter_mut().for_each(|v| *v = 0.0);
    let out = net.retrieve(&q, 3);
    assert_eq!(net.nearest(&q), vec![7]);
    for (x, want) in out.iter().zip(&patterns[7 * n..8 * n]) {
        assert!((x - want).abs() < 0.05, "retrieved {x}, stored {want}");
    }
    Ok(())
}

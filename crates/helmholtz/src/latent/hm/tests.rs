//! The Helmholtz machine against independent truths: finite differences of the wake and sleep
//! objectives, and enumeration of a small model's likelihood.

use super::*;

fn binary_rows(n: usize, d: usize, key: u64) -> Vec<f32> {
    (0..n * d)
        .map(|i| f32::from(u8::from(noise::uniform(key, i as u64) < 0.35)))
        .collect()
}

fn machine(layers: Vec<usize>, visible: usize, seed: u64, scale: f32) -> HelmholtzMachine {
    let mut hm = HelmholtzMachine::new(HmConfig { visible, layers }, seed).expect("machine");
    // Non-zero biases and larger weights everywhere, so that no gradient is trivially 0.
    for (i, l) in hm
        .generative
        .layers
        .iter_mut()
        .chain(hm.recognition.layers.iter_mut())
        .enumerate()
    {
        l.w.iter_mut().for_each(|w| *w *= scale);
        if i > 0 {
            l.b.iter_mut()
                .enumerate()
                .for_each(|(j, b)| *b = 0.5 * noise::normal(900 + i as u64, j as u64));
        } else {
            l.b.iter_mut()
                .enumerate()
                .for_each(|(j, b)| *b = 0.3 - 0.2 * j as f32);
        }
    }
    hm
}

/// `grads[l]` (weights, then biases) against central differences of `objective` in the
/// parameters of `net(hm)[l]`.
fn check(
    hm: &HelmholtzMachine,
    grads: &[LayerGrad],
    net: fn(&mut HelmholtzMachine) -> &mut Mlp,
    objective: &dyn Fn(&HelmholtzMachine) -> f64,
) {
    let h = 1e-2f32;
    for (l, (gw, gb)) in grads.iter().enumerate() {
        let picks: Vec<(bool, usize)> = [(false, 0), (false, gw.len() / 2), (false, gw.len() - 1)]
            .into_iter()
            .chain([(true, 0), (true, gb.len() - 1)])
            .collect();
        for (bias, j) in picks {
            let at = |d: f32| {
                let mut m = hm.clone();
                let layer = &mut net(&mut m).layers[l];
                if bias {
                    layer.b[j] += d;
                } else {
                    layer.w[j] += d;
                }
                objective(&m)
            };
            let fd = (at(h) - at(-h)) / (2.0 * f64::from(h));
            let g = f64::from(if bias { gb[j] } else { gw[j] });
            assert!(
                (g - fd).abs() < 2e-3 * (1.0 + fd.abs()),
                "layer {l} {} {j}: {g} vs differences {fd}",
                if bias { "bias" } else { "weight" }
            );
        }
    }
}

#[test]
fn the_wake_and_sleep_updates_are_the_gradients_of_their_objectives() {
    let (batch, visible) = (6, 7);
    let hm = machine(vec![5, 3], visible, 3, 3.0);
    let x = binary_rows(batch, visible, 1);
    let hs = hm.recognise(&x, batch, 7);
    // Importance weights of any values: the wake objective is -Σ w ln p(x, h) / B.
    let w: Vec<f32> = (0..batch).map(|i| 0.5 + 0.25 * i as f32).collect();
    let wake = |m: &HelmholtzMachine| {
        -m.log_p(&x, &hs, batch)
            .iter()
            .zip(&w)
            .map(|(l, w)| l * f64::from(*w))
            .sum::<f64>()
            / batch as f64
    };
    let g = hm.generative_gradients(&x, &hs, &w, batch);
    // The top prior's weights sit on a constant 0 input: no gradient.
    assert!(g[0].0.iter().all(|&v| v == 0.0));
    check(&hm, &g, |m| &mut m.generative, &wake);
    // Sleep: dreamed (x, h), objective -Σ ln q(h | x) / B.
    let (dx, dh, _) = hm.dream(batch, 11);
    let ones = vec![1.0; batch];
    let sleep = |m: &HelmholtzMachine| -m.log_q(&dx, &dh, batch).iter().sum::<f64>() / batch as f64;
    let g = hm.recognition_gradients(&dx, &dh, &ones, batch);
    check(&hm, &g, |m| &mut m.recognition, &sleep);
}

#[test]
fn the_importance_weighted_bound_rises_to_the_enumerated_likelihood_and_never_above() {
    // 10 visible, 4 latent units in two layers: 16 latent states to enumerate.
    let mut hm = machine(vec![2, 2], 10, 5, 1.5);
    // Fit the recognition network to this p by sleep updates alone (p stays fixed), so that q
    // covers the posterior and the bound converges in k within the test's budget.
    let adam = AdamSettings::new(0.01, 0.9, 0.999, 1e-8);
    for t in 0..400 {
        let (dx, dh, _) = hm.dream(256, 77 + t);
        let g = hm.recognition_gradients(&dx, &dh, &[1.0; 256], 256);
        hm.recognition.adam_step(&g, adam);
    }
    let n = 6;
    let (x, _, _) = hm.dream(n, 21);
    let exact = hm.exact_log_likelihood(&x, n).expect("enumeration");
    // The probabilities of every x sum to 1.
    let all: Vec<f32> = (0..1024u32)
        .flat_map(|s| (0..10).map(move |i| f32::from(u8::from(s >> i & 1 == 1))))
        .collect();
    let total: f64 = hm
        .exact_log_likelihood(&all, 1024)
        .expect("all")
        .iter()
        .map(|l| l.exp())
        .sum();
    // (Each term is an f32 softplus: about 1e-7 relative.)
    assert!((total - 1.0).abs() < 1e-6, "{total}");
    // E[L_k] over 200 seeds, with its standard error: not decreasing in k and never above
    // ln p(x) (each within 3 standard errors); L_k is consistent: k = 20,000 is within 0.02.
    let bound = |k: usize, seeds: u64| -> Vec<(f64, f64)> {
        let runs: Vec<Vec<f64>> = (0..seeds)
            .map(|s| hm.iw_bound(&x, n, k, 1000 + s))
            .collect();
        (0..n)
            .map(|i| {
                let v: Vec<f64> = runs.iter().map(|r| r[i]).collect();
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let var = v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
                (m, (var / v.len() as f64).sqrt())
            })
            .collect()
    };
    let (l1, l10, l100) = (bound(1, 200), bound(10, 200), bound(100, 200));
    let far = hm.iw_bound(&x, n, 20_000, 3);
    for i in 0..n {
        let below = |(m, se): (f64, f64)| m <= exact[i] + 3.0 * se;
        assert!(
            below(l1[i]) && below(l10[i]) && below(l100[i]),
            "row {i}: {l1:?} {l10:?} {l100:?} vs {}",
            exact[i]
        );
        let rises = |a: (f64, f64), b: (f64, f64)| a.0 <= b.0 + 3.0 * (a.1 + b.1);
        assert!(
            rises(l1[i], l10[i]) && rises(l10[i], l100[i]),
            "row {i}: {:?} {:?} {:?}",
            l1[i],
            l10[i],
            l100[i]
        );
        assert!(
            (far[i] - exact[i]).abs() < 0.02,
            "row {i}: {} vs {}",
            far[i],
            exact[i]
        );
    }
}

//! Boltzmann machines against exact enumeration: learning the seed's AND system and XOR,
//! the learning rule against a finite-difference gradient of the KL, the XOR limit of a
//! machine without hidden units (ln 2), and Gibbs sampling against the exact distribution.

mod common;

use helmholtz::Result;
use helmholtz::api::Trainable;
use helmholtz::energy::boltzmann::{
    BoltzmannConfig, BoltzmannMachine, BoltzmannParams, BoltzmannRunConfig, Expectations,
    LearnConfig, SampleRequest, Target, TrainingData, TrainingSource, distribution, exact_gradient,
    kl_of, sample_states, state_index,
};
use helmholtz::rng::rng_for;
use helmholtz::sampling::Schedule;

fn machine(visible: usize, hidden: usize, seed: u64) -> Result<BoltzmannMachine> {
    let cfg = BoltzmannConfig {
        visible,
        hidden,
        init_std: 0.5,
    };
    BoltzmannMachine::new(cfg, &mut rng_for(seed, &[1]))
}

fn params(hidden: usize) -> BoltzmannParams {
    BoltzmannParams {
        model: BoltzmannConfig {
            visible: 0,
            hidden,
            init_std: 0.5,
        },
        ..BoltzmannParams::default()
    }
}

/// Train with exact expectations (the default for <= 20 units) for `steps` steps; the exact
/// KL of the trained machine.
fn train(target: Target, hidden: usize, steps: usize) -> Result<f64> {
    let data = TrainingData::from_target(target);
    let epochs = steps / LearnConfig::default().steps_per_epoch;
    let bm = params(hidden).epochs(epochs).fit(&data)?;
    kl_of(&bm, &data, 1.0)
}

#[test]
fn resumed_runs_equal_uninterrupted_runs_bit_for_bit() -> Result<()> {
    // Sampled expectations, so the persistent chains and the momentum are checkpointed too:
    // 4 epochs of 5 steps, stopped after epoch 2, and interrupted in epoch 2 (step 7).
    let mut p = params(3).epochs(4).batch_size(10);
    p.learn = LearnConfig {
        expectations: Expectations::Sampled,
        steps_per_epoch: 5,
        chains: 20,
        sweeps: 2,
        ..LearnConfig::default()
    };
    let cfg = BoltzmannRunConfig {
        params: p,
        source: TrainingSource::Target(Target::Xor),
    };
    common::check_resume::<BoltzmannMachine>(cfg, 2, 7)
}

#[test]
fn the_and_system_is_learned_below_0_01_nats() -> Result<()> {
    let kl = train(Target::And, 0, 2000)?;
    assert!(kl < 0.01, "KL(AND || q) = {kl}");
    Ok(())
}

#[test]
fn xor_with_hidden_units_is_learned_below_0_05_nats() -> Result<()> {
    let kl = train(Target::Xor, 3, 2000)?;
    assert!(kl < 0.05, "KL(XOR || q) = {kl}");
    Ok(())
}

#[test]
fn xor_without_hidden_units_cannot_beat_ln_2() -> Result<()> {
    // XOR's one- and two-unit marginals are those of the uniform distribution, so the best
    // fully visible pairwise model is uniform over 8 states: KL = ln 8 - ln 4 = ln 2.
    let kl = train(Target::Xor, 0, 500)?;
    let ln2 = std::f64::consts::LN_2;
    assert!(kl >= ln2 - 1e-9, "KL {kl} is below the bound ln 2");
    assert!(kl < ln2 + 1e-3, "KL {kl} did not converge to ln 2");
    Ok(())
}

#[test]
fn the_learning_rule_is_the_gradient_of_the_kl() -> Result<()> {
    // d(-KL)/d w_ij = (<u_i u_j>_data - <u_i u_j>_model) / T, with hidden units (clamped phase
    // from the exact posterior), checked by central differences of the exact KL at T = 1.5.
    let t = 1.5;
    let data = TrainingData::from_target(Target::Xor);
    let bm = machine(3, 2, 4)?;
    let (gw, gb) = exact_gradient(&bm, &data.distribution, t)?;
    let n = bm.units();
    let kl_at = |w: Vec<f64>, b: Vec<f64>| -> Result<f64> {
        kl_of(
            &BoltzmannMachine::from_parts(bm.config().clone(), w, b)?,
            &data,
            t,
        )
    };
    let eps = 1e-5;
    for i in 0..n {
        for j in 0..i {
            let (mut wp, mut wm) = (bm.weights().to_vec(), bm.weights().to_vec());
            for (w, d) in [(&mut wp, eps), (&mut wm, -eps)] {
                w[i * n + j] += d;
                w[j * n + i] += d;
            }
            let numeric = -(kl_at(wp, bm.biases().to_vec())? - kl_at(wm, bm.biases().to_vec())?)
                / (2.0 * eps);
            assert!(
                (numeric - gw[i * n + j]).abs() < 1e-6,
                "w[{i}][{j}]: {numeric} vs {}",
                gw[i * n + j]
            );
        }
        let (mut bp, mut bmn) = (bm.biases().to_vec(), bm.biases().to_vec());
        bp[i] += eps;
        bmn[i] -= eps;
        let numeric =
            -(kl_at(bm.weights().to_vec(), bp)? - kl_at(bm.weights().to_vec(), bmn)?) / (2.0 * eps);
        assert!(
            (numeric - gb[i]).abs() < 1e-6,
            "b[{i}]: {numeric} vs {}",
            gb[i]
        );
    }
    Ok(())
}

#[test]
fn gibbs_sampling_matches_the_exact_distribution() -> Result<()> {
    // 6 units (4 visible + 2 hidden), 20,000 independent chains of 100 sweeps at T = 1.2: the
    // empirical law of the full state against exact enumeration of its 64 states. With this
    // many samples the expected total variation from sampling noise alone is about 0.02.
    let bm = machine(4, 2, 9)?;
    let t = 1.2;
    let req = SampleRequest {
        chains: 20_000,
        sweeps: 100,
        schedule: Schedule::Constant { temperature: t },
        seed: 5,
    };
    let states = sample_states(&bm, &req, &helmholtz::train::Silent);
    let mut freq = vec![0f64; 64];
    for s in &states {
        freq[state_index(s) as usize] += 1.0 / states.len() as f64;
    }
    let (q, _) = distribution(&bm, t)?;
    let tv: f64 = freq.iter().zip(&q).map(|(f, p)| (f - p).abs()).sum::<f64>() / 2.0;
    assert!(tv < 0.035, "total variation {tv}");
    // The same chains at a far wrong temperature are detected: the test can fail.
    let (q_hot, _) = distribution(&bm, 3.0 * t)?;
    let tv_hot: f64 = freq
        .iter()
        .zip(&q_hot)
        .map(|(f, p)| (f - p).abs())
        .sum::<f64>()
        / 2.0;
    assert!(
        tv_hot > 0.1,
        "total variation against the wrong temperature only {tv_hot}"
    );
    Ok(())
}

#[test]
fn sampling_sweeps_come_from_the_autocorrelation_and_unmixed_chains_are_flagged() -> Result<()> {
    // The XOR machine has four modes; 200 sweeps from random starts leave the chains far from
    // the exact distribution (total variation ~0.19), 50 autocorrelation times do not.
    let tmp = tempfile::tempdir().map_err(|e| helmholtz::Error::io("tempdir", e))?;
    let dir = tmp.path().join("xor");
    let cfg = BoltzmannRunConfig {
        params: params(3).epochs(100),
        source: TrainingSource::Target(Target::Xor),
    };
    helmholtz::run::train::<BoltzmannMachine>(cfg, Some(&dir), &Default::default())?;
    let (_, _, bm) = helmholtz::energy::boltzmann::open(&dir)?;
    let mixing = helmholtz::energy::boltzmann::mixing_sweeps(&bm, 1.0, 0);
    assert!(mixing.tau > 10.0, "tau {}", mixing.tau);
    let request = |sweeps| SampleRequest {
        chains: 500,
        sweeps,
        schedule: Schedule::Constant { temperature: 1.0 },
        seed: 1,
    };
    let short =
        helmholtz::energy::boltzmann::sample(&dir, &request(200), &helmholtz::train::Silent)?;
    assert_eq!(short.mixed, Some(false), "{:?}", short.total_variation);
    let long = helmholtz::energy::boltzmann::sample(
        &dir,
        &request(mixing.sweeps),
        &helmholtz::train::Silent,
    )?;
    assert_eq!(
        long.mixed,
        Some(true),
        "{:?} {:?} {mixing:?}",
        long.total_variation,
        long.expected_total_variation
    );
    Ok(())
}

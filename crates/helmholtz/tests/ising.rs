//! The Ising model against independent truths: exact enumeration of the 4 x 4 lattice,
//! Onsager's and Yang's closed forms, and the plain sampler for the multi-spin-coded one.

use helmholtz::Result;
use helmholtz::energy::ising::{
    Algorithm, Engine, IsingChain, IsingModel, IsingRunConfig, IsingSweepConfig, Lattice,
    Measurement, Observables, critical_temperature, exact_averages, internal_energy, observables,
    specific_heat, spontaneous_magnetization,
};
use helmholtz::train::Silent;

/// `sweeps` measurements after `burn_in` sweeps.
fn measure(chain: &mut IsingChain, burn_in: usize, sweeps: usize) -> Observables {
    chain.sweeps(burn_in);
    let series: Vec<Measurement> = (0..sweeps)
        .map(|_| {
            chain.sweep();
            chain.measure()
        })
        .collect();
    observables(&series, 1.0 / chain.temperature(), chain.model().spins())
}

/// Sampled `<e>` and `<|m|>` on the 4 x 4 lattice within 3 standard errors of the exact
/// averages over all 2^16 states (`exact_averages` sums exp(-H/T) over every configuration).
fn check_against_enumeration(algorithm: Algorithm, fields: &[f64]) -> Result<()> {
    for &field in fields {
        for (k, &t) in [2.0, 3.0].iter().enumerate() {
            let model = ferromagnet(4, field);
            let exact = exact_averages(&model, t)?;
            let mut chain = IsingChain::new(&model, t, algorithm, 100 + k as u64)?;
            let o = measure(&mut chain, 1_000, 100_000);
            for (name, est, want) in [
                ("<e>", o.energy, exact.energy),
                ("<|m|>", o.abs_magnetization, exact.abs_magnetization),
            ] {
                let z = (est.mean - want) / est.se;
                assert!(
                    z.abs() < 3.0,
                    "{algorithm:?} T={t} h={field}: {name} = {:.5} ± {:.5}, exact {want:.5} ({z:+.2} s.e.)",
                    est.mean,
                    est.se
                );
            }
        }
    }
    Ok(())
}

/// The `size x size` lattice with coupling `J = 1` in the field `field`.
fn ferromagnet(size: usize, field: f64) -> IsingModel {
    IsingModel {
        size,
        coupling: 1.0,
        field,
    }
}

#[test]
fn metropolis_on_4x4_matches_exact_enumeration() -> Result<()> {
    check_against_enumeration(Algorithm::Metropolis, &[0.0, 0.3])
}

#[test]
fn heat_bath_on_4x4_matches_exact_enumeration() -> Result<()> {
    check_against_enumeration(Algorithm::HeatBath, &[0.0, 0.3])
}

#[test]
fn wolff_on_4x4_matches_exact_enumeration() -> Result<()> {
    check_against_enumeration(Algorithm::Wolff, &[0.0])
}

#[test]
fn magnetization_of_l64_matches_yang_below_tc() -> Result<()> {
    // Yang: M(T) = (1 - sinh(2/T)^-4)^(1/8): M(2.0) = 0.91132, M(1.5) = 0.98650. The
    // correlation length below T = 2 is about a lattice spacing, so at L = 64 finite-size
    // corrections are far below the 0.02 tolerance and <|m|> estimates M.
    let model = ferromagnet(64, 0.0);
    for (t, want) in [(2.0, 0.911_319), (1.5, 0.986_500)] {
        assert!((spontaneous_magnetization(t, 1.0) - want).abs() < 1e-6);
        let mut chain = IsingChain::new(&model, t, Algorithm::Metropolis, 7)?;
        let o = measure(&mut chain, 500, 2_000);
        let m = o.abs_magnetization.mean;
        assert!(
            (m - want).abs() < 0.02,
            "T={t}: <|m|> = {m:.4}, Yang {want:.4}"
        );
    }
    Ok(())
}

#[test]
fn multispin_coding_agrees_with_the_checkerboard_sampler() -> Result<()> {
    // Both engines sample the same Metropolis chain's stationary law, so <e> and <|m|> must
    // agree within their combined standard error (3 sigma), below and above Tc.
    let model = ferromagnet(128, 0.0);
    for t in [2.0, 2.6] {
        let mut stats = Vec::new();
        for engine in [Engine::Multispin, Engine::Checkerboard] {
            let mut chain = IsingChain::with_engine(&model, t, Algorithm::Metropolis, engine, 3)?;
            stats.push(measure(&mut chain, 300, 2_000));
        }
        let (a, b) = (&stats[0], &stats[1]);
        for (name, x, y) in [
            ("<e>", a.energy, b.energy),
            ("<|m|>", a.abs_magnetization, b.abs_magnetization),
        ] {
            let sigma = x.se.hypot(y.se);
            assert!(
                (x.mean - y.mean).abs() < 3.0 * sigma,
                "T={t} {name}: multispin {:.5} ± {:.5}, checkerboard {:.5} ± {:.5}",
                x.mean,
                x.se,
                y.mean,
                y.se
            );
        }
        // Below Tc both also match Onsager's energy u(2.0) = -1.74548 to 0.005 (finite-size
        // corrections at L = 128 are exponentially small there).
        if t == 2.0 {
            assert!((a.energy.mean - internal_energy(2.0, 1.0)).abs() < 0.005);
        }
    }
    Ok(())
}

#[test]
fn onsager_formulas_match_known_values() {
    // Tc = 2 / ln(1 + sqrt 2) = 2.269185314213022 (Kramers-Wannier duality, sinh(2/Tc) = 1).
    let tc = critical_temperature(1.0);
    assert!((tc - 2.269_185_314_213_022).abs() < 1e-12);
    assert!((critical_temperature(2.0) - 2.0 * tc).abs() < 1e-12);
    // At Tc, kappa' = 2 tanh^2(2Kc) - 1 = 0 (tanh(2Kc) = 1/sqrt 2), so u = -coth(2Kc) = -sqrt 2.
    assert!((internal_energy(tc, 1.0) + std::f64::consts::SQRT_2).abs() < 1e-9);
    // M vanishes at and above Tc.
    assert_eq!(spontaneous_magnetization(tc * 1.001, 1.0), 0.0);
    // Low temperature: with the ground state all up, one flipped spin breaks 4 bonds (N states,
    // dE = 8) and two adjacent flipped spins break 6 (2N states, dE = 12), so
    // -beta f = 2K + e^{-8K} + 2 e^{-12K} + O(e^{-16K}) and u = -2 + 8 e^{-8K} + 24 e^{-12K};
    // at T = 0.5 (K = 2) the next term, 72 e^{-32}, is 1e-12.
    let low = -2.0 + 8.0 * (-16.0f64).exp() + 24.0 * (-24.0f64).exp();
    assert!((internal_energy(0.5, 1.0) - low).abs() < 1e-11);
    // High temperature: -beta f = ln 2 + 2 ln cosh K + tanh^4 K + O(tanh^6 K) (the plaquettes
    // of the loop expansion), so u = -2 t - 4 t^3 (1 - t^2) with t = tanh K; at T = 100 the
    // next term is ~1e-9.
    let t = 0.01f64.tanh();
    assert!((internal_energy(100.0, 1.0) + 2.0 * t + 4.0 * t.powi(3) * (1.0 - t * t)).abs() < 1e-8);
    // c = du/dT: compare with a central difference of Onsager's energy, on both sides of Tc.
    for t in [1.6, 2.1, 2.5, 3.5] {
        let h = 1e-5;
        let du = (internal_energy(t + h, 1.0) - internal_energy(t - h, 1.0)) / (2.0 * h);
        assert!(
            (specific_heat(t, 1.0) - du).abs() < 1e-6 * du.abs().max(1.0),
            "T={t}"
        );
    }
    // The log divergence at Tc: c grows without bound as T -> Tc.
    assert!(specific_heat(tc * 1.0001, 1.0) > specific_heat(tc * 1.01, 1.0) + 1.0);
}

#[test]
fn bad_input_is_a_usage_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    let with = |f: fn(&mut IsingRunConfig)| {
        let mut cfg = IsingRunConfig::default();
        f(&mut cfg);
        cfg
    };
    let bad = [
        with(|c| c.temperature = 0.0),
        with(|c| c.temperature = -1.0),
        with(|c| c.temperature = f64::NAN),
        with(|c| c.model.size = 0),
        with(|c| c.model.size = 1),
        with(|c| c.sweeps = 0),
        with(|c| {
            c.algorithm = Algorithm::Wolff;
            c.model.field = 0.1
        }),
    ];
    for cfg in bad {
        let err = helmholtz::energy::ising::run(cfg.clone(), Some(&out), &Silent)
            .expect_err("bad config must fail");
        assert!(err.is_usage(), "{cfg:?}: {err}");
        assert!(!out.exists(), "{cfg:?} left a directory");
    }
    for t in [0.0, -2.0] {
        assert!(
            IsingChain::new(&IsingModel::default(), t, Algorithm::Metropolis, 0)
                .is_err_and(|e| e.is_usage())
        );
    }
    let sweep = IsingSweepConfig {
        t_min: 3.0,
        t_max: 2.0,
        ..IsingSweepConfig::default()
    };
    assert!(
        helmholtz::energy::ising::sweep(sweep, Some(&out), &Silent).is_err_and(|e| e.is_usage())
    );
    assert!("swendsen".parse::<Algorithm>().is_err_and(|e| e.is_usage()));
}

#[test]
fn a_run_writes_its_directory_and_is_reproducible() -> Result<()> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = IsingRunConfig {
        model: ferromagnet(16, 0.0),
        temperature: 2.0,
        sweeps: 400,
        equilibration: 100,
        ..IsingRunConfig::default()
    };
    let a = helmholtz::energy::ising::run(cfg.clone(), Some(&tmp.path().join("a")), &Silent)?;
    let b = helmholtz::energy::ising::run(cfg, Some(&tmp.path().join("b")), &Silent)?;
    assert_eq!(a.estimates, b.estimates, "same seed, same numbers");
    for f in [
        "config.json",
        "metrics.jsonl",
        "snapshots.png",
        "eval.json",
        "report.html",
    ] {
        assert!(a.run_dir.join(f).is_file(), "{f} missing");
    }
    let config = std::fs::read_to_string(a.run_dir.join("config.json")).expect("config");
    assert!(config.contains("\"family\": \"ising\""));
    Ok(())
}

#[test]
fn sweep_finds_tc_from_the_binder_crossing_at_l32() -> Result<()> {
    // The U4 curves of L = 32 and 16 cross within about 0.01 of Onsager's Tc = 2.2692; the
    // acceptance bound is 0.05. A narrow grid around Tc keeps the test fast (Wolff throughout).
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = IsingSweepConfig {
        size: 32,
        t_min: 2.1,
        t_max: 2.45,
        points: 8,
        sweeps: 2_000,
        equilibration: 200,
        ..IsingSweepConfig::default()
    };
    let s = helmholtz::energy::ising::sweep(cfg, Some(&tmp.path().join("sweep")), &Silent)?;
    assert_eq!(s.tc_method, "binder-crossing");
    assert!((s.tc - 2.269_185).abs() < 0.05, "tc = {}", s.tc);
    for f in [
        "magnetization.png",
        "specific_heat.png",
        "binder.png",
        "sweep.json",
        "report.html",
    ] {
        assert!(s.run_dir.join(f).is_file(), "{f} missing");
    }
    Ok(())
}

#[test]
fn the_same_seed_gives_the_same_chain() -> Result<()> {
    let model = ferromagnet(8, 0.2);
    let run = |seed: u64| -> Result<Lattice> {
        let mut chain = IsingChain::new(&model, 2.5, Algorithm::HeatBath, seed)?;
        chain.sweeps(20);
        Ok(chain.lattice())
    };
    assert_eq!(run(1)?, run(1)?);
    assert_ne!(run(1)?, run(2)?);
    Ok(())
}

//! Simulated annealing against brute force: exact optima of small Max-Cut and TSP instances,
//! and the QUBO <-> Ising mapping checked on every state of a small problem.

use helmholtz::Result;
use helmholtz::anneal::{
    AnnealConfig, AnnealRunConfig, Cities, MaxCut, ProblemKind, ProblemSource, Qubo, bits_to_spins,
    solve, spins_to_bits,
};
use helmholtz::train::Silent;

/// The maximum cut by enumerating all `2^(n-1)` bipartitions (node `n-1` fixed on one side) in
/// Gray-code order, updating the cut by the one node that changes side.
fn brute_force_max_cut(graph: &MaxCut) -> f64 {
    let n = graph.nodes();
    let mut adj = vec![Vec::new(); n];
    for &(i, j, w) in graph.edges() {
        adj[i as usize].push((j as usize, w));
        adj[j as usize].push((i as usize, w));
    }
    let mut side = vec![false; n];
    let (mut cut, mut best) = (0.0f64, 0.0f64);
    for k in 1u64..(1 << (n - 1)) {
        let v = k.trailing_zeros() as usize;
        // Moving v flips every incident edge between cut and uncut.
        let delta: f64 = adj[v]
            .iter()
            .map(|&(u, w)| if side[u] == side[v] { w } else { -w })
            .sum();
        side[v] = !side[v];
        cut += delta;
        best = best.max(cut);
    }
    best
}

#[test]
fn annealing_finds_the_exact_max_cut_of_20_node_graphs() -> Result<()> {
    // Ten random graphs with 20 nodes and 40 unit edges; per graph twenty independent batches
    // of 8 reads x 300 sweeps. A batch succeeds when its best read reaches the brute-force
    // optimum; the acceptance bar is 95% of batches.
    let (mut batches, mut hits) = (0, 0);
    for g in 0..10 {
        let graph = MaxCut::random(20, 4.0, g)?;
        let optimum = brute_force_max_cut(&graph);
        for b in 0..20 {
            let cfg = AnnealConfig {
                sweeps: 300,
                reads: 8,
                seed: 1000 * g + b,
                ..AnnealConfig::default()
            };
            let out = cfg
                .validate(graph.ising().default_beta_range())?
                .anneal(graph.ising(), &Silent);
            let cut = graph.cut_value(&out.best_state)?;
            assert_eq!(cut, graph.cut_from_energy(out.best_energy()));
            assert!(
                cut <= optimum,
                "cut {cut} beats the brute-force optimum {optimum}"
            );
            batches += 1;
            hits += usize::from(cut == optimum);
        }
    }
    eprintln!("20-node Max-Cut: optimum in {hits} of {batches} batches");
    assert!(
        hits * 100 >= 95 * batches,
        "optimum in {hits} of {batches} batches"
    );
    Ok(())
}

/// The shortest closed tour by trying every permutation of cities `1..n` after city 0.
fn brute_force_tour(cities: &Cities) -> Result<f64> {
    fn permute(rest: &mut Vec<u32>, k: usize, tour: &mut Vec<u32>, c: &Cities, best: &mut f64) {
        if k == rest.len() {
            tour.truncate(1);
            tour.extend_from_slice(rest);
            *best = best.min(c.tour_length(tour).expect("a permutation is a tour"));
            return;
        }
        for i in k..rest.len() {
            rest.swap(k, i);
            permute(rest, k + 1, tour, c, best);
            rest.swap(k, i);
        }
    }
    let mut rest: Vec<u32> = (1..cities.len() as u32).collect();
    let mut best = f64::INFINITY;
    permute(&mut rest, 0, &mut vec![0], cities, &mut best);
    Ok(best)
}

#[test]
fn annealing_finds_the_shortest_tour_of_9_cities() -> Result<()> {
    for seed in 0..5 {
        let cities = Cities::random(9, seed)?;
        let optimum = brute_force_tour(&cities)?;
        let cfg = AnnealConfig {
            sweeps: 500,
            reads: 16,
            seed,
            ..AnnealConfig::default()
        };
        let out = cfg
            .validate(cities.default_beta_range())?
            .anneal_tour(&cities, &Silent);
        let found = cities.tour_length(&out.best_state)?;
        assert!((found - out.best_energy()).abs() < 1e-9);
        assert!(
            (found - optimum).abs() < 1e-9,
            "cities seed {seed}: annealed tour {found}, optimum {optimum}"
        );
    }
    Ok(())
}

#[test]
fn qubo_and_its_ising_form_agree_on_every_state() -> Result<()> {
    // x^T Q x with x = (1 + s) / 2 equals the Ising energy plus its constant, for all 2^6 x.
    let n = 6;
    let entries: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|i| (i..n).map(move |j| (i, j, ((i * 7 + j * 3) % 5) as f64 - 2.0)))
        .collect();
    let qubo = Qubo::new(n, entries.clone())?;
    let ising = qubo.to_ising()?;
    for k in 0u32..1 << n {
        let x: Vec<u8> = (0..n).map(|i| (k >> i & 1) as u8).collect();
        let direct: f64 = entries
            .iter()
            .map(|&(i, j, q)| q * f64::from(x[i]) * f64::from(x[j]))
            .sum();
        assert!((qubo.energy(&x)? - direct).abs() < 1e-12);
        let s = bits_to_spins(&x);
        assert!((ising.energy(&s)? - direct).abs() < 1e-9, "state {x:?}");
        assert_eq!(spins_to_bits(&s), x);
    }
    Ok(())
}

#[test]
fn the_result_does_not_depend_on_the_thread_count() -> Result<()> {
    let graph = MaxCut::random(200, 6.0, 3)?;
    let cfg = AnnealConfig {
        sweeps: 100,
        reads: 20,
        seed: 7,
        ..AnnealConfig::default()
    };
    let annealer = cfg.validate(graph.ising().default_beta_range())?;
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
            .install(|| annealer.anneal(graph.ising(), &Silent))
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.energies, two.energies);
    assert_eq!(one.best_state, two.best_state);
    // The trace of a read replays it: its last energy is that read's final energy.
    let (trace, state) = annealer.trace(graph.ising(), 13);
    assert_eq!(trace.len(), 100);
    assert!((trace[99] - one.energies[13]).abs() < 1e-9);
    assert!((graph.ising().energy(&state)? - one.energies[13]).abs() < 1e-9);
    // Every read's state (what a dimod SampleSet holds) replays the same reads: the same
    // energies, each the energy of its state, and the best state among them.
    let (energies, states) = annealer.anneal_all(graph.ising())?;
    assert_eq!(energies, one.energies);
    let n = graph.ising().len();
    for (e, s) in energies.iter().zip(states.chunks(n)) {
        assert!((graph.ising().energy(s)? - e).abs() < 1e-9);
    }
    let best = &states[one.best_read * n..(one.best_read + 1) * n];
    assert_eq!(best, one.best_state.as_slice());
    // The same schedule given as a table of betas anneals the same reads.
    let table = helmholtz::anneal::Annealer::from_betas(
        annealer.betas().to_vec(),
        20,
        7,
        helmholtz::anneal::SpinOrder::Auto,
    )?;
    assert_eq!(table.anneal_all(graph.ising())?.0, energies);
    Ok(())
}

#[test]
fn a_malformed_edge_list_is_rejected_before_anything_is_written() -> std::io::Result<()> {
    let dir = std::env::temp_dir().join(format!("helmholtz-anneal-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (name, text) in [
        ("letters.txt", "0 1 1\n1 x 2\n"),
        ("self_loop_maxcut.txt", "0 0 1\n0 1 1\n"),
        ("negative.txt", "0 -1 1\n"),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, text)?;
        let out = dir.join(format!("run-{name}"));
        let cfg = AnnealRunConfig::new(
            ProblemKind::MaxCut,
            ProblemSource::File {
                path: file.clone(),
                format: Default::default(),
            },
            AnnealConfig::default(),
        );
        let err = solve(&cfg, Some(&out), &Silent).expect_err(name);
        assert!(err.is_usage(), "{name}: {err}");
        assert!(err.to_string().contains(name), "{name}: {err}");
        assert!(!out.exists(), "{name}: run directory written");
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn a_random_spin_order_escapes_the_cycle_of_a_ring() -> Result<()> {
    // An even ring of 64 unit edges: the maximum cut takes every edge (64). Visiting the spins
    // in a fixed order locks the reads into domain walls that travel round the ring; a fresh
    // random order every sweep (the default for problems without fields) lets them meet and
    // annihilate.
    let ring = MaxCut::new(64, (0..64).map(|i| (i, (i + 1) % 64, 1.0)))?;
    let cut_with = |order: helmholtz::anneal::SpinOrder| -> Result<(f64, usize)> {
        let cfg = AnnealConfig {
            reads: 100,
            order,
            ..AnnealConfig::default()
        };
        let out = cfg
            .validate(ring.ising().default_beta_range())?
            .anneal(ring.ising(), &Silent);
        let best = ring.cut_value(&out.best_state)?;
        let optimal = out
            .energies
            .iter()
            .filter(|&&e| ring.cut_from_energy(e) == 64.0)
            .count();
        Ok((best, optimal))
    };
    let (sequential, _) = cut_with(helmholtz::anneal::SpinOrder::Sequential)?;
    let (auto, optimal) = cut_with(helmholtz::anneal::SpinOrder::Auto)?;
    assert!(sequential < 64.0, "sequential order reached {sequential}");
    assert!(
        auto == 64.0 && optimal >= 80,
        "auto: best {auto}, {optimal} of 100 reads optimal"
    );
    Ok(())
}

#[test]
fn a_beta_range_that_heats_is_refused() {
    let cfg = AnnealConfig {
        beta_range: Some((5.0, 0.1)),
        ..AnnealConfig::default()
    };
    let e = cfg.validate((0.1, 5.0)).expect_err("a heating range");
    assert!(
        e.is_usage() && e.to_string().starts_with("beta-range:"),
        "{e}"
    );
    let fine = AnnealConfig {
        beta_range: Some((0.1, 5.0)),
        ..AnnealConfig::default()
    };
    assert!(fine.validate((0.1, 5.0)).is_ok());
}

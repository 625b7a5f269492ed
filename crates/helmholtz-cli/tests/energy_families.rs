//! The command-line contract of `hopfield`, `boltzmann`, `ising` and `anneal`: the JSON keys
//! that scripts read, the acceptance figures they print, run directories with pictures and a
//! report, and exit status 2 with one line for bad input (nothing written).

use std::path::Path;

mod common;

use common::{arg as s, assert_files, json, json_into, refused_into, scratch};

/// A run directory with config.json, a report and at least one PNG.
fn assert_run_dir(dir: &Path) {
    assert_files(dir, &["config.json", "report.html"]);
    let pngs = std::fs::read_dir(dir)
        .expect("run dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))
        })
        .count();
    assert!(pngs > 0, "{} has no pictures", dir.display());
}

/// An `.npy` file (v1.0, little-endian f32, C order) of the given 2-D shape.
fn write_npy(path: &Path, rows: usize, cols: usize) {
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for k in 0..rows * cols {
        bytes.extend_from_slice(&((k % 3 == 0) as u8 as f32).to_le_bytes());
    }
    std::fs::write(path, bytes).expect("write npy");
}

#[test]
fn bad_input_exits_2_with_one_line_and_writes_nothing() {
    let (tmp, out) = scratch("run");
    let refused = |args: &[&str], needles: &[&str]| refused_into(&out, args, needles);
    // A pattern set whose width is not a square image, and an empty one.
    let wide = tmp.path().join("wide.npy");
    write_npy(&wide, 5, 10);
    refused(&["hopfield", "store", "--data", s(&wide)], &["square"]);
    let empty = tmp.path().join("empty.npy");
    write_npy(&empty, 0, 16);
    refused(&["hopfield", "store", "--data", s(&empty)], &["empty.npy"]);
    // P = 0.
    refused(&["hopfield", "store", "--patterns", "0"], &["--patterns"]);
    // Temperatures <= 0.
    for t in ["0", "-1.5"] {
        refused(
            &["ising", "run", "--size", "16", "--temperature", t],
            &["--temperature", "positive"],
        );
    }
    refused(
        &[
            "boltzmann",
            "train",
            "--target",
            "and",
            "--temperature",
            "0",
        ],
        &["--temperature"],
    );
    // Malformed edge lists: a word where a node id belongs, a missing weight column.
    let edges = tmp.path().join("edges.txt");
    std::fs::write(&edges, "0 1 1\n1 two 1\n").expect("write");
    refused(&["anneal", "maxcut", s(&edges)], &["edges.txt", "line 2"]);
    std::fs::write(&edges, "0 1 1\n1 2 1\n2\n").expect("write");
    refused(&["anneal", "maxcut", s(&edges)], &["edges.txt"]);
    // A binary file given as an edge list.
    refused(&["anneal", "qubo", s(&wide)], &["wide.npy"]);
}

#[test]
fn boltzmann_learns_and_and_samples_it() {
    let (tmp, run) = scratch("and");
    let v = json_into(&run, &["boltzmann", "train", "--target", "and"]);
    assert_eq!(v["family"], "boltzmann");
    let kl = v["eval"]["kl"].as_f64().expect("kl");
    assert!(kl < 0.01, "KL {kl}");
    assert_run_dir(&run);
    let v = json(&["boltzmann", "sample", s(&run)]);
    let tv = v["total_variation"].as_f64().expect("total_variation");
    assert!(tv < 0.03, "sampled vs exact TV {tv}");
    let xor = tmp.path().join("xor");
    let v = json_into(&xor, &["boltzmann", "train", "--target", "xor"]);
    assert!(v["eval"]["kl"].as_f64().expect("kl") < 0.05, "{v}");
}

#[test]
fn hopfield_stores_recalls_and_measures_capacity() {
    let (tmp, run) = scratch("h");
    let v = json_into(&run, &["hopfield", "store", "--patterns", "3"]);
    assert_eq!(v["fixed_points"], 3);
    let v = json(&["hopfield", "recall", s(&run), "--corrupt", "flip:0.2"]);
    assert_eq!(v["overlap_end"], 1.0, "{v}");
    assert!(v["energy_end"].as_f64() < v["energy_start"].as_f64());
    assert_run_dir(&run);
    let cap = tmp.path().join("cap");
    let v = json_into(&cap, &["hopfield", "capacity", "--n", "200"]);
    let alpha = v["critical_load"].as_f64().expect("critical_load");
    assert!(
        (0.10..=0.18).contains(&alpha),
        "critical load {alpha} at N = 200"
    );
    assert_run_dir(&cap);
}

#[test]
fn ising_sweep_finds_tc_and_run_measures_one_temperature() {
    let (tmp, sweep) = scratch("sweep");
    let v = json_into(&sweep, &["ising", "sweep", "--size", "32"]);
    let tc = v["tc"].as_f64().expect("tc");
    assert!((tc - 2.269).abs() < 0.05, "tc {tc}");
    assert_run_dir(&sweep);
    let run = tmp.path().join("run");
    let v = json_into(
        &run,
        &["ising", "run", "--size", "32", "--temperature", "1.5"],
    );
    // Yang: M(1.5) = (1 - sinh(2/1.5)^-4)^(1/8) = 0.98606.
    let m = v["abs_magnetization"].as_f64().expect("abs_magnetization");
    assert!((m - 0.98606).abs() < 0.01, "|m| {m}");
    assert_run_dir(&run);
}

#[test]
fn anneal_solves_small_problems_and_writes_the_solution() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A 6-cycle: bipartite, so every edge can be cut.
    let edges = tmp.path().join("ring.txt");
    let ring: String = (0..6).map(|i| format!("{i} {} 1\n", (i + 1) % 6)).collect();
    std::fs::write(&edges, ring).expect("write");
    let run = tmp.path().join("cut");
    let v = json_into(&run, &["anneal", "maxcut", s(&edges), "--reads", "8"]);
    assert_eq!(v["cut_value"], 6.0, "{v}");
    assert_eq!(v["best_energy"], -6.0, "{v}");
    assert_run_dir(&run);
    // Four cities on a unit square: the shortest tour is its perimeter.
    let cities = tmp.path().join("square.txt");
    std::fs::write(&cities, "0 0\n1 1\n1 0\n0 1\n").expect("write");
    let run = tmp.path().join("tsp");
    let v = json_into(&run, &["anneal", "tsp", s(&cities), "--reads", "4"]);
    let len = v["tour_length"].as_f64().expect("tour_length");
    assert!((len - 4.0).abs() < 1e-9, "tour {len}");
    assert_run_dir(&run);
}

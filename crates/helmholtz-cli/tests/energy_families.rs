//! The command-line contract of `hopfield`, `boltzmann`, `ising` and `anneal`: the JSON keys
//! that scripts read, the acceptance figures they print, run directories with pictures and a
//! report, and exit status 2 with one line for bad input (nothing written).

use std::path::Path;

mod common;

use common::output as helmholtz;

use serde_json::Value;

/// Exit status 0 and the JSON object on the last stdout line.
fn json(args: &[&str]) -> Value {
    common::last_json(&helmholtz(args))
}

/// `helmholtz ARGS` exits 2 with one line containing every `needle`.
fn assert_usage_error(args: &[&str], needles: &[&str]) {
    common::assert_usage_error(&helmholtz(args), needles);
}

/// A run directory with config.json, a report and at least one PNG.
fn assert_run_dir(dir: &Path) {
    for f in ["config.json", "report.html"] {
        assert!(dir.join(f).is_file(), "{} lacks {f}", dir.display());
    }
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

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn bad_input_exits_2_with_one_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    let o = s(&out);
    // A pattern set whose width is not a square image, and an empty one.
    let wide = tmp.path().join("wide.npy");
    write_npy(&wide, 5, 10);
    assert_usage_error(
        &["hopfield", "store", "--data", s(&wide), "--out", o],
        &["square"],
    );
    let empty = tmp.path().join("empty.npy");
    write_npy(&empty, 0, 16);
    assert_usage_error(
        &["hopfield", "store", "--data", s(&empty), "--out", o],
        &["empty.npy"],
    );
    // P = 0.
    assert_usage_error(
        &["hopfield", "store", "--patterns", "0", "--out", o],
        &["--patterns"],
    );
    // Temperatures <= 0.
    for t in ["0", "-1.5"] {
        assert_usage_error(
            &[
                "ising",
                "run",
                "--size",
                "16",
                "--temperature",
                t,
                "--out",
                o,
            ],
            &["--temperature", "positive"],
        );
    }
    assert_usage_error(
        &[
            "boltzmann",
            "train",
            "--target",
            "and",
            "--temperature",
            "0",
            "--out",
            o,
        ],
        &["--temperature"],
    );
    // Malformed edge lists: a word where a node id belongs, a missing weight column.
    let edges = tmp.path().join("edges.txt");
    std::fs::write(&edges, "0 1 1\n1 two 1\n").expect("write");
    assert_usage_error(
        &["anneal", "maxcut", s(&edges), "--out", o],
        &["edges.txt", "line 2"],
    );
    std::fs::write(&edges, "0 1 1\n1 2 1\n2\n").expect("write");
    assert_usage_error(&["anneal", "maxcut", s(&edges), "--out", o], &["edges.txt"]);
    // A binary file given as an edge list.
    assert_usage_error(&["anneal", "qubo", s(&wide), "--out", o], &["wide.npy"]);
    assert!(!out.exists(), "a run directory was left behind");
}

#[test]
fn boltzmann_learns_and_and_samples_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("and");
    let v = json(&[
        "boltzmann",
        "train",
        "--target",
        "and",
        "--json",
        "--out",
        s(&run),
    ]);
    assert_eq!(v["family"], "boltzmann");
    let kl = v["eval"]["kl"].as_f64().expect("kl");
    assert!(kl < 0.01, "KL {kl}");
    assert_run_dir(&run);
    let v = json(&["boltzmann", "sample", s(&run), "--json"]);
    let tv = v["total_variation"].as_f64().expect("total_variation");
    assert!(tv < 0.03, "sampled vs exact TV {tv}");
    let v = json(&[
        "boltzmann",
        "train",
        "--target",
        "xor",
        "--json",
        "--out",
        s(&tmp.path().join("xor")),
    ]);
    assert!(v["eval"]["kl"].as_f64().expect("kl") < 0.05, "{v}");
}

#[test]
fn hopfield_stores_recalls_and_measures_capacity() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("h");
    let v = json(&[
        "hopfield",
        "store",
        "--patterns",
        "3",
        "--json",
        "--out",
        s(&run),
    ]);
    assert_eq!(v["fixed_points"], 3);
    let v = json(&[
        "hopfield",
        "recall",
        s(&run),
        "--corrupt",
        "flip:0.2",
        "--json",
    ]);
    assert_eq!(v["overlap_end"], 1.0, "{v}");
    assert!(v["energy_end"].as_f64() < v["energy_start"].as_f64());
    assert_run_dir(&run);
    let cap = tmp.path().join("cap");
    let v = json(&[
        "hopfield",
        "capacity",
        "--n",
        "200",
        "--json",
        "--out",
        s(&cap),
    ]);
    let alpha = v["critical_load"].as_f64().expect("critical_load");
    assert!(
        (0.10..=0.18).contains(&alpha),
        "critical load {alpha} at N = 200"
    );
    assert_run_dir(&cap);
}

#[test]
fn ising_sweep_finds_tc_and_run_measures_one_temperature() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sweep = tmp.path().join("sweep");
    let v = json(&[
        "ising",
        "sweep",
        "--size",
        "32",
        "--json",
        "--out",
        s(&sweep),
    ]);
    let tc = v["tc"].as_f64().expect("tc");
    assert!((tc - 2.269).abs() < 0.05, "tc {tc}");
    assert_run_dir(&sweep);
    let run = tmp.path().join("run");
    let v = json(&[
        "ising",
        "run",
        "--size",
        "32",
        "--temperature",
        "1.5",
        "--json",
        "--out",
        s(&run),
    ]);
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
    let v = json(&[
        "anneal",
        "maxcut",
        s(&edges),
        "--reads",
        "8",
        "--json",
        "--out",
        s(&run),
    ]);
    assert_eq!(v["cut_value"], 6.0, "{v}");
    assert_eq!(v["best_energy"], -6.0, "{v}");
    assert_run_dir(&run);
    // Four cities on a unit square: the shortest tour is its perimeter.
    let cities = tmp.path().join("square.txt");
    std::fs::write(&cities, "0 0\n1 1\n1 0\n0 1\n").expect("write");
    let run = tmp.path().join("tsp");
    let v = json(&[
        "anneal",
        "tsp",
        s(&cities),
        "--reads",
        "4",
        "--json",
        "--out",
        s(&run),
    ]);
    let len = v["tour_length"].as_f64().expect("tour_length");
    assert!((len - 4.0).abs() < 1e-9, "tour {len}");
    assert_run_dir(&run);
}

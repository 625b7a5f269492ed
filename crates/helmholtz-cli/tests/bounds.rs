//! Resource bounds: every size that comes from a flag or a file is checked against the memory
//! budget before anything of that size is allocated. Each command here would abort on an
//! allocation failure (or run away) without the check; it must instead exit 2 at once, with
//! one line naming the flag or the file, and leave no run directory behind. The commands run
//! with their address space limited (`ulimit -v`) and under a `timeout`, so that a regression
//! fails the test instead of taking the machine down.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::{arg, assert_usage_error, run_into, scratch, words};

/// `helmholtz ARGS` with its address space limited to `kib` KiB and 60 s to finish.
fn limited(kib: u64, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {kib}; exec timeout 60 \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_helmholtz"))
        .args(args)
        .env("HELMHOLTZ_DATA", "/nonexistent")
        .output()
        .expect("run helmholtz under sh")
}

/// `helmholtz ARGS --out OUT` within 2 GB must exit 2 with one line holding every `needle`,
/// and leave no OUT.
fn refused(args: &[&str], needles: &[&str]) {
    let (_tmp, out) = scratch("run");
    let res = limited(2_000_000, &[args, &["--out", arg(&out)]].concat());
    assert_usage_error(&res, needles);
    assert!(!out.exists(), "{args:?} left {}", out.display());
}

#[test]
fn flags_sized_beyond_memory_are_refused_naming_the_flag() {
    for (line, flag) in [
        ("rbm train --hidden 1000000000", "--hidden"),
        ("rbm train --chains 1000000000000", "--chains"),
        ("rbm train --ais-runs 1000000000000", "--ais-runs"),
        (
            "anneal maxcut --random 100:3 --reads 1000000000000",
            "--reads",
        ),
        (
            "anneal maxcut --random 100:3 --sweeps 1000000000000",
            "--sweeps",
        ),
        ("anneal maxcut --random 268435456:100", "--random"),
        ("anneal tsp --random 1000000000000", "--random"),
        ("boltzmann train --chains 10000000000", "--chains"),
        ("boltzmann train --batch-size 10000000000", "--batch-size"),
        ("hopfield capacity --n 100000", "--n"),
        (
            "hopfield store --patterns 1000000000 --rule hebbian",
            "--patterns",
        ),
        ("ising run --size 32768", "--size"),
        ("ising sweep --size 32768", "--size"),
        ("vae train --hidden 1000000000", "--hidden"),
        ("vae train --latent 1000000000", "--latent"),
        (
            "gan train --generator-hidden 1000000000",
            "--generator-hidden",
        ),
        ("gan train --eval-samples 100000000", "--eval-samples"),
        ("bnn train --example gap --hidden 1000000000", "--hidden"),
        (
            "bnn train --example seed --eval-draws 1000000000000",
            "--eval-draws",
        ),
    ] {
        refused(&words(line), &[flag, "memory", "budget"]);
    }
    // Thread counts are bounded by the machine before the budget is asked.
    for (line, flag) in [
        ("ising bench --thread-counts 1,1000000", "--thread-counts"),
        ("--threads 1000000 rbm train", "--threads"),
    ] {
        refused(&words(line), &[flag, "4 per core"]);
    }
}

#[test]
fn more_patterns_than_units_are_refused_before_the_pseudo_inverse() {
    // 1000 patterns of 784 units are linearly dependent: refused before an O(P^3) Cholesky.
    refused(
        &words("hopfield store --patterns 1000 --rule pseudo-inverse"),
        &["--patterns", "784"],
    );
}

#[test]
fn max_memory_sets_the_budget_and_bad_sizes_are_refused() {
    // 100,000 hidden units on 784 pixels: about 1.8 GiB of weights, over a 1 GiB budget.
    refused(
        &words("--max-memory 1G rbm train --hidden 100000"),
        &["--hidden", "1.0 GiB budget"],
    );
    for bad in ["12x", "0", "-1G", "lots"] {
        refused(
            &[&format!("--max-memory={bad}"), "rbm", "train"],
            &["--max-memory"],
        );
    }
}

#[test]
fn problem_files_declaring_more_nodes_than_their_edges_are_refused() {
    let (tmp, _) = scratch("none");
    let header = tmp.path().join("trillion.txt");
    std::fs::write(&header, "1000000000000 1\n0 1 1\n").expect("write");
    refused(
        &["anneal", "maxcut", arg(&header)],
        &["trillion.txt", "1000000000000 nodes"],
    );
    let ids = tmp.path().join("far.txt");
    std::fs::write(&ids, "0 1 1\n1 200000000 1\n").expect("write");
    refused(&["anneal", "maxcut", arg(&ids)], &["far.txt", "200000000"]);
    refused(&["anneal", "ising", arg(&ids)], &["far.txt", "200000000"]);
}

/// A tiny trained run of `family` in a scratch folder.
fn tiny(family: &str, flags: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, run) = scratch(family);
    run_into(&run, &words(&format!("{family} train {flags}")));
    (tmp, run)
}

/// `helmholtz ARGS` (on an existing run) within 2 GB must exit 2 naming every `needle`, and
/// the run directory must hold the same files afterwards.
fn refused_on(run: &Path, args: &[&str], needles: &[&str]) {
    let before = listing(run);
    assert_usage_error(&limited(2_000_000, args), needles);
    assert_eq!(listing(run), before, "{args:?} changed the run");
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list the run")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sample_and_eval_counts_are_checked_before_drawing() {
    let (_v, vae) = tiny(
        "vae",
        "--epochs 1 --hidden 8 --latent 2 --train-examples 200 --eval-k 2 --no-eval",
    );
    refused_on(
        &vae,
        &["vae", "sample", arg(&vae), "--n", "1000000000"],
        &["--n", "memory"],
    );
    // Within memory but not within one picture: refused, pointing at a .npy file.
    refused_on(
        &vae,
        &["vae", "sample", arg(&vae), "--n", "50000"],
        &["--n", "--out"],
    );
    let (_g, gan) = tiny(
        "gan",
        "--epochs 1 --train-examples 200 --batch-size 50 --no-eval --threads 1",
    );
    refused_on(
        &gan,
        &["gan", "eval", arg(&gan), "--n", "1000000000"],
        &["--n", "memory"],
    );
    refused_on(
        &gan,
        &["gan", "sample", arg(&gan), "--n", "1000000000"],
        &["--n", "memory"],
    );
    let (_r, rbm) = tiny("rbm", "--hidden 8 --epochs 1 --no-eval --sample-steps 2");
    refused_on(
        &rbm,
        &["rbm", "sample", arg(&rbm), "--n", "1000000000000"],
        &["--n"],
    );
    refused_on(
        &rbm,
        &["rbm", "eval", arg(&rbm), "--ais-runs", "1000000000000"],
        &["--ais-runs"],
    );
    let (_b, bm) = tiny("boltzmann", "--target and --steps 20");
    refused_on(
        &bm,
        &["boltzmann", "sample", arg(&bm), "--n", "10000000000"],
        &["--n", "memory"],
    );
}

/// Gzip `header` followed by `zeros` zero bytes into `path`, streaming.
fn gzip_bomb(path: &Path, header: &[u8], zeros: u64) {
    let file = std::fs::File::create(path).expect("create");
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::best());
    gz.write_all(header).expect("gzip");
    let block = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let k = left.min(block.len() as u64) as usize;
        gz.write_all(&block[..k]).expect("gzip");
        left -= k as u64;
    }
    gz.finish().expect("gzip");
}

/// An IDX header: unsigned bytes, the dimensions `dims`.
fn idx_header(dims: &[u32]) -> Vec<u8> {
    let mut h = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        h.extend_from_slice(&d.to_be_bytes());
    }
    h
}

#[test]
fn a_gzip_bomb_is_refused_after_its_header() {
    // 3.1 GB of images in a few MB of gzip: the header's size is over the budget of a process
    // held to 1 GB, so the reader stops after the header instead of inflating the rest.
    let (tmp, out) = scratch("run");
    let data = tmp.path().join("bomb");
    std::fs::create_dir(&data).expect("mkdir");
    let images = data.join("train-images-idx3-ubyte.gz");
    let dims = [3100, 1000, 1000];
    gzip_bomb(&images, &idx_header(&dims), 3_100_000_000);
    let size = std::fs::metadata(&images).expect("bomb").len();
    assert!(size < 8_000_000, "the bomb is {size} bytes");
    let started = std::time::Instant::now();
    let res = limited(
        1_000_000,
        &["rbm", "train", "--data", arg(&data), "--out", arg(&out)],
    );
    assert_usage_error(
        &res,
        &["train-images-idx3-ubyte.gz", "[3100, 1000, 1000]", "budget"],
    );
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
    assert!(!out.exists());
    // A header declaring little before the same flood is refused as trailing data, reading
    // one byte past what it declares.
    gzip_bomb(&images, &idx_header(&[10, 28, 28]), 3_100_000_000);
    let res = limited(
        1_000_000,
        &["rbm", "train", "--data", arg(&data), "--out", arg(&out)],
    );
    assert_usage_error(&res, &["train-images-idx3-ubyte.gz", "unexpected bytes"]);
    assert!(!out.exists());
}

#[test]
fn large_lattices_are_pictured_within_a_bounded_size() {
    // A 2048 x 2048 lattice: the snapshot is drawn at 1024 x 1024 (2 x 2 block means), so the
    // picture and the report embedding it stay a few megabytes.
    let (_tmp, run) = scratch("ising");
    let line = "ising run --size 2048 --sweeps 2 --equilibration 0 --snapshots 1 --threads 1";
    run_into(&run, &words(line));
    for (file, most) in [("snapshots.png", 4_000_000), ("report.html", 6_000_000)] {
        let size = std::fs::metadata(run.join(file)).expect(file).len();
        assert!(size < most, "{file} is {size} bytes");
    }
}

//! The catalogue of bad input: bad flags and bad files for every family, each of which must end
//! the same way. Exit status 2; exactly one non-empty line on stderr, with no panic, no
//! backtrace hint, no Rust `Debug` struct and no temporary file name; nothing on stdout; and
//! no run directory or output file left at `--out`.
//!
//! The rows run as child processes, a few at a time. A row names the files it reads with
//! `@NAME`, a fixture in the scratch folder made once before the rows run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod common;

use common::helmholtz;

/// One bad command line.
struct Row {
    /// The arguments; `@NAME` is the fixture NAME in the scratch folder.
    args: &'static str,
    /// Text the error line must contain.
    says: &'static [&'static str],
    /// Text the error line must not contain (a flag that was not given).
    not: &'static [&'static str],
    /// Append `--out @out-K` (false where the row passes --out itself, or cannot take it).
    out: bool,
}

const fn row(args: &'static str, says: &'static [&'static str]) -> Row {
    Row {
        args,
        says,
        not: &[],
        out: true,
    }
}

const fn row_not(
    args: &'static str,
    says: &'static [&'static str],
    not: &'static [&'static str],
) -> Row {
    Row {
        args,
        says,
        not,
        out: true,
    }
}

const fn row_own_out(args: &'static str, says: &'static [&'static str]) -> Row {
    Row {
        args,
        says,
        not: &[],
        out: false,
    }
}

const ROWS: &[Row] = &[
    // The command line itself.
    row_own_out("", &["requires a subcommand", "rbm"]),
    row("rbm", &["requires a subcommand", "train"]),
    row("frobnicate", &["frobnicate"]),
    row("rbm train --bogus", &["--bogus"]),
    row("rbm train --epochs x", &["--epochs", "'x'"]),
    row("rbm train --epochs -1", &["-1"]),
    row("rbm train --hidden", &["--hidden"]),
    row("rbm sample", &["<RUN>"]),
    row("rbm train --visible poisson", &["poisson", "bernoulli"]),
    row("rbm train --pcd --cd", &["--pcd", "--cd"]),
    row("--threads 1000 rbm train", &["--threads", "1000"]),
    row("--threads 0 ising run", &["--threads"]),
    row("--device tpu rbm train", &["tpu"]),
    row("--seed -3 rbm train", &["-3"]),
    row("--device cuda hopfield store", &["--device"]),
    row("hopfield capacity --n x,1", &["--n"]),
    // rbm
    row("rbm train --hidden 0", &["--hidden", "at least 1"]),
    row("rbm train --lr -0.1", &["--lr", "positive"]),
    row("rbm train --lr nan", &["--lr"]),
    row("rbm train --cd-k 0", &["--cd-k"]),
    row("rbm train --momentum 1.5", &["--momentum"]),
    row("rbm train --cd --chains 10", &["--chains", "--cd"]),
    row("rbm train --batch-size 0", &["--batch-size"]),
    row("rbm train --epochs 0", &["--epochs"]),
    row("rbm train --train-examples 0", &["--train-examples"]),
    row("rbm train --lr-schedule sideways", &["sideways"]),
    row(
        "rbm train --data @trunc-idx",
        &["train-images-idx3-ubyte", "truncated"],
    ),
    row(
        "rbm train --data @label-idx",
        &["train-labels-idx1-ubyte", "label 255"],
    ),
    row("rbm train --data @magic-idx", &["magic number"]),
    row("rbm train --data @gz-idx", &["gzip"]),
    row("rbm train --data @count-idx", &["labels", "images"]),
    row(
        "rbm train --data @short.csv",
        &["short.csv", "line 3", "2 cells"],
    ),
    row(
        "rbm train --data @nan.csv",
        &["nan.csv", "not a finite number"],
    ),
    row(
        "rbm train --data @word.csv",
        &["word.csv", "`oops` is not a number"],
    ),
    row(
        "rbm train --data @empty.csv",
        &["empty.csv", "no data rows"],
    ),
    row("rbm train --data @multiline.csv", &["multiline.csv"]),
    row("rbm train --data @latin1.csv", &["latin1.csv", "UTF-8"]),
    row("rbm train --data @garbage.npy", &["garbage.npy"]),
    row("rbm train --data @dtype.npy", &["dtype.npy", "dtype"]),
    row("rbm train --data @trunc.npy", &["trunc.npy"]),
    row(
        "rbm train --data @nosuch.csv",
        &["nosuch.csv", "No such file"],
    ),
    row("rbm train --data @notes.txt", &["notes.txt"]),
    row(
        "rbm train --data @good.csv --target zz",
        &["good.csv", "zz"],
    ),
    row(
        "rbm train --data @real-target.csv --target y",
        &["real-target.csv", "class label"],
    ),
    row(
        "rbm train --data @good.csv --test-fraction 1.5",
        &["--test-fraction"],
    ),
    row_own_out("rbm train --resume @nosuch", &["nosuch"]),
    row_own_out(
        "rbm train --resume @rbm --out @elsewhere",
        &["--out", "--resume"],
    ),
    row("rbm sample @nosuch", &["nosuch", "no such directory"]),
    row("rbm sample @rbm-garbage", &["model.safetensors"]),
    row("rbm sample @rbm-truncated", &["model.safetensors"]),
    row("rbm sample @rbm-wrong-family", &["`vae` model"]),
    row("rbm sample @rbm-bad-json", &["config.json"]),
    row(
        "rbm sample @rbm-no-model",
        &["model.safetensors is missing"],
    ),
    row("rbm sample @rbm-bad-hidden", &["model.safetensors"]),
    row("rbm sample @rbm --n 0", &["--n"]),
    row("rbm sample @rbm --from nowhere", &["nowhere"]),
    row_own_out(
        "rbm sample @rbm --out @rbm/model.safetensors",
        &["--out", "model.safetensors"],
    ),
    row("rbm eval @rbm --ais-runs 0", &["--ais-runs"]),
    row("rbm eval @rbm --data @good.csv", &["good.csv"]),
    row_own_out("rbm transform @rbm --out @codes.txt", &["--out", ".npy"]),
    // vae
    row("vae train --latent gaussian:0", &["--latent", "at least 1"]),
    row("vae train --latent categorical:3", &["--latent", "NxK"]),
    row("vae train --hidden 400,0", &["--hidden"]),
    row("vae train --likelihood poisson", &["poisson"]),
    row("vae train --tau 2", &["--tau", "categorical"]),
    row(
        "vae train --straight-through",
        &["--straight-through", "categorical"],
    ),
    row("vae train --beta -1", &["--beta"]),
    row("vae train --lr 0", &["--lr"]),
    row("vae train --holdout-class 42", &["--holdout-class", "42"]),
    row("vae train --binarize sometimes", &["sometimes"]),
    row("vae train --data @short.csv", &["short.csv"]),
    row("vae sample @rbm", &["`rbm` model"]),
    row("vae eval @rbm", &["`rbm` model"]),
    row("vae eval @nosuch --k 0", &["--k"]),
    row("vae eval @nosuch", &["nosuch"]),
    row("vae anomaly", &["--holdout-class"]),
    row(
        "vae anomaly @rbm --hidden 10",
        &["--hidden", "existing RUN"],
    ),
    row("vae encode @nosuch", &["nosuch"]),
    // gan
    row("gan train --beta1 1.5", &["--beta1"]),
    row("gan train --noise-dim 0", &["--noise-dim"]),
    row("gan train --label-smoothing 0.2", &["--label-smoothing"]),
    row("gan train --d-steps 0", &["--d-steps"]),
    row("gan train --generator-hidden 0", &["--generator-hidden"]),
    row("gan train --dropout 1.5", &["--dropout"]),
    row("gan train --arch bogus", &["bogus"]),
    row("gan train --data @label-idx", &["label 255"]),
    row("gan sample @rbm", &["`rbm` model"]),
    row("gan eval @nosuch", &["nosuch"]),
    row("gan sample @gan-bad-config", &["config.json"]),
    // bnn
    row("bnn train --method bogus", &["bogus"]),
    row("bnn train --method sgld --step-size -0.1", &["--step-size"]),
    row("bnn train --method svi --epochs 3", &["--epochs"]),
    row("bnn train --example digits --method svi", &["--method"]),
    row("bnn train --method bbb --hidden 0", &["--hidden"]),
    row("bnn train --method bbb --prior mixture:2,1,1", &["--prior"]),
    row(
        "bnn train --method svi --friction 0.5",
        &["--friction", "sghmc"],
    ),
    row("bnn train --method sgld --lr 0.1", &["--lr", "svi and bbb"]),
    row(
        "bnn train --method bbb --steps 10",
        &["--steps", "--epochs"],
    ),
    row(
        "bnn train --method svi --activation tanh",
        &["--activation", "bbb"],
    ),
    row("bnn train --method sghmc --friction 2", &["--friction"]),
    row("bnn train --data @short.csv --target c", &["short.csv"]),
    row("bnn train --data @good.csv --target zz", &["zz"]),
    row("bnn train --data @good.csv", &["--target"]),
    row("bnn eval @nosuch", &["nosuch"]),
    row("bnn eval @bnn --n 0", &["--n"]),
    row("bnn predict @bnn --n 0", &["--n"]),
    row("bnn predict @bnn --input @short.csv", &["short.csv"]),
    row(
        "bnn predict @bnn --input @good.csv",
        &["good.csv", "feature columns"],
    ),
    row(
        "bnn train --method bbb --bias-prior gaussian:-1",
        &["--bias-prior", "sigma"],
    ),
    row(
        "bnn train --method bbb --prior mixture:0.5,1,0",
        &["--prior", "sigma2"],
    ),
    row("bnn predict @rbm", &["`rbm` model"]),
    // boltzmann
    row("boltzmann train --target bogus", &["bogus"]),
    row("boltzmann train --target parity:0", &["parity"]),
    row("boltzmann train --temperature 0", &["--temperature"]),
    row("boltzmann train --lr nan", &["--lr"]),
    row("boltzmann train --steps 7", &["--steps", "--log-every"]),
    row(
        "boltzmann train --expectations exact --chains 5",
        &["--chains", "exact"],
    ),
    row("boltzmann train --data @nan.csv", &["nan.csv"]),
    row("boltzmann sample @bm --anneal bogus:1", &["--anneal"]),
    row(
        "boltzmann sample @bm --anneal linear:5:1 --temperature 2",
        &["--temperature", "--anneal"],
    ),
    row("boltzmann sample @bm --temperature -1", &["--temperature"]),
    row("boltzmann sample @bm --n 0", &["--n"]),
    row("boltzmann sample @rbm", &["`rbm` model"]),
    // hopfield
    row("hopfield store --patterns 0", &["--patterns"]),
    row(
        "hopfield store --patterns 100000",
        &["--patterns", "100000"],
    ),
    row("hopfield store --data @good.csv", &["square"]),
    row("hopfield store --rule bogus", &["bogus"]),
    row(
        "hopfield recall --modern --pattern 1",
        &["--pattern", "--modern"],
    ),
    row(
        "hopfield recall --modern --max-sweeps 3",
        &["--max-sweeps", "--modern"],
    ),
    row(
        "hopfield recall @hop --stored 10",
        &["--stored", "--modern"],
    ),
    row("hopfield recall @hop --beta 2", &["--beta", "--modern"]),
    row("hopfield recall --modern @hop", &["--modern", "RUN"]),
    row(
        "hopfield recall --modern --stored 100000",
        &["--stored", "100000"],
    ),
    row("hopfield recall --modern --stored 0", &["--stored"]),
    row("hopfield recall @hop --pattern 99", &["--pattern", "99"]),
    row("hopfield recall @hop --corrupt flip:2", &["--corrupt"]),
    row(
        "hopfield recall @hop --corrupt smudge:0.1",
        &["--corrupt", "smudge"],
    ),
    row("hopfield recall", &["<RUN>"]),
    row("hopfield recall @rbm", &["`rbm` model"]),
    row("hopfield capacity --n 0", &["--n"]),
    row("hopfield capacity --rules bogus", &["--rules", "bogus"]),
    // ising
    row("ising run --temperature 0", &["--temperature", "positive"]),
    row("ising run --size 3", &["--size"]),
    row("ising run --algorithm wolff --field 0.5", &["--field"]),
    row("ising run --algorithm bogus", &["bogus"]),
    row("ising run --coupling nan", &["--coupling"]),
    row("ising sweep --t-min 3 --t-max 1", &["--t-"]),
    row("ising sweep --points 0", &["--points"]),
    row("ising bench --thread-counts 0", &["--thread-counts"]),
    row(
        "ising bench --thread-counts 1,1000",
        &["--thread-counts", "1000"],
    ),
    // anneal
    row("anneal maxcut", &["FILE"]),
    row("anneal maxcut --random 10", &["--random", "N:DEGREE"]),
    row(
        "anneal maxcut --random 10:3 --format matrix",
        &["--format", "--random"],
    ),
    row(
        "anneal maxcut @word-edges.txt",
        &["word-edges.txt", "line 2"],
    ),
    row(
        "anneal maxcut @selfloop.txt",
        &["selfloop.txt", "self-loop"],
    ),
    row("anneal maxcut @header.txt", &["header.txt", "edges"]),
    row_not(
        "anneal ising @huge.txt",
        &["huge.txt"],
        &["--beta-range:", "--schedule"],
    ),
    row_not(
        "anneal ising @twice.txt",
        &["twice.txt"],
        &["--beta-range:", "--schedule"],
    ),
    row_not(
        "anneal maxcut @extreme.txt",
        &["extreme.txt", "--beta-range"],
        &["--beta-range:", "--schedule"],
    ),
    row("anneal qubo @nonsquare.csv", &["nonsquare.csv"]),
    row(
        "anneal qubo @garbage.npy",
        &["garbage.npy", "not a text file"],
    ),
    row("anneal ising @nosuch.txt", &["nosuch.txt"]),
    row(
        "anneal tsp @three-cities.txt",
        &["three-cities.txt", "4 cities"],
    ),
    row("anneal tsp @nan-cities.txt", &["nan-cities.txt"]),
    row("anneal tsp --random 2", &["--random"]),
    row("anneal tsp --random 10 --order random", &["--order", "tsp"]),
    row(
        "anneal maxcut --random 10:3 --beta-range 5:0.1",
        &["--beta-range"],
    ),
    row(
        "anneal maxcut --random 10:3 --beta-range 1e-320:1",
        &["--beta-range"],
    ),
    row(
        "anneal maxcut --random 10:3 --schedule bogus",
        &["--schedule"],
    ),
    row("anneal maxcut --random 10:3 --sweeps 0", &["--sweeps"]),
    row(
        "anneal maxcut --random 10:3 --schedule constant:1 --beta-range 0.1:1",
        &["--beta-range"],
    ),
    // aif: model files name the array and index; flags name themselves.
    row_own_out(
        "aif infer @aif-unnorm.json --obs 0,0",
        &["aif-unnorm.json", "A[0][:, 1,0]", "sums to"],
    ),
    row_own_out(
        "aif infer @aif-neg.json --obs 0,0",
        &["aif-neg.json", "B[1][0,1,0]", "negative"],
    ),
    row_own_out(
        "aif infer @aif-shape.json --obs 0,0",
        &["aif-shape.json", "A[0] has shape"],
    ),
    row_own_out(
        "aif infer @aif-ragged.json --obs 0,0",
        &["aif-ragged.json", "ragged"],
    ),
    row_own_out(
        "aif infer @aif-e.json --obs 0,0",
        &["--policy-len", "E has 3 entries"],
    ),
    row_own_out(
        "aif infer @aif-good.json --obs 0,2",
        &["--obs", "A[1]", "out of range"],
    ),
    row_own_out(
        "aif infer @aif-good.json --obs 0",
        &["--obs", "2 modalities"],
    ),
    row_own_out(
        "aif infer @aif-good.json --obs 0,0 --action 0,1 --obs 1,1",
        &["--action", "B[1]", "uncontrolled"],
    ),
    row_own_out(
        "aif infer @aif-good.json --obs 0,0 --obs 1,1",
        &["--action", "one --action between"],
    ),
    row_own_out("aif infer @aif-good.json --obs 0,x", &["--obs", "0,x"]),
    row_own_out(
        "aif infer @aif-good.json --obs 0,0 --policy-len 40",
        &["--policy-len", "too many policies"],
    ),
    row_own_out(
        "aif infer @aif-good.json --obs 0,0 --learn",
        &["--learn", "no Dirichlet"],
    ),
    row(
        "aif run --env @aif-unnorm.json --trials 2",
        &["aif-unnorm.json", "A[0]"],
    ),
    row(
        "aif run --env tmaze --exact --learn",
        &["--exact", "--learn"],
    ),
    row(
        "aif run --env tmaze --depth 3",
        &["--depth", "--sophisticated"],
    ),
    row(
        "aif run --env tmaze --sophisticated --policy-len 2",
        &["--policy-len"],
    ),
    row("aif run --env tmaze --gamma 0", &["--gamma"]),
    row("aif run --env tmaze --trials 0", &["--trials"]),
    row(
        "aif run --env tmaze-null --learn --inference mmp",
        &["--learn", "mmp"],
    ),
    row(
        "aif run --env tmaze --process @aif-good.json",
        &["--process"],
    ),
    row_own_out("aif model --env tmaze", &["--out"]),
    row_own_out("aif model --env tmaze --out @a-file", &["a-file", "exists"]),
    // vb gmm
    row(
        "vb gmm --example mixture2d --components 0",
        &["--components"],
    ),
    row("vb gmm --data @vb-nan.csv", &["vb-nan.csv"]),
    row(
        "vb gmm --data @vb-nan.npy",
        &["vb-nan.npy", "value NaN at row 2, column 1", "not finite"],
    ),
    row(
        "vb gmm --example mixture2d --covariance-prior @vb-notpd.npy",
        &["--covariance-prior", "positive definite"],
    ),
    row(
        "vb gmm --example mixture2d --covariance diag --covariance-prior=-1",
        &["--covariance-prior", "positive"],
    ),
    row(
        "vb gmm --example mixture2d --components 2 --test-fraction 0 --init @vb-resp.npy",
        &["vb-resp.npy", "row 0", "sums to 1.2"],
    ),
    row(
        "vb gmm --example mixture2d --components 3 --test-fraction 0 --init @vb-resp.npy",
        &["vb-resp.npy", "[1200, 3]"],
    ),
    row(
        "vb gmm --example mixture2d --degrees-of-freedom-prior 0.5",
        &["--degrees-of-freedom-prior", "D - 1"],
    ),
    row(
        "vb gmm --example mixture2d --test-fraction 1",
        &["--test-fraction"],
    ),
    row(
        "vb gmm --example mixture2d --mean-prior 1,x",
        &["--mean-prior"],
    ),
    // pc tutorial, pc train
    row("pc tutorial --exercise 4", &["--exercise", "1, 2, 3 and 5"]),
    row(
        "pc tutorial --exercise 2 --sigma-p=-1",
        &["--sigma-p", "positive"],
    ),
    row(
        "pc tutorial --exercise 5 --true-variance=-2",
        &["--true-variance", "positive"],
    ),
    row("pc tutorial --exercise 5 --u 3", &["--u", "exercise 5"]),
    row("pc tutorial --exercise 2 --dt 0", &["--dt"]),
    row("pc train --hidden 0", &["--hidden"]),
    row("pc train --hidden 64,x", &["--hidden"]),
    row(
        "pc train --mode unsupervised --label-precision 2",
        &["--label-precision", "no labels"],
    ),
    row("pc train --inference-rate 0", &["--inference-rate"]),
    row("pc train --data @vb-nan.csv", &["vb-nan.csv"]),
    // baseline train
    row(
        "baseline train --model mixture --components 0",
        &["--components"],
    ),
    row("baseline train --smoothing=-1", &["--smoothing"]),
    row(
        "baseline train --components 3",
        &["--components", "no components"],
    ),
    row("baseline train --data @vb-nan.csv", &["vb-nan.csv"]),
    // hm train
    row("hm train --layers 20,0", &["--layers"]),
    row("hm train --samples 0", &["--samples"]),
    row("hm train --method xyz", &["--method"]),
    row("hm compare-aevb --sizes 3,0", &["--sizes"]),
    // compare
    row(
        "compare --runs @vb-run",
        &["vb-run", "no test log-likelihood"],
    ),
    row("compare --runs @nosuch-run", &["nosuch-run"]),
    row("compare --quick --runs @vb-run", &["--quick"]),
    // runs
    row_own_out("runs @nosuch-dir", &["nosuch-dir"]),
    row(
        "runs compare @vb-run @nosuch-run",
        &["nosuch-run", "not a run directory"],
    ),
    row("runs compare @vb-run @vb-run", &["--runs", "metrics"]),
    // Where output goes.
    row_own_out("rbm train --out @a-file", &["a-file"]),
    row_own_out("hopfield store --out @a-file/run", &["a-file"]),
    row_own_out(
        "rbm sample @rbm --out @nosuch/samples.png",
        &["samples.png"],
    ),
];

// ---------------------------------------------------------------------------------------------
// Fixtures

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::write(path, bytes).expect("write a fixture");
}

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8, 0, 8, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

/// A folder of the four IDX files of `n` 2x2 images, then `damage` applied.
fn idx_folder(dir: &Path, n: u32, damage: impl FnOnce(&Path)) {
    std::fs::create_dir(dir).expect("mkdir");
    for prefix in ["train", "t10k"] {
        let images = idx(&[n, 2, 2], &vec![128u8; 4 * n as usize]);
        write(&dir.join(format!("{prefix}-images-idx3-ubyte")), images);
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        write(
            &dir.join(format!("{prefix}-labels-idx1-ubyte")),
            idx(&[n], &labels),
        );
    }
    damage(dir);
}

fn npy(header: &str, body: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(body);
    out
}

fn run_ok(args: &[&str]) {
    let out = helmholtz().args(args).output().expect("run helmholtz");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A copy of the run `from` at `to` (files only), then `damage` applied.
fn copy_run(from: &Path, to: &Path, damage: impl FnOnce(&Path)) {
    std::fs::create_dir(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read run") {
        let entry = entry.expect("entry");
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
    damage(to);
}

/// A little-endian float64 `.npy` file of `shape`.
fn npy_f64(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    let body: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    npy(&header, &body)
}

fn fixtures(dir: &Path) {
    let p = |name: &str| dir.join(name);
    // aif model files: two factors (2 states, 2 and 1 controls), two modalities.
    let good = r#"{"A": [[[[1,0],[0,1]],[[0,1],[1,0]]], [[[0.5,0.5],[0.5,0.5]],[[0.5,0.5],[0.5,0.5]]]],
        "B": [[[[1,0],[0,1]],[[0,1],[1,0]]], [[[1],[0]],[[0],[1]]]]}"#;
    write(&p("aif-good.json"), good.as_bytes());
    write(
        &p("aif-unnorm.json"),
        good.replacen(
            "[[[[1,0],[0,1]],[[0,1],[1,0]]], [[[0.5",
            "[[[[1,0],[0.5,1]],[[0,1],[1,0]]], [[[0.5",
            1,
        )
        .as_bytes(),
    );
    write(
        &p("aif-neg.json"),
        good.replace("[[[1],[0]],[[0],[1]]]", "[[[1],[-0.5]],[[0],[1.5]]]")
            .as_bytes(),
    );
    write(
        &p("aif-shape.json"),
        good.replacen(
            "[[[[1,0],[0,1]],[[0,1],[1,0]]], [[[0.5",
            "[[[1,0,0],[0,1,1]], [[[0.5",
            1,
        )
        .as_bytes(),
    );
    write(
        &p("aif-ragged.json"),
        good.replacen(
            "[[[[1,0],[0,1]],[[0,1],[1,0]]], [[[0.5",
            "[[[[1,0],[0]],[[0,1],[1,0]]], [[[0.5",
            1,
        )
        .as_bytes(),
    );
    write(
        &p("aif-e.json"),
        good.replace("}", r#", "E": [0.2, 0.3, 0.5]}"#).as_bytes(),
    );
    // vb gmm: a NaN, a prior scale that is not positive definite, responsibilities whose rows
    // sum to 1.2.
    write(&p("vb-nan.csv"), "x,y\n1,2\nnan,3\n4,5\n");
    write(
        &p("vb-nan.npy"),
        npy_f64(&[3, 2], &[1.0, 2.0, f64::NAN, 3.0, 4.0, 5.0]),
    );
    write(&p("vb-notpd.npy"), npy_f64(&[2, 2], &[1.0, 2.0, 2.0, 1.0]));
    let resp: Vec<f64> = (0..1200).flat_map(|_| [0.5, 0.7]).collect();
    write(&p("vb-resp.npy"), npy_f64(&[1200, 2], &resp));
    // compare --runs: a run of a model without a likelihood.
    std::fs::create_dir_all(p("vb-run")).expect("a run folder");
    write(&p("vb-run/config.json"), r#"{"family": "vb"}"#);
    // IDX folders: truncated, a label 255, a wrong magic number, a corrupt gzip stream, label
    // and image counts that differ.
    idx_folder(&p("trunc-idx"), 5, |d| {
        let f = d.join("train-images-idx3-ubyte");
        let b = std::fs::read(&f).expect("read");
        write(&f, &b[..b.len() - 3]);
    });
    idx_folder(&p("label-idx"), 5, |d| {
        write(
            &d.join("train-labels-idx1-ubyte"),
            idx(&[5], &[0, 1, 255, 3, 4]),
        );
    });
    idx_folder(&p("magic-idx"), 5, |d| {
        write(&d.join("t10k-images-idx3-ubyte"), b"\x1f\x8c not idx");
    });
    idx_folder(&p("gz-idx"), 5, |d| {
        std::fs::remove_file(d.join("train-images-idx3-ubyte")).expect("rm");
        write(
            &d.join("train-images-idx3-ubyte.gz"),
            b"\x1f\x8b\x08\x00 broken",
        );
    });
    idx_folder(&p("count-idx"), 5, |d| {
        write(&d.join("t10k-labels-idx1-ubyte"), idx(&[4], &[0, 1, 2, 3]));
    });
    // Tables.
    write(
        &p("good.csv"),
        "a,b,c\n0.1,0.2,0.3\n0.4,0.5,0.6\n0.7,0.8,0.9\n0,1,0\n1,0,1\n",
    );
    write(&p("short.csv"), "a,b,c\n1,2,3\n4,5\n6,7,8\n");
    write(&p("nan.csv"), "a,b\n1,0\n0,nan\n");
    write(&p("word.csv"), "a,b\n1,0\n0,oops\n");
    write(&p("empty.csv"), "a,b\n");
    write(&p("multiline.csv"), "a,b\n1,\"0\n{ kind: 1 }\"\n");
    write(&p("latin1.csv"), b"a,b\n1,\xe9\n");
    write(&p("real-target.csv"), "a,y\n0.5,1\n0.25,1.5\n0,0\n1,2\n");
    write(&p("notes.txt"), "not data\n");
    write(&p("a-file"), "a file where a folder belongs\n");
    // NPY: garbage, an unsupported dtype, a truncated body.
    write(
        &p("garbage.npy"),
        b"\x00\x01\x02 this is not numpy \xff\xfe",
    );
    write(
        &p("dtype.npy"),
        npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }",
            &[0; 32],
        ),
    );
    write(
        &p("trunc.npy"),
        npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }",
            &[0; 20],
        ),
    );
    // Annealing problems.
    write(&p("word-edges.txt"), "0 1 1\n1 two 1\n");
    write(&p("selfloop.txt"), "0 1 1\n1 1 2\n");
    write(&p("header.txt"), "3 5\n0 1 1\n1 2 1\n");
    write(&p("huge.txt"), "0 1 1e308\n1 2 1e308\n");
    write(&p("twice.txt"), "0 1 1e308\n0 1 1e308\n");
    // Finite, but the hottest temperature the weights imply is beyond floating point.
    write(&p("extreme.txt"), "0 1 5e307\n1 2 1\n");
    write(&p("nonsquare.csv"), "0,1,2\n1,0,3\n");
    write(&p("three-cities.txt"), "0 0\n1 0\n0 1\n");
    write(&p("nan-cities.txt"), "0 0\n1 0\n0 1\nnan 1\n");
    // Runs: a tiny RBM and copies of it with damage, a stored Hopfield network, a Boltzmann
    // machine.
    let rbm = p("rbm");
    let rbm_s = rbm.to_str().expect("utf-8");
    run_ok(&[
        "rbm",
        "train",
        "--hidden",
        "4",
        "--epochs",
        "1",
        "--train-examples",
        "64",
        "--sample-steps",
        "2",
        "--no-eval",
        "--out",
        rbm_s,
    ]);
    copy_run(&rbm, &p("rbm-garbage"), |d| {
        write(
            &d.join("model.safetensors"),
            b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......",
        )
    });
    copy_run(&rbm, &p("rbm-truncated"), |d| {
        let f = d.join("model.safetensors");
        let b = std::fs::read(&f).expect("read");
        write(&f, &b[..b.len() / 2]);
    });
    copy_run(&rbm, &p("rbm-wrong-family"), |d| {
        write(&d.join("config.json"), "{\"family\": \"vae\"}")
    });
    copy_run(&rbm, &p("rbm-bad-json"), |d| {
        write(&d.join("config.json"), "{\"family\": \"rbm\", ")
    });
    copy_run(&rbm, &p("rbm-no-model"), |d| {
        std::fs::remove_file(d.join("model.safetensors")).expect("rm")
    });
    copy_run(&rbm, &p("rbm-bad-hidden"), |d| {
        let f = d.join("config.json");
        let text = std::fs::read_to_string(&f).expect("read");
        write(&f, text.replace("\"hidden\": 4", "\"hidden\": 5"));
    });
    copy_run(&rbm, &p("gan-bad-config"), |d| {
        write(
            &d.join("config.json"),
            "{\"family\": \"gan\", \"model\": 3}",
        )
    });
    let bnn = p("bnn");
    run_ok(&[
        "bnn",
        "train",
        "--example",
        "seed",
        "--steps",
        "100",
        "--out",
        bnn.to_str().expect("utf-8"),
    ]);
    let hop = p("hop");
    run_ok(&[
        "hopfield",
        "store",
        "--patterns",
        "2",
        "--out",
        hop.to_str().expect("utf-8"),
    ]);
    let bm = p("bm");
    run_ok(&[
        "boltzmann",
        "train",
        "--steps",
        "20",
        "--log-every",
        "20",
        "--out",
        bm.to_str().expect("utf-8"),
    ]);
}

// ---------------------------------------------------------------------------------------------
// The check

/// The row's arguments with fixtures resolved, and its `--out`.
fn arguments(dir: &Path, k: usize, r: &Row) -> (Vec<String>, Option<PathBuf>) {
    let resolve = |w: &str| match w.strip_prefix('@') {
        Some(name) => dir.join(name).to_string_lossy().into_owned(),
        None => w.to_owned(),
    };
    let mut args: Vec<String> = r.args.split_whitespace().map(resolve).collect();
    let out = r.out.then(|| dir.join(format!("out-{k}")));
    if let Some(o) = &out {
        args.push("--out".into());
        args.push(o.to_string_lossy().into_owned());
    }
    (args, out)
}

/// Run with a deadline: a bad command line must fail fast, never start the work.
fn run_row(args: &[String]) -> Result<Output, String> {
    let mut child = helmholtz()
        .args(args)
        .env("HELMHOLTZ_DATA", "/nonexistent")
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("still running after 60 s: the bad input was not refused".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().map_err(|e| e.to_string())
}

/// What is wrong with how `r` ended, if anything.
fn problems(r: &Row, out: &Output, out_path: Option<&Path>) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stderr.trim();
    let mut bad = Vec::new();
    if out.status.code() != Some(2) {
        bad.push(format!("exit status {:?}, not 2", out.status.code()));
    }
    if line.is_empty() || line.lines().count() != 1 {
        bad.push(format!("{} stderr lines", line.lines().count()));
    }
    if !stdout.trim().is_empty() {
        bad.push(format!("stdout: {}", stdout.trim()));
    }
    for word in ["panicked", "RUST_BACKTRACE", ".tmp"] {
        if stderr.contains(word) {
            bad.push(format!("says `{word}`"));
        }
    }
    if let Some(debug) = common::prose::debug_text(line) {
        bad.push(format!("Debug text `{debug}`"));
    }
    for needle in r.says {
        if !line.contains(needle) {
            bad.push(format!("does not say `{needle}`"));
        }
    }
    for needle in r.not {
        if line.contains(needle) {
            bad.push(format!("says `{needle}`"));
        }
    }
    if let Some(p) = out_path.filter(|p| p.exists()) {
        bad.push(format!("left {}", p.display()));
    }
    bad
}

#[test]
fn every_bad_input_exits_2_with_one_clean_line_and_leaves_nothing() {
    assert!(ROWS.len() >= 100, "{} rows", ROWS.len());
    let tmp = tempfile::Builder::new()
        .prefix("catalogue-")
        .tempdir()
        .expect("scratch");
    let dir = tmp.path();
    fixtures(dir);
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    // One process writes a run at a time (a second is refused, by design): rows on the same
    // fixture run take turns.
    let run_of = |w: &'static str| w.split('/').next().filter(|w| w.starts_with('@'));
    let runs: std::collections::BTreeMap<&str, Mutex<()>> = ROWS
        .iter()
        .flat_map(|r| r.args.split_whitespace().filter_map(run_of))
        .filter(|w| dir.join(&w[1..]).is_dir())
        .map(|w| (w, Mutex::new(())))
        .collect();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let k = {
                        let mut n = next.lock().expect("lock");
                        *n += 1;
                        *n - 1
                    };
                    let Some(r) = ROWS.get(k) else { break };
                    let (args, out_path) = arguments(dir, k, r);
                    let _turns: Vec<_> = runs
                        .iter()
                        .filter(|(w, _)| {
                            r.args
                                .split_whitespace()
                                .filter_map(run_of)
                                .any(|a| a == **w)
                        })
                        .map(|(_, m)| m.lock().expect("lock"))
                        .collect();
                    let bad = match run_row(&args) {
                        Ok(out) => {
                            if std::env::var_os("CATALOGUE_SHOW").is_some() {
                                // `CATALOGUE_SHOW=1 cargo test --test catalogue -- --nocapture`
                                // lists every row's message, to read them side by side.
                                let line = String::from_utf8_lossy(&out.stderr);
                                eprintln!("{:<60} {}", r.args, line.trim());
                            }
                            let bad = problems(r, &out, out_path.as_deref());
                            if bad.is_empty() {
                                continue;
                            }
                            format!(
                                "{}\n      stderr: {}",
                                bad.join("; "),
                                String::from_utf8_lossy(&out.stderr).trim()
                            )
                        }
                        Err(e) => e,
                    };
                    failures
                        .lock()
                        .expect("lock")
                        .push(format!("helmholtz {}: {bad}", r.args));
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n")
    );
}

/// `--help` and `--version` still print in full on stdout and exit 0.
#[test]
fn help_and_version_are_untouched() {
    for args in [
        &["--help"][..],
        &["rbm", "--help"],
        &["hopfield", "recall", "--help"],
        &["--version"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_helmholtz"))
            .args(args)
            .output()
            .expect("run helmholtz");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.stderr.is_empty(), "{args:?}");
        if args[0] == "--version" {
            assert!(stdout.starts_with("helmholtz "), "{stdout}");
        } else {
            assert!(
                stdout.contains("Usage: helmholtz") && stdout.lines().count() > 5,
                "{stdout}"
            );
        }
    }
}

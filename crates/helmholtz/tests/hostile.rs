//! Hostile input: every reader is fed arbitrary bytes and mutations of a valid small file
//! (bits flipped, bytes set, inserted, deleted, the file truncated). Whatever it gets, a reader
//! must not panic; it returns a value whose declared size matches its data, or an error whose
//! message is one line of prose (no Rust `Debug` struct, no temporary file name).
//!
//! The runs are deterministic (a fixed ChaCha seed, no failure persistence), so CI sees the same
//! cases every time. Sizes stay small: a mutation edits at most a few bytes, so that a digit
//! inserted into a size field cannot ask for gigabytes (bounding those is the memory-budget
//! work's, not this file's).

mod common;

use std::fmt::Debug;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::prelude::Device;
use common::{images, labels};
use helmholtz::Error;
use helmholtz::adversarial::gan::{Gan, GanConfig};
use helmholtz::anneal::{AnnealConfig, Cities, FileFormat, IsingProblem, MaxCut, Qubo};
use helmholtz::api::{Persist, Trainable};
use helmholtz::data::idx::parse_idx;
use helmholtz::data::npy::parse_npy;
use helmholtz::data::{
    DataConfig, DataSource, IdxArray, TableOptions, load_idx_dir, read_csv, read_npy, write_idx,
    write_npy_f32,
};
use helmholtz::energy::hopfield::{self, LearningRule, PatternChoice, StoreConfig, Threshold};
use helmholtz::energy::rbm::{self, AisConfig, Rbm, RbmConfig, RbmParams, RbmRunConfig};
use helmholtz::io::{Blob, TensorFile};
use helmholtz::kernels::runtime::DeviceKind;
use helmholtz::latent::vae::{Vae, VaeConfig};
use helmholtz::run::{self, RunOptions};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use rand::SeedableRng;

type R = Result<(), Box<dyn std::error::Error>>;

// ---------------------------------------------------------------------------------------------
// The harness

/// Run `test` on `cases` values of `strategy` from a fixed seed; panic with the smallest
/// failing value if one fails (a panic inside `test` counts as a failure). For a longer hunt,
/// `HOSTILE_SCALE=20 cargo test --test hostile` runs 20 times as many cases (still seeded).
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: Debug,
{
    let scale = std::env::var("HOSTILE_SCALE")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1);
    let config = Config {
        cases: cases.saturating_mul(scale.max(1)),
        failure_persistence: None,
        source_file: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        max_shrink_iters: 512,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
}

/// A scratch folder whose name does not contain `.tmp` (tempfile's default prefix), so that a
/// message naming a temporary file is told apart from one naming the user's file.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hostile-")
        .tempdir()
        .expect("a scratch folder")
}

/// The error reads as one line of prose: not empty, no line break, no `Debug` struct, no
/// temporary file.
fn plain(e: &Error) -> Result<(), TestCaseError> {
    let text = e.to_string();
    prop_assert!(!text.trim().is_empty(), "empty message: {e:?}");
    prop_assert!(!text.contains('\n'), "message on several lines: {text}");
    let debug = common::prose::debug_text(&text);
    prop_assert!(
        debug.is_none(),
        "`{}` in message: {text}",
        debug.unwrap_or_default()
    );
    Ok(())
}

/// `Ok` passes `check`, `Err` is [`plain`].
fn ok_or_plain<T>(
    r: helmholtz::Result<T>,
    check: impl FnOnce(T) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    match r {
        Ok(v) => check(v),
        Err(e) => plain(&e),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    std::fs::write(path, bytes).map_err(|e| TestCaseError::fail(format!("write: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Strategies: arbitrary bytes, and edits of a valid file

#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
}

fn edit(byte: BoxedStrategy<u8>) -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<Index>(), 0..8u8).prop_map(|(i, b)| Edit::Flip(i, b)),
        3 => (any::<Index>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        3 => (any::<Index>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => any::<Index>().prop_map(Edit::Delete),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(valid: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = valid.to_vec();
    for e in edits {
        let n = b.len();
        match e {
            Edit::Insert(i, v) => b.insert(i.index(n + 1), *v),
            _ if n == 0 => {}
            Edit::Flip(i, bit) => b[i.index(n)] ^= 1 << bit,
            Edit::Set(i, v) => b[i.index(n)] = *v,
            Edit::Delete(i) => {
                b.remove(i.index(n));
            }
            Edit::Truncate(i) => b.truncate(i.index(n)),
        }
    }
    b
}

/// Any byte.
fn binary() -> BoxedStrategy<u8> {
    any::<u8>().boxed()
}

/// Any byte, or (as often) one that matters in a text format.
fn textual() -> BoxedStrategy<u8> {
    prop_oneof![
        any::<u8>(),
        select(b"0123456789 ,.-+eE#\n\r\t\"'{}[]:_aNInf".to_vec()),
    ]
    .boxed()
}

/// `valid` after one to four edits drawing new bytes from `byte`.
fn mutated(valid: Vec<u8>, byte: BoxedStrategy<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(edit(byte), 1..=4).prop_map(move |edits| apply(&valid, &edits))
}

/// Arbitrary bytes (up to 300), or `valid` edited.
fn hostile(valid: Vec<u8>, byte: BoxedStrategy<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(byte.clone(), 0..300),
        3 => mutated(valid, byte),
    ]
}

// ---------------------------------------------------------------------------------------------
// Valid small files

/// The bytes `write_idx` writes for `array` at a path named `name` (`.gz`: gzipped).
fn idx_bytes(array: &IdxArray, name: &str) -> Vec<u8> {
    let dir = scratch();
    let path = dir.path().join(name);
    write_idx(&path, array).expect("write a valid IDX file");
    std::fs::read(&path).expect("read it back")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

const CSV: &str = "a,b,label\n0.5,1,0\n-2,3.25,1\n4e-1,0,2\n1,1,1\n0,0,0\n";

fn npy_bytes() -> Vec<u8> {
    let dir = scratch();
    let path = dir.path().join("a.npy");
    let data: Vec<f32> = (0..12).map(|i| i as f32 / 12.0).collect();
    write_npy_f32(&path, &[4, 3], &data).expect("write a valid .npy file");
    std::fs::read(&path).expect("read it back")
}

fn device() -> Device {
    Device::flex()
}

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(7)
}

/// The bytes of `model` saved with [`Persist::save`].
fn saved(model: &impl Persist) -> Vec<u8> {
    let dir = scratch();
    let path = dir.path().join("m.safetensors");
    model.save(&path).expect("save a valid model");
    std::fs::read(&path).expect("read it back")
}

fn tiny_rbm() -> Rbm {
    Rbm::new(RbmConfig::new(6, 3), &device(), &mut rng()).expect("a tiny RBM")
}

fn tiny_vae() -> Vae {
    let config = VaeConfig {
        hidden: vec![3],
        latent: "gaussian:2".parse().expect("a latent"),
        ..VaeConfig::new(4)
    };
    Vae::new(config, &device(), &mut rng()).expect("a tiny VAE")
}

fn tiny_gan() -> Gan {
    let config = GanConfig {
        noise_dim: 2,
        generator_hidden: vec![3],
        discriminator_hidden: vec![3],
        ..GanConfig::new(4)
    };
    Gan::new(config, &device(), &mut rng()).expect("a tiny GAN")
}

// ---------------------------------------------------------------------------------------------
// Checks of what a reader returned

fn idx_consistent(a: &IdxArray, raw_len: usize) -> Result<(), TestCaseError> {
    let count: usize = a.dims.iter().product();
    prop_assert_eq!(a.data.len(), count, "dims {:?}", a.dims);
    prop_assert_eq!(raw_len, 4 + 4 * a.dims.len() + count, "dims {:?}", a.dims);
    Ok(())
}

fn dataset_consistent(d: &helmholtz::data::Dataset) -> Result<(), TestCaseError> {
    prop_assert_eq!(d.features().len(), d.len() * d.dim());
    if let Some(l) = d.labels() {
        prop_assert_eq!(l.len(), d.len());
    }
    if let Some([r, c]) = d.image_shape() {
        prop_assert_eq!(r * c, d.dim());
    }
    Ok(())
}

fn tensors_consistent(f: &TensorFile) -> Result<(), TestCaseError> {
    for (name, b) in &f.tensors {
        prop_assert_eq!(b.data.len(), b.shape.iter().product::<usize>(), "{}", name);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// IDX

#[test]
fn idx_parser_survives_hostile_bytes() {
    let raw_images = idx_bytes(&images(4), "i");
    let raw_labels = idx_bytes(&labels(4), "l");
    let cases = prop_oneof![
        hostile(raw_images, binary()).prop_map(|b| (b, 3)),
        hostile(raw_labels, binary()).prop_map(|b| (b, 1)),
    ];
    fuzz("IDX", 256, cases, |(bytes, rank)| {
        let len = bytes.len();
        ok_or_plain(parse_idx(bytes, rank, Path::new("x-idx")), |a| {
            idx_consistent(&a, len)
        })
    });
}

#[test]
fn gzipped_idx_parser_survives_hostile_streams() {
    let gz_images = idx_bytes(&images(4), "i.gz");
    let raw_images = idx_bytes(&images(4), "i");
    let cases = prop_oneof![
        // A damaged gzip stream.
        mutated(gz_images, binary()).prop_map(|b| (b, None)),
        // An intact gzip stream around damaged IDX bytes.
        mutated(raw_images, binary()).prop_map(|raw| (gzip(&raw), Some(raw.len()))),
    ];
    fuzz("IDX.gz", 128, cases, |(bytes, raw_len)| {
        ok_or_plain(parse_idx(bytes, 3, Path::new("x-idx.gz")), |a| {
            let count: usize = a.dims.iter().product();
            prop_assert_eq!(a.data.len(), count);
            if let Some(n) = raw_len {
                idx_consistent(&a, n)?;
            }
            Ok(())
        })
    });
}

#[test]
fn idx_folder_loader_survives_hostile_files() {
    let dir = scratch();
    let files = [
        ("train-images-idx3-ubyte", images(5)),
        ("train-labels-idx1-ubyte", labels(5)),
        ("t10k-images-idx3-ubyte", images(3)),
        ("t10k-labels-idx1-ubyte", labels(3)),
    ];
    let originals: Vec<Vec<u8>> = files.iter().map(|(n, a)| idx_bytes(a, n)).collect();
    // One of the four files damaged, the other three intact.
    let valid = originals.clone();
    let cases = (0..files.len())
        .prop_flat_map(move |k| hostile(valid[k].clone(), binary()).prop_map(move |b| (k, b)));
    fuzz("IDX folder", 128, cases, |(k, bytes)| {
        for (i, (name, _)) in files.iter().enumerate() {
            let b = if i == k { &bytes } else { &originals[i] };
            write(&dir.path().join(name), b)?;
        }
        ok_or_plain(load_idx_dir(dir.path(), "fuzz"), |split| {
            dataset_consistent(&split.train)?;
            dataset_consistent(&split.test)?;
            // The training images file (changed or not) declares what was read.
            let images = if k == 0 { &bytes } else { &originals[0] };
            let declared = u32::from_be_bytes([images[4], images[5], images[6], images[7]]);
            prop_assert_eq!(split.train.len(), declared as usize);
            if let Some(l) = split.train.labels() {
                prop_assert!(l.iter().all(|&c| c < 10), "labels {:?}", l);
            }
            Ok(())
        })
    });
}

// ---------------------------------------------------------------------------------------------
// CSV

#[test]
fn csv_reader_survives_hostile_text() {
    let dir = scratch();
    let path = dir.path().join("t.csv");
    let cases = (
        hostile(CSV.as_bytes().to_vec(), textual()),
        prop_oneof![Just(None), Just(Some("label")), Just(Some("b"))],
    );
    fuzz("CSV", 256, cases, |(bytes, target)| {
        write(&path, &bytes)?;
        ok_or_plain(read_csv(&path, target), |t| {
            let rows = t.rows();
            prop_assert_eq!(t.features.len(), rows * t.columns.len());
            if let Some(y) = &t.target {
                prop_assert_eq!(y.len(), rows);
            }
            prop_assert!(t.features.iter().all(|v| v.is_finite()));
            Ok(())
        })?;
        let source = DataSource::Path(path.clone());
        let table = TableOptions {
            target: target.map(str::to_owned),
            test_fraction: 0.4,
        };
        ok_or_plain(source.load(&table, 0), |split| {
            dataset_consistent(&split.train)?;
            dataset_consistent(&split.test)
        })
    });
}

// ---------------------------------------------------------------------------------------------
// NPY

#[test]
fn npy_reader_survives_hostile_bytes() {
    let dir = scratch();
    let path = dir.path().join("a.npy");
    let valid = npy_bytes();
    let cases = prop_oneof![
        hostile(valid.clone(), binary()),
        // Damage inside the text header, with the bytes that matter there.
        mutated(valid, textual()),
    ];
    fuzz("NPY", 256, cases, |bytes| {
        ok_or_plain(parse_npy(&bytes, Path::new("a.npy")), |a| {
            prop_assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
            Ok(())
        })?;
        write(&path, &bytes)?;
        ok_or_plain(read_npy(&path), |_| Ok(()))?;
        let source = DataSource::Path(path.clone());
        ok_or_plain(source.load(&TableOptions::default(), 0), |split| {
            dataset_consistent(&split.train)?;
            dataset_consistent(&split.test)
        })
    });
}

// ---------------------------------------------------------------------------------------------
// safetensors: the tensor file and the models' loaders

#[test]
fn tensor_file_and_model_loaders_survive_hostile_bytes() {
    let dir = scratch();
    let path = dir.path().join("m.safetensors");
    let (rbm, vae, gan) = (saved(&tiny_rbm()), saved(&tiny_vae()), saved(&tiny_gan()));
    let cases = prop_oneof![
        hostile(rbm.clone(), binary()).prop_map(|b| (0, b)),
        mutated(rbm, textual()).prop_map(|b| (0, b)),
        hostile(vae, textual()).prop_map(|b| (1, b)),
        hostile(gan, textual()).prop_map(|b| (2, b)),
    ];
    let d = device();
    fuzz("safetensors", 256, cases, |(family, bytes)| {
        write(&path, &bytes)?;
        ok_or_plain(TensorFile::load(&path), |f| tensors_consistent(&f))?;
        match family {
            0 => ok_or_plain(Rbm::load(&path, &d), |_| Ok(())),
            1 => ok_or_plain(Vae::load(&path, &d), |_| Ok(())),
            _ => ok_or_plain(Gan::load(&path, &d), |_| Ok(())),
        }
    });
}

#[test]
fn model_from_file_survives_hostile_shapes() {
    // Tensors of any small shape under the right names, against the right configuration.
    let shape = prop::collection::vec(0..5usize, 0..4);
    let cases = prop::collection::vec(shape, 3);
    let d = device();
    let config = RbmConfig::new(6, 3);
    fuzz("RBM tensors", 64, cases, |shapes| {
        let mut f = TensorFile::default();
        for (name, shape) in ["weight", "visible_bias", "hidden_bias"].iter().zip(shapes) {
            let n = shape.iter().product();
            f.put_blob(
                name,
                Blob {
                    shape,
                    data: vec![0.5; n],
                },
            );
        }
        ok_or_plain(
            Rbm::from_file(config.clone(), &f, &d, Path::new("m.safetensors")),
            |_| Ok(()),
        )
    });
}

// ---------------------------------------------------------------------------------------------
// Annealing problems

const EDGES: &str = "# a square\n4 5\n0 1 1.5\n1 2 -2\n2 3 1\n3 0 0.5\n0 0 0.25\n";
const MATRIX: &str = "0,1,0\n1,0,-2\n0,-2,0.5\n";
const CITIES: &str = "0 0\n1 0\n1 1\n0 1\n0.5 0.25\n";

/// The problem must give a usable annealing plan by default, or an error that does not blame
/// a flag nobody gave.
fn plan(range: (f64, f64)) -> Result<(), TestCaseError> {
    let cfg = AnnealConfig {
        sweeps: 4,
        reads: 1,
        ..AnnealConfig::default()
    };
    match cfg.validate(range) {
        Ok(_) => Ok(()),
        Err(e) => {
            plain(&e)?;
            prop_assert!(
                !matches!(e, Error::InvalidParam { name, .. } if name == "beta-range" || name == "schedule"),
                "the default plan blames a setting nobody gave: {e}"
            );
            Ok(())
        }
    }
}

#[test]
fn anneal_readers_survive_hostile_text() {
    let dir = scratch();
    let files = [
        EDGES.as_bytes().to_vec(),
        MATRIX.as_bytes().to_vec(),
        CITIES.as_bytes().to_vec(),
    ];
    let cases = (0..3usize, 0..3usize).prop_flat_map(move |(k, format)| {
        hostile(files[k].clone(), textual()).prop_map(move |b| (k, format, b))
    });
    fuzz("anneal files", 256, cases, |(k, format, bytes)| {
        let name = ["g.txt", "m.csv", "c.txt"][k];
        let path = dir.path().join(name);
        write(&path, &bytes)?;
        let format = [FileFormat::Auto, FileFormat::Edges, FileFormat::Matrix][format];
        ok_or_plain(MaxCut::read(&path, format), |m| {
            plan(m.ising().default_beta_range())
        })?;
        ok_or_plain(Qubo::read(&path, format), |q| {
            ok_or_plain(q.to_ising(), |i| plan(i.default_beta_range()))
        })?;
        ok_or_plain(IsingProblem::read(&path, format), |i| {
            prop_assert!(i.edges().iter().all(|e| e.2.is_finite()));
            prop_assert!(i.fields().iter().all(|h| h.is_finite()));
            plan(i.default_beta_range())
        })?;
        ok_or_plain(Cities::read(&path), |c| plan(c.default_beta_range()))
    });
}

#[test]
fn huge_weights_are_the_problems_fault_not_a_flags() -> R {
    let dir = scratch();
    let path = dir.path().join("g.txt");
    for text in [
        "0 1 1e308\n1 2 1e308\n",
        "0 1 1e308\n0 1 1e308\n",
        "0 1 1e-320\n1 2 1\n",
    ] {
        std::fs::write(&path, text)?;
        match IsingProblem::read(&path, FileFormat::Edges) {
            Ok(p) => {
                let r = AnnealConfig::default().validate(p.default_beta_range());
                if let Err(e) = r {
                    let msg = e.to_string();
                    assert!(
                        !msg.contains("beta-range") || msg.contains("set `beta-range`"),
                        "{text:?}: {msg}"
                    );
                    assert!(!matches!(e, Error::InvalidParam { .. }), "{text:?}: {msg}");
                }
            }
            Err(e) => assert!(e.to_string().contains("g.txt"), "{e}"),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Run directories: config.json and the model beside it

fn quiet() -> RunOptions<'static> {
    RunOptions {
        skip_eval: true,
        ..RunOptions::default()
    }
}

/// A finished one-epoch RBM run on 64 digits.
fn rbm_run(dir: &Path) -> PathBuf {
    let params = RbmParams::default().hidden(3).epochs(1).batch_size(32);
    let data = DataConfig {
        train_examples: Some(64),
        ..DataConfig::digits()
    };
    let cfg = RbmRunConfig {
        sample_steps: 2,
        ais: AisConfig { runs: 2, betas: 10 },
        ..RbmRunConfig::new(params, data)
    };
    let run = dir.join("rbm");
    run::train::<Rbm>(cfg, Some(&run), &quiet()).expect("a tiny RBM run");
    run
}

#[test]
fn run_config_and_model_readers_survive_hostile_files() {
    let dir = scratch();
    let run = rbm_run(dir.path());
    let config = std::fs::read(run.join("config.json")).expect("config.json");
    let model = std::fs::read(run.join("model.safetensors")).expect("model.safetensors");
    let cases = prop_oneof![
        hostile(config.clone(), textual()).prop_map(|b| ("config.json", b)),
        mutated(model.clone(), binary()).prop_map(|b| ("model.safetensors", b)),
    ];
    fuzz("RBM run", 128, cases, |(file, bytes)| {
        write(&run.join("config.json"), &config)?;
        write(&run.join("model.safetensors"), &model)?;
        write(&run.join(file), &bytes)?;
        ok_or_plain(rbm::open_run(&run, DeviceKind::Cpu), |(_, cfg, rbm)| {
            prop_assert_eq!(&cfg.params.model, rbm.config());
            Ok(())
        })?;
        ok_or_plain(run::open::<Rbm>(&run), |_| Ok(()))
    });
}

#[test]
fn hopfield_run_reader_survives_hostile_config() {
    let dir = scratch();
    let run = dir.path().join("hopfield");
    let cfg = StoreConfig {
        family: hopfield::FAMILY.into(),
        data: DataConfig::digits(),
        patterns: 2,
        choose: PatternChoice::PerClass,
        rule: LearningRule::Hebbian,
        threshold: Threshold::Balanced,
        seed: 0,
        indices: Vec::new(),
        image_shape: [0, 0],
    };
    hopfield::store(cfg, Some(&run)).expect("a stored network");
    let config = std::fs::read(run.join("config.json")).expect("config.json");
    fuzz(
        "Hopfield run",
        64,
        hostile(config.clone(), textual()),
        |bytes| {
            write(&run.join("config.json"), &bytes)?;
            ok_or_plain(hopfield::open(&run), |(_, _, net, patterns)| {
                prop_assert_eq!(patterns.len() % net.len(), 0);
                Ok(())
            })
        },
    );
}

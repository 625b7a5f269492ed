//! The same `--seed` gives the same bits whatever `--threads` is (issue 13).
//!
//! Each family trains a tiny run on one thread and on two and must write byte-identical model
//! and trainer files. The shapes make the products large enough to be split over threads, and
//! narrow enough (784 inputs into 64 hidden units) that blocks cut per thread fell under the
//! gemm crate's small-matrix switch (at most 64 rows and columns: another k-blocking): when
//! the split followed the thread count, every case here failed.

mod common;

use common::train_ok;

/// Train `family` with `flags` on one and on two threads; the run's files must agree byte for
/// byte.
fn same_bits_on_one_and_two_threads(family: &str, flags: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let files = ["model.safetensors", "trainer.safetensors"];
    let runs: Vec<Vec<Vec<u8>>> = [1, 2]
        .iter()
        .map(|threads| {
            let out = tmp.path().join(format!("threads-{threads}"));
            train_ok(
                &out,
                family,
                &format!("{flags} --seed 7 --no-eval --threads {threads}"),
            );
            files
                .iter()
                .map(|f| std::fs::read(out.join(f)).expect("the run wrote its files"))
                .collect()
        })
        .collect();
    for (file, (one, two)) in files.iter().zip(runs[0].iter().zip(&runs[1])) {
        assert!(
            one == two,
            "{family} train {flags}: {file} differs between --threads 1 and --threads 2"
        );
    }
}

#[test]
fn rbm_cd_is_thread_count_independent() {
    same_bits_on_one_and_two_threads(
        "rbm",
        "--data digits --train-examples 400 --hidden 64 --epochs 2",
    );
}

#[test]
fn rbm_pcd_is_thread_count_independent() {
    same_bits_on_one_and_two_threads(
        "rbm",
        "--data digits --train-examples 400 --hidden 64 --epochs 2 --pcd",
    );
}

#[test]
fn vae_gaussian_is_thread_count_independent() {
    same_bits_on_one_and_two_threads(
        "vae",
        "--data digits --train-examples 512 --hidden 64 --latent gaussian:8 --epochs 2",
    );
}

#[test]
fn vae_gumbel_softmax_is_thread_count_independent() {
    same_bits_on_one_and_two_threads(
        "vae",
        "--data digits --train-examples 512 --hidden 64 --latent categorical:8x4 --epochs 2",
    );
}

#[test]
fn gan_is_thread_count_independent() {
    same_bits_on_one_and_two_threads(
        "gan",
        "--data digits --train-examples 400 --batch-size 100 --noise-dim 16 \
         --generator-hidden 32,64 --discriminator-hidden 64,32 --epochs 2",
    );
}

#[test]
fn bnn_bbb_is_thread_count_independent() {
    same_bits_on_one_and_two_threads(
        "bnn",
        "--method bbb --example digits --hidden 64 --batch-size 100 --epochs 1",
    );
}

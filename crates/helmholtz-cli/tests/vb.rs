//! The command-line contract of `vb gmm`: the summary's keys, the run directory's arrays and
//! pictures, and the built-in example's number of components.

mod common;

use common::{assert_files, json_into, scratch};

#[test]
fn the_dirichlet_process_example_finds_its_four_clusters_and_writes_the_arrays() {
    let (_tmp, out) = scratch("gmm");
    let v = json_into(
        &out,
        &["vb", "gmm", "--example", "mixture2d", "--components", "10"],
    );
    assert_eq!(v["true_components"], 4, "{v}");
    assert_eq!(v["effective_components"], 4, "{v}");
    assert_eq!(v["n_train"], 960);
    assert_eq!(v["n_test"], 240);
    assert!(
        v["test_log_predictive"]
            .as_f64()
            .is_some_and(f64::is_finite),
        "{v}"
    );
    assert_files(
        &out,
        &[
            "config.json",
            "eval.json",
            "weights.npy",
            "means.npy",
            "covariances.npy",
            "responsibilities.npy",
            "clusters.png",
            "weights.png",
            "bound.png",
            "report.html",
        ],
    );
    let (shape, w) = helmholtz::data::read_npy_f64(out.join("weights.npy")).expect("weights");
    assert_eq!(shape, vec![10]);
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let (shape, _) = helmholtz::data::read_npy_f64(out.join("covariances.npy")).expect("covs");
    assert_eq!(shape, vec![10, 2, 2]);
}

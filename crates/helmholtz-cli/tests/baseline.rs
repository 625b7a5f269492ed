//! The command-line contract of `baseline train`: exact test log-likelihoods, the closed form
//! against gradient descent on the KL divergence, the run directory.

mod common;

use common::{assert_files, json_into, scratch, words};

#[test]
fn both_baselines_print_an_exact_test_log_likelihood() {
    let (_tmp, out) = scratch("bernoulli");
    let v = json_into(&out, &words("baseline train --train-examples 2000"));
    let ll = v["test_log_likelihood"].as_f64().expect("ll");
    assert_eq!(v["kind"], "exact");
    // Binarised digits: between a fair coin per pixel (-543 nats) and 0.
    assert!(ll < -100.0 && ll > -543.0, "{v}");
    let gd = v["gradient_descent"]["difference"].as_f64().expect("gd");
    assert!(gd < 1e-6, "{v}");
    assert_files(
        &out,
        &["config.json", "eval.json", "model.safetensors", "means.png"],
    );
    let (_tmp2, out2) = scratch("mixture");
    let m = json_into(
        &out2,
        &words(
            "baseline train --model mixture --components 4 --restarts 1 --max-iter 20 --train-examples 2000",
        ),
    );
    assert_eq!(m["kind"], "exact");
    let mixture = m["test_log_likelihood"].as_f64().expect("ll");
    assert!(
        mixture > ll,
        "a mixture of 4 fits better: {mixture} vs {ll}"
    );
    assert_eq!(m["parameters"], 4 * 784 + 3);
    assert_files(&out2, &["objective.png", "means.png", "report.html"]);
}

//! The command-line contract of `pc tutorial` and `pc train`: the summaries' keys and values,
//! the run directories' files.

mod common;

use common::{assert_files, json_into, scratch, words};

/// The root of `2 φ^3 - 3 φ - 3 = 0`, the tutorial's stationarity condition.
const ROOT: f64 = 1.567_468_374_852_422;

#[test]
fn exercises_two_and_three_print_the_posterior_mode_and_five_the_learned_variance() {
    for (ex, files) in [
        ("1", vec!["exercise-1.png"]),
        ("2", vec!["exercise-2.png"]),
        ("3", vec!["exercise-3.png"]),
        ("5", vec!["exercise-5.png"]),
    ] {
        let (_tmp, out) = scratch(ex);
        let v = json_into(&out, &["pc", "tutorial", "--exercise", ex]);
        match ex {
            "1" => {
                let mode = v["mode"].as_f64().expect("mode");
                assert!((mode - ROOT).abs() < 1e-9, "{v}");
            }
            "2" | "3" => {
                let phi = v["phi"].as_f64().expect("phi");
                assert!((phi - ROOT).abs() < 1e-6, "exercise {ex}: {v}");
            }
            _ => {
                let sigma = v["sigma"].as_f64().expect("sigma");
                assert!((sigma - 2.0).abs() < 0.1, "{v}");
            }
        }
        assert_files(
            &out,
            &[&["config.json", "eval.json", "report.html"][..], &files].concat(),
        );
    }
}

#[test]
fn a_small_classifier_reports_both_accuracies_and_a_generative_run_its_bound() {
    let (_tmp, out) = scratch("sup");
    let v = json_into(
        &out,
        &words("pc train --hidden 32 --epochs 1 --inference-steps 5"),
    );
    let (pc, bp) = (
        v["test_accuracy"].as_f64().expect("pc"),
        v["backprop_test_accuracy"].as_f64().expect("bp"),
    );
    assert!(pc > 0.8 && bp > 0.8, "{v}");
    assert_eq!(v["sizes"], serde_json::json!([784, 32, 10]));
    assert_files(
        &out,
        &[
            "config.json",
            "eval.json",
            "model.safetensors",
            "accuracy.png",
            "settling.png",
            "report.html",
        ],
    );
    let (_tmp2, out) = scratch("gen");
    let v = json_into(
        &out,
        &words(
            "pc train --mode unsupervised --hidden 4,16 --epochs 1 --inference-steps 10 \
             --eval-steps 30 --iw-samples 20 --eval-examples 40",
        ),
    );
    let ll = v["test_log_likelihood"].as_f64().expect("bound");
    // 784 binary pixels: between a coin per pixel (-543 nats) and 0.
    assert!(ll < 0.0 && ll > -784.0 * std::f64::consts::LN_2, "{v}");
    assert!(
        v["kind"]
            .as_str()
            .expect("kind")
            .contains("importance-weighted lower bound")
    );
    assert_files(
        &out,
        &[
            "samples.png",
            "completions.png",
            "free_energy.png",
            "settling.png",
            "model.safetensors",
        ],
    );
}

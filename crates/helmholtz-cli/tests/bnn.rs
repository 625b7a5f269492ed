//! `helmholtz bnn train`: the seed's example end to end, and bad input answered with exit 2.

mod common;

use common::{helmholtz, run_ok, usage_error};

#[test]
fn seed_example_prints_the_posterior() {
    let dir = tempfile::tempdir().expect("tempdir");
    for method in ["svi", "sgld", "sghmc"] {
        let run = dir.path().join(method);
        let out = run_ok(
            helmholtz()
                .args([
                    "bnn",
                    "train",
                    "--example",
                    "seed",
                    "--json",
                    "--method",
                    method,
                ])
                .arg("--out")
                .arg(&run),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value =
            serde_json::from_str(stdout.lines().last().expect("line")).expect("json");
        // y = 3x + 2 + 0.5 noise: the posterior sits on the truth.
        let get = |k: &str| {
            v[k].as_f64()
                .unwrap_or_else(|| panic!("{k} missing in {v}"))
        };
        assert!((get("slope_mean") - 3.0).abs() < 0.1, "{method}: {v}");
        assert!((get("intercept_mean") - 2.0).abs() < 0.25, "{method}: {v}");
        assert!((get("sigma_mean") - 0.5).abs() < 0.1, "{method}: {v}");
        for k in ["slope_std", "intercept_std", "sigma_std"] {
            assert!(get(k) > 0.0 && get(k) < 0.2, "{method} {k}: {v}");
        }
        assert!(run.join("interval.png").exists() && run.join("predictive.csv").exists());
        assert!(run.join("samples.csv").exists());
    }
}

#[test]
fn bad_input_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf8").to_string()
    };
    let good = csv("good.csv", "x,y\n1,2\n2,4\n3,6.5\n");
    usage_error(&["bnn", "train", "--data", &good, "--target", "z"]);
    let bad = csv("bad.csv", "x,y\n1,2\nabc,3\n");
    usage_error(&["bnn", "train", "--data", &bad, "--target", "y"]);
    let one = csv("one.csv", "x,y\n1,2\n");
    usage_error(&["bnn", "train", "--data", &one, "--target", "y"]);
    usage_error(&["bnn", "train", "--method", "sgld", "--step-size", "-0.1"]);
    usage_error(&[
        "bnn",
        "train",
        "--method",
        "sghmc",
        "--steps",
        "100",
        "--burn-in",
        "100",
    ]);
    usage_error(&["bnn", "train", "--method", "bbb"]);
}

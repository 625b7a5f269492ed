//! `compare`: one table in nats, trained here (--quick) or from existing runs.

mod common;

use common::{json_into, scratch, words};
use helmholtz::baseline::Bernoulli;
use helmholtz::data::DataConfig;

#[test]
fn the_quick_table_has_every_model_with_its_kind_and_the_bernoulli_row_is_the_closed_form() {
    let (_tmp, out) = scratch("compare");
    let v = json_into(&out, &words("compare --quick"));
    // The last line is {"rows": [...]} and nothing else.
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
    let rows = v["rows"].as_array().expect("rows");
    let models: Vec<&str> = rows
        .iter()
        .map(|r| r["model"].as_str().expect("model"))
        .collect();
    for m in [
        "independent Bernoulli",
        "mixture of 10 Bernoullis",
        "RBM",
        "Gaussian VAE",
        "Gumbel-Softmax VAE",
        "Helmholtz machine (wake-sleep)",
        "Helmholtz machine (reweighted wake-sleep)",
        "GAN",
        "predictive coding",
    ] {
        assert!(models.contains(&m), "{m} missing from {models:?}");
    }
    for r in rows {
        for key in [
            "parameters",
            "train_seconds",
            "test_log_likelihood",
            "test_log_likelihood_se",
        ] {
            assert!(r[key].as_f64().is_some_and(f64::is_finite), "{key}: {r}");
        }
        assert!(!r["kind"].as_str().expect("kind").is_empty());
    }
    let gan = rows.iter().find(|r| r["model"] == "GAN").expect("gan");
    assert!(
        gan["kind"]
            .as_str()
            .expect("kind")
            .contains("not comparable")
    );
    // The independent-Bernoulli row is the closed form on the same split.
    let split = DataConfig::digits().load(0).expect("digits");
    let p = Bernoulli::closed_form(split.train.features(), 784, 1.0).expect("closed form");
    let ll = p.log_likelihood(split.test.features());
    let exact = ll.iter().sum::<f64>() / ll.len() as f64;
    let row = rows
        .iter()
        .find(|r| r["model"] == "independent Bernoulli")
        .expect("bernoulli");
    let got = row["test_log_likelihood"].as_f64().expect("ll");
    assert!((got - exact).abs() < 1e-9, "{got} vs {exact}");
    assert!(out.join("compare.csv").exists() && out.join("compare.png").exists());
    // The same table from the runs it trained.
    let (_tmp2, again) = scratch("again");
    let runs = out.join("runs");
    let args: Vec<String> = ["compare", "--runs"]
        .iter()
        .map(|s| s.to_string())
        .chain(
            ["bernoulli", "hm-rws"]
                .iter()
                .map(|r| runs.join(r).display().to_string()),
        )
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let w = json_into(&again, &args);
    assert_eq!(w["rows"].as_array().expect("rows").len(), 2);
    assert_eq!(
        w["rows"][0]["test_log_likelihood"],
        row["test_log_likelihood"]
    );
}

//! The command-line contract of `hm train`: the summary, the run directory, and reweighted
//! wake-sleep beating wake-sleep on the embedded digits at the same epochs.

mod common;

use common::{assert_files, json_into, scratch, words};

#[test]
fn reweighted_wake_sleep_reaches_a_better_bound_than_wake_sleep() {
    let flags = "hm train --layers 50 --epochs 3 --train-examples 3000 --eval-k 100";
    let (_tmp, ws) = scratch("ws");
    let a = json_into(&ws, &words(&format!("{flags} --method ws")));
    let (_tmp2, rws) = scratch("rws");
    let b = json_into(&rws, &words(&format!("{flags} --method rws --samples 5")));
    let bound = |v: &serde_json::Value| v["eval"]["test_log_likelihood"].as_f64().expect("bound");
    assert!(
        bound(&b) > bound(&a) + 2.0,
        "rws {} vs ws {}",
        bound(&b),
        bound(&a)
    );
    assert!(
        b["eval"]["kind"]
            .as_str()
            .expect("kind")
            .contains("importance-weighted lower bound"),
        "{b}"
    );
    assert_files(
        &rws,
        &[
            "config.json",
            "metrics.jsonl",
            "model.safetensors",
            "trainer.safetensors",
            "samples.png",
            "eval.json",
            "report.html",
        ],
    );
}

#[test]
fn compare_aevb_draws_both_bounds_per_latent_size() {
    let (_tmp, out) = scratch("aevb");
    let v = json_into(&out, &words("hm compare-aevb --sizes 2,3 --epochs 2"));
    let curves = v["curves"].as_array().expect("curves");
    assert_eq!(curves.len(), 4, "{v}");
    for c in curves {
        let pts = c["points"].as_array().expect("points");
        assert_eq!(pts.len(), 2, "{c}");
        // Examples seen: 7,500 training rows per epoch (500 held out for validation).
        assert_eq!(pts[1][0].as_f64(), Some(15_000.0));
        let elbo = pts[1][1].as_f64().expect("elbo");
        assert!(elbo < 0.0 && elbo > -543.0, "{c}");
    }
    assert_files(&out, &["aevb.png", "eval.json", "report.html"]);
}

//! One table in nats: every likelihood model trained on the same split of the embedded digits
//! (or read from existing runs), with its test log-likelihood and what kind of number it is.
//!
//! ```text
//! compare.json   {"rows": [{model, parameters, train_seconds, test_log_likelihood,
//!                           test_log_likelihood_se, kind, comparable, run}, ...]}
//! compare.csv    the same rows (with a header)
//! compare.png    each model's test log-likelihood with ± 2 standard errors
//! runs/<model>/  the runs trained here (each a complete run directory)
//! report.html
//! ```
//!
//! Exact values, AIS estimates and importance-weighted or evidence lower bounds are in nats per
//! test example of the same binarised digits; a Parzen-window estimate (the GAN's) is a density
//! of a kernel smoothing of samples, marked not comparable.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::baseline::EmParams;
use crate::baseline::run::{BaselineModel, BaselineRunConfig, train_baseline};
use crate::data::DataConfig;
use crate::error::{Error, Result};
use crate::io::{RunDir, TensorFile};
use crate::latent::hm::Method;
use crate::latent::hm::run::{Hm, HmParams, HmRunConfig};
use crate::predictive_coding::{Mode, PcParams, PcRunConfig, train_pc};
use crate::report::{Chart, Series, save_chart, write_run_report};
use crate::run::{RunOptions, train};
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "compare";

/// What `compare` runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareConfig {
    /// Always `compare`.
    pub family: String,
    /// Small versions of every model (a few minutes in all).
    pub quick: bool,
    /// Existing runs to tabulate instead of training.
    pub runs: Vec<PathBuf>,
    /// Seed of every run trained here.
    pub seed: u64,
}

/// One model's line of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The model.
    pub model: String,
    /// Parameters (every number in its model file).
    pub parameters: usize,
    /// Seconds of training.
    pub train_seconds: f64,
    /// Test log-likelihood, nats per example.
    pub test_log_likelihood: f64,
    /// Its standard error over the test examples.
    pub test_log_likelihood_se: f64,
    /// What kind of number it is.
    pub kind: String,
    /// Whether it is a log-likelihood of the data (or a bound or estimate of one).
    pub comparable: bool,
    /// The run it comes from.
    pub run: PathBuf,
}

/// The table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareSummary {
    /// The directory written (not in the JSON, which is `{"rows": [...]}` exactly as
    /// compare.json).
    #[serde(skip)]
    pub run_dir: PathBuf,
    /// One row per model.
    pub rows: Vec<Row>,
}

impl CompareSummary {
    /// The rows as aligned text, one line each under a header.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<44} {:>10} {:>9} {:>18}  kind\n",
            "model", "parameters", "train s", "test nats/example"
        );
        for r in &self.rows {
            out.push_str(&format!(
                "{:<44} {:>10} {:>9.1} {:>10.2} ± {:<5.2}  {}\n",
                r.model,
                r.parameters,
                r.train_seconds,
                r.test_log_likelihood,
                r.test_log_likelihood_se,
                r.kind
            ));
        }
        out
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::bad_file(path, format!("not JSON: {e}")))
}

fn number(v: &Value, key: &str, path: &Path) -> Result<f64> {
    v[key]
        .as_f64()
        .ok_or_else(|| Error::bad_file(path, format!("no number `{key}`")))
}

/// The row of a finished run of a likelihood model (rbm, vae, gan, hm, baseline, pc
/// unsupervised).
pub fn row_of_run(dir: &Path) -> Result<Row> {
    let cfg_path = dir.join("config.json");
    let eval_path = dir.join("eval.json");
    let cfg = read_json(&cfg_path)?;
    let family = cfg["family"].as_str().unwrap_or("").to_string();
    let no_likelihood = || {
        Error::bad_file(
            dir,
            format!("a `{family}` run has no test log-likelihood to compare"),
        )
    };
    if !matches!(
        family.as_str(),
        "rbm" | "vae" | "gan" | "hm" | "baseline" | "pc"
    ) {
        return Err(no_likelihood());
    }
    if !eval_path.exists() {
        return Err(Error::bad_file(
            dir,
            "has no eval.json (an unfinished run, or one trained with --no-eval)",
        ));
    }
    let eval = read_json(&eval_path)?;
    let ll = |key: &str| number(&eval, key, &eval_path);
    let (model, value, se, kind, comparable) = match family.as_str() {
        "rbm" => {
            let exact = eval["log_z_method"] == "exact";
            (
                "RBM".to_string(),
                ll("test_log_likelihood")?,
                ll("test_log_likelihood_se")?,
                if exact {
                    "exact (log Z by enumeration)".to_string()
                } else {
                    format!("AIS estimate ({} runs)", eval["ais_runs"])
                },
                true,
            )
        }
        "vae" => {
            let categorical = eval["latent"]
                .as_str()
                .unwrap_or("")
                .starts_with("categorical");
            (
                if categorical {
                    "Gumbel-Softmax VAE"
                } else {
                    "Gaussian VAE"
                }
                .to_string(),
                -ll("test_nll_iw")?,
                ll("test_nll_iw_se")?,
                format!("importance-weighted lower bound (k = {})", eval["k"]),
                true,
            )
        }
        "gan" => (
            "GAN".to_string(),
            ll("parzen_ll")?,
            ll("parzen_se")?,
            "Parzen-window estimate (not comparable)".to_string(),
            false,
        ),
        "hm" => (
            match cfg["method"].as_str() {
                Some("wake-sleep") => "Helmholtz machine (wake-sleep)",
                _ => "Helmholtz machine (reweighted wake-sleep)",
            }
            .to_string(),
            ll("test_log_likelihood")?,
            ll("test_log_likelihood_se")?,
            eval["kind"].as_str().unwrap_or("").to_string(),
            true,
        ),
        "baseline" => (
            match cfg["model"].as_str() {
                Some("mixture") => format!("mixture of {} Bernoullis", cfg["em"]["components"]),
                _ => "independent Bernoulli".to_string(),
            },
            ll("test_log_likelihood")?,
            ll("test_log_likelihood_se")?,
            "exact".to_string(),
            true,
        ),
        _ => {
            if cfg["params"]["mode"] != "unsupervised" {
                return Err(no_likelihood());
            }
            (
                "predictive coding".to_string(),
                ll("test_log_likelihood")?,
                ll("test_log_likelihood_se")?,
                eval["kind"].as_str().unwrap_or("").to_string(),
                true,
            )
        }
    };
    let train_seconds = match eval.get("train_seconds").and_then(Value::as_f64) {
        Some(s) => s,
        None => {
            // Driver runs: the epochs' seconds in metrics.jsonl.
            let path = dir.join("metrics.jsonl");
            std::fs::read_to_string(&path)
                .map_err(|e| Error::io(&path, e))?
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter_map(|v| v["seconds"].as_f64())
                .sum()
        }
    };
    let model_path = dir.join("model.safetensors");
    let parameters = TensorFile::load(&model_path)?
        .tensors
        .values()
        .map(|b| b.data.len())
        .sum();
    Ok(Row {
        model,
        parameters,
        train_seconds,
        test_log_likelihood: value,
        test_log_likelihood_se: se,
        kind,
        comparable,
        run: dir.to_path_buf(),
    })
}

/// Train every likelihood model into `dir/<name>` (quick: small versions); returns the runs.
fn train_all(quick: bool, seed: u64, dir: &Path, progress: &dyn Progress) -> Result<Vec<PathBuf>> {
    let opts = RunOptions {
        progress,
        ..RunOptions::default()
    };
    let digits = DataConfig::digits();
    let mut runs = Vec::new();
    let mut at = |name: &str| {
        let p = dir.join(name);
        runs.push(p.clone());
        p
    };
    // Baselines.
    let em = EmParams {
        seed,
        restarts: if quick { 1 } else { 3 },
        max_iter: if quick { 30 } else { 100 },
        ..EmParams::default()
    };
    let bern = BaselineRunConfig::digits(BaselineModel::Bernoulli, em);
    train_baseline(&bern, Some(&at("bernoulli")), progress)?;
    let mix = BaselineRunConfig::digits(BaselineModel::Mixture, em);
    train_baseline(&mix, Some(&at("mixture")), progress)?;
    // RBM.
    let mut rbm = crate::energy::rbm::RbmRunConfig::new(
        crate::energy::rbm::RbmParams::default(),
        digits.clone(),
    );
    rbm.params.train.seed = seed;
    if quick {
        rbm.params.model.hidden = 100;
        rbm.params.train.epochs = 3;
        rbm.ais = crate::energy::rbm::AisConfig {
            runs: 50,
            betas: 5000,
        };
    }
    train::<crate::energy::rbm::Rbm>(rbm, Some(&at("rbm")), &opts)?;
    // VAEs.
    for (name, latent) in [
        ("vae", crate::latent::vae::Latent::Gaussian { dim: 20 }),
        (
            "gumbel-vae",
            crate::latent::vae::Latent::Categorical {
                groups: 20,
                classes: 10,
            },
        ),
    ] {
        let mut vae = crate::latent::vae::VaeRunConfig::new(digits.clone());
        vae.params.model.latent = latent;
        vae.params.train.seed = seed;
        if quick {
            vae.params.train.epochs = 5;
            vae.eval_k = 100;
        }
        train::<crate::latent::vae::Vae>(vae, Some(&at(name)), &opts)?;
    }
    // Helmholtz machines.
    for (name, method) in [("hm-ws", Method::WakeSleep), ("hm-rws", Method::Reweighted)] {
        let mut params = HmParams {
            method,
            ..HmParams::default()
        };
        params.train.seed = seed;
        if quick {
            params.train.epochs = 5;
        }
        let cfg = HmRunConfig {
            params,
            data: digits.clone(),
            eval_k: if quick { 100 } else { 1000 },
        };
        train::<Hm>(cfg, Some(&at(name)), &opts)?;
    }
    // GAN (Parzen: not comparable).
    let mut gan = crate::adversarial::gan::GanRunConfig::new(digits.clone());
    gan.params.train.seed = seed;
    if quick {
        gan.params.train.epochs = 3;
        gan.eval_samples = 2000;
    }
    train::<crate::adversarial::gan::Gan>(gan, Some(&at("gan")), &opts)?;
    // Predictive coding.
    let mut pc = PcParams::new(Mode::Unsupervised);
    pc.seed = seed;
    if quick {
        pc.epochs = 3;
        pc.iw_samples = 100;
        pc.eval_examples = 500;
    }
    train_pc(&PcRunConfig::digits(pc), Some(&at("pc")), progress)?;
    Ok(runs)
}

/// Train (or read) the models, write the table's directory `out` (or `runs/compare-<time>`).
pub fn compare(
    cfg: &CompareConfig,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<CompareSummary> {
    // Existing runs are read before anything is written: a bad one fails alone.
    let given: Vec<Row> = cfg
        .runs
        .iter()
        .map(|d| row_of_run(d))
        .collect::<Result<_>>()?;
    RunDir::create_filled(out, FAMILY, |run| {
        run.write_json("config.json", cfg)?;
        let rows = if cfg.runs.is_empty() {
            let dir = run.file("runs");
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            train_all(cfg.quick, cfg.seed, &dir, progress)?
                .iter()
                .map(|d| row_of_run(d))
                .collect::<Result<Vec<_>>>()?
        } else {
            given
        };
        let summary = CompareSummary {
            run_dir: run.path().to_path_buf(),
            rows,
        };
        crate::run::refuse_non_finite(run, &summary)?;
        run.write_json("compare.json", &summary)?;
        let mut csv = csv::Writer::from_writer(Vec::new());
        for r in &summary.rows {
            csv.serialize(r)
                .map_err(|e| Error::Internal(format!("compare.csv: {e}")))?;
        }
        let csv = csv
            .into_inner()
            .map_err(|e| Error::Internal(format!("compare.csv: {e}")))?;
        crate::io::write_atomic(&run.file("compare.csv"), &csv)?;
        let mut series = Vec::new();
        for (i, r) in summary.rows.iter().enumerate() {
            let x = (i + 1) as f64;
            let label = if r.comparable {
                r.model.clone()
            } else {
                format!("{} (not comparable)", r.model)
            };
            series.push(Series::scatter(label, vec![(x, r.test_log_likelihood)]));
            let e = 2.0 * r.test_log_likelihood_se;
            series.push(Series::line(
                "",
                vec![
                    (x, r.test_log_likelihood - e),
                    (x, r.test_log_likelihood + e),
                ],
            ));
        }
        let chart = Chart {
            title: "test log-likelihood (nats per example, ± 2 standard errors)".into(),
            x_label: "model".into(),
            y_label: "nats per example".into(),
            series,
            integer_x: true,
            ..Default::default()
        };
        save_chart(&run.file("compare.png"), &chart, 900, 480)?;
        run.add_figure(
            "compare.png",
            "Each model's test log-likelihood with ± 2 standard errors (see compare.csv for what kind of number each is)",
        )?;
        write_run_report(run)?;
        Ok(summary)
    })
}

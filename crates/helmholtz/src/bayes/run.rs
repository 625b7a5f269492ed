//! `bnn train`: fit Bayesian linear regression (the seed's model) by SVI, SGLD or SGHMC and
//! write a run directory: `config.json`, `data.csv`, `samples.csv` (posterior draws), `summary.json`,
//! `metrics.jsonl` (SVI: the loss per step), and for one feature `predictive.csv` and
//! `interval.png` (data, posterior mean line, 95% band, as in the seed).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::linear::BayesLinear;
use super::mcmc::{ChainConfig, SghmcParams, StepSchedule, sghmc, sgld};
use super::model::{Samples, Summary};
use super::predictive::{band_csv, regression_band};
use super::svi::{SviConfig, svi};
use crate::data::read_csv;
use crate::error::{Error, Result, check};
use crate::report::{Chart, Series, save_chart};
use crate::rng::rng_for;
use crate::train::{RunDir, write_atomic};

/// Family name in `config.json`.
pub const FAMILY: &str = "bnn";

/// Which inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// SVI with a mean-field Gaussian guide.
    Svi,
    /// Bayes by Backprop (not implemented yet).
    Bbb,
    /// Stochastic-gradient Langevin dynamics.
    Sgld,
    /// Stochastic-gradient HMC.
    Sghmc,
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "svi" => Ok(Method::Svi),
            "bbb" => Ok(Method::Bbb),
            "sgld" => Ok(Method::Sgld),
            "sghmc" => Ok(Method::Sghmc),
            _ => Err(Error::param(
                "method",
                format!("`{s}` is not one of svi, bbb, sgld, sghmc"),
            )),
        }
    }
}

/// Where the data come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BnnData {
    /// The seed's 100 points of `y = 3x + 2 + 0.5 ε` on `[-5, 5]`.
    Seed,
    /// A CSV file with a target column (every other column a feature).
    Csv {
        /// The file.
        path: PathBuf,
        /// Target column.
        target: String,
    },
}

/// Everything `bnn train` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BnnRunConfig {
    /// Always `bnn`.
    pub family: String,
    /// The data.
    pub data: BnnData,
    /// The inference.
    pub method: Method,
    /// SVI settings.
    pub svi: SviConfig,
    /// SGLD / SGHMC chain.
    pub chain: ChainConfig,
    /// SGLD step sizes.
    pub sgld: StepSchedule,
    /// SGHMC settings.
    pub sghmc: SghmcParams,
    /// Draws from the fitted guide (SVI) for the summaries and the band.
    pub posterior_samples: usize,
    /// Seed.
    pub seed: u64,
}

impl BnnRunConfig {
    /// Defaults: the seed's data and SVI settings (1000 steps of Adam 0.01, 1000 draws).
    pub fn new(data: BnnData, method: Method) -> Self {
        Self {
            family: FAMILY.into(),
            data,
            method,
            svi: SviConfig::default(),
            chain: ChainConfig {
                steps: 50_000,
                burn_in: 10_000,
                thin: 10,
                batch_size: None,
            },
            sgld: StepSchedule {
                a: 5e-5,
                b: 1.0,
                gamma: 0.0,
            },
            sghmc: SghmcParams {
                lr: 5e-5,
                friction: 0.1,
            },
            posterior_samples: 1000,
            seed: 0,
        }
    }

    /// Check every part.
    pub fn validate(&self) -> Result<()> {
        check::positive_count("samples", self.posterior_samples)?;
        match self.method {
            Method::Svi => self.svi.validate(),
            Method::Bbb => Err(Error::param(
                "method",
                "`bbb` (Bayes by Backprop) is not implemented yet; use svi, sgld or sghmc",
            )),
            Method::Sgld => {
                self.sgld.validate()?;
                self.chain.validate()
            }
            Method::Sghmc => {
                self.sghmc.validate()?;
                self.chain.validate()
            }
        }
    }
}

/// What `bnn train` reports.
#[derive(Debug, Clone, Serialize)]
pub struct BnnSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The inference.
    pub method: Method,
    /// Per-parameter posterior summaries.
    pub posterior: Vec<Summary>,
    /// Final SVI loss (`-ELBO`, nats for the whole data set), SVI only.
    pub final_loss: Option<f64>,
    /// Seconds of inference.
    pub seconds: f64,
    /// Posterior draws behind the summaries.
    pub draws: usize,
}

/// Load the model of `data`.
pub fn load_model(data: &BnnData, seed: u64) -> Result<BayesLinear> {
    match data {
        BnnData::Seed => Ok(BayesLinear::seed_example(&mut rng_for(
            seed,
            &[0x5345_4544],
        ))),
        BnnData::Csv { path, target } => {
            let t = read_csv(path, Some(target))?;
            let y = t.target.clone().unwrap_or_default();
            let d = t.columns.len();
            if d == 0 {
                return Err(Error::bad_file(
                    path,
                    "no feature columns besides the target",
                ));
            }
            if y.len() < 2 {
                return Err(Error::bad_file(
                    path,
                    format!("need at least 2 rows (got {})", y.len()),
                ));
            }
            let x = t.features.iter().map(|&v| f64::from(v)).collect();
            BayesLinear::new(x, y, d)
        }
    }
}

/// Run the inference of `cfg` and write the run directory (`out`, or `runs/bnn-<stamp>`).
pub fn train(cfg: &BnnRunConfig, out: Option<&Path>) -> Result<BnnSummary> {
    cfg.validate()?;
    let model = load_model(&cfg.data, cfg.seed)?;
    let run = match out {
        Some(p) => RunDir::create(p)?,
        None => RunDir::create_default("runs", FAMILY)?,
    };
    run.write_json("config.json", cfg)?;
    write_atomic(&run.file("data.csv"), data_csv(&model).as_bytes())?;
    let mut rng = rng_for(cfg.seed, &[0x494e_4645]);
    let t0 = Instant::now();
    let (samples, losses) = match cfg.method {
        Method::Svi => {
            let fit = svi(&model, &cfg.svi, &mut rng, &mut |_, _| {})?;
            run.write_json("guide.json", &fit.guide)?;
            (
                fit.guide.sample(cfg.posterior_samples, &mut rng),
                fit.losses,
            )
        }
        Method::Sgld => (sgld(&model, cfg.sgld, &cfg.chain, &mut rng)?, Vec::new()),
        Method::Sghmc => (sghmc(&model, cfg.sghmc, &cfg.chain, &mut rng)?, Vec::new()),
        Method::Bbb => unreachable!("rejected by validate"),
    };
    let seconds = t0.elapsed().as_secs_f64();
    write_atomic(&run.file("samples.csv"), samples.to_csv().as_bytes())?;
    let rows: Vec<serde_json::Value> = losses
        .iter()
        .enumerate()
        .map(|(s, l)| serde_json::json!({ "step": s + 1, "loss": l }))
        .collect();
    run.write_metrics(&rows)?;
    if model.d == 1 {
        write_band(&run, &model, &samples, &mut rng)?;
    }
    let summary = BnnSummary {
        run_dir: run.path().to_path_buf(),
        method: cfg.method,
        posterior: samples.summaries(),
        final_loss: losses.last().copied(),
        seconds,
        draws: samples.len(),
    };
    run.write_json("summary.json", &summary)?;
    Ok(summary)
}

/// The data as CSV: `x` (or `x0, x1, ..`) and `y`.
fn data_csv(model: &BayesLinear) -> String {
    let mut s = if model.d == 1 {
        "x".to_string()
    } else {
        (0..model.d)
            .map(|j| format!("x{j}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    s.push_str(",y\n");
    for (row, y) in model.x.chunks(model.d).zip(&model.y) {
        for v in row {
            s.push_str(&format!("{v},"));
        }
        s.push_str(&format!("{y}\n"));
    }
    s
}

/// `predictive.csv` and `interval.png` for a one-feature model.
fn write_band(
    run: &RunDir,
    model: &BayesLinear,
    samples: &Samples,
    rng: &mut impl rand::Rng,
) -> Result<()> {
    let (lo, hi) = model
        .x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let xs: Vec<f64> = (0..200)
        .map(|i| lo + (hi - lo) * i as f64 / 199.0)
        .collect();
    let band = regression_band(model, samples, &xs, rng);
    write_atomic(&run.file("predictive.csv"), band_csv(&band).as_bytes())?;
    let pts = |f: fn(&super::predictive::BandPoint) -> f64| -> Vec<(f64, f64)> {
        band.iter().map(|p| (p.x, f(p))).collect()
    };
    let chart = Chart {
        title: "posterior predictive: mean and 95% interval of x w + b".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        series: vec![
            Series::scatter(
                "data",
                model
                    .x
                    .iter()
                    .copied()
                    .zip(model.y.iter().copied())
                    .collect(),
            ),
            Series::line("lower 95%", pts(|p| p.lower)),
            Series::line("upper 95%", pts(|p| p.upper)),
            Series::line("predicted mean", pts(|p| p.mean)),
            Series {
                dashed: true,
                ..Series::line("95% of new y", pts(|p| p.y_lower))
            },
            Series {
                dashed: true,
                ..Series::line("", pts(|p| p.y_upper))
            },
        ],
        ..Chart::default()
    };
    save_chart(&run.file("interval.png"), &chart, 900, 560)?;
    run.add_figure(
        "interval.png",
        "data, posterior mean of x w + b and its 95% interval (solid), and the 95% interval of a new observation (dashed)",
    )
}

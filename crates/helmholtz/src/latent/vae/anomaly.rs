//! Anomaly detection with a VAE: an example's score is its negative ELBO or its
//! importance-weighted negative log-likelihood; a model trained without class `C` should give
//! the test examples of `C` high scores, and the ROC-AUC of the score for "is of class C"
//! measures how well (0.5 is chance, 1 perfect).

use crate::keywords::keywords;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::bounds::{elbo_per_example, iw_bound};
use super::model::Vae;
use super::run::{FAMILY, VaeRunConfig, data_for, open_run};
use crate::data::DataConfig;
use crate::error::{Error, Result};
use crate::eval::roc::roc_auc;
use crate::io::{RunDir, write_atomic};
use crate::kernels::runtime::DeviceKind;
use crate::report::{Bars, Histogram, save_bars, save_histogram, write_run_report};
use crate::rng::rng_for;
use crate::run::{RunOptions, train};
use crate::train::Progress;

/// Which bound scores an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreKind {
    /// `-ELBO(x)` (one sample): fast.
    #[default]
    Elbo,
    /// `-L_k(x)`, the importance-weighted bound with `k` samples: tighter.
    Iw,
}

keywords!(ScoreKind, "score", {
    Elbo => "elbo",
    Iw => "iw" | "iwae",
});

/// How `vae anomaly` scores a run's test examples.
#[derive(Debug, Clone)]
pub struct AnomalyRequest {
    /// The score.
    pub score: ScoreKind,
    /// Importance samples for [`ScoreKind::Iw`].
    pub k: usize,
    /// Other data of the same width [default: the run's].
    pub data: Option<DataConfig>,
    /// Seed of the samples.
    pub seed: u64,
    /// Device.
    pub device: DeviceKind,
}

/// What `vae anomaly` reports for one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyReport {
    /// The run directory.
    pub run_dir: PathBuf,
    /// `anomaly-scores.csv`: `index,label,score` per test example.
    pub scores_file: PathBuf,
    /// The histogram of the scores.
    pub histogram: PathBuf,
    /// `-ELBO` or `-L_k`, nats.
    pub score: String,
    /// Importance samples (1 for the ELBO).
    pub k: usize,
    /// Test examples scored.
    pub examples: usize,
    /// Mean score.
    pub mean_score: f64,
    /// The class left out of training, if any.
    pub holdout_class: Option<u32>,
    /// ROC-AUC of the score for detecting the hold-out class among the test examples.
    pub roc_auc: Option<f64>,
    /// Mean score of the hold-out class's test examples.
    pub mean_score_holdout: Option<f64>,
    /// Mean score of the other test examples.
    pub mean_score_others: Option<f64>,
}

/// Score every test example of the run in `dir`; write the scores (CSV), their histogram and
/// `anomaly.json` into the run; report the ROC-AUC when the run held a class out.
pub fn score_run(
    dir: &Path,
    request: &AnomalyRequest,
    progress: &dyn Progress,
) -> Result<AnomalyReport> {
    if request.score == ScoreKind::Iw && request.k == 0 {
        return Err(Error::param(
            "k",
            "needs at least 1 importance sample (got 0)",
        ));
    }
    let (run, cfg, vae) = open_run(dir, request.device)?;
    let prepared = data_for(&run, &cfg, &vae, request.data.as_ref())?;
    let test = &prepared.split.test;
    let x = test.to_tensor(&vae.device());
    let jacobian = prepared.log_jacobian();
    let mut rng = rng_for(request.seed, &[0x414e_4f4d]);
    let (bound, k, what) = match request.score {
        ScoreKind::Elbo => (
            elbo_per_example(&vae, &x, &mut rng).0,
            1,
            "-ELBO".to_string(),
        ),
        ScoreKind::Iw => (
            iw_bound(&vae, &x, request.k, &mut rng, progress)?,
            request.k,
            format!("-L_{} (importance-weighted NLL)", request.k),
        ),
    };
    let scores: Vec<f64> = bound.per_example.iter().map(|b| jacobian - b).collect();
    let labels = test.labels();
    let mut csv = String::from("index,label,score\n");
    for (i, s) in scores.iter().enumerate() {
        let label = labels.map(|l| l[i].to_string()).unwrap_or_default();
        let _ = writeln!(csv, "{i},{label},{s}");
    }
    let scores_file = run.file("anomaly-scores.csv");
    write_atomic(&scores_file, csv.as_bytes())?;
    let holdout = cfg.holdout_class.filter(|_| labels.is_some());
    let positive: Option<Vec<bool>> =
        holdout.and_then(|c| labels.map(|l| l.iter().map(|&y| y == c).collect()));
    let split_mean = |want: bool| {
        positive.as_ref().and_then(|p| {
            let v: Vec<f64> = scores
                .iter()
                .zip(p)
                .filter(|(_, q)| **q == want)
                .map(|(s, _)| *s)
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        })
    };
    let roc_auc = positive.as_ref().and_then(|p| roc_auc(&scores, p));
    let groups = match (&positive, holdout) {
        (Some(p), Some(c)) => vec![
            ("other classes".to_string(), pick(&scores, p, false)),
            (format!("class {c} (held out)"), pick(&scores, p, true)),
        ],
        _ => vec![("test examples".to_string(), scores.clone())],
    };
    let histogram = run.file("anomaly-histogram.png");
    let title = match roc_auc {
        Some(a) => format!("anomaly scores {what} (ROC-AUC {a:.3})"),
        None => format!("anomaly scores {what}"),
    };
    save_histogram(
        &histogram,
        &Histogram {
            title,
            x_label: "score (nats)".into(),
            y_label: "density (per nat)".into(),
            groups,
            bins: 60,
            density: true,
        },
        720,
        420,
    )?;
    run.add_figure(
        "anomaly-histogram.png",
        &format!("distribution of the anomaly score {what} over the test examples"),
    )?;
    let report = AnomalyReport {
        run_dir: run.path().to_path_buf(),
        scores_file,
        histogram,
        score: what,
        k,
        examples: scores.len(),
        mean_score: scores.iter().sum::<f64>() / scores.len().max(1) as f64,
        holdout_class: holdout,
        roc_auc,
        mean_score_holdout: split_mean(true),
        mean_score_others: split_mean(false),
    };
    run.write_json("anomaly.json", &report)?;
    write_run_report(&run)?;
    Ok(report)
}

fn pick(scores: &[f64], positive: &[bool], want: bool) -> Vec<f64> {
    scores
        .iter()
        .zip(positive)
        .filter(|(_, p)| **p == want)
        .map(|(s, _)| *s)
        .collect()
}

/// The ROC-AUC of detecting one held-out class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassAuc {
    /// The class left out of training.
    pub class: u32,
    /// ROC-AUC of the anomaly score for detecting it among the test examples.
    pub roc_auc: f64,
}

/// What `vae anomaly --holdout-class all` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HoldoutSweep {
    /// The folder holding one run per class and the summary.
    pub out_dir: PathBuf,
    /// The ROC-AUC per hold-out class.
    pub per_class: Vec<ClassAuc>,
    /// Mean ROC-AUC over classes.
    pub mean_auc: f64,
    /// The runs, one per class.
    pub runs: Vec<PathBuf>,
}

/// Train one VAE per class `c` of `classes` without `c` (into `out/class-c`), score each run's
/// test set, and summarise the ROC-AUCs in `out` (a bar chart, `eval.json` and `report.html`).
pub fn holdout_sweep(
    base: &VaeRunConfig,
    classes: &[u32],
    out: Option<&Path>,
    opts: &RunOptions<'_>,
    request: &AnomalyRequest,
) -> Result<HoldoutSweep> {
    if classes.is_empty() {
        return Err(Error::param("holdout-class", "no classes to hold out"));
    }
    let root = RunDir::create_at(out, "vae-anomaly")?;
    let mut summary_cfg = serde_json::to_value(base).map_err(|e| Error::Internal(e.to_string()))?;
    if let Some(o) = summary_cfg.as_object_mut() {
        o.insert("family".into(), "vae-anomaly".into());
        o.insert("holdout_class".into(), "all".into());
    }
    root.write_json("config.json", &summary_cfg)?;
    let mut per_class = Vec::new();
    let mut runs = Vec::new();
    for &c in classes {
        opts.progress
            .line(&format!("hold-out class {c}: training without it"));
        let cfg = VaeRunConfig {
            holdout_class: Some(c),
            ..base.clone()
        };
        let dir = root.file(&format!("class-{c}"));
        let run_opts = RunOptions {
            progress: opts.progress,
            interrupt: opts.interrupt.clone(),
            stop_after: opts.stop_after,
            skip_eval: true,
            command_line: opts.command_line.clone(),
        };
        train::<Vae>(cfg, Some(&dir), &run_opts)?;
        let report = score_run(&dir, request, opts.progress)?;
        let auc = report.roc_auc.unwrap_or(f64::NAN);
        opts.progress
            .line(&format!("hold-out class {c}: ROC-AUC {auc:.3}"));
        per_class.push(ClassAuc {
            class: c,
            roc_auc: auc,
        });
        runs.push(dir);
    }
    let mean_auc = per_class.iter().map(|p| p.roc_auc).sum::<f64>() / per_class.len() as f64;
    save_bars(
        &root.file("auc-per-class.png"),
        &Bars {
            title: format!(
                "{FAMILY} anomaly detection: ROC-AUC per hold-out class (mean {mean_auc:.3})"
            ),
            x_label: "class held out of training".into(),
            y_label: "ROC-AUC".into(),
            y_range: Some((0.0, 1.0)),
            reference: Some((0.5, "chance".into())),
            ..Bars::single(per_class.iter().map(|p| (p.class.to_string(), p.roc_auc)))
        },
        720,
        420,
    )?;
    root.add_figure(
        "auc-per-class.png",
        "ROC-AUC of the anomaly score for detecting each class when it was left out of training",
    )?;
    let sweep = HoldoutSweep {
        out_dir: root.path().to_path_buf(),
        per_class,
        mean_auc,
        runs,
    };
    root.write_json("eval.json", &sweep)?;
    write_run_report(&root)?;
    Ok(sweep)
}

//! Runs at a glance: the run directories under a folder (family, start, epochs, headline figure,
//! status), and several runs' metric curves overlaid in one report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::io::RunDir;
use crate::report::{Chart, Series, save_chart, write_run_report};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Its evaluation (eval.json) is written.
    Finished,
    /// It has a checkpoint but no evaluation: stopped (Ctrl-C, `--no-eval`) and resumable.
    Interrupted,
    /// Neither: it stopped before its first checkpoint.
    Failed,
}

/// One run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    /// The directory.
    pub dir: PathBuf,
    /// `family` of its config.json.
    pub family: String,
    /// When it started (UTC, `YYYYMMDD-HHMMSS`), from config.json or the folder's name.
    pub started: String,
    /// Epochs done (checkpointed runs), or the lines of metrics.jsonl.
    pub epochs: Option<usize>,
    /// The headline figure's name and value.
    pub headline: Option<(String, f64)>,
    /// How it ended.
    pub status: Status,
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The figures a report leads with, in order of preference: likelihoods (`-test_nll_iw` is
/// shown as `test_nll_iw`), accuracy, bounds.
const HEADLINES: &[&str] = &[
    "test_log_likelihood",
    "test_nll_iw",
    "parzen_ll",
    "test_accuracy",
    "test_log_predictive",
    "lower_bound_per_example",
    "kl",
    "mean_reward",
    "sigma",
    "phi",
];

fn headline(eval: &Value) -> Option<(String, f64)> {
    let find = |v: &Value| {
        HEADLINES.iter().find_map(|k| {
            v.get(*k)
                .and_then(Value::as_f64)
                .map(|x| ((*k).to_string(), x))
        })
    };
    // A driver summary nests the evaluation under `eval` in some files.
    find(eval).or_else(|| eval.get("eval").and_then(find))
}

/// The metric lines of a run (metrics.jsonl), oldest first.
fn metric_lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .map(|t| {
            t.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Describe the run in `dir` (`None` when `dir` holds no config.json).
pub fn entry(dir: &Path) -> Option<RunEntry> {
    let cfg = read_json(&dir.join("config.json"))?;
    let family = cfg["family"].as_str().unwrap_or("?").to_string();
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let started = cfg["started_utc"]
        .as_str()
        .map(str::to_string)
        .or_else(|| name.strip_prefix(&format!("{family}-")).map(str::to_string))
        .unwrap_or_default();
    let eval = read_json(&dir.join("eval.json"));
    let checkpoint = read_json(&dir.join("checkpoint.json"));
    let metrics = metric_lines(dir);
    let epochs = checkpoint
        .as_ref()
        .and_then(|c| c["epochs_done"].as_u64())
        .map(|e| e as usize)
        .or_else(|| (!metrics.is_empty()).then_some(metrics.len()));
    let status = match (&eval, &checkpoint) {
        (Some(_), _) => Status::Finished,
        (None, Some(_)) => Status::Interrupted,
        (None, None) => Status::Failed,
    };
    let headline = eval.as_ref().and_then(headline).or_else(|| {
        // The last epoch's first figure.
        metrics.last().and_then(|m| {
            m.as_object()?
                .iter()
                .find(|(k, v)| {
                    !matches!(k.as_str(), "epoch" | "seconds" | "update_seconds") && v.is_f64()
                })
                .and_then(|(k, v)| Some((k.clone(), v.as_f64()?)))
        })
    });
    Some(RunEntry {
        dir: dir.to_path_buf(),
        family,
        started,
        epochs,
        headline,
        status,
    })
}

/// Every run directory directly under `root`, oldest first.
pub fn list(root: &Path) -> Result<Vec<RunEntry>> {
    let rd = std::fs::read_dir(root).map_err(|e| Error::io(root, e))?;
    let mut runs: Vec<RunEntry> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter_map(|p| entry(&p))
        .collect();
    runs.sort_by(|a, b| (&a.started, &a.dir).cmp(&(&b.started, &b.dir)));
    Ok(runs)
}

/// One run's curve of one metric: its label and `(epoch, value)` points.
type Curve = (String, Vec<(f64, f64)>);

/// What `runs compare` drew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunsComparison {
    /// The directory written.
    pub run_dir: PathBuf,
    /// The runs compared.
    pub runs: Vec<RunEntry>,
    /// The metrics drawn (one picture each).
    pub metrics: Vec<String>,
}

/// Overlay the per-epoch metric curves of `dirs` (one picture per metric that any of them
/// records), into `out` (or `runs/runs-compare-<time>`).
pub fn compare(dirs: &[PathBuf], out: Option<&Path>) -> Result<RunsComparison> {
    if dirs.len() < 2 {
        return Err(Error::param("runs", "at least two run directories"));
    }
    let runs: Vec<RunEntry> = dirs
        .iter()
        .map(|d| {
            entry(d).ok_or_else(|| Error::bad_file(d, "is not a run directory (no config.json)"))
        })
        .collect::<Result<_>>()?;
    // metric -> [(run label, [(epoch, value)])]
    let mut curves: BTreeMap<String, Vec<Curve>> = BTreeMap::new();
    for (r, d) in runs.iter().zip(dirs) {
        let label = d
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("run")
            .to_string();
        for (i, m) in metric_lines(d).iter().enumerate() {
            let epoch = m["epoch"].as_f64().unwrap_or((i + 1) as f64);
            for (k, v) in m.as_object().into_iter().flatten() {
                if matches!(k.as_str(), "epoch" | "seconds" | "update_seconds") {
                    continue;
                }
                let Some(v) = v.as_f64() else { continue };
                let per_run = curves.entry(k.clone()).or_default();
                match per_run
                    .iter_mut()
                    .find(|(l, _)| *l == format!("{label} ({})", r.family))
                {
                    Some((_, pts)) => pts.push((epoch, v)),
                    None => per_run.push((format!("{label} ({})", r.family), vec![(epoch, v)])),
                }
            }
        }
    }
    if curves.is_empty() {
        return Err(Error::param(
            "runs",
            "none of these runs has per-epoch metrics (metrics.jsonl) to draw",
        ));
    }
    RunDir::create_filled(out, "runs-compare", |run| {
        run.write_json(
            "config.json",
            &serde_json::json!({ "family": "runs-compare", "runs": dirs }),
        )?;
        for (metric, series) in &curves {
            let chart = Chart {
                title: metric.clone(),
                x_label: "epoch".into(),
                y_label: metric.clone(),
                series: series
                    .iter()
                    .map(|(l, pts)| Series::line(l.clone(), pts.clone()))
                    .collect(),
                integer_x: true,
                ..Default::default()
            };
            let file = format!("{metric}.png");
            save_chart(&run.file(&file), &chart, 720, 420)?;
            run.add_figure(&file, &format!("{metric} per epoch, every run overlaid"))?;
        }
        let summary = RunsComparison {
            run_dir: run.path().to_path_buf(),
            runs: runs.clone(),
            metrics: curves.keys().cloned().collect(),
        };
        crate::run::write_eval(run, &summary)?;
        write_run_report(run)?;
        Ok(summary)
    })
}

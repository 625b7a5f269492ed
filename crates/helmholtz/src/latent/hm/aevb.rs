//! `hm compare-aevb`: the VAE (AEVB) against the Helmholtz machine trained by wake-sleep, with
//! the same latent sizes, on the embedded digits: the lower bound on the validation examples
//! against the training examples seen, as in Kingma & Welling's (2014) Figure 2.
//!
//! Both bounds are ELBOs, `E_q[ln p(x, z) - ln q(z | x)]`, estimated on the 500 validation
//! examples held out of the training split: the VAE's with its Gaussian `q` (one sample and the
//! analytic KL), the machine's with one sample of its recognition network.
//!
//! ```text
//! runs/vae-{d}/, runs/hm-{d}/   the runs (each a complete run directory, not evaluated)
//! aevb.png                      one panel per latent size: both curves
//! eval.json                     the last epoch's bounds
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Method;
use super::run::{Hm, HmParams, HmRunConfig};
use crate::data::{DataConfig, Dataset};
use crate::error::{Error, Result, check};
use crate::io::RunDir;
use crate::latent::vae::{Latent, Vae, VaeRunConfig};
use crate::report::{Chart, Series, save_panels, write_run_report};
use crate::run::{RunOptions, train};
use crate::train::Progress;

/// Family name in config.json.
pub const FAMILY: &str = "hm-compare-aevb";

/// One model at one latent size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AevbCurve {
    /// Latent units.
    pub latent: usize,
    /// `AEVB` or `wake-sleep`.
    pub method: String,
    /// `(training examples seen, validation ELBO in nats per example)` after each epoch.
    pub points: Vec<(f64, f64)>,
    /// The run.
    pub run: PathBuf,
}

/// What `hm compare-aevb` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AevbComparison {
    /// The directory written.
    pub run_dir: PathBuf,
    /// Every curve.
    pub curves: Vec<AevbCurve>,
}

fn curve(dir: &Path, key: &str, per_epoch: f64) -> Result<Vec<(f64, f64)>> {
    let path = dir.join("metrics.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|m| Some((m["epoch"].as_f64()? * per_epoch, m[key].as_f64()?)))
        .collect())
}

/// Train both models at each latent size in `sizes` for `epochs` epochs (seed `seed`) and draw
/// their bounds, into `out` (or `runs/hm-compare-aevb-<time>`).
pub fn compare_aevb(
    sizes: &[usize],
    epochs: usize,
    seed: u64,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<AevbComparison> {
    if sizes.is_empty() || sizes.contains(&0) {
        return Err(Error::param("sizes", "at least one, every size positive"));
    }
    check::positive_count("epochs", epochs)?;
    let digits = DataConfig::digits();
    let n = digits.load(seed)?.train.len();
    let seen_per_epoch = (n - Dataset::validation_size(n, 500)) as f64;
    RunDir::create_filled(out, FAMILY, |run| {
        run.write_json(
            "config.json",
            &serde_json::json!({ "family": FAMILY, "sizes": sizes, "epochs": epochs, "seed": seed }),
        )?;
        let opts = RunOptions {
            progress,
            skip_eval: true,
            ..RunOptions::default()
        };
        let mut curves = Vec::new();
        for &d in sizes {
            let vae_dir = run.file(&format!("runs/vae-{d}"));
            let mut vae = VaeRunConfig::new(digits.clone());
            vae.params.model.latent = Latent::Gaussian { dim: d };
            vae.params.train.epochs = epochs;
            vae.params.train.seed = seed;
            train::<Vae>(vae, Some(&vae_dir), &opts)?;
            curves.push(AevbCurve {
                latent: d,
                method: "AEVB".into(),
                points: curve(&vae_dir, "validation_elbo", seen_per_epoch)?,
                run: vae_dir,
            });
            let hm_dir = run.file(&format!("runs/hm-{d}"));
            let mut params = HmParams {
                method: Method::WakeSleep,
                ..HmParams::default()
            };
            params.model.layers = vec![d];
            params.train.epochs = epochs;
            params.train.seed = seed;
            let cfg = HmRunConfig {
                params,
                data: digits.clone(),
                eval_k: 1,
            };
            train::<Hm>(cfg, Some(&hm_dir), &opts)?;
            curves.push(AevbCurve {
                latent: d,
                method: "wake-sleep".into(),
                points: curve(&hm_dir, "elbo", seen_per_epoch)?,
                run: hm_dir,
            });
        }
        let charts: Vec<Chart> = sizes
            .iter()
            .map(|&d| Chart {
                title: format!("{d} latent units"),
                x_label: "training examples seen".into(),
                y_label: "validation ELBO (nats)".into(),
                series: curves
                    .iter()
                    .filter(|c| c.latent == d)
                    .map(|c| Series::line(c.method.clone(), c.points.clone()))
                    .collect(),
                ..Default::default()
            })
            .collect();
        save_panels(&run.file("aevb.png"), &charts)?;
        run.add_figure(
            "aevb.png",
            "The lower bound on the validation examples against training examples seen: AEVB (the VAE) and wake-sleep (the Helmholtz machine), per latent size (Kingma & Welling 2014, Figure 2)",
        )?;
        let summary = AevbComparison {
            run_dir: run.path().to_path_buf(),
            curves,
        };
        crate::run::write_eval(run, &summary)?;
        write_run_report(run)?;
        Ok(summary)
    })
}

//! Posterior predictive summaries of a 1-D regression: at every `x`, the mean of
//! `f(x) = x w + b` over posterior draws, its 2.5% and 97.5% quantiles (the seed's band), and
//! the 95% interval of a new observation `y = f(x) + σ ε` (noise included).

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::linear::{BayesLinear, Noise};
use super::model::{Samples, quantile};

/// The predictive distribution at one input.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BandPoint {
    /// Input.
    pub x: f64,
    /// Posterior mean of `f(x)`.
    pub mean: f64,
    /// 2.5% quantile of `f(x)`.
    pub lower: f64,
    /// 97.5% quantile of `f(x)`.
    pub upper: f64,
    /// 2.5% quantile of a new `y` at `x`.
    pub y_lower: f64,
    /// 97.5% quantile of a new `y` at `x`.
    pub y_upper: f64,
}

/// The band of a one-feature [`BayesLinear`] over `xs`, from posterior `samples`; the noise
/// draws come from `rng`.
pub fn regression_band(
    model: &BayesLinear,
    samples: &Samples,
    xs: &[f64],
    rng: &mut impl Rng,
) -> Vec<BandPoint> {
    xs.iter()
        .map(|&x| {
            let (mut f, mut y) = (Vec::new(), Vec::new());
            for i in 0..samples.len() {
                let theta = samples.row(i);
                let m = model.mean_at(theta, &[x]);
                let sigma = match model.noise {
                    Noise::Known(s) => s,
                    Noise::Uniform(_) => theta[model.d + 1],
                };
                f.push(m);
                y.push(m + sigma * rng.sample::<f64, _>(StandardNormal));
            }
            BandPoint {
                x,
                mean: f.iter().sum::<f64>() / f.len() as f64,
                lower: quantile(&f, 0.025),
                upper: quantile(&f, 0.975),
                y_lower: quantile(&y, 0.025),
                y_upper: quantile(&y, 0.975),
            }
        })
        .collect()
}

/// The band as CSV (`x,mean,lower,upper,y_lower,y_upper`).
pub fn band_csv(band: &[BandPoint]) -> String {
    let mut s = String::from("x,mean,lower,upper,y_lower,y_upper\n");
    for p in band {
        s.push_str(&format!(
            "{},{},{},{},{},{}\n",
            p.x, p.mean, p.lower, p.upper, p.y_lower, p.y_upper
        ));
    }
    s
}

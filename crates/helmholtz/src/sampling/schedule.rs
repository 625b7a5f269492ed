//! Temperature schedules for simulated annealing and annealed importance sampling.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the temperature changes over `n` steps (step `k` in `0..n`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Schedule {
    /// `T_k = T`.
    Constant {
        /// The temperature.
        temperature: f64,
    },
    /// `T_k` from `start` to `end` in equal steps.
    Linear {
        /// First temperature.
        start: f64,
        /// Last temperature.
        end: f64,
    },
    /// `T_k = start (end / start)^(k / (n - 1))`: equal ratios (Kirkpatrick et al. 1983).
    Geometric {
        /// First temperature.
        start: f64,
        /// Last temperature.
        end: f64,
    },
    /// `T_k = start ln 2 / ln(k + 2)`: the logarithmic schedule of Geman & Geman (1984),
    /// slow enough to guarantee convergence for a large enough `start`.
    Logarithmic {
        /// First temperature.
        start: f64,
    },
}

impl Schedule {
    /// Temperature at step `k` of `n`.
    pub fn temperature(&self, k: usize, n: usize) -> f64 {
        let t = if n > 1 {
            k.min(n - 1) as f64 / (n - 1) as f64
        } else {
            1.0
        };
        match *self {
            Schedule::Constant { temperature } => temperature,
            Schedule::Linear { start, end } => start + (end - start) * t,
            Schedule::Geometric { start, end } => start * (end / start).powf(t),
            Schedule::Logarithmic { start } => {
                start * std::f64::consts::LN_2 / ((k + 2) as f64).ln()
            }
        }
    }

    /// Inverse temperature at step `k` of `n`.
    pub fn beta(&self, k: usize, n: usize) -> f64 {
        1.0 / self.temperature(k, n)
    }

    /// All `n` temperatures.
    pub fn temperatures(&self, n: usize) -> Vec<f64> {
        (0..n).map(|k| self.temperature(k, n)).collect()
    }

    /// Temperatures must be positive and finite.
    pub fn validate(&self) -> Result<()> {
        let temps: Vec<f64> = match *self {
            Schedule::Constant { temperature } => vec![temperature],
            Schedule::Linear { start, end } | Schedule::Geometric { start, end } => {
                vec![start, end]
            }
            Schedule::Logarithmic { start } => vec![start],
        };
        if let Some(t) = temps.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
            return Err(Error::param(
                "schedule",
                format!("temperatures must be positive (got {t})"),
            ));
        }
        Ok(())
    }
}

impl std::str::FromStr for Schedule {
    type Err = Error;
    /// `constant:T`, `linear:T0:T1`, `geometric:T0:T1`, `log:T0`.
    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split(':').collect();
        let num = |i: usize| -> Result<f64> {
            parts
                .get(i)
                .ok_or_else(|| Error::param("schedule", format!("`{s}` lacks a temperature")))?
                .parse::<f64>()
                .map_err(|_| {
                    Error::param("schedule", format!("`{s}`: `{}` is not a number", parts[i]))
                })
        };
        let sched = match parts[0] {
            "constant" => Schedule::Constant {
                temperature: num(1)?,
            },
            "linear" => Schedule::Linear {
                start: num(1)?,
                end: num(2)?,
            },
            "geometric" | "exponential" => Schedule::Geometric {
                start: num(1)?,
                end: num(2)?,
            },
            "log" | "logarithmic" => Schedule::Logarithmic { start: num(1)? },
            other => {
                return Err(Error::param(
                    "schedule",
                    format!(
                        "`{other}` is not one of constant:T, linear:T0:T1, geometric:T0:T1, log:T0"
                    ),
                ));
            }
        };
        sched.validate()?;
        Ok(sched)
    }
}

/// `n` inverse temperatures from 0 to 1 for annealed importance sampling, spaced 500 : 4,000 :
/// 10,000 over [0, 0.5), [0.5, 0.9), [0.9, 1] as in Salakhutdinov & Murray (2008) (their
/// 14,500 values for `n = 14_500`).
pub fn ais_betas(n: usize) -> Vec<f64> {
    let n = n.max(2);
    let intervals = n - 1;
    let n1 = ((intervals as f64) * 500.0 / 14_500.0).round() as usize;
    let n2 = ((intervals as f64) * 4_000.0 / 14_500.0).round() as usize;
    let n3 = intervals - n1 - n2;
    let mut betas = Vec::with_capacity(n);
    let mut push_segment = |lo: f64, hi: f64, steps: usize| {
        for i in 0..steps {
            betas.push(lo + (hi - lo) * i as f64 / steps as f64);
        }
    };
    if n3 == 0 || intervals < 3 {
        push_segment(0.0, 1.0, intervals);
    } else {
        push_segment(0.0, 0.5, n1);
        push_segment(0.5, 0.9, n2);
        push_segment(0.9, 1.0, n3);
    }
    betas.push(1.0);
    betas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_hit_their_end_points() -> Result<()> {
        let lin: Schedule = "linear:4:1".parse()?;
        assert_eq!(lin.temperatures(4), vec![4.0, 3.0, 2.0, 1.0]);
        let geo: Schedule = "geometric:8:1".parse()?;
        let t = geo.temperatures(4);
        assert!((t[1] - 4.0).abs() < 1e-12 && (t[2] - 2.0).abs() < 1e-12);
        let log: Schedule = "log:3".parse()?;
        assert!((log.temperature(0, 10) - 3.0).abs() < 1e-12);
        assert!((log.temperature(6, 10) - 3.0 * 2f64.ln() / 8f64.ln()).abs() < 1e-12);
        assert!("linear:1:0".parse::<Schedule>().is_err());
        assert!("cubic:1".parse::<Schedule>().is_err());
        Ok(())
    }

    #[test]
    fn ais_schedule_has_the_published_shape() {
        let b = ais_betas(14_500);
        assert_eq!(b.len(), 14_500);
        assert_eq!((b[0], b[b.len() - 1]), (0.0, 1.0));
        assert!(b.windows(2).all(|w| w[1] > w[0]));
        let below_half = b.iter().filter(|&&x| x < 0.5).count();
        let middle = b.iter().filter(|&&x| (0.5..0.9).contains(&x)).count();
        assert!((below_half as i64 - 500).abs() <= 1 && (middle as i64 - 4000).abs() <= 1);
    }
}

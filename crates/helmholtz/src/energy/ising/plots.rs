//! Figures and metric rows of `ising sweep`: measured curves for `L` and `L/2` with Onsager's
//! exact curves of the infinite lattice overlaid (dashed).

use serde_json::{Map, Value};

use super::observables::Observables;
use super::onsager;
use super::sweep::{IsingSweepConfig, SweepPoint};
use crate::error::Result;
use crate::io::RunDir;
use crate::report::{Chart, Series, save_chart};

/// An exact curve `f(T, J)` of the infinite lattice, with its legend.
type ExactCurve = (&'static str, fn(f64, f64) -> f64);

/// A measured quantity of the sweep.
struct Quantity {
    file: &'static str,
    key: &'static str,
    title: &'static str,
    /// The y axis: the quantity and its unit.
    y_label: &'static str,
    value: fn(&Observables) -> f64,
    /// Exact curve of the infinite lattice `f(T, J)`, if known.
    exact: Option<ExactCurve>,
}

const QUANTITIES: [Quantity; 5] = [
    Quantity {
        file: "magnetization.png",
        key: "abs_magnetization",
        title: "magnetisation <|m|>",
        y_label: "<|m|> per spin",
        value: |o| o.abs_magnetization.mean,
        exact: Some(("Yang M(T)", onsager::spontaneous_magnetization)),
    },
    Quantity {
        file: "specific_heat.png",
        key: "specific_heat",
        title: "specific heat per spin C",
        y_label: "C per spin (k_B = 1)",
        value: |o| o.specific_heat.value,
        exact: Some(("Onsager c(T)", onsager::specific_heat)),
    },
    Quantity {
        file: "susceptibility.png",
        key: "susceptibility",
        title: "susceptibility chi",
        y_label: "chi per spin (1 / energy)",
        value: |o| o.susceptibility.value,
        exact: None,
    },
    Quantity {
        file: "binder.png",
        key: "binder",
        title: "Binder cumulant U4",
        y_label: "U4 (dimensionless)",
        value: |o| o.binder.value,
        exact: None,
    },
    Quantity {
        file: "energy.png",
        key: "energy",
        title: "energy per spin <e>",
        y_label: "<e> per spin (energy units)",
        value: |o| o.energy.mean,
        exact: Some(("Onsager u(T)", onsager::internal_energy)),
    },
];

/// One metrics row per temperature: `temperature` and `<quantity>_L<size>` for both sizes.
pub(crate) fn sweep_rows(large: &[&SweepPoint], small: &[&SweepPoint]) -> Vec<Value> {
    large
        .iter()
        .zip(small)
        .map(|(a, b)| {
            let mut row = Map::new();
            row.insert("temperature".into(), a.temperature.into());
            for q in &QUANTITIES {
                for p in [a, b] {
                    row.insert(
                        format!("{}_L{}", q.key, p.size),
                        (q.value)(&p.observables).into(),
                    );
                }
            }
            Value::Object(row)
        })
        .collect()
}

/// One chart per quantity, with the exact curve where known and lines at `tc` and `Tc`.
pub(crate) fn save_sweep_figures(
    run: &RunDir,
    cfg: &IsingSweepConfig,
    large: &[&SweepPoint],
    small: &[&SweepPoint],
    tc: f64,
) -> Result<()> {
    let tc_exact = onsager::critical_temperature(cfg.coupling);
    for q in &QUANTITIES {
        let mut series: Vec<Series> = [large, small]
            .iter()
            .map(|pts| {
                let points = pts
                    .iter()
                    .map(|p| (p.temperature, (q.value)(&p.observables)))
                    .collect();
                let mut s =
                    Series::line(format!("L = {}", pts.first().map_or(0, |p| p.size)), points);
                s.markers = true;
                s
            })
            .collect();
        if let Some((name, f)) = q.exact {
            let n = 400;
            let curve = (0..=n)
                .map(|i| cfg.t_min + (cfg.t_max - cfg.t_min) * i as f64 / n as f64)
                .map(|t| (t, f(t, cfg.coupling)))
                // The log divergence of c at Tc would flatten the rest of the chart.
                .filter(|&(_, y)| y.is_finite() && y < 4.0)
                .collect();
            let mut s = Series::line(name, curve);
            s.dashed = true;
            series.push(s);
        }
        let chart = Chart {
            title: q.title.into(),
            x_label: "temperature T (energy units, k_B = 1)".into(),
            y_label: q.y_label.into(),
            series,
            vlines: vec![(tc_exact, "Onsager Tc".into()), (tc, "estimated tc".into())],
            ..Default::default()
        };
        save_chart(&run.file(q.file), &chart, 640, 420)?;
        let exact = q.exact.map_or(String::new(), |(name, _)| {
            format!("; dashed: {name} of the infinite lattice")
        });
        let caption = format!(
            "{} against T for L = {} and {}{exact}",
            q.title,
            cfg.size,
            cfg.size / 2
        );
        run.add_figure(q.file, &caption)?;
    }
    Ok(())
}

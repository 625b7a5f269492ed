//! The files of an annealing run: solution, summary, pictures, report.

use serde_json::json;

use super::annealer::Annealer;
use super::run::{AnnealSummary, Problem};
use crate::error::Result;
use crate::io::{RunDir, write_atomic};
use crate::report::{
    Bars, Chart, Histogram, Series, save_bars, save_chart, save_histogram, write_run_report,
};

/// Distinct final energies up to which `reads.png` has a bar per energy.
const MAX_LEVELS: usize = 30;

/// The best state in the problem's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Solution {
    /// ±1 per spin (Ising) or side per node (Max-Cut).
    Spins(Vec<i8>),
    /// 0/1 per QUBO variable.
    Bits(Vec<u8>),
    /// City indices in visiting order.
    Tour(Vec<u32>),
}

impl Solution {
    /// JSON key and value of the state.
    fn json(&self) -> (&'static str, serde_json::Value) {
        match self {
            Self::Spins(s) => ("spins", json!(s)),
            Self::Bits(x) => ("bits", json!(x)),
            Self::Tour(t) => ("tour", json!(t)),
        }
    }

    /// Plain text: `node value` per line, or one city per line in tour order.
    fn text(&self, header: &str) -> String {
        let mut out = format!("# {header}\n");
        match self {
            Self::Spins(s) => s
                .iter()
                .enumerate()
                .for_each(|(i, v)| out.push_str(&format!("{i} {v}\n"))),
            Self::Bits(x) => x
                .iter()
                .enumerate()
                .for_each(|(i, v)| out.push_str(&format!("{i} {v}\n"))),
            Self::Tour(t) => t.iter().for_each(|c| out.push_str(&format!("{c}\n"))),
        }
        out
    }
}

/// Write solution.json/.txt, eval.json, the pictures and report.html.
pub(crate) fn write_outputs(
    run: &RunDir,
    problem: &Problem,
    annealer: &Annealer,
    summary: &AnnealSummary,
    energies: &[f64],
    solution: &Solution,
) -> Result<()> {
    let (key, state) = solution.json();
    let mut sol = json!({
        "problem": summary.problem,
        "best_energy": summary.best_energy,
        "best_read": summary.best_read,
        "read_energies": energies,
    });
    sol[key] = state;
    if let Some(c) = summary.cut_value {
        sol["cut_value"] = json!(c);
    }
    run.write_json("solution.json", &sol)?;
    let header = match (summary.cut_value, solution) {
        (Some(c), _) => format!(
            "max-cut: node side(+1/-1); cut value {c}, Ising energy {}",
            summary.best_energy
        ),
        (None, Solution::Bits(_)) => format!("qubo: variable x; x^T Q x = {}", summary.best_energy),
        (None, Solution::Spins(_)) => format!("ising: spin s; energy {}", summary.best_energy),
        (None, Solution::Tour(_)) => {
            format!("tsp: cities in tour order; length {}", summary.best_energy)
        }
    };
    write_atomic(&run.file("solution.txt"), solution.text(&header).as_bytes())?;
    run.write_json("eval.json", summary)?;
    energy_figure(run, problem, annealer, summary)?;
    let tour = matches!(solution, Solution::Tour(_));
    let quantity = if tour { "tour length" } else { "energy" };
    reads_figure(run, energies, quantity, !tour)?;
    if let (Problem::Tsp(cities), Solution::Tour(tour)) = (problem, solution) {
        tour_figure(run, cities.coordinates(), tour, summary.best_energy)?;
    }
    write_run_report(run)
}

/// Energy after every sweep of the best read, repeated with a trace (the reads are seeded).
fn energy_figure(
    run: &RunDir,
    problem: &Problem,
    annealer: &Annealer,
    summary: &AnnealSummary,
) -> Result<()> {
    let trace = match problem {
        Problem::Tsp(c) => annealer.trace_tour(c, summary.best_read).0,
        other => match other.ising() {
            Some(p) => annealer.trace(p, summary.best_read).0,
            None => return Ok(()),
        },
    };
    let points = trace
        .iter()
        .enumerate()
        .map(|(k, &e)| ((k + 1) as f64, e))
        .collect();
    let chart = Chart {
        title: format!("read {}: energy after each sweep", summary.best_read),
        x_label: "sweep".into(),
        y_label: if summary.tour_length.is_some() {
            "tour length".into()
        } else {
            "energy".into()
        },
        series: vec![Series::line("energy", points)],
        hlines: vec![(summary.best_energy, format!("best {}", summary.best_energy))],
        integer_x: true,
        ..Default::default()
    };
    save_chart(&run.file("energy.png"), &chart, 720, 420)?;
    run.add_figure(
        "energy.png",
        "Energy of the best read after each sweep as the temperature falls",
    )
}

/// Reads per final energy: for `discrete` energies (spins and bits, not tour lengths) on at
/// most `MAX_LEVELS` levels a bar per level, the first being the share of reads that reached the
/// best; else a histogram.
fn reads_figure(run: &RunDir, energies: &[f64], quantity: &str, discrete: bool) -> Result<()> {
    let mut levels: Vec<(f64, usize)> = Vec::new();
    let mut sorted = energies.to_vec();
    sorted.sort_by(f64::total_cmp);
    for e in sorted {
        match levels.last_mut() {
            Some((level, n)) if *level == e => *n += 1,
            _ => levels.push((e, 1)),
        }
    }
    let title = format!("final {quantity} of {} reads", energies.len());
    let file = run.file("reads.png");
    if discrete && levels.len() <= MAX_LEVELS {
        let bars = Bars {
            title,
            x_label: format!("final {quantity}"),
            y_label: "reads (count)".into(),
            integer_y: true,
            ..Bars::single(levels.iter().map(|&(e, n)| (short(e), n as f64)))
        };
        save_bars(&file, &bars, 720, 420)?;
    } else {
        let histogram = Histogram {
            title,
            x_label: format!("final {quantity}"),
            y_label: "reads (count)".into(),
            groups: vec![(String::new(), energies.to_vec())],
            bins: 40,
            density: false,
        };
        save_histogram(&file, &histogram, 720, 420)?;
    }
    run.add_figure(
        "reads.png",
        &format!("Number of reads ending at each final {quantity}"),
    )
}

/// `e` with at most 4 decimals and no trailing zeros (a bar's name: -114, -3.25).
fn short(e: f64) -> String {
    let s = format!("{e:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The best tour as a closed polygon through the cities.
fn tour_figure(run: &RunDir, xy: &[[f64; 2]], tour: &[u32], length: f64) -> Result<()> {
    let mut points: Vec<(f64, f64)> = tour
        .iter()
        .map(|&c| (xy[c as usize][0], xy[c as usize][1]))
        .collect();
    let start = points.first().copied();
    points.extend(start);
    let mut series = Series::line("", points);
    series.markers = true;
    let chart = Chart {
        title: format!("best tour, length {length:.4}"),
        x_label: "x".into(),
        y_label: "y".into(),
        series: vec![series],
        ..Default::default()
    };
    save_chart(&run.file("tour.png"), &chart, 640, 640)?;
    run.add_figure("tour.png", "The shortest tour found")
}

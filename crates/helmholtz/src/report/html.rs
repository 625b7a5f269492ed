//! The self-contained `report.html` of a run, rebuilt from the files in the run directory.

use serde_json::Value;

use super::plot::{Chart, Series, save_panels};
use crate::error::{IoContext, Result};
use crate::io::{RunDir, write_atomic};

/// Rebuild `metrics.png` and `report.html` from config.json, metrics.jsonl, figures.json,
/// eval.json and the later evaluations in `evals/*.json`. Pictures are embedded as base64
/// data, so the page stands alone.
pub fn write_run_report(run: &RunDir) -> Result<()> {
    let config: Value = run.read_json("config.json").unwrap_or(Value::Null);
    let metrics = run.metrics()?;
    let eval: Option<Value> = run
        .file("eval.json")
        .exists()
        .then(|| run.read_json("eval.json"))
        .transpose()?;
    let charts = metric_charts(&metrics, &config);
    if !charts.is_empty() {
        save_panels(&run.file("metrics.png"), &charts)?;
    }
    let family = config
        .get("family")
        .and_then(Value::as_str)
        .unwrap_or("run");
    let name = run
        .path()
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("run");
    let mut html = String::with_capacity(1 << 20);
    html.push_str(&format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>helmholtz {family}: {name}</title><style>{CSS}</style></head><body>\n\
         <h1>helmholtz · {family} · {}</h1>\n<p class=\"sub\">{} epochs recorded · helmholtz {}</p>\n",
        escape(name),
        metrics.len(),
        env!("CARGO_PKG_VERSION")
    ));
    if let Some(eval) = &eval {
        html.push_str("<h2>Evaluation</h2>\n");
        html.push_str(&kv_table(eval));
    }
    for (name, later) in later_evals(run)? {
        html.push_str(&format!(
            "<h2>Later evaluation <code>evals/{}</code></h2>\n",
            escape(&name)
        ));
        html.push_str(&kv_table(&later));
    }
    if !charts.is_empty() {
        html.push_str("<h2>Training curves</h2>\n");
        html.push_str(&img_tag(run, "metrics.png", "per-epoch metrics")?);
        html.push_str(&metrics_table(&metrics));
    }
    let figures = run.figures()?;
    if !figures.is_empty() {
        html.push_str("<h2>Pictures</h2>\n");
        for f in &figures {
            if run.file(&f.file).exists() {
                html.push_str(&format!(
                    "<figure>{}<figcaption>{}</figcaption></figure>\n",
                    img_tag(run, &f.file, &f.caption)?,
                    escape(&f.caption)
                ));
            }
        }
    }
    html.push_str("<h2>Configuration</h2>\n<pre>");
    html.push_str(&escape(
        &serde_json::to_string_pretty(&config).unwrap_or_default(),
    ));
    html.push_str("</pre>\n</body></html>\n");
    write_atomic(&run.file("report.html"), html.as_bytes())
}

/// The later evaluations (`evals/*.json`), oldest name first.
fn later_evals(run: &RunDir) -> Result<Vec<(String, Value)>> {
    let dir = run.file("evals");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .at(&dir)?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| Ok((n.clone(), run.read_json(&format!("evals/{n}"))?)))
        .collect()
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}\
.sub{color:#666}table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}\
th{background:#f4f4f4}td.k{text-align:left;font-family:monospace}img{max-width:100%;image-rendering:pixelated}\
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:.85em}";

/// Keys that can serve as the x axis of per-row metrics, in order of preference.
const X_KEYS: [&str; 5] = ["epoch", "step", "temperature", "load", "size"];

fn metric_charts(rows: &[Value], config: &Value) -> Vec<Chart> {
    let Some(x_key) = X_KEYS
        .iter()
        .find(|k| rows.iter().any(|r| r.get(**k).is_some()))
    else {
        return Vec::new();
    };
    let family = config.get("family").and_then(Value::as_str).unwrap_or("");
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        if let Some(obj) = r.as_object() {
            for (k, v) in obj {
                let skip = X_KEYS.contains(&k.as_str())
                    || k == "seconds"
                    || k == "update_seconds"
                    || !v.is_number();
                if !skip && !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
    }
    names
        .iter()
        .map(|name| {
            let points = rows
                .iter()
                .filter_map(|r| Some((r.get(*x_key)?.as_f64()?, r.get(name)?.as_f64()?)))
                .collect();
            // The title names the one line, so it needs no legend.
            let mut s = Series::line("", points);
            s.markers = rows.len() <= 30;
            Chart {
                title: name.replace('_', " "),
                x_label: x_label(family, x_key),
                y_label: y_label(family, config, name),
                series: vec![s],
                integer_x: *x_key == "epoch" || *x_key == "step",
                ..Default::default()
            }
        })
        .collect()
}

/// The x axis of the metrics: the ising chain's steps are sweeps.
fn x_label(family: &str, x_key: &str) -> String {
    match (family, x_key) {
        ("ising", "step") => "sweep".into(),
        ("ising", "temperature") => "temperature T (energy units, k_B = 1)".into(),
        _ => x_key.into(),
    }
}

/// The y axis of a metric: its unit where it has one, else what it is. The losses and bounds
/// of the trained families are means over examples in nats; the exceptions are named first.
fn y_label(family: &str, config: &Value, name: &str) -> String {
    let method = config.get("method").and_then(Value::as_str).unwrap_or("");
    // The ising sweep writes `<quantity>_L<size>`.
    let quantity = name
        .rsplit_once("_L")
        .filter(|(_, size)| size.parse::<usize>().is_ok())
        .map_or(name, |(q, _)| q);
    let nats = ["log_likelihood", "elbo", "loss", "recon", "kl", "nll"];
    let label = match (family, quantity) {
        ("boltzmann", "kl") => "KL(p_data || q), nats",
        // The linear models' SVI loss is the negative ELBO of the whole data set.
        ("bnn", "loss") if method == "svi" => "-ELBO, nats (whole data set)",
        ("ising", "energy") => "energy per spin (energy units)",
        ("ising", "magnetization" | "abs_magnetization") => "magnetisation per spin",
        ("ising", "specific_heat") => "C per spin (k_B = 1)",
        ("ising", "susceptibility") => "chi per spin (1 / energy)",
        ("ising", "binder") => "U4 (dimensionless)",
        (_, "d_real" | "d_fake") => "mean D(x) (probability)",
        (_, "kl_weight") => "weight on the KL term",
        (_, "tau") => "temperature tau",
        (_, "free_energy_gap") => "nats per example",
        (_, q) if q.ends_with("recon_error") => "squared error per example",
        (_, q) if q.ends_with("seconds") => "s",
        (_, q) if nats.iter().any(|n| q.contains(n)) => "nats per example",
        _ => name,
    };
    label.into()
}

fn metrics_table(rows: &[Value]) -> String {
    let Some(first) = rows.first().and_then(Value::as_object) else {
        return String::new();
    };
    let keys: Vec<&String> = first.keys().collect();
    let mut out = String::from("<table><tr>");
    for k in &keys {
        out.push_str(&format!("<th>{}</th>", escape(k)));
    }
    out.push_str("</tr>\n");
    // The last 10 epochs are enough to read; the chart shows the rest.
    for r in rows.iter().skip(rows.len().saturating_sub(10)) {
        out.push_str("<tr>");
        for k in &keys {
            out.push_str(&format!(
                "<td>{}</td>",
                r.get(k.as_str()).map(fmt_value).unwrap_or_default()
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

fn kv_table(v: &Value) -> String {
    let mut out = String::from("<table>");
    if let Some(obj) = v.as_object() {
        for (k, val) in obj {
            out.push_str(&format!(
                "<tr><td class=\"k\">{}</td><td>{}</td></tr>\n",
                escape(k),
                escape(&fmt_value(val))
            ));
        }
    }
    out.push_str("</table>\n");
    out
}

fn fmt_value(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if x.abs() >= 1e5 || (x != 0.0 && x.abs() < 1e-3) {
                format!("{x:.4e}")
            } else {
                format!("{x:.4}")
            }
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn img_tag(run: &RunDir, file: &str, alt: &str) -> Result<String> {
    let path = run.file(file);
    let bytes = std::fs::read(&path).at(&path)?;
    Ok(format!(
        "<img alt=\"{}\" src=\"data:image/png;base64,{}\">",
        escape(alt),
        base64(&bytes)
    ))
}

/// HTML-escape text.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Standard base64 (RFC 4648) with padding.
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_axes_carry_units() {
        let vae = serde_json::json!({ "family": "vae" });
        for name in [
            "train_loss",
            "validation_elbo",
            "validation_kl",
            "validation_recon",
        ] {
            assert_eq!(y_label("vae", &vae, name), "nats per example");
        }
        let rbm = serde_json::json!({ "family": "rbm" });
        assert_eq!(
            y_label("rbm", &rbm, "recon_error"),
            "squared error per example"
        );
        assert_eq!(
            y_label("rbm", &rbm, "pseudo_log_likelihood"),
            "nats per example"
        );
        let bm = serde_json::json!({ "family": "boltzmann" });
        assert_eq!(y_label("boltzmann", &bm, "kl"), "KL(p_data || q), nats");
        let svi = serde_json::json!({ "family": "bnn", "method": "svi" });
        assert_eq!(y_label("bnn", &svi, "loss"), "-ELBO, nats (whole data set)");
        let bbb = serde_json::json!({ "family": "bnn", "method": "bbb" });
        assert_eq!(y_label("bnn", &bbb, "loss"), "nats per example");
        let ising = serde_json::json!({ "family": "ising" });
        assert_eq!(y_label("ising", &ising, "binder_L16"), "U4 (dimensionless)");
        assert_eq!(x_label("ising", "step"), "sweep");
        assert_eq!(y_label("x", &Value::Null, "seconds"), "s");
        assert_eq!(y_label("x", &Value::Null, "widgets"), "widgets");
    }

    #[test]
    fn every_metric_chart_has_a_y_label() {
        let rows = vec![
            serde_json::json!({ "epoch": 1, "train_loss": 3.0, "mystery": 1.0, "seconds": 0.5 }),
            serde_json::json!({ "epoch": 2, "train_loss": 2.0, "mystery": 2.0, "seconds": 0.5 }),
        ];
        let charts = metric_charts(&rows, &serde_json::json!({ "family": "vae" }));
        assert_eq!(charts.len(), 2);
        assert!(charts.iter().all(|c| !c.y_label.is_empty() && c.integer_x));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }
}

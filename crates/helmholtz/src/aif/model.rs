//! The generative model of a discrete POMDP, in pymdp's layout, read from and written to JSON.
//!
//! ```text
//! A[m]  [obs_m, s_1, ..., s_F]   p(o_m | s_1..s_F), every column sums to 1
//! B[f]  [s_f, s_f, u_f]          p(s_f' | s_f, u_f), next state first, every column sums to 1
//! C[m]  [obs_m]                  preferences: log-probabilities up to a constant
//! D[f]  [s_f]                    p(s_f at t = 0)
//! E     [policies]               habit prior over policies (depends on policy_len)
//! pA, pB, pD                     Dirichlet concentrations of A, B, D (optional)
//! ```
//!
//! A model built in pymdp is saved with `json.dump({"A": [a.tolist() for a in A], ...})` and
//! read here as it is: the same keys, the same index order.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// Column sums may differ from 1 by `atol + rtol` (numpy's `allclose`, which pymdp's
/// `is_normalized` uses).
const SUM_TOLERANCE: f64 = 1e-8 + 1e-5;

/// A dense array of `f64` in row-major (numpy's C) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f64>,
}

impl Array {
    /// An array of `shape` filled with `value`.
    pub fn full(shape: &[usize], value: f64) -> Self {
        Self {
            shape: shape.to_vec(),
            data: vec![value; shape.iter().product()],
        }
    }

    /// The array as nested JSON lists.
    pub fn to_json(&self) -> Value {
        fn nest(shape: &[usize], data: &[f64]) -> Value {
            match shape {
                [] => json!(data[0]),
                [_] => json!(data),
                [n, rest @ ..] => {
                    let step = rest.iter().product::<usize>();
                    Value::Array(
                        (0..*n)
                            .map(|i| nest(rest, &data[i * step..(i + 1) * step]))
                            .collect(),
                    )
                }
            }
        }
        nest(&self.shape, &self.data)
    }

    /// Read nested JSON lists of numbers; `name` (e.g. `A[1]`) is used in errors.
    fn from_json(value: &Value, name: &str) -> std::result::Result<Self, String> {
        let mut shape = Vec::new();
        let mut v = value;
        while let Value::Array(items) = v {
            shape.push(items.len());
            match items.first() {
                Some(first) => v = first,
                None => break,
            }
        }
        if shape.is_empty() {
            return Err(format!("{name} is not a list of numbers"));
        }
        if shape.contains(&0) {
            return Err(format!("{name} has an empty dimension (shape {shape:?})"));
        }
        let mut data = Vec::with_capacity(shape.iter().product());
        fn walk(
            v: &Value,
            shape: &[usize],
            at: &mut Vec<usize>,
            name: &str,
            out: &mut Vec<f64>,
        ) -> std::result::Result<(), String> {
            let here = || {
                let idx: Vec<String> = at.iter().map(usize::to_string).collect();
                format!("{name}[{}]", idx.join(","))
            };
            match (shape, v) {
                ([], Value::Number(n)) => {
                    let x = n.as_f64().filter(|x| x.is_finite());
                    out.push(x.ok_or_else(|| format!("{} is not a finite number", here()))?);
                    Ok(())
                }
                ([], _) => Err(format!("{} is not a number", here())),
                ([n, rest @ ..], Value::Array(items)) if items.len() == *n => {
                    for (i, item) in items.iter().enumerate() {
                        at.push(i);
                        walk(item, rest, at, name, out)?;
                        at.pop();
                    }
                    Ok(())
                }
                ([n, ..], Value::Array(items)) => Err(format!(
                    "{} has {} entries where its siblings have {n} (ragged nesting)",
                    here(),
                    items.len()
                )),
                _ => Err(format!("{} is not a list", here())),
            }
        }
        walk(value, &shape, &mut Vec::new(), name, &mut data)?;
        Ok(Self { shape, data })
    }

    /// `name[i,j,...]` of the flat index `k`.
    fn index_name(&self, name: &str, mut k: usize) -> String {
        let mut idx = vec![0; self.shape.len()];
        for (d, &n) in self.shape.iter().enumerate().rev() {
            idx[d] = k % n;
            k /= n;
        }
        let idx: Vec<String> = idx.iter().map(usize::to_string).collect();
        format!("{name}[{}]", idx.join(","))
    }

    /// Every column (axis 0) scaled to sum to 1 after adding `1e-16` (pymdp's
    /// `norm_dist`: Dirichlet concentrations to their expected probabilities).
    pub fn normalised_columns(&self) -> Self {
        let rows = self.shape[0];
        let cols = self.data.len() / rows;
        let mut out = self.clone();
        for c in 0..cols {
            let sum: f64 = (0..rows).map(|r| self.data[r * cols + c]).sum();
            for r in 0..rows {
                out.data[r * cols + c] = self.data[r * cols + c] / sum;
            }
        }
        out
    }
}

/// A discrete POMDP generative model (see the module docs for shapes).
#[derive(Debug, Clone, PartialEq)]
pub struct Pomdp {
    /// Likelihoods `A[m]`, `[obs_m, s_1, ..., s_F]`.
    pub a: Vec<Array>,
    /// Transitions `B[f]`, `[s_f, s_f, u_f]`.
    pub b: Vec<Array>,
    /// Preferences `C[m]`, `[obs_m]` (zeros when absent).
    pub c: Vec<Vec<f64>>,
    /// Initial states `D[f]`, `[s_f]` (uniform when absent; the expectation of `pD` when only
    /// it is given).
    pub d: Vec<Vec<f64>>,
    /// Habit prior over policies (uniform when absent).
    pub e: Option<Vec<f64>>,
    /// Dirichlet concentrations of `A`.
    pub pa: Option<Vec<Array>>,
    /// Dirichlet concentrations of `B`.
    pub pb: Option<Vec<Array>>,
    /// Dirichlet concentrations of `D`.
    pub pd: Option<Vec<Vec<f64>>>,
}

impl Pomdp {
    /// States per hidden factor.
    pub fn num_states(&self) -> Vec<usize> {
        self.b.iter().map(|b| b.shape[0]).collect()
    }

    /// Outcomes per modality.
    pub fn num_obs(&self) -> Vec<usize> {
        self.a.iter().map(|a| a.shape[0]).collect()
    }

    /// Controls per factor (1 for an uncontrolled factor).
    pub fn num_controls(&self) -> Vec<usize> {
        self.b.iter().map(|b| b.shape[2]).collect()
    }

    /// Read and validate a JSON model file.
    pub fn read(path: &Path) -> Result<Self> {
        crate::budget::check_file(path, "reading this model", 16)?;
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| Error::bad_file(path, format!("not JSON: {e}")))?;
        Self::from_json(&value).map_err(|reason| Error::bad_file(path, reason))
    }

    /// Build from a parsed JSON object and validate it; the error names the array and index.
    pub fn from_json(value: &Value) -> std::result::Result<Self, String> {
        let obj = value
            .as_object()
            .ok_or("the model is not a JSON object with keys A, B, C, D")?;
        for key in obj.keys() {
            if !["A", "B", "C", "D", "E", "pA", "pB", "pD"].contains(&key.as_str()) {
                return Err(format!(
                    "unknown key `{key}` (a model has A, B, C, D, E, pA, pB, pD)"
                ));
            }
        }
        let arrays = |key: &str| -> std::result::Result<Option<Vec<Array>>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) if !items.is_empty() => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Array::from_json(v, &format!("{key}[{i}]")))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map(Some),
                Some(_) => Err(format!(
                    "{key} is not a non-empty list (one array per modality or factor)"
                )),
            }
        };
        let vectors = |key: &str| -> std::result::Result<Option<Vec<Vec<f64>>>, String> {
            arrays(key)?
                .map(|list| {
                    list.into_iter()
                        .enumerate()
                        .map(|(i, a)| match a.shape.len() {
                            1 => Ok(a.data),
                            _ => Err(format!(
                                "{key}[{i}] has shape {:?}; it must be a vector",
                                a.shape
                            )),
                        })
                        .collect()
                })
                .transpose()
        };
        let pa = arrays("pA")?;
        let pb = arrays("pB")?;
        let pd = vectors("pD")?;
        let a = match arrays("A")? {
            Some(a) => a,
            None => pa
                .as_ref()
                .map(|p| p.iter().map(Array::normalised_columns).collect())
                .ok_or("A is missing")?,
        };
        let b = match arrays("B")? {
            Some(b) => b,
            None => pb
                .as_ref()
                .map(|p| p.iter().map(Array::normalised_columns).collect())
                .ok_or("B is missing")?,
        };
        let e = match obj.get("E") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let arr = Array::from_json(v, "E")?;
                if arr.shape.len() != 1 {
                    return Err(format!("E has shape {:?}; it must be a vector", arr.shape));
                }
                Some(arr.data)
            }
        };
        let num_states: Vec<usize> = b.iter().map(|b| b.shape[0]).collect();
        let c = vectors("C")?.unwrap_or_else(|| a.iter().map(|a| vec![0.0; a.shape[0]]).collect());
        let d = match (vectors("D")?, &pd) {
            (Some(d), _) => d,
            (None, Some(pd)) => pd
                .iter()
                .map(|p| {
                    let s: f64 = p.iter().sum();
                    p.iter().map(|x| x / s).collect()
                })
                .collect(),
            (None, None) => num_states
                .iter()
                .map(|&n| vec![1.0 / n as f64; n])
                .collect(),
        };
        let model = Self {
            a,
            b,
            c,
            d,
            e,
            pa,
            pb,
            pd,
        };
        model.validate()?;
        Ok(model)
    }

    /// Check shapes, signs and normalisation; the message names the array and the index.
    pub fn validate(&self) -> std::result::Result<(), String> {
        for (f, b) in self.b.iter().enumerate() {
            if b.shape.len() != 3 || b.shape[0] != b.shape[1] {
                return Err(format!(
                    "B[{f}] has shape {:?}; it must be [s, s, u] (next state, state, control)",
                    b.shape
                ));
            }
            check_distribution(b, &format!("B[{f}]"), true)?;
        }
        let num_states = self.num_states();
        for (m, a) in self.a.iter().enumerate() {
            if a.shape[1..] != num_states[..] {
                return Err(format!(
                    "A[{m}] has shape {:?}; with B's factors it must be [obs, {}]",
                    a.shape,
                    join(&num_states)
                ));
            }
            check_distribution(a, &format!("A[{m}]"), true)?;
        }
        let num_obs = self.num_obs();
        if self.c.len() != self.a.len() {
            return Err(format!(
                "C has {} vectors; it must have one per modality of A ({})",
                self.c.len(),
                self.a.len()
            ));
        }
        for (m, c) in self.c.iter().enumerate() {
            if c.len() != num_obs[m] {
                return Err(format!(
                    "C[{m}] has {} entries; modality {m} has {} outcomes",
                    c.len(),
                    num_obs[m]
                ));
            }
        }
        if self.d.len() != self.b.len() {
            return Err(format!(
                "D has {} vectors; it must have one per factor of B ({})",
                self.d.len(),
                self.b.len()
            ));
        }
        for (f, d) in self.d.iter().enumerate() {
            if d.len() != num_states[f] {
                return Err(format!(
                    "D[{f}] has {} entries; factor {f} has {} states",
                    d.len(),
                    num_states[f]
                ));
            }
            let arr = Array {
                shape: vec![d.len()],
                data: d.clone(),
            };
            check_distribution(&arr, &format!("D[{f}]"), true)?;
        }
        if let Some(e) = &self.e
            && let Some(k) = e.iter().position(|&x| x < 0.0)
        {
            return Err(format!("E[{k}] = {} is negative", e[k]));
        }
        if let Some(pa) = &self.pa {
            same_shapes(pa, &self.a, "pA", "A")?;
            for (m, p) in pa.iter().enumerate() {
                check_distribution(p, &format!("pA[{m}]"), false)?;
            }
        }
        if let Some(pb) = &self.pb {
            same_shapes(pb, &self.b, "pB", "B")?;
            for (f, p) in pb.iter().enumerate() {
                check_distribution(p, &format!("pB[{f}]"), false)?;
            }
        }
        if let Some(pd) = &self.pd {
            if pd.len() != self.d.len() {
                return Err(format!(
                    "pD has {} vectors; D has {}",
                    pd.len(),
                    self.d.len()
                ));
            }
            for (f, p) in pd.iter().enumerate() {
                if p.len() != self.d[f].len() {
                    return Err(format!(
                        "pD[{f}] has {} entries; factor {f} has {} states",
                        p.len(),
                        self.d[f].len()
                    ));
                }
                if let Some(k) = p.iter().position(|&x| x < 0.0) {
                    return Err(format!("pD[{f}][{k}] = {} is negative", p[k]));
                }
            }
        }
        Ok(())
    }

    /// The model as a JSON object in pymdp's layout.
    pub fn to_json(&self) -> Value {
        let list = |arrays: &[Array]| Value::Array(arrays.iter().map(Array::to_json).collect());
        let mut obj = Map::new();
        obj.insert("A".into(), list(&self.a));
        obj.insert("B".into(), list(&self.b));
        obj.insert("C".into(), json!(self.c));
        obj.insert("D".into(), json!(self.d));
        if let Some(e) = &self.e {
            obj.insert("E".into(), json!(e));
        }
        if let Some(pa) = &self.pa {
            obj.insert("pA".into(), list(pa));
        }
        if let Some(pb) = &self.pb {
            obj.insert("pB".into(), list(pb));
        }
        if let Some(pd) = &self.pd {
            obj.insert("pD".into(), json!(pd));
        }
        Value::Object(obj)
    }
}

fn join(v: &[usize]) -> String {
    v.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn same_shapes(
    p: &[Array],
    x: &[Array],
    pname: &str,
    xname: &str,
) -> std::result::Result<(), String> {
    if p.len() != x.len() {
        return Err(format!(
            "{pname} has {} arrays; {xname} has {}",
            p.len(),
            x.len()
        ));
    }
    for (i, (p, x)) in p.iter().zip(x).enumerate() {
        if p.shape != x.shape {
            return Err(format!(
                "{pname}[{i}] has shape {:?}; {xname}[{i}] has {:?}",
                p.shape, x.shape
            ));
        }
    }
    Ok(())
}

/// No negative entry; with `columns`, every column (axis 0) sums to 1.
fn check_distribution(a: &Array, name: &str, columns: bool) -> std::result::Result<(), String> {
    if let Some(k) = a.data.iter().position(|&x| x < 0.0) {
        return Err(format!(
            "{} = {} is negative",
            a.index_name(name, k),
            a.data[k]
        ));
    }
    if !columns {
        return Ok(());
    }
    let rows = a.shape[0];
    let cols = a.data.len() / rows;
    for c in 0..cols {
        let sum: f64 = (0..rows).map(|r| a.data[r * cols + c]).sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            let idx = if a.shape.len() > 1 {
                let columns = Array {
                    shape: a.shape[1..].to_vec(),
                    data: Vec::new(),
                };
                let at = columns.index_name("", c);
                format!("{name}[:, {}", &at[1..])
            } else {
                name.to_string()
            };
            return Err(format!(
                "column {idx} sums to {sum}, not 1 (each column is a distribution over axis 0)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Value {
        json!({
            "A": [[[0.9, 0.2], [0.1, 0.8]]],
            "B": [[[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]]],
        })
    }

    #[test]
    fn reads_pymdp_layout_and_fills_defaults() {
        let m = Pomdp::from_json(&tiny()).expect("valid");
        assert_eq!(m.num_states(), vec![2]);
        assert_eq!(m.num_obs(), vec![2]);
        assert_eq!(m.num_controls(), vec![2]);
        assert_eq!(m.a[0].data, vec![0.9, 0.2, 0.1, 0.8]);
        assert_eq!(m.c, vec![vec![0.0, 0.0]]);
        assert_eq!(m.d, vec![vec![0.5, 0.5]]);
        // Round trip.
        assert_eq!(Pomdp::from_json(&m.to_json()).expect("valid"), m);
    }

    #[test]
    fn errors_name_the_array_and_index() {
        let mut v = tiny();
        v["A"][0][1][0] = json!(0.2);
        let e = Pomdp::from_json(&v).expect_err("an error");
        assert!(e.contains("A[0][:, 0]") && e.contains("1.1"), "{e}");
        let mut v = tiny();
        v["B"][0][0][1][0] = json!(-1.0);
        let e = Pomdp::from_json(&v).expect_err("an error");
        assert!(e.contains("B[0][0,1,0] = -1 is negative"), "{e}");
        let mut v = tiny();
        v["A"][0] = json!([[0.5, 0.5, 0.0], [0.5, 0.5, 1.0]]);
        let e = Pomdp::from_json(&v).expect_err("an error");
        assert!(e.contains("A[0] has shape [2, 3]"), "{e}");
        let mut v = tiny();
        v["A"][0][1] = json!([0.1]);
        let e = Pomdp::from_json(&v).expect_err("an error");
        assert!(e.contains("A[0][1]") && e.contains("ragged"), "{e}");
        let mut v = tiny();
        v["D"] = json!([[0.5, 0.5, 0.0]]);
        let e = Pomdp::from_json(&v).expect_err("an error");
        assert!(e.contains("D[0] has 3 entries"), "{e}");
        let mut v = tiny();
        v["Q"] = json!(1);
        assert!(
            Pomdp::from_json(&v)
                .expect_err("an error")
                .contains("unknown key `Q`")
        );
    }
}

//! CSV tables: a header row, numeric columns, optionally one named target column.
//!
//! Every cell must parse as a finite number; the first one that does not is reported with
//! its row (1-based, counting the header as row 1) and column name.

use std::path::Path;

use crate::error::{Error, Result};

/// A numeric table read from CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Names of the feature columns, in file order (the target excluded).
    pub columns: Vec<String>,
    /// Feature values, `rows x columns.len()`, row-major.
    pub features: Vec<f32>,
    /// The target column, when one was named.
    pub target: Option<Vec<f64>>,
    /// Name of the target column, when one was named.
    pub target_name: Option<String>,
}

impl Table {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        if self.columns.is_empty() {
            self.target.as_ref().map_or(0, Vec::len)
        } else {
            self.features.len() / self.columns.len()
        }
    }
}

/// Read a CSV file; `target` names a column to split off as the target.
pub fn read_csv(path: impl AsRef<Path>, target: Option<&str>) -> Result<Table> {
    let path = path.as_ref();
    // A value takes at least two bytes of text (`0,`) and four as `f32`, held with the rows.
    if let Ok(meta) = std::fs::metadata(path) {
        let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
        crate::budget::check_file(
            path,
            &format!("reading this {len}-byte table"),
            crate::budget::bytes(&[len, 4]),
        )?;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(Error::bad_file(path, "CSV file has no header row"));
    }
    let target_idx = match target {
        Some(name) => Some(header.iter().position(|h| h == name).ok_or_else(|| {
            Error::bad_file(
                path,
                format!("no column named `{name}` (columns: {})", header.join(", ")),
            )
        })?),
        None => None,
    };
    let columns: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != target_idx)
        .map(|(_, h)| h.clone())
        .collect();
    let mut features = Vec::new();
    let mut target_values = target_idx.map(|_| Vec::new());
    for (row_no, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = row_no + 2;
        if record.len() != header.len() {
            return Err(Error::bad_file(
                path,
                format!(
                    "row {line} has {} cells, the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
        }
        for (col, cell) in record.iter().enumerate() {
            let value = parse_cell(cell).ok_or_else(|| {
                Error::bad_file(
                    path,
                    format!(
                        "row {line}, column `{}`: `{cell}` is not a number",
                        header[col]
                    ),
                )
            })?;
            if !value.is_finite() {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "row {line}, column `{}`: {cell} is not a finite number",
                        header[col]
                    ),
                ));
            }
            match (&mut target_values, Some(col) == target_idx) {
                (Some(t), true) => t.push(value),
                _ => features.push(value as f32),
            }
        }
    }
    let table = Table {
        columns,
        features,
        target: target_values,
        target_name: target.map(str::to_owned),
    };
    if table.rows() == 0 {
        return Err(Error::bad_file(
            path,
            "CSV file has a header but no data rows",
        ));
    }
    Ok(table)
}

fn parse_cell(cell: &str) -> Option<f64> {
    if cell.is_empty() {
        return None;
    }
    cell.parse::<f64>().ok()
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        csv::ErrorKind::Utf8 { pos, .. } => Error::bad_file(
            path,
            format!(
                "not UTF-8 text{}",
                pos.map(|p| format!(" (line {})", p.line()))
                    .unwrap_or_default()
            ),
        ),
        other => Error::bad_file(path, format!("malformed CSV: {other:?}")),
    }
}

//! CSV tables: a header row, numeric columns, optionally one named target column.
//!
//! Every cell must parse as a finite number; the first one that does not is reported with
//! its line in the file (1-based, the header is line 1) and its column name.

use std::path::Path;

use crate::error::{Error, Result, quoted};

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
                format!(
                    "no column named {} (columns: {})",
                    quoted(name),
                    column_list(&header)
                ),
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
        // The file's line (quoted cells may span lines); the row count when unknown.
        let line = record.position().map_or(row_no as u64 + 2, |p| p.line());
        if record.len() != header.len() {
            return Err(short_row(path, line, record.len(), header.len()));
        }
        for (col, cell) in record.iter().enumerate() {
            let value = parse_cell(cell).ok_or_else(|| {
                Error::bad_file(
                    path,
                    format!(
                        "line {line}, column {}: {} is not a number",
                        quoted(&header[col]),
                        quoted(cell)
                    ),
                )
            })?;
            if !value.is_finite() {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "line {line}, column {}: {} is not a finite number",
                        quoted(&header[col]),
                        quoted(cell)
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

/// The first columns of `header`, quoted, for a message.
fn column_list(header: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut names: Vec<String> = header.iter().take(SHOWN).map(|h| quoted(h)).collect();
    if header.len() > SHOWN {
        names.push(format!("... {} in all", header.len()));
    }
    names.join(", ")
}

fn short_row(path: &Path, line: u64, cells: usize, header: usize) -> Error {
    Error::bad_file(
        path,
        format!("line {line} has {cells} cells, the header has {header}"),
    )
}

/// The csv crate's error as one line about `path` (its `Debug` form never reaches a user).
fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = |pos: Option<&csv::Position>| pos.map(|p| format!(" (line {})", p.line()));
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        csv::ErrorKind::Utf8 { pos, .. } => Error::bad_file(
            path,
            format!("not UTF-8 text{}", line(pos.as_ref()).unwrap_or_default()),
        ),
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => short_row(
            path,
            pos.map_or(0, |p| p.line()),
            len as usize,
            expected_len as usize,
        ),
        csv::ErrorKind::Deserialize { pos, err } => Error::bad_file(
            path,
            format!(
                "malformed CSV{}: {err}",
                line(pos.as_ref()).unwrap_or_default()
            ),
        ),
        _ => Error::bad_file(path, "malformed CSV"),
    }
}

//! Problem files: edge lists, dense matrices and city lists.
//!
//! * Edge list: one `i j w` per line (0-based node ids, a real weight), `#` starts a comment,
//!   blank lines are skipped. An optional first line `n m` declares the number of nodes and
//!   of edge lines; node ids must then be below `n` and exactly `m` edge lines must follow.
//!   Without it the nodes are `0 ..= largest id`, and the ids must stay below `2m + 2` for `m`
//!   edge lines (at most `2m` nodes touch an edge; one more allows 1-based ids): a larger id
//!   would make a problem of mostly isolated nodes, sized by a typo.
//! * Dense matrix: `n` rows of `n` numbers separated by whitespace or commas.
//! * Cities: one `x y` per line (whitespace or comma).
//!
//! Every error is an [`Error::BadFile`] naming the file, the line (1-based) and the problem.

use crate::keywords::keywords;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::problem::MAX_SPINS;
use crate::budget;
use crate::error::{Error, IoContext, Result, quoted};

/// How a problem file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileFormat {
    /// A dense matrix if the file ends in `.csv` or `.mat`, or its first data line holds a
    /// comma or a number of fields other than 2 (a header) or 3 (an edge); else an edge list.
    #[default]
    Auto,
    /// `i j w` lines.
    Edges,
    /// `n` rows of `n` numbers.
    Matrix,
}

keywords!(FileFormat, "format", {
    Auto => "auto",
    Edges => "edges" | "edge-list",
    Matrix => "matrix" | "dense",
});

/// One weighted entry `(i, j, w)` of a problem file and the line it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Entry {
    pub i: usize,
    pub j: usize,
    pub w: f64,
    pub line: usize,
}

/// The entries of an edge list or matrix, and the number of nodes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entries {
    pub n: usize,
    pub entries: Vec<Entry>,
    /// Read as a dense matrix: entry `(i, j)` and `(j, i)` are both present.
    pub dense: bool,
    /// For a matrix, the line of each row.
    pub row_lines: Vec<usize>,
}

/// Bytes held per byte of a problem file while it is read: the text, its lines and the
/// entries parsed from them (an entry of 32 bytes comes from a line of at least 6).
const BYTES_PER_FILE_BYTE: usize = 16;

/// Bytes held per node of a problem: fields, CSR offsets and degrees.
pub(crate) const BYTES_PER_NODE: usize = 32;

/// The text of `path`, once its size is checked against the memory budget; a binary file is a
/// bad file, not an I/O failure.
fn read_text(path: &Path) -> Result<String> {
    let len = std::fs::metadata(path).at(path)?.len();
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    budget::check_file(
        path,
        &format!("reading this {len}-byte file"),
        budget::bytes(&[len, BYTES_PER_FILE_BYTE]),
    )?;
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            Error::bad_file(path, "not a text file (it is not UTF-8)")
        }
        _ => Error::io(path, e),
    })
}

/// Read `path` as an edge list or matrix (per `format`).
pub(crate) fn read_entries(path: &Path, format: FileFormat) -> Result<Entries> {
    let text = read_text(path)?;
    let lines = data_lines(&text);
    if lines.is_empty() {
        return Err(Error::bad_file(
            path,
            "empty: no data lines (only blank lines or # comments)",
        ));
    }
    let dense = match format {
        FileFormat::Edges => false,
        FileFormat::Matrix => true,
        FileFormat::Auto => looks_dense(path, lines[0].1),
    };
    if dense {
        read_matrix(path, &lines)
    } else {
        read_edge_list(path, &lines)
    }
}

/// Read a city file: `(x, y)` per city.
pub(crate) fn read_cities(path: &Path) -> Result<Vec<[f64; 2]>> {
    let text = read_text(path)?;
    let lines = data_lines(&text);
    if lines.is_empty() {
        return Err(Error::bad_file(
            path,
            "empty: no cities (only blank lines or # comments)",
        ));
    }
    lines
        .iter()
        .map(|&(line, content)| {
            let fields = split_fields(content);
            if fields.len() != 2 {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "line {line}: expected `x y`, found {} fields in {}",
                        fields.len(),
                        quoted(content)
                    ),
                ));
            }
            Ok([
                number(path, line, fields[0])?,
                number(path, line, fields[1])?,
            ])
        })
        .collect()
}

/// `(1-based line number, content)` of every line that is not blank or a comment.
fn data_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(k, l)| (k + 1, l.split('#').next().unwrap_or("").trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect()
}

fn split_fields(line: &str) -> Vec<&str> {
    line.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|f| !f.is_empty())
        .collect()
}

fn looks_dense(path: &Path, first: &str) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    ext == "csv"
        || ext == "mat"
        || first.contains(',')
        || !matches!(split_fields(first).len(), 2 | 3)
}

fn number(path: &Path, line: usize, field: &str) -> Result<f64> {
    let x: f64 = field.parse().map_err(|_| {
        Error::bad_file(
            path,
            format!("line {line}: {} is not a number", quoted(field)),
        )
    })?;
    if !x.is_finite() {
        return Err(Error::bad_file(
            path,
            format!("line {line}: {} is not a finite number", quoted(field)),
        ));
    }
    Ok(x)
}

fn count(path: &Path, line: usize, field: &str, what: &str) -> Result<usize> {
    field.parse::<usize>().map_err(|_| {
        Error::bad_file(
            path,
            format!(
                "line {line}: {} is not a {what} (a non-negative integer)",
                quoted(field)
            ),
        )
    })
}

fn read_edge_list(path: &Path, lines: &[(usize, &str)]) -> Result<Entries> {
    let header = match split_fields(lines[0].1).as_slice() {
        [n, m] => Some((
            count(path, lines[0].0, n, "node count")?,
            count(path, lines[0].0, m, "edge count")?,
        )),
        _ => None,
    };
    if let Some((n, _)) = header {
        check_nodes(path, lines[0].0, n)?;
    }
    let body = if header.is_some() { &lines[1..] } else { lines };
    // Without a header, `m` edge lines name at most `2m` nodes (one more for 1-based ids).
    let limit = header.map_or(MAX_SPINS.min(2 * body.len() + 2), |(n, _)| n);
    let mut entries = Vec::with_capacity(body.len());
    for &(line, content) in body {
        let fields = split_fields(content);
        let [i, j, w] = fields.as_slice() else {
            return Err(Error::bad_file(
                path,
                format!(
                    "line {line}: expected `i j w`, found {} fields in {}",
                    fields.len(),
                    quoted(content)
                ),
            ));
        };
        let (i, j) = (
            count(path, line, i, "node id")?,
            count(path, line, j, "node id")?,
        );
        if i.max(j) >= limit {
            let why = match header {
                Some((n, _)) => format!("the header declares {n} nodes (ids 0..{n})"),
                None if limit < MAX_SPINS => format!(
                    "{} edge lines touch at most {limit} nodes (ids 0..{limit}); declare more on a first line `n m`",
                    body.len()
                ),
                None => format!("at most {MAX_SPINS} nodes are supported"),
            };
            return Err(Error::bad_file(
                path,
                format!("line {line}: node id {} out of range: {why}", i.max(j)),
            ));
        }
        entries.push(Entry {
            i,
            j,
            w: number(path, line, w)?,
            line,
        });
    }
    if let Some((n, m)) = header {
        if entries.len() != m {
            return Err(Error::bad_file(
                path,
                format!(
                    "the header (line {}) declares {m} edges but {} edge lines follow",
                    lines[0].0,
                    entries.len()
                ),
            ));
        }
        if n == 0 {
            return Err(Error::bad_file(
                path,
                format!("line {}: the header declares 0 nodes", lines[0].0),
            ));
        }
    }
    if entries.is_empty() {
        return Err(Error::bad_file(path, "empty: no edge lines"));
    }
    let n = header.map_or_else(
        || entries.iter().map(|e| e.i.max(e.j)).max().unwrap_or(0) + 1,
        |(n, _)| n,
    );
    Ok(Entries {
        n,
        entries,
        dense: false,
        row_lines: Vec::new(),
    })
}

/// A declared node count: at most [`MAX_SPINS`], and its per-node arrays within the budget.
fn check_nodes(path: &Path, line: usize, n: usize) -> Result<()> {
    if n > MAX_SPINS {
        return Err(Error::bad_file(
            path,
            format!(
                "line {line}: the header declares {n} nodes, more than the {MAX_SPINS} supported"
            ),
        ));
    }
    budget::check_file(
        path,
        &format!("line {line}: a problem of {n} nodes"),
        budget::bytes(&[n, BYTES_PER_NODE]),
    )
}

fn read_matrix(path: &Path, lines: &[(usize, &str)]) -> Result<Entries> {
    let n = lines.len();
    if n > MAX_SPINS {
        return Err(Error::bad_file(
            path,
            format!("{n} rows is more than the {MAX_SPINS} supported"),
        ));
    }
    let mut entries = Vec::new();
    for (i, &(line, content)) in lines.iter().enumerate() {
        let fields = split_fields(content);
        if fields.len() != n {
            return Err(Error::bad_file(
                path,
                format!(
                    "line {line}: a {n}-row matrix needs {n} numbers per row, this row has {}",
                    fields.len()
                ),
            ));
        }
        for (j, field) in fields.iter().enumerate() {
            let w = number(path, line, field)?;
            if w != 0.0 {
                entries.push(Entry { i, j, w, line });
            }
        }
    }
    let row_lines = lines.iter().map(|l| l.0).collect();
    Ok(Entries {
        n,
        entries,
        dense: true,
        row_lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::IoContext;

    #[test]
    fn comments_headers_and_commas() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let edges = dir.path().join("g.txt");
        std::fs::write(
            &edges,
            "# a triangle\n3 3\n0 1 1.5  # first\n1 2 -2\n\n2 0 1\n",
        )
        .at(&edges)?;
        let e = read_entries(&edges, FileFormat::Auto)?;
        assert_eq!((e.n, e.entries.len(), e.dense), (3, 3, false));
        assert_eq!(
            (
                e.entries[1].i,
                e.entries[1].j,
                e.entries[1].w,
                e.entries[1].line
            ),
            (1, 2, -2.0, 4)
        );
        let mat = dir.path().join("m.csv");
        std::fs::write(&mat, "0,1\n1,0\n").at(&mat)?;
        let m = read_entries(&mat, FileFormat::Auto)?;
        assert_eq!((m.n, m.entries.len(), m.dense), (2, 2, true));
        Ok(())
    }
}

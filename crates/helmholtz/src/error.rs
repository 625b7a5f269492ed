//! The one error type of the library.
//!
//! Every variant names the thing that was wrong (a file, a parameter, a tensor) and says what
//! was wrong with it, so that a front end can print `Display` as a single line. Variants that
//! describe bad input from a user are [`Error::is_usage`]; the CLI maps them to exit status 2.

use std::path::{Path, PathBuf};

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in helmholtz.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file exists but its contents are not what they should be.
    #[error("{}: {reason}", path.display())]
    BadFile {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Reading or writing a file failed at the operating-system level.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error (already in the message, so not chained as a `source()`:
        /// printing the chain would repeat it).
        error: std::io::Error,
    },

    /// A configuration value is out of range; `name` is the parameter (and CLI flag) name.
    #[error("{name}: {reason}")]
    InvalidParam {
        /// Parameter name, in kebab case (the command line's flag is `--<name>`).
        name: &'static str,
        /// Why the value is not acceptable.
        reason: String,
    },

    /// Data were readable but unusable (NaN, wrong width, empty, ...).
    #[error("{what}: {reason}")]
    BadData {
        /// Which data set or array.
        what: String,
        /// What is wrong.
        reason: String,
    },

    /// Two tensors or arrays that must agree in shape do not.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// What was being combined.
        what: String,
        /// The shape that was required.
        expected: Vec<usize>,
        /// The shape that was found.
        got: Vec<usize>,
    },

    /// A named data set is not installed on this machine.
    #[error("data set `{name}` not found ({looked_in}); {hint}")]
    DataMissing {
        /// Data set name.
        name: String,
        /// Where we looked.
        looked_in: String,
        /// How to install it.
        hint: String,
    },

    /// A directory given as a run directory is not one.
    #[error("{}: not a helmholtz run directory ({reason})", path.display())]
    NotARun {
        /// The directory.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },

    /// A run directory holds a model of another family.
    #[error("{}: holds a `{found}` model, not a `{expected}` model", path.display())]
    WrongFamily {
        /// The directory.
        path: PathBuf,
        /// The family the command works on.
        expected: String,
        /// The family recorded in the run.
        found: String,
    },

    /// Training produced a non-finite loss or parameter.
    #[error(
        "training diverged at epoch {epoch}, batch {batch}: {what} is not finite{}",
        kept.as_ref().map(|p| format!("; the last good checkpoint is kept in {}", p.display())).unwrap_or_default()
    )]
    Diverged {
        /// Epoch (1-based) where it happened.
        epoch: usize,
        /// Batch within the epoch (1-based).
        batch: usize,
        /// Which quantity became NaN or infinite.
        what: String,
        /// The run directory holding the last good checkpoint, if any.
        kept: Option<PathBuf>,
    },

    /// Training was interrupted (Ctrl-C); a checkpoint was saved.
    #[error(
        "interrupted at epoch {epoch}, batch {batch}; checkpoint saved in {}",
        path.display()
    )]
    Interrupted {
        /// Epoch (1-based) that was running.
        epoch: usize,
        /// Batches of that epoch already done.
        batch: usize,
        /// The run directory.
        path: PathBuf,
    },

    /// Data of the wrong width for a model.
    #[error("{what} has {got} features, but {model} is expecting {want} features as input")]
    WrongWidth {
        /// Which data (a file, or `X`).
        what: String,
        /// Their width.
        got: usize,
        /// Which model.
        model: String,
        /// The model's width.
        want: usize,
    },

    /// Training in memory was stopped through its interrupt flag (nothing was saved).
    #[error("stopped at epoch {epoch}, batch {batch}")]
    Stopped {
        /// Epoch (1-based) that was running.
        epoch: usize,
        /// Batches of that epoch already done.
        batch: usize,
    },

    /// An evaluation produced NaN or infinity: it is not reported as a result.
    #[error(
        "the evaluation of {} gave NaN or infinity for `{what}`; nothing was recorded",
        run.display()
    )]
    NonFiniteResult {
        /// Which figure (a dotted path into the evaluation).
        what: String,
        /// The run evaluated (its model is left as it was).
        run: PathBuf,
    },

    /// A failure inside a dependency that is not the user's fault.
    #[error("{0}")]
    Internal(String),
}

/// Rewrite every "set `name` to `value`" of a library message with `render(name, value)`:
/// the command line writes "use --name value", Python "set name='value'".
pub fn rewrite_settings(message: &str, render: impl Fn(&str, &str) -> String) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(at) = rest.find("set `") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let parts: Vec<&str> = from.splitn(5, '`').collect();
        match parts.as_slice() {
            ["set ", name, " to ", value, tail] => {
                out.push_str(&render(name, value));
                rest = tail;
            }
            _ => {
                out.push_str("set `");
                rest = &from[5..];
            }
        }
    }
    out.push_str(rest);
    out
}

impl Error {
    /// True for errors caused by what the user supplied (files, flags, data): exit status 2.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::BadFile { .. }
                | Error::InvalidParam { .. }
                | Error::BadData { .. }
                | Error::ShapeMismatch { .. }
                | Error::WrongWidth { .. }
                | Error::DataMissing { .. }
                | Error::NotARun { .. }
                | Error::WrongFamily { .. }
        ) || matches!(self, Error::Io { error, .. } if matches!(
            error.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidData
        ))
    }

    /// Shorthand for [`Error::BadFile`].
    pub fn bad_file(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::InvalidParam`].
    pub fn param(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidParam {
            name,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::BadData`].
    pub fn data(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::BadData {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            error: source,
        }
    }

    /// The same error told about `path` (the file the user knows) when it is an I/O error on
    /// another one (a temporary file standing in for it).
    pub(crate) fn at_path(self, path: &Path) -> Self {
        match self {
            Error::Io { error, .. } => Error::io(path, error),
            other => other,
        }
    }
}

/// `text` from a file, as a message quotes it: in backticks, control characters escaped (a
/// message stays on one line) and cut after 40 characters.
pub(crate) fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = text
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    format!("`{out}`")
}

/// Attach a path to an `io::Result`.
pub(crate) trait IoContext<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}

/// Small validation helpers shared by every `XxxConfig::validate`.
pub(crate) mod check {
    use super::{Error, Result};

    /// `value >= 1`.
    pub fn positive_count(name: &'static str, value: usize) -> Result<()> {
        if value == 0 {
            return Err(Error::param(name, "must be at least 1 (got 0)"));
        }
        Ok(())
    }

    /// `value > 0` and finite.
    pub fn positive(name: &'static str, value: f64) -> Result<()> {
        if !(value.is_finite() && value > 0.0) {
            return Err(Error::param(
                name,
                format!("must be a positive number (got {value})"),
            ));
        }
        Ok(())
    }

    /// `value >= 0` and finite.
    pub fn non_negative(name: &'static str, value: f64) -> Result<()> {
        if !(value.is_finite() && value >= 0.0) {
            return Err(Error::param(
                name,
                format!("must be zero or positive (got {value})"),
            ));
        }
        Ok(())
    }

    /// `0 <= value < 1`.
    pub fn unit_interval_open(name: &'static str, value: f64) -> Result<()> {
        if !(value.is_finite() && (0.0..1.0).contains(&value)) {
            return Err(Error::param(
                name,
                format!("must lie in [0, 1) (got {value})"),
            ));
        }
        Ok(())
    }
}

//! Training data in memory: the first stage of the pipeline (`data → objective → ...`).
//!
//! A [`Dataset`] holds M samples: features as f32 (dense row-major or CSR sparse, half the
//! bytes of f64 for the memory-bound batch gradient) and targets as f64. Every sample is seen
//! through a borrowed [`Row`]. Readers for CSV ([`csv`]) and LibSVM/svmlight ([`libsvm`]) check
//! every value and report malformed input with file, line and column.
//!
//! ```
//! use descent::data::{Dataset, Row};
//! let data = Dataset::dense(2, vec![1.0, 2.0, 3.0, 4.0], vec![0.5, 1.5]).unwrap();
//! assert_eq!(data.len(), 2);
//! assert_eq!(data.row(1).dot(&[1.0, 1.0]), 7.0);
//! ```

pub mod cache;
mod chunks;
pub mod csv;
mod dataset;
pub mod libsvm;
pub mod npy;
pub(crate) mod pages;
mod row;
mod scale;
mod sparse;
pub mod stream;
pub mod summary;
pub mod synth;
pub mod write;

pub use dataset::{Dataset, Features, Source};
pub use row::{Entry, Row};
pub use scale::Scaler;

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The file formats descent reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row and a label column.
    Csv,
    /// LibSVM / svmlight: `label idx:val idx:val ...`, 1-based indices.
    LibSvm,
    /// A NumPy feature matrix `X.npy`, with labels in a second `.npy` file.
    Npy,
    /// A cache folder written by `descent convert` (see [`cache`]).
    Cache,
}

impl Format {
    /// Guesses the format from a path: a cache folder, `.npy`, `.csv`, else LibSVM.
    pub fn from_path(path: &Path) -> Format {
        if cache::is_cache(path) {
            return Format::Cache;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            Some(e) if e.eq_ignore_ascii_case("npy") => Format::Npy,
            _ => Format::LibSvm,
        }
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "csv" => Ok(Format::Csv),
            "libsvm" | "svmlight" => Ok(Format::LibSvm),
            "npy" => Ok(Format::Npy),
            "cache" => Ok(Format::Cache),
            _ => Err(Error::config(
                "format",
                s,
                "one of: csv, libsvm, npy, cache",
            )),
        }
    }
}

/// How to read a data file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The file format; `None` guesses from the path.
    pub format: Option<Format>,
    /// CSV: the name of the target column.
    pub label: String,
    /// CSV: whether a file without the label column is an error (false for prediction input).
    pub require_label: bool,
    /// LibSVM: the number of features, or `None` for the largest index in the file.
    pub features: Option<usize>,
    /// NumPy: the labels file that goes with the feature matrix.
    pub labels: Option<PathBuf>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            label: "label".to_string(),
            require_label: true,
            features: None,
            labels: None,
        }
    }
}

/// Reads a data set in the format given by `options` (or guessed from the path).
pub fn read(path: &Path, options: &ReadOptions) -> Result<Dataset> {
    let format = options.format.unwrap_or_else(|| Format::from_path(path));
    if options.labels.is_some() && format != Format::Npy {
        return Err(Error::config(
            "labels",
            options
                .labels
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string()),
            "only for NumPy input (`data` X.npy `labels` y.npy); other formats hold their labels",
        ));
    }
    let data = match format {
        Format::Csv => csv::read(path, &options.label, options.require_label)?,
        Format::LibSvm => libsvm::read(path, options.features)?,
        Format::Cache => cache::read(path)?,
        Format::Npy => {
            let labels = options.labels.as_ref().ok_or_else(|| {
                Error::config(
                    "labels",
                    "(missing)",
                    format!(
                        "{} is a NumPy feature matrix: give its labels with `labels` y.npy",
                        path.display()
                    ),
                )
            })?;
            npy::read_pair(path, labels)?
        }
    };
    match (format, options.features) {
        (Format::Cache | Format::Npy, Some(n)) if n != data.dim() => Err(Error::Shape {
            what: format!("features of {} (`features`)", path.display()),
            expected: n.to_string(),
            found: data.dim().to_string(),
        }),
        _ => Ok(data),
    }
}

/// Parses one numeric cell or token as f64, rejecting NaN and infinities.
pub(crate) fn parse_finite(text: &[u8]) -> std::result::Result<f64, String> {
    let value: f64 = fast_float2::parse(text)
        .map_err(|_| format!("'{}' is not a number", chunks::show(text)))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!(
            "'{}' is not finite: remove or impute NaN/Inf values before training",
            chunks::show(text)
        ))
    }
}

/// Parses a feature value as f32 (through f64, as NumPy's `astype(float32)` does).
pub(crate) fn parse_feature(text: &[u8]) -> std::result::Result<f32, String> {
    let value = parse_finite(text)?;
    let single = value as f32;
    if single.is_finite() {
        Ok(single)
    } else {
        Err(format!(
            "'{}' is outside the range of f32 feature storage (±3.4e38)",
            chunks::show(text)
        ))
    }
}

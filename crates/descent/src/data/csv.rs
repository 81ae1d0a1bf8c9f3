//! CSV reader: a header row, one target column (named by `--label`), every other column a
//! feature. Cells are trimmed; every cell must be a finite number.
//!
//! ```text
//! label,height,weight
//! 1,1.80,75
//! 0,1.62,51.5
//! ```

use super::{parse_feature, parse_finite, Dataset, Features, Source};
use crate::{Error, Result};
use std::path::Path;

/// Reads a CSV file. If the label column is missing, that is an error when `require_label`,
/// otherwise every column is a feature and the data set is unlabelled (prediction input).
pub fn read(path: &Path, label: &str, require_label: bool) -> Result<Dataset> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let parse_error = |line: u64, reason: String| Error::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let header = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(parse_error(
            1,
            "empty file: expected a header row naming the columns".into(),
        ));
    }
    let label_col = header.iter().position(|h| h == label);
    if label_col.is_none() && require_label {
        let names: Vec<&str> = header.iter().collect();
        return Err(parse_error(
            1,
            format!(
                "no label column '{label}' in the header (columns: {}); name the target column with --label",
                names.join(", ")
            ),
        ));
    }
    let feature_names: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(j, _)| Some(*j) != label_col)
        .map(|(_, h)| h.to_string())
        .collect();
    let dim = feature_names.len();
    let (mut values, mut targets, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    let mut record = ::csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| csv_error(path, e))?
    {
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record[0].is_empty() {
            continue; // a blank line
        }
        if record.len() != header.len() {
            return Err(parse_error(
                line,
                format!(
                    "ragged row: {} cells, but the header has {} columns",
                    record.len(),
                    header.len()
                ),
            ));
        }
        for (j, cell) in record.iter().enumerate() {
            let column = &header[j];
            let at = |reason: String| parse_error(line, format!("column '{column}': {reason}"));
            if cell.is_empty() {
                return Err(at("empty cell".into()));
            }
            if Some(j) == label_col {
                targets.push(parse_finite(cell).map_err(at)?);
            } else {
                values.push(parse_feature(cell).map_err(at)?);
            }
        }
        if label_col.is_none() {
            targets.push(0.0);
        }
        lines.push(line);
    }
    if targets.is_empty() {
        return Err(parse_error(
            1,
            "no data rows after the header: the file holds no samples".into(),
        ));
    }
    let source = Source {
        path: Some(path.to_path_buf()),
        lines,
        feature_names: Some(feature_names),
    };
    let data = Dataset::new(Features::Dense { dim, values }, targets, source)?;
    Ok(if label_col.is_some() {
        data
    } else {
        data.unlabelled()
    })
}

fn csv_error(path: &Path, error: ::csv::Error) -> Error {
    let line = error.position().map_or(0, |p| p.line());
    match error.into_kind() {
        ::csv::ErrorKind::Io(e) => Error::io(path, e),
        ::csv::ErrorKind::Utf8 { err, .. } => Error::Parse {
            path: path.to_path_buf(),
            line,
            reason: format!("not valid UTF-8 text ({err}); is this a CSV file?"),
        },
        other => Error::Parse {
            path: path.to_path_buf(),
            line,
            reason: format!("{other:?}"),
        },
    }
}

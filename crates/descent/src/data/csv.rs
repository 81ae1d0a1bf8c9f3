//! CSV reader: a header row, one target column (named by `--label`), every other column a
//! feature. Cells are trimmed; every cell must be a finite number.
//!
//! ```text
//! label,height,weight
//! 1,1.80,75
//! 0,1.62,51.5
//! ```
//!
//! Files without quote characters (all numeric CSV) are memory-mapped and parsed in parallel
//! over line-aligned chunks; files with quotes go through the `csv` crate serially. Both give
//! the same data set for the same text.

use super::chunks::{self, ChunkError};
use super::{parse_feature, parse_finite, Dataset, Features, Source};
use crate::{Error, Result};
use std::path::Path;

/// Reads a CSV file. If the label column is missing, that is an error when `require_label`,
/// otherwise every column is a feature and the data set is unlabelled (prediction input).
pub fn read(path: &Path, label: &str, require_label: bool) -> Result<Dataset> {
    let mapped = chunks::Mapped::open(path)?;
    let bytes = mapped.bytes();
    parse(
        path,
        bytes,
        label,
        require_label,
        chunks::default_parts(bytes.len()),
    )
}

/// Parses CSV text cut into about `parts` chunks (1: serially); `path` names the source.
pub fn parse(
    path: &Path,
    bytes: &[u8],
    label: &str,
    require_label: bool,
    parts: usize,
) -> Result<Dataset> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&b'"') {
        return parse_quoted(path, bytes, label, require_label);
    }
    let header_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |k| k + 1);
    let header_line = chunks::lines(&bytes[..header_end])
        .next()
        .map_or(&b""[..], |l| l.1);
    let header_text = std::str::from_utf8(header_line).map_err(|_| Error::Parse {
        path: path.to_path_buf(),
        line: 1,
        reason: "the header is not valid UTF-8 text; is this a CSV file?".into(),
    })?;
    let header: Vec<String> = header_text
        .split(',')
        .map(|h| h.trim().to_string())
        .collect();
    let layout = Layout::new(path, header, label, require_label)?;
    let body = &bytes[header_end..];
    let ranges = chunks::line_chunks(body, parts);
    let parsed = chunks::parse_chunks(path, body, 2, &ranges, |chunk| {
        let mut rows = DenseRows::default();
        for (line, text) in chunks::lines(chunk) {
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let cells = text.split(|&b| b == b',').map(|c| c.trim_ascii());
            layout
                .push(&mut rows, cells, line)
                .map_err(|reason| ChunkError { line, reason })?;
        }
        Ok(rows)
    })?;
    let mut all = DenseRows::default();
    for (first_line, part) in parsed {
        all.values.extend_from_slice(&part.values);
        all.targets.extend_from_slice(&part.targets);
        all.lines
            .extend(part.lines.iter().map(|l| l + first_line - 1));
    }
    layout.finish(path, all)
}

/// CSV with quotes, through the `csv` crate.
fn parse_quoted(path: &Path, bytes: &[u8], label: &str, require_label: bool) -> Result<Dataset> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(bytes);
    let header = reader.headers().map_err(|e| csv_error(path, e))?;
    let layout = Layout::new(
        path,
        header.iter().map(String::from).collect(),
        label,
        require_label,
    )?;
    let mut rows = DenseRows::default();
    let mut record = ::csv::StringRecord::new();
    // The csv crate's line numbers skip blank lines; count line breaks up to each record,
    // whose position may be that of the blank lines skipped before it.
    let (mut counted_to, mut line) = (0usize, 1u64);
    while reader
        .read_record(&mut record)
        .map_err(|e| csv_error(path, e))?
    {
        let mut at = record.position().map_or(counted_to, |p| p.byte() as usize);
        while matches!(bytes.get(at), Some(b'\n' | b'\r')) {
            at += 1;
        }
        line += bytes[counted_to..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        counted_to = at;
        if record.iter().all(str::is_empty) && record.len() == 1 {
            continue;
        }
        let cells = record.iter().map(str::as_bytes);
        layout
            .push(&mut rows, cells, line)
            .map_err(|reason| Error::Parse {
                path: path.to_path_buf(),
                line,
                reason,
            })?;
    }
    layout.finish(path, rows)
}

/// Rows read so far.
#[derive(Default)]
struct DenseRows {
    values: Vec<f32>,
    targets: Vec<f64>,
    lines: Vec<u64>,
}

/// The columns: which is the label, what the features are called.
pub(crate) struct Layout {
    header: Vec<String>,
    label: Option<usize>,
}

impl Layout {
    /// The layout of a header; a missing label column is an error when `require_label`.
    pub(crate) fn new(
        path: &Path,
        header: Vec<String>,
        label: &str,
        require_label: bool,
    ) -> Result<Self> {
        let at_header = |reason: String| Error::Parse {
            path: path.to_path_buf(),
            line: 1,
            reason,
        };
        if header.iter().all(String::is_empty) {
            return Err(at_header(
                "empty file: expected a header row naming the columns".into(),
            ));
        }
        let position = header.iter().position(|h| h == label);
        if position.is_none() && require_label {
            return Err(at_header(format!(
                "no label column '{label}' in the header (columns: {}); name the target column with `label`",
                header.join(", ")
            )));
        }
        Ok(Layout {
            header,
            label: position,
        })
    }

    /// Parses one row's cells into `rows`.
    fn push<'c>(
        &self,
        rows: &mut DenseRows,
        cells: impl Iterator<Item = &'c [u8]>,
        line: u64,
    ) -> std::result::Result<(), String> {
        let target = self.row_into(cells, &mut rows.values)?;
        rows.targets.push(target);
        rows.lines.push(line);
        Ok(())
    }

    /// Appends one row's features to `values` and returns its target (0 without a label
    /// column); on error `values` is unchanged.
    pub(crate) fn row_into<'c>(
        &self,
        cells: impl Iterator<Item = &'c [u8]>,
        values: &mut Vec<f32>,
    ) -> std::result::Result<f64, String> {
        let start = values.len();
        let (mut count, mut target) = (0, 0.0);
        let result = (|| {
            for (j, cell) in cells.enumerate() {
                count += 1;
                let Some(column) = self.header.get(j) else {
                    continue; // counted, reported as ragged below
                };
                let at = |reason: String| format!("column '{column}': {reason}");
                if cell.is_empty() {
                    return Err(at("empty cell".into()));
                }
                if Some(j) == self.label {
                    target = parse_finite(cell).map_err(at)?;
                } else {
                    values.push(parse_feature(cell).map_err(at)?);
                }
            }
            if count != self.header.len() {
                return Err(format!(
                    "ragged row: {count} cells, but the header has {} columns",
                    self.header.len()
                ));
            }
            Ok(target)
        })();
        if result.is_err() {
            values.truncate(start);
        }
        result
    }

    /// Number of feature columns.
    pub(crate) fn features(&self) -> usize {
        self.header.len() - usize::from(self.label.is_some())
    }

    /// Whether the file has the label column.
    pub(crate) fn labelled(&self) -> bool {
        self.label.is_some()
    }

    /// The feature columns' names.
    pub(crate) fn feature_names(&self) -> Vec<String> {
        self.header
            .iter()
            .enumerate()
            .filter(|(j, _)| Some(*j) != self.label)
            .map(|(_, h)| h.clone())
            .collect()
    }

    fn finish(self, path: &Path, rows: DenseRows) -> Result<Dataset> {
        if rows.targets.is_empty() {
            return Err(Error::Parse {
                path: path.to_path_buf(),
                line: 1,
                reason: "no data rows after the header: the file holds no samples".into(),
            });
        }
        let feature_names = self.feature_names();
        let source = Source {
            path: Some(path.to_path_buf()),
            lines: rows.lines,
            feature_names: Some(feature_names.clone()),
        };
        let features = Features::Dense {
            dim: feature_names.len(),
            values: rows.values,
        };
        let data = Dataset::new(features, rows.targets, source)?;
        Ok(if self.labelled() {
            data
        } else {
            data.unlabelled()
        })
    }
}

fn csv_error(path: &Path, error: ::csv::Error) -> Error {
    let line = error.position().map_or(1, |p| p.line());
    let reason = match error.into_kind() {
        ::csv::ErrorKind::Io(e) => return Error::io(path, e),
        ::csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text; is this a CSV file?".to_string(),
        other => format!("{other:?}"),
    };
    Error::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

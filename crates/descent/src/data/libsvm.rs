//! LibSVM / svmlight reader, as scikit-learn's `load_svmlight_file` reads it:
//!
//! ```text
//! # comment
//! 1 3:0.5 10:1.25   # trailing comment
//! -1 qid:7 1:2 3:-1
//! ```
//!
//! One sample per line: a label, an optional `qid:N` (ignored), then `index:value` pairs with
//! 1-based, strictly increasing indices. Blank and comment-only lines are skipped. The number
//! of features is the largest index, or `features` when given (an index above it is an error).
//!
//! The file is memory-mapped and parsed in parallel over line-aligned chunks
//! ([`read`]); [`parse`] with one chunk is the serial reference, and any chunking gives the
//! same data set. [`parse_line`] is the one line parser, shared with streaming readers.

use super::chunks::{self, show, ChunkError};
use super::{parse_feature, parse_finite, Dataset, Features, Source};
use crate::Result;
use std::path::Path;

/// Reads a LibSVM file into CSR rows, in parallel.
pub fn read(path: &Path, features: Option<usize>) -> Result<Dataset> {
    let mapped = chunks::Mapped::open(path)?;
    let bytes = mapped.bytes();
    parse(path, bytes, features, chunks::default_parts(bytes.len()))
}

/// Parses LibSVM text cut into about `parts` chunks (1: serially); `path` names the source.
pub fn parse(path: &Path, bytes: &[u8], features: Option<usize>, parts: usize) -> Result<Dataset> {
    let ranges = chunks::line_chunks(bytes, parts);
    let parsed = chunks::parse_chunks(path, bytes, 1, &ranges, |chunk| {
        let (mut rows, mut sample) = (SparseRows::default(), Sample::default());
        for (line, text) in chunks::lines(chunk) {
            let found = parse_line(text, features, &mut sample)
                .map_err(|reason| ChunkError { line, reason })?;
            if found {
                rows.push(&sample, line);
            }
        }
        Ok(rows)
    })?;
    let mut all = SparseRows::default();
    for (first_line, part) in parsed {
        all.append(part, first_line - 1);
    }
    if all.targets.is_empty() {
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(crate::Error::Parse {
            path: path.to_path_buf(),
            line: lines.max(1),
            reason: "no samples: the file is empty or holds only comments".into(),
        });
    }
    all.into_dataset(path, features)
}

/// One parsed line: its label and nonzeros (0-based indices).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Sample {
    /// The label.
    pub target: f64,
    /// 0-based, strictly increasing feature indices.
    pub indices: Vec<u32>,
    /// Their values.
    pub values: Vec<f32>,
}

/// Parses one line (without its line break) into `sample`: `Ok(false)` for blank and comment
/// lines, `Ok(true)` when `sample` holds the line's sample; the error names the offending token.
pub fn parse_line(
    line: &[u8],
    features: Option<usize>,
    sample: &mut Sample,
) -> std::result::Result<bool, String> {
    let content = match line.iter().position(|&b| b == b'#') {
        Some(k) => &line[..k],
        None => line,
    };
    let mut tokens = content
        .split(|b| b.is_ascii_whitespace())
        .filter(|t| !t.is_empty());
    let Some(label) = tokens.next() else {
        return Ok(false);
    };
    sample.target = parse_finite(label).map_err(|r| format!("label: {r}"))?;
    sample.indices.clear();
    sample.values.clear();
    let mut previous = 0u64;
    for (k, token) in tokens.enumerate() {
        if k == 0 && token.starts_with(b"qid:") {
            continue;
        }
        let colon = token
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| format!("token '{}': expected index:value", show(token)))?;
        let (index, value) = (&token[..colon], &token[colon + 1..]);
        let index = parse_index(index).map_err(|r| format!("token '{}': {r}", show(token)))?;
        if index <= previous {
            return Err(format!(
                "token '{}': index {index} follows index {previous}; indices must be strictly increasing (sorted, no duplicates)",
                show(token)
            ));
        }
        if let Some(limit) = features {
            if index > limit as u64 {
                return Err(format!(
                    "token '{}': index {index} exceeds the number of features ({limit}, from --features or the training data)",
                    show(token)
                ));
            }
        }
        let value = parse_feature(value).map_err(|r| format!("token '{}': {r}", show(token)))?;
        previous = index;
        sample.indices.push((index - 1) as u32);
        sample.values.push(value);
    }
    Ok(true)
}

/// A 1-based feature index: digits only, at least 1, at most 2³².
fn parse_index(text: &[u8]) -> std::result::Result<u64, String> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(format!("'{}' is not an integer index", show(text)));
    }
    let value = digits
        .iter()
        .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
    if negative || value == 0 {
        let sign = if negative && value != 0 { "-" } else { "" };
        return Err(format!(
            "feature index {sign}{value} is not ≥ 1 (LibSVM indices are 1-based, as scikit-learn writes them)"
        ));
    }
    if value > u64::from(u32::MAX) {
        return Err(format!("index {value} is too large (at most {})", u32::MAX));
    }
    Ok(value)
}

/// CSR parts under construction.
#[derive(Debug)]
pub(crate) struct SparseRows {
    pub(crate) indptr: Vec<usize>,
    pub(crate) indices: Vec<u32>,
    pub(crate) values: Vec<f32>,
    pub(crate) targets: Vec<f64>,
    pub(crate) lines: Vec<u64>,
    pub(crate) max_index: usize,
}

impl Default for SparseRows {
    fn default() -> Self {
        SparseRows {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            targets: Vec::new(),
            lines: Vec::new(),
            max_index: 0,
        }
    }
}

impl SparseRows {
    /// Appends a sample read from `line`.
    pub(crate) fn push(&mut self, sample: &Sample, line: u64) {
        if let Some(&last) = sample.indices.last() {
            self.max_index = self.max_index.max(last as usize + 1);
        }
        self.indices.extend_from_slice(&sample.indices);
        self.values.extend_from_slice(&sample.values);
        self.targets.push(sample.target);
        self.indptr.push(self.indices.len());
        self.lines.push(line);
    }

    /// Appends another part whose line numbers are offset by `line_offset`.
    fn append(&mut self, other: SparseRows, line_offset: u64) {
        let base = self.indices.len();
        self.indptr
            .extend(other.indptr[1..].iter().map(|p| p + base));
        self.indices.extend_from_slice(&other.indices);
        self.values.extend_from_slice(&other.values);
        self.targets.extend_from_slice(&other.targets);
        self.lines
            .extend(other.lines.iter().map(|l| l + line_offset));
        self.max_index = self.max_index.max(other.max_index);
    }

    /// The data set, with `features` columns or as many as the largest index.
    pub(crate) fn into_dataset(self, path: &Path, features: Option<usize>) -> Result<Dataset> {
        let source = Source {
            path: Some(path.to_path_buf()),
            lines: self.lines,
            feature_names: None,
        };
        let sparse = Features::Sparse {
            dim: features.unwrap_or(self.max_index),
            indptr: self.indptr,
            indices: self.indices,
            values: self.values,
        };
        Dataset::new(sparse, self.targets, source)
    }
}

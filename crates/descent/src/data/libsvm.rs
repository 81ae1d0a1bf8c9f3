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
use super::{parse_feature, parse_finite, Dataset, Entry, Features, Source};
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
        let mut rest = chunk;
        let mut line = 1u64;
        loop {
            // The fast path takes plain lines; it stops at the first line it does not take,
            // which the general parser then reads (or rejects with a precise message).
            let (consumed, lines_done) = fast_lines(rest, features, &mut rows, line);
            rest = &rest[consumed..];
            line += lines_done;
            if rest.is_empty() {
                break;
            }
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |k| k + 1);
            let text = &rest[..end];
            let text = text.strip_suffix(b"\n").unwrap_or(text);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if parse_line(text, features, &mut sample)
                .map_err(|reason| ChunkError { line, reason })?
            {
                rows.push(&sample, line);
            }
            rest = &rest[end..];
            line += 1;
        }
        Ok(rows)
    })?;
    // One allocation for all parts, in huge pages (SGD reads its rows in random order).
    let mut all = SparseRows {
        entries: super::pages::huge_vec(parsed.iter().map(|(_, p)| p.entries.len()).sum()),
        ..SparseRows::default()
    };
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
    /// The nonzeros, by strictly increasing 0-based index.
    pub entries: Vec<Entry>,
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
    sample.entries.clear();
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
                    "token '{}': index {index} exceeds the number of features ({limit}, from `features` or the training data)",
                    show(token)
                ));
            }
        }
        let value = parse_feature(value).map_err(|r| format!("token '{}': {r}", show(token)))?;
        previous = index;
        sample.entries.push(Entry::new((index - 1) as u32, value));
    }
    Ok(true)
}

/// Parses plain lines (`label idx:val ...` with single-space or tab separators, no comments,
/// no `qid`) straight into `rows`, numbering them from `first_line`. Returns the bytes and
/// lines consumed; it stops before the first line it does not take, so every line it takes
/// is one that [`parse_line`] reads to the same values.
fn fast_lines(
    bytes: &[u8],
    features: Option<usize>,
    rows: &mut SparseRows,
    first_line: u64,
) -> (usize, u64) {
    let limit = features.map_or(u64::from(u32::MAX), |f| f as u64);
    let (mut pos, mut line) = (0usize, first_line);
    'lines: while pos < bytes.len() {
        let start = pos;
        let row_start = rows.entries.len();
        let Ok((target, used)) = fast_float2::parse_partial::<f64, _>(&bytes[pos..]) else {
            break;
        };
        if !target.is_finite() || used == 0 {
            break;
        }
        pos += used;
        let mut previous = 0u64;
        loop {
            match bytes.get(pos) {
                Some(b' ' | b'\t') => pos += 1,
                Some(b'\n') => {
                    pos += 1;
                    break;
                }
                None => break,
                _ => {
                    rows.entries.truncate(row_start);
                    pos = start;
                    break 'lines;
                }
            }
            // index
            let digits_start = pos;
            let mut index = 0u64;
            while let Some(&d) = bytes.get(pos) {
                if !d.is_ascii_digit() || pos - digits_start > 10 {
                    break;
                }
                index = index * 10 + u64::from(d - b'0');
                pos += 1;
            }
            let ok_index = pos > digits_start && index > previous && index <= limit;
            if !ok_index || bytes.get(pos) != Some(&b':') {
                rows.entries.truncate(row_start);
                pos = start;
                break 'lines;
            }
            pos += 1;
            let parsed = fast_float2::parse_partial::<f64, _>(&bytes[pos..]);
            let value = match parsed {
                Ok((v, used)) if used > 0 && (v as f32).is_finite() => {
                    pos += used;
                    v as f32
                }
                _ => {
                    rows.entries.truncate(row_start);
                    pos = start;
                    break 'lines;
                }
            };
            if !matches!(bytes.get(pos), None | Some(b' ' | b'\t' | b'\n')) {
                rows.entries.truncate(row_start);
                pos = start;
                break 'lines;
            }
            previous = index;
            rows.entries.push(Entry::new((index - 1) as u32, value));
        }
        if let Some(last) = rows.entries[row_start..].last() {
            rows.max_index = rows.max_index.max(last.index as usize + 1);
        }
        rows.targets.push(target);
        rows.indptr.push(rows.entries.len());
        rows.lines.push(line);
        line += 1;
    }
    (pos, line - first_line)
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
    pub(crate) entries: Vec<Entry>,
    pub(crate) targets: Vec<f64>,
    pub(crate) lines: Vec<u64>,
    pub(crate) max_index: usize,
}

impl Default for SparseRows {
    fn default() -> Self {
        SparseRows {
            indptr: vec![0],
            entries: Vec::new(),
            targets: Vec::new(),
            lines: Vec::new(),
            max_index: 0,
        }
    }
}

impl SparseRows {
    /// Appends a sample read from `line`.
    pub(crate) fn push(&mut self, sample: &Sample, line: u64) {
        if let Some(last) = sample.entries.last() {
            self.max_index = self.max_index.max(last.index as usize + 1);
        }
        self.entries.extend_from_slice(&sample.entries);
        self.targets.push(sample.target);
        self.indptr.push(self.entries.len());
        self.lines.push(line);
    }

    /// Appends another part whose line numbers are offset by `line_offset`.
    fn append(&mut self, other: SparseRows, line_offset: u64) {
        let base = self.entries.len();
        self.indptr
            .extend(other.indptr[1..].iter().map(|p| p + base));
        self.entries.extend_from_slice(&other.entries);
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
            entries: self.entries,
        };
        Dataset::new(sparse, self.targets, source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The general line parser alone: the reference for the fast path.
    fn parse_general(bytes: &[u8]) -> std::result::Result<SparseRows, (u64, String)> {
        let (mut rows, mut sample) = (SparseRows::default(), Sample::default());
        for (line, text) in chunks::lines(bytes) {
            if parse_line(text, None, &mut sample).map_err(|r| (line, r))? {
                rows.push(&sample, line);
            }
        }
        Ok(rows)
    }

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            (1u32..30, -1e3f64..1e3).prop_map(|(i, v)| format!("{i}:{v}")),
            (1u32..30, -5i32..5).prop_map(|(i, v)| format!("{i}:{v}")),
            (1u32..30).prop_map(|i| format!("{i}:1e39")),
            Just("qid:2".to_string()),
            Just("#c".to_string()),
            Just("0:1".to_string()),
            Just("3:x".to_string()),
            Just("4:.5".to_string()),
            Just("5:+2".to_string()),
            Just("6:1.5e-3".to_string()),
            Just("2:1:3".to_string()),
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        let label = prop_oneof![
            Just("1".to_string()),
            Just("-1".to_string()),
            Just("+1".to_string()),
            Just("2.5".to_string()),
            Just("nan".to_string()),
            Just("".to_string())
        ];
        let sep = prop_oneof![Just(" "), Just("\t"), Just("  ")];
        let end = prop_oneof![Just("\n"), Just("\r\n"), Just(" \n"), Just(" # c\n")];
        (label, prop::collection::vec((sep, token()), 0..6), end).prop_map(|(l, toks, e)| {
            let body: String = toks.iter().map(|(s, t)| format!("{s}{t}")).collect();
            format!("{l}{body}{e}")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn fast_path_agrees_with_the_general_parser(lines in prop::collection::vec(line(), 1..12)) {
            let text = lines.concat();
            let fast = parse(Path::new("p.svm"), text.as_bytes(), None, 1);
            match (parse_general(text.as_bytes()), fast) {
                (Ok(rows), Ok(data)) if !rows.targets.is_empty() => {
                    let expected = rows.into_dataset(Path::new("p.svm"), None).unwrap();
                    prop_assert_eq!(expected, data);
                }
                (Ok(_), Err(e)) => prop_assert!(e.to_string().contains("no samples"), "{}", e),
                (Err((line, reason)), Err(e)) => {
                    prop_assert_eq!(e.to_string(), format!("p.svm:{line}: {reason}"));
                }
                (general, fast) => prop_assert!(false, "general {:?} vs fast {:?}", general.is_ok(), fast.is_ok()),
            }
        }
    }
}

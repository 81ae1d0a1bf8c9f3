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

use super::{parse_feature, parse_finite, Dataset, Features, Source};
use crate::{Error, Result};
use std::io::BufRead;
use std::path::Path;

/// Reads a LibSVM file into CSR rows.
pub fn read(path: &Path, features: Option<usize>) -> Result<Dataset> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let mut rows = Rows::default();
    let mut buffer = Vec::new();
    let mut line_no = 0u64;
    loop {
        buffer.clear();
        let n = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let at = |reason: String| Error::Parse {
            path: path.to_path_buf(),
            line: line_no,
            reason,
        };
        let text = std::str::from_utf8(&buffer)
            .map_err(|_| at("not valid UTF-8 text; is this a LibSVM file?".into()))?;
        rows.parse_line(text, features).map_err(at)?;
        if rows.targets.len() as u64 > rows.lines.len() as u64 {
            rows.lines.push(line_no);
        }
    }
    if rows.targets.is_empty() {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            line: line_no.max(1),
            reason: "no samples: the file is empty or holds only comments".into(),
        });
    }
    let dim = features.unwrap_or(rows.max_index);
    let source = Source {
        path: Some(path.to_path_buf()),
        lines: rows.lines,
        feature_names: None,
    };
    let sparse = Features::Sparse {
        dim,
        indptr: rows.indptr,
        indices: rows.indices,
        values: rows.values,
    };
    Dataset::new(sparse, rows.targets, source)
}

/// CSR parts under construction.
struct Rows {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    targets: Vec<f64>,
    lines: Vec<u64>,
    max_index: usize,
}

impl Default for Rows {
    fn default() -> Self {
        Rows {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            targets: Vec::new(),
            lines: Vec::new(),
            max_index: 0,
        }
    }
}

impl Rows {
    /// Appends the sample on `text`, if any; the error names the offending token.
    fn parse_line(&mut self, text: &str, features: Option<usize>) -> Result<(), String> {
        let content = text.split('#').next().unwrap_or("");
        let mut tokens = content.split_ascii_whitespace();
        let Some(label) = tokens.next() else {
            return Ok(()); // blank or comment-only line
        };
        let target = parse_finite(label).map_err(|r| format!("label: {r}"))?;
        let start = self.indices.len();
        let mut previous = 0u64;
        for (k, token) in tokens.enumerate() {
            if k == 0 && token.starts_with("qid:") {
                continue;
            }
            let (index, value) = token
                .split_once(':')
                .ok_or_else(|| format!("token '{token}': expected index:value"))?;
            let index: u64 = match index.parse::<i64>() {
                Ok(i) if i >= 1 => i as u64,
                Ok(i) => {
                    return Err(format!(
                        "token '{token}': feature index {i} is not ≥ 1 (LibSVM indices are 1-based, as scikit-learn writes them)"
                    ))
                }
                Err(_) => return Err(format!("token '{token}': '{index}' is not an integer index")),
            };
            if index <= previous {
                return Err(format!(
                    "token '{token}': index {index} follows index {previous}; indices must be strictly increasing (sorted, no duplicates)"
                ));
            }
            if index > u64::from(u32::MAX) {
                return Err(format!("token '{token}': index {index} is too large"));
            }
            if let Some(limit) = features {
                if index as usize > limit {
                    return Err(format!(
                        "token '{token}': index {index} exceeds the number of features ({limit}, from --features or the training data)"
                    ));
                }
            }
            let value = parse_feature(value).map_err(|r| format!("token '{token}': {r}"))?;
            previous = index;
            self.indices.push((index - 1) as u32);
            self.values.push(value);
        }
        if let Some(&last) = self.indices[start..].last() {
            self.max_index = self.max_index.max(last as usize + 1);
        }
        self.targets.push(target);
        self.indptr.push(self.indices.len());
        Ok(())
    }
}

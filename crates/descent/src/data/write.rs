//! Writing data sets as text: LibSVM (1-based indices, shortest round-trip f32 values) and CSV
//! (a `label` column first, then `x0, x1, ...`). What these write, the readers read back
//! exactly.

use super::{Dataset, Row};
use std::fmt::Write as _;

/// Appends the rows of `data` as LibSVM lines to `out`.
pub fn libsvm(data: &Dataset, out: &mut String) {
    for i in 0..data.len() {
        let _ = write!(out, "{}", data.target(i));
        match data.row(i) {
            Row::Sparse(entries) => {
                for e in entries {
                    let _ = write!(out, " {}:{}", e.index + 1, e.value);
                }
            }
            Row::Dense(x) => {
                for (j, v) in x.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                    let _ = write!(out, " {}:{v}", j + 1);
                }
            }
        }
        out.push('\n');
    }
}

/// The CSV header for `dim` features.
pub fn csv_header(dim: usize) -> String {
    let mut header = String::from("label");
    for j in 0..dim {
        let _ = write!(header, ",x{j}");
    }
    header.push('\n');
    header
}

/// Appends the rows of `data` as CSV lines (without header) to `out`; sparse rows are written
/// densely.
pub fn csv(data: &Dataset, out: &mut String) {
    let mut dense = vec![0.0f32; data.dim()];
    for i in 0..data.len() {
        let _ = write!(out, "{}", data.target(i));
        let x: &[f32] = match data.row(i) {
            Row::Dense(x) => x,
            Row::Sparse(entries) => {
                dense.fill(0.0);
                for e in entries {
                    dense[e.index as usize] = e.value;
                }
                &dense
            }
        };
        for v in x {
            let _ = write!(out, ",{v}");
        }
        out.push('\n');
    }
}

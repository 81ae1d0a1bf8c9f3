//! The binary cache `descent convert` writes: a folder of NumPy arrays that loads at memory
//! speed and that Python reads directly.
//!
//! ```text
//! data.descent/
//!   descent-cache.json   {"format": "descent-cache", "version": 1, "kind": "sparse",
//!                          "rows": M, "features": d, "nonzeros": nnz, "source": "...",
//!                          "feature_names": [...] (CSV sources only)}
//!   labels.npy           float64 (M,)
//!   X.npy                float32 (M, d), C order               (dense data)
//!   indptr.npy           int64 (M + 1,)                         (sparse data, CSR)
//!   indices.npy          int32 (nnz,), 0-based, sorted per row
//!   data.npy             float32 (nnz,)
//! ```
//!
//! In Python: `scipy.sparse.csr_matrix((np.load("data.npy"), np.load("indices.npy"),
//! np.load("indptr.npy")), shape=(M, d))` and `np.load("labels.npy")`.
//! The folder is written under a temporary name and renamed into place, so it appears whole.

use super::npy;
use super::{Dataset, Entry, Features, Source};
use crate::output::{Existing, OutputDir};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The metadata file that marks a folder as a cache.
pub const META: &str = "descent-cache.json";

/// The cache's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Always `descent-cache`.
    pub format: String,
    /// Layout version (1).
    pub version: u32,
    /// `dense` or `sparse`.
    pub kind: String,
    /// Samples.
    pub rows: usize,
    /// Features.
    pub features: usize,
    /// Stored values.
    pub nonzeros: usize,
    /// The file it was converted from.
    pub source: String,
    /// CSV column names of the features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_names: Option<Vec<String>>,
}

/// Whether `path` is a cache folder.
pub fn is_cache(path: &Path) -> bool {
    path.join(META).is_file()
}

/// Writes `data` as a cache folder at `out` (built under a temporary name and renamed into
/// place; an existing `out` is replaced only with [`Existing::Replace`]).
pub fn write(data: &Dataset, out: &Path, existing: Existing) -> Result<()> {
    let folder = OutputDir::create(out, existing)?;
    let dir = folder.dir();
    let targets: Vec<u8> = data
        .targets()
        .iter()
        .flat_map(|y| y.to_le_bytes())
        .collect();
    npy::write(&dir.join("labels.npy"), "<f8", &[data.len()], &targets)?;
    let kind = match data.features() {
        Features::Dense { dim, values } => {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            npy::write(&dir.join("X.npy"), "<f4", &[data.len(), *dim], &bytes)?;
            "dense"
        }
        Features::Sparse {
            indptr, entries, ..
        } => {
            let p: Vec<u8> = indptr
                .iter()
                .flat_map(|&v| (v as i64).to_le_bytes())
                .collect();
            let i: Vec<u8> = entries
                .iter()
                .flat_map(|e| (e.index as i32).to_le_bytes())
                .collect();
            let v: Vec<u8> = entries.iter().flat_map(|e| e.value.to_le_bytes()).collect();
            npy::write(&dir.join("indptr.npy"), "<i8", &[indptr.len()], &p)?;
            npy::write(&dir.join("indices.npy"), "<i4", &[entries.len()], &i)?;
            npy::write(&dir.join("data.npy"), "<f4", &[entries.len()], &v)?;
            "sparse"
        }
    };
    let meta = Meta {
        format: "descent-cache".into(),
        version: 1,
        kind: kind.into(),
        rows: data.len(),
        features: data.dim(),
        nonzeros: data.stored(),
        source: data.display_path().display().to_string(),
        feature_names: data.source().feature_names.clone(),
    };
    let text = serde_json::to_string_pretty(&meta).map_err(|e| Error::Format {
        path: out.to_path_buf(),
        reason: e.to_string(),
    })?;
    crate::output::write(&dir.join(META), text.as_bytes(), Existing::Keep)?;
    folder.commit()
}

/// Reads a cache folder.
pub fn read(dir: &Path) -> Result<Dataset> {
    let meta_path = dir.join(META);
    let text = std::fs::read_to_string(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
    from_parts(dir, &text, |name| npy::Array::open(&dir.join(name)))
}

/// A cache folder's data set from its metadata `text` and its arrays, opened by name by
/// `open` (`dir` names the folder in messages).
pub fn from_parts(
    dir: &Path,
    text: &str,
    open: impl Fn(&str) -> Result<npy::Array>,
) -> Result<Dataset> {
    let meta_path = dir.join(META);
    let bad = |reason: String| Error::Format {
        path: meta_path.clone(),
        reason,
    };
    let meta: Meta = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if meta.format != "descent-cache" || meta.version != 1 {
        return Err(bad(format!(
            "format '{}' version {} is not descent-cache version 1",
            meta.format, meta.version
        )));
    }
    let array = |name: &str| open(name).map(|a| (dir.join(name), a));
    let (path, labels) = array("labels.npy")?;
    let targets = npy::read_vector((&path, &labels), "<f8", |b| {
        f64::from_le_bytes(b.try_into().unwrap_or_default())
    })?;
    let features = match meta.kind.as_str() {
        "dense" => {
            let (path, x) = array("X.npy")?;
            if x.shape != [meta.rows, meta.features] || x.fortran {
                return Err(bad(format!(
                    "X.npy has shape {:?}, the metadata says ({}, {})",
                    x.shape, meta.rows, meta.features
                )));
            }
            let values = npy::read_matrix_f32((&path, &x))?;
            Features::Dense {
                dim: meta.features,
                values,
            }
        }
        "sparse" => {
            let (path, a) = array("indptr.npy")?;
            let indptr = npy::read_vector((&path, &a), "<i8", |b| {
                i64::from_le_bytes(b.try_into().unwrap_or_default())
            })?;
            if indptr.iter().any(|&p| p < 0) {
                return Err(bad("negative offsets in indptr.npy".into()));
            }
            if indptr.windows(2).any(|w| w[0] > w[1]) {
                return Err(bad("indptr.npy is not non-decreasing".into()));
            }
            // The entries straight from the two mapped files: no copy of either array (each
            // would be as much new memory as the entries, and new memory is slow to fault in).
            let (index_path, index_array) = array("indices.npy")?;
            let (value_path, value_array) = array("data.npy")?;
            let indices = npy::elements((&index_path, &index_array), "<i4", |b| {
                i32::from_le_bytes(b.try_into().unwrap_or_default())
            })?;
            let values = npy::elements((&value_path, &value_array), "<f4", |b| {
                f32::from_le_bytes(b.try_into().unwrap_or_default())
            })?;
            if indices.len() != values.len() {
                return Err(bad(format!(
                    "indices.npy holds {} entries, data.npy {}",
                    indices.len(),
                    values.len()
                )));
            }
            let mut negative = false;
            let entries = super::pages::collect_huge(indices.zip(values).map(|(j, v)| {
                negative |= j < 0;
                Entry::new(j as u32, v)
            }));
            if negative {
                return Err(bad("negative indices in indices.npy".into()));
            }
            Features::Sparse {
                dim: meta.features,
                indptr: indptr.into_iter().map(|p| p as usize).collect(),
                entries,
            }
        }
        other => return Err(bad(format!("unknown kind '{other}'"))),
    };
    if targets.len() != meta.rows {
        return Err(bad(format!(
            "labels.npy has {} labels, the metadata says {} rows",
            targets.len(),
            meta.rows
        )));
    }
    let source = Source {
        path: Some(dir.to_path_buf()),
        lines: (1..=meta.rows as u64).collect(),
        feature_names: meta.feature_names,
    };
    Dataset::new(features, targets, source)
        .map_err(|e| bad(format!("the arrays do not form a valid data set: {e}")))
}

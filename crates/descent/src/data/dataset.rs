//! [`Dataset`]: features, targets and where they came from.

use super::{Entry, Row};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Feature storage: dense row-major or CSR sparse, f32 values.
#[derive(Debug, Clone, PartialEq)]
pub enum Features {
    /// `values[i*dim..(i+1)*dim]` is row i.
    Dense {
        /// Number of features.
        dim: usize,
        /// Row-major values, `len = rows * dim`.
        values: Vec<f32>,
    },
    /// Compressed sparse rows: row i is `entries[indptr[i]..indptr[i+1]]`.
    Sparse {
        /// Number of features.
        dim: usize,
        /// Row offsets, `len = rows + 1`.
        indptr: Vec<usize>,
        /// The nonzeros (index and value side by side), indices strictly increasing within a
        /// row.
        entries: Vec<Entry>,
    },
}

impl Features {
    /// Sparse features from the three CSR arrays as SciPy keeps them: row i's nonzeros are
    /// `indices/values[indptr[i]..indptr[i+1]]`. The two nonzero arrays must be equally long
    /// (the rest is checked by [`Dataset::new`]).
    pub fn from_csr(
        dim: usize,
        indptr: Vec<usize>,
        indices: &[u32],
        values: &[f32],
    ) -> Result<Features> {
        if indices.len() != values.len() {
            return Err(shape("CSR values", indices.len(), values.len()));
        }
        Ok(Features::Sparse {
            dim,
            indptr,
            entries: super::pages::collect_huge(
                indices.iter().zip(values).map(|(&j, &v)| Entry::new(j, v)),
            ),
        })
    }
}

/// Where a data set was read from, so later errors (labels that do not fit the model, say)
/// can name the file and line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    /// The file, or `None` for data built in memory.
    pub path: Option<PathBuf>,
    /// The 1-based line of each row in that file.
    pub lines: Vec<u64>,
    /// Column names (CSV input), in feature order.
    pub feature_names: Option<Vec<String>>,
}

/// M samples: features, targets and their source.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    features: Features,
    targets: Vec<f64>,
    labelled: bool,
    source: Source,
}

impl Dataset {
    /// A dense data set from row-major `values` (`rows × dim`) and one target per row.
    pub fn dense(dim: usize, values: Vec<f32>, targets: Vec<f64>) -> Result<Self> {
        Self::new(Features::Dense { dim, values }, targets, Source::default())
    }

    /// Builds a data set, checking that the parts fit together and hold finite numbers.
    pub fn new(features: Features, targets: Vec<f64>, source: Source) -> Result<Self> {
        let rows = targets.len();
        match &features {
            Features::Dense { dim, values } => {
                if values.len() != rows * dim {
                    return Err(shape("dense feature values", rows * dim, values.len()));
                }
            }
            Features::Sparse {
                dim,
                indptr,
                entries,
            } => {
                if indptr.len() != rows + 1 || indptr[0] != 0 {
                    return Err(shape("CSR row offsets", rows + 1, indptr.len()));
                }
                if indptr[rows] != entries.len() {
                    return Err(shape("CSR nonzeros", indptr[rows], entries.len()));
                }
                if indptr.windows(2).any(|w| w[0] > w[1]) {
                    return Err(Error::Shape {
                        what: "CSR row offsets".into(),
                        expected: "non-decreasing".into(),
                        found: "a decreasing offset".into(),
                    });
                }
                for row in indptr.windows(2) {
                    let idx = &entries[row[0]..row[1]];
                    if idx.windows(2).any(|p| p[0].index >= p[1].index) {
                        return Err(Error::Shape {
                            what: "CSR indices".into(),
                            expected: "strictly increasing within each row".into(),
                            found: "unsorted or duplicate indices".into(),
                        });
                    }
                    if let Some(last) = idx.last() {
                        let last = last.index as usize;
                        if last >= *dim {
                            return Err(shape("CSR feature index bound", *dim, last + 1));
                        }
                    }
                }
            }
        }
        let finite = match &features {
            Features::Dense { values, .. } => values.iter().all(|v| v.is_finite()),
            Features::Sparse { entries, .. } => entries.iter().all(|e| e.value.is_finite()),
        };
        if !finite {
            return Err(Error::Shape {
                what: "feature values".into(),
                expected: "finite numbers".into(),
                found: "NaN or infinity".into(),
            });
        }
        if targets.iter().any(|y| !y.is_finite()) {
            return Err(Error::Shape {
                what: "targets".into(),
                expected: "finite numbers".into(),
                found: "NaN or infinity".into(),
            });
        }
        let mut source = source;
        if source.lines.len() != rows {
            source.lines = (1..=rows as u64).collect();
        }
        Ok(Dataset {
            features,
            targets,
            labelled: true,
            source,
        })
    }

    /// Marks the targets as absent (input read for prediction only).
    pub(crate) fn unlabelled(mut self) -> Self {
        self.labelled = false;
        self
    }

    /// Number of samples M.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Number of features d.
    pub fn dim(&self) -> usize {
        match &self.features {
            Features::Dense { dim, .. } | Features::Sparse { dim, .. } => *dim,
        }
    }

    /// Whether rows are stored sparse.
    pub fn is_sparse(&self) -> bool {
        matches!(self.features, Features::Sparse { .. })
    }

    /// Stored values (M·d when dense, the nonzeros when sparse).
    pub fn stored(&self) -> usize {
        match &self.features {
            Features::Dense { values, .. } => values.len(),
            Features::Sparse { entries, .. } => entries.len(),
        }
    }

    /// Row `i`.
    #[inline]
    pub fn row(&self, i: usize) -> Row<'_> {
        match &self.features {
            Features::Dense { dim, values } => Row::Dense(&values[i * dim..(i + 1) * dim]),
            Features::Sparse {
                indptr, entries, ..
            } => Row::Sparse(&entries[indptr[i]..indptr[i + 1]]),
        }
    }

    /// Target of row `i`.
    #[inline]
    pub fn target(&self, i: usize) -> f64 {
        self.targets[i]
    }

    /// All targets.
    pub fn targets(&self) -> &[f64] {
        &self.targets
    }

    /// Whether the input had targets (a CSV read for prediction may not).
    pub fn is_labelled(&self) -> bool {
        self.labelled
    }

    /// A 64-bit digest of the contents (features, their layout and the targets): equal data
    /// give equal digests; a checkpoint stores it to recognize its training data.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Digest::default();
        h.add(self.len() as u64);
        h.add(self.dim() as u64);
        match &self.features {
            Features::Dense { values, .. } => values.iter().for_each(|v| h.add(v.to_bits().into())),
            Features::Sparse {
                indptr, entries, ..
            } => {
                indptr.iter().for_each(|&p| h.add(p as u64));
                // All indices, then all values: the order of the separate arrays rows were
                // once kept in, so checkpoints keep recognizing their data.
                entries.iter().for_each(|e| h.add(e.index.into()));
                entries.iter().for_each(|e| h.add(e.value.to_bits().into()));
            }
        }
        self.targets.iter().for_each(|y| h.add(y.to_bits()));
        h.0
    }

    /// The feature storage.
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// Mutable feature storage (for in-place scaling).
    pub(crate) fn features_mut(&mut self) -> &mut Features {
        &mut self.features
    }

    /// Where the data came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The file name to show in messages (`<memory>` for data built in memory).
    pub fn display_path(&self) -> PathBuf {
        self.source
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from("<memory>"))
    }

    /// The 1-based source line of row `i`.
    pub fn line_of(&self, i: usize) -> u64 {
        self.source.lines[i]
    }

    /// Replaces every target with `f(row, target)`; an `Err(reason)` names the row's line.
    pub fn map_targets(
        &mut self,
        mut f: impl FnMut(f64) -> std::result::Result<f64, String>,
    ) -> Result<()> {
        for i in 0..self.targets.len() {
            self.targets[i] = f(self.targets[i]).map_err(|reason| Error::Labels {
                path: self.display_path(),
                line: self.line_of(i),
                reason,
            })?;
        }
        Ok(())
    }

    /// The rows `rows` (in that order) as a new data set, with their source lines.
    pub fn select(&self, rows: &[usize]) -> Dataset {
        let features = match &self.features {
            Features::Dense { dim, values } => Features::Dense {
                dim: *dim,
                values: rows
                    .iter()
                    .flat_map(|&i| values[i * dim..(i + 1) * dim].iter().copied())
                    .collect(),
            },
            Features::Sparse {
                dim,
                indptr,
                entries,
            } => {
                let (mut offsets, mut kept) = (vec![0usize], Vec::new());
                for &i in rows {
                    kept.extend_from_slice(&entries[indptr[i]..indptr[i + 1]]);
                    offsets.push(kept.len());
                }
                Features::Sparse {
                    dim: *dim,
                    indptr: offsets,
                    entries: kept,
                }
            }
        };
        Dataset {
            features,
            targets: rows.iter().map(|&i| self.targets[i]).collect(),
            labelled: self.labelled,
            source: Source {
                path: self.source.path.clone(),
                lines: rows.iter().map(|&i| self.source.lines[i]).collect(),
                feature_names: self.source.feature_names.clone(),
            },
        }
    }

    /// Widens a sparse data set to `dim` features (a test file whose largest index is below
    /// the training file's). Dense data must match exactly.
    pub fn conform_to(&mut self, dim: usize, other: &Path) -> Result<()> {
        let here = self.dim();
        match &mut self.features {
            Features::Sparse { dim: d, .. } if *d <= dim => {
                *d = dim;
                Ok(())
            }
            _ if here == dim => Ok(()),
            _ => Err(Error::Shape {
                what: format!(
                    "number of features of {} (must match {})",
                    self.display_path().display(),
                    other.display()
                ),
                expected: dim.to_string(),
                found: here.to_string(),
            }),
        }
    }
}

fn shape(what: &str, expected: usize, found: usize) -> Error {
    Error::Shape {
        what: what.to_string(),
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

/// A fast, non-cryptographic running digest of 64-bit words (multiply–rotate mixing).
#[derive(Default)]
struct Digest(u64);

impl Digest {
    fn add(&mut self, word: u64) {
        self.0 = (self.0 ^ word)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
            .wrapping_add(0xBF58_476D_1CE4_E5B9);
    }
}

//! What `descent inspect` reports about a data set: size, sparsity, labels and value ranges.

use super::{Dataset, Features};
use serde::Serialize;
use std::collections::BTreeMap;

/// Labels with at most this many distinct values are listed with their counts.
pub const MAX_LISTED_LABELS: usize = 20;

/// A data set's vital statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Samples.
    pub rows: usize,
    /// Features.
    pub features: usize,
    /// Whether rows are stored sparse.
    pub sparse: bool,
    /// Stored values (nonzeros when sparse).
    pub nonzeros: usize,
    /// nonzeros / (rows · features).
    pub density: f64,
    /// Fewest, mean and most stored values per row.
    pub nonzeros_per_row: [f64; 3],
    /// Features with at least one nonzero value.
    pub features_used: usize,
    /// Smallest and largest feature value.
    pub value_range: [f64; 2],
    /// Label statistics.
    pub labels: LabelSummary,
}

/// The distribution of the labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelSummary {
    /// Distinct label values.
    pub distinct: usize,
    /// Count of each label in increasing label order, when there are at most
    /// [`MAX_LISTED_LABELS`].
    pub counts: Option<Vec<LabelCount>>,
    /// Smallest, mean and largest label.
    pub min_mean_max: [f64; 3],
}

impl Summary {
    /// Computes the summary in one pass over the stored values.
    pub fn of(data: &Dataset) -> Summary {
        let (rows, features) = (data.len(), data.dim());
        let mut used = vec![false; features];
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut per_row = [f64::INFINITY, 0.0, 0.0];
        match data.features() {
            Features::Dense { values, .. } => {
                for row in values.chunks_exact(features.max(1)) {
                    for (u, &v) in used.iter_mut().zip(row) {
                        *u |= v != 0.0;
                    }
                }
                per_row = [features as f64; 3];
                scan(values.iter().copied(), &mut lo, &mut hi);
            }
            Features::Sparse {
                indptr, entries, ..
            } => {
                for e in entries {
                    used[e.index as usize] = true;
                }
                for w in indptr.windows(2) {
                    let n = (w[1] - w[0]) as f64;
                    per_row[0] = per_row[0].min(n);
                    per_row[2] = per_row[2].max(n);
                }
                per_row[1] = entries.len() as f64 / rows.max(1) as f64;
                scan(entries.iter().map(|e| e.value), &mut lo, &mut hi);
            }
        }
        let nonzeros = data.stored();
        Summary {
            rows,
            features,
            sparse: data.is_sparse(),
            nonzeros,
            density: nonzeros as f64 / (rows as f64 * features as f64).max(1.0),
            nonzeros_per_row: per_row,
            features_used: used.iter().filter(|&&u| u).count(),
            value_range: [lo, hi],
            labels: LabelSummary::of(data.targets()),
        }
    }
}

fn scan(values: impl IntoIterator<Item = f32>, lo: &mut f64, hi: &mut f64) {
    for v in values {
        *lo = lo.min(f64::from(v));
        *hi = hi.max(f64::from(v));
    }
}

/// How often one label occurs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LabelCount {
    /// The label.
    pub label: f64,
    /// Rows with that label.
    pub count: usize,
}

impl LabelSummary {
    fn of(targets: &[f64]) -> LabelSummary {
        let mut counts: BTreeMap<u64, (f64, usize)> = BTreeMap::new();
        let mut distinct_overflow = false;
        for &y in targets {
            let key = y.to_bits();
            if let Some(entry) = counts.get_mut(&key) {
                entry.1 += 1;
            } else if counts.len() <= MAX_LISTED_LABELS {
                counts.insert(key, (y, 1));
            } else {
                distinct_overflow = true;
            }
        }
        let distinct = if distinct_overflow {
            let mut sorted = targets.to_vec();
            sorted.sort_by(f64::total_cmp);
            sorted.dedup_by(|a, b| a.to_bits() == b.to_bits());
            sorted.len()
        } else {
            counts.len()
        };
        let listed = (distinct <= MAX_LISTED_LABELS).then(|| {
            let mut sorted: Vec<(f64, usize)> = counts.into_values().collect();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            sorted
                .into_iter()
                .map(|(label, count)| LabelCount { label, count })
                .collect()
        });
        let n = targets.len().max(1) as f64;
        LabelSummary {
            distinct,
            counts: listed,
            min_mean_max: [
                targets.iter().copied().fold(f64::INFINITY, f64::min),
                targets.iter().sum::<f64>() / n,
                targets.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ],
        }
    }
}

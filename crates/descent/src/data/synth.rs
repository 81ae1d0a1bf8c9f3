//! Synthetic data sets with a known ground truth, deterministic per seed.
//!
//! - [`Kind::Sparse`]: RCV1-like text data. Feature j is used with probability ∝ 1/(j+1)^1.1
//!   (Zipf-like document frequencies), the number of nonzeros per row is log-normal around
//!   `nnz` (RCV1 averages 76), values are tf-idf-like and every row has unit L2 norm. Labels
//!   are the sign of a hidden linear model w* ~ N(0, 1), flipped with probability `noise`.
//! - [`Kind::DenseClassification`]: x ~ N(0, I); y ∈ {0, 1} drawn with
//!   P(y = 1) = σ(4·w*ᵀx), w* ~ N(0, I/d), so the Bayes-optimal model is logistic.
//! - [`Kind::DenseRegression`]: x ~ N(0, I); y = w*ᵀx + 0.5 + `noise`·N(0, 1).
//!
//! Rows are made in blocks of [`BLOCK_ROWS`], block b from its own generator seeded with
//! (seed, b), so the data does not depend on how many threads make it. The hidden model comes
//! from the seed alone.
//!
//! ```
//! use descent::data::synth::{generate, Kind, Spec};
//! let spec = Spec { kind: Kind::DenseRegression, rows: 100, features: 3, nnz: 0, noise: 0.1, seed: 1 };
//! let data = generate(&spec).unwrap();
//! assert_eq!((data.len(), data.dim()), (100, 3));
//! assert_eq!(data, generate(&spec).unwrap());
//! ```

use super::{Dataset, Entry, Features, Source};
use crate::{Error, Result};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

/// Rows generated from one seed.
pub const BLOCK_ROWS: usize = 4096;

/// Zipf exponent of the sparse generator's feature frequencies.
const ZIPF_EXPONENT: f64 = 1.1;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// RCV1-like sparse binary classification.
    Sparse,
    /// Dense binary classification with a logistic ground truth.
    DenseClassification,
    /// Dense linear regression.
    DenseRegression,
}

impl Kind {
    /// The CLI names.
    pub const NAMES: &'static str = "sparse, dense-classification, dense-regression";
}

impl std::str::FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sparse" => Ok(Kind::Sparse),
            "dense-classification" => Ok(Kind::DenseClassification),
            "dense-regression" => Ok(Kind::DenseRegression),
            _ => Err(Error::config("KIND", s, format!("one of: {}", Kind::NAMES))),
        }
    }
}

/// A generator's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    /// The kind of data.
    pub kind: Kind,
    /// Rows M.
    pub rows: usize,
    /// Features d.
    pub features: usize,
    /// Sparse: mean nonzeros per row.
    pub nnz: usize,
    /// Label noise: flip probability (sparse) or residual standard deviation (regression);
    /// unused by dense classification, whose labels are drawn from the model.
    pub noise: f64,
    /// The seed.
    pub seed: u64,
}

/// Generates the data set.
pub fn generate(spec: &Spec) -> Result<Dataset> {
    let blocks: Vec<Dataset> = generate_blocks(spec, 0..spec.rows.div_ceil(BLOCK_ROWS))?;
    concat(spec, blocks)
}

/// Generates blocks `range` (each of [`BLOCK_ROWS`] rows, the last possibly fewer) in
/// parallel, in order. Writers call this a few blocks at a time to bound memory.
pub fn generate_blocks(spec: &Spec, range: std::ops::Range<usize>) -> Result<Vec<Dataset>> {
    spec.validate()?;
    let truth = Truth::new(spec);
    range
        .into_par_iter()
        .map(|b| {
            let rows = BLOCK_ROWS.min(spec.rows - b * BLOCK_ROWS);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                spec.seed ^ (b as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            truth.block(spec, rows, &mut rng)
        })
        .collect()
}

impl Spec {
    /// Checks every setting, with the allowed range in the error.
    pub fn validate(&self) -> Result<()> {
        let spec = self;
        if spec.rows == 0 {
            return Err(Error::config("rows", 0, "a whole number ≥ 1"));
        }
        if spec.features == 0 || spec.features > u32::MAX as usize {
            return Err(Error::config(
                "features",
                spec.features,
                "a whole number in 1..=4294967295",
            ));
        }
        if spec.kind == Kind::Sparse && !(1..=spec.features).contains(&spec.nnz) {
            return Err(Error::config(
                "nnz",
                spec.nnz,
                format!("a whole number in 1..={}", spec.features),
            ));
        }
        if !(spec.noise >= 0.0 && spec.noise.is_finite())
            || (spec.kind == Kind::Sparse && spec.noise > 0.5)
        {
            return Err(Error::config(
                "noise",
                spec.noise,
                "a finite number ≥ 0 (a flip probability ≤ 0.5 for sparse data)",
            ));
        }
        Ok(())
    }
}

/// The hidden model and, for sparse data, the feature distribution.
struct Truth {
    weights: Vec<f64>,
    /// Sparse: cumulative feature probabilities (Zipf-like).
    cumulative: Vec<f64>,
    /// Sparse: per-feature idf-like weight.
    idf: Vec<f64>,
    /// Sparse: the median margin of the hidden model (from pilot rows), so classes balance.
    threshold: f64,
}

impl Truth {
    fn new(spec: &Spec) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(spec.seed);
        let d = spec.features;
        let scale = if spec.kind == Kind::Sparse {
            1.0
        } else {
            (d as f64).sqrt().recip()
        };
        let weights = (0..d)
            .map(|_| scale * rng.sample::<f64, _>(StandardNormal))
            .collect();
        let (mut cumulative, mut idf) = (Vec::new(), Vec::new());
        if spec.kind == Kind::Sparse {
            let p: Vec<f64> = (0..d)
                .map(|j| (j as f64 + 1.0).powf(-ZIPF_EXPONENT))
                .collect();
            let total: f64 = p.iter().sum();
            let mut acc = 0.0;
            for pj in &p {
                acc += pj / total;
                cumulative.push(acc);
                idf.push((1.0 + total / pj).ln());
            }
        }
        let mut truth = Truth {
            weights,
            cumulative,
            idf,
            threshold: 0.0,
        };
        if spec.kind == Kind::Sparse {
            truth.threshold = truth.pilot_median_margin(spec, &mut rng);
        }
        truth
    }

    /// `k` distinct features drawn by the Zipf-like frequencies, sorted, into `row`.
    fn draw_features(&self, k: usize, rng: &mut Xoshiro256PlusPlus, row: &mut Vec<u32>) {
        row.clear();
        // Repeats are frequent among the top features: draw again for the ones merged, a
        // bounded number of rounds.
        for _ in 0..32 {
            let missing = k - row.len();
            if missing == 0 {
                break;
            }
            for _ in 0..missing {
                let u: f64 = rng.random();
                let j = self.cumulative.partition_point(|&c| c < u);
                row.push(j.min(self.cumulative.len() - 1) as u32);
            }
            row.sort_unstable();
            row.dedup();
        }
    }

    /// The median margin w*ᵀx over 2,001 pilot rows.
    fn pilot_median_margin(&self, spec: &Spec, rng: &mut Xoshiro256PlusPlus) -> f64 {
        let pilot = Spec {
            noise: 0.0,
            ..*spec
        };
        let Ok(rows) = self.sparse_block(&pilot, 2001, rng) else {
            return 0.0;
        };
        let mut margins: Vec<f64> = (0..rows.len())
            .map(|i| rows.row(i).dot(&self.weights))
            .collect();
        margins.sort_by(f64::total_cmp);
        margins[margins.len() / 2]
    }

    fn block(&self, spec: &Spec, rows: usize, rng: &mut Xoshiro256PlusPlus) -> Result<Dataset> {
        match spec.kind {
            Kind::Sparse => self.sparse_block(spec, rows, rng),
            _ => self.dense_block(spec, rows, rng),
        }
    }

    fn sparse_block(
        &self,
        spec: &Spec,
        rows: usize,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Result<Dataset> {
        let sigma = 0.6f64;
        let lengths = LogNormal::new((spec.nnz as f64).ln() - sigma * sigma / 2.0, sigma)
            .map_err(|e| Error::config("nnz", spec.nnz, e.to_string()))?;
        let (mut indptr, mut indices, mut values, mut targets) = (vec![0], vec![], vec![], vec![]);
        let mut row: Vec<u32> = Vec::new();
        for _ in 0..rows {
            let k = (lengths.sample(rng).round() as usize).clamp(1, spec.features);
            self.draw_features(k, rng, &mut row);
            let start = values.len();
            for &j in &row {
                let v = (0.5 + rng.random::<f64>()) * self.idf[j as usize];
                indices.push(j);
                values.push(v);
            }
            let norm = values[start..].iter().map(|v| v * v).sum::<f64>().sqrt();
            let mut margin = 0.0;
            for (v, &j) in values[start..].iter_mut().zip(&row) {
                *v /= norm;
                margin += *v * self.weights[j as usize];
            }
            let mut y = if margin >= self.threshold { 1.0 } else { -1.0 };
            if rng.random::<f64>() < spec.noise {
                y = -y;
            }
            targets.push(y);
            indptr.push(indices.len());
        }
        let features = Features::Sparse {
            dim: spec.features,
            indptr,
            entries: super::pages::collect_huge(
                indices
                    .into_iter()
                    .zip(values)
                    .map(|(j, v)| Entry::new(j, v as f32)),
            ),
        };
        Dataset::new(features, targets, Source::default())
    }

    fn dense_block(
        &self,
        spec: &Spec,
        rows: usize,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Result<Dataset> {
        let d = spec.features;
        let mut values = Vec::with_capacity(rows * d);
        let mut targets = Vec::with_capacity(rows);
        for _ in 0..rows {
            let start = values.len();
            values.extend((0..d).map(|_| rng.sample::<f64, _>(StandardNormal) as f32));
            let margin: f64 = values[start..]
                .iter()
                .zip(&self.weights)
                .map(|(&x, w)| f64::from(x) * w)
                .sum();
            targets.push(match spec.kind {
                Kind::DenseRegression => {
                    margin + 0.5 + spec.noise * rng.sample::<f64, _>(StandardNormal)
                }
                _ => {
                    let p = 1.0 / (1.0 + (-4.0 * margin).exp());
                    if rng.random::<f64>() < p {
                        1.0
                    } else {
                        0.0
                    }
                }
            });
        }
        Dataset::new(
            Features::Dense { dim: d, values },
            targets,
            Source::default(),
        )
    }
}

/// Joins blocks into one data set (its arrays in huge pages, as data sets read from files are).
fn concat(spec: &Spec, blocks: Vec<Dataset>) -> Result<Dataset> {
    let mut targets = Vec::with_capacity(spec.rows);
    let features = if spec.kind == Kind::Sparse {
        let stored = blocks.iter().map(Dataset::stored).sum();
        let (mut indptr, mut entries) = (vec![0usize], super::pages::huge_vec(stored));
        for block in &blocks {
            let Features::Sparse {
                indptr: p,
                entries: e,
                ..
            } = block.features()
            else {
                unreachable!("sparse blocks")
            };
            let base = entries.len();
            indptr.extend(p[1..].iter().map(|x| x + base));
            entries.extend_from_slice(e);
            targets.extend_from_slice(block.targets());
        }
        Features::Sparse {
            dim: spec.features,
            indptr,
            entries,
        }
    } else {
        let mut values = super::pages::huge_vec(spec.rows * spec.features);
        for block in &blocks {
            let Features::Dense { values: v, .. } = block.features() else {
                unreachable!("dense blocks")
            };
            values.extend_from_slice(v);
            targets.extend_from_slice(block.targets());
        }
        Features::Dense {
            dim: spec.features,
            values,
        }
    };
    Dataset::new(features, targets, Source::default())
}

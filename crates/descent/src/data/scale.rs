//! Feature standardization, as scikit-learn's `StandardScaler` does it:
//! `x' = (x − mean) / std` per column, with the population standard deviation (ddof = 0) and
//! a scale of 1 for constant columns. Means and deviations are computed in f64; scaled values
//! are stored as f32 like every feature. Sparse data is refused: centering destroys sparsity.

use super::{Dataset, Features};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Per-feature mean and scale, fitted on training data and saved with the model so that
/// prediction applies the same transform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Column means.
    pub mean: Vec<f64>,
    /// Column standard deviations (1 where a column is constant).
    pub scale: Vec<f64>,
}

impl Scaler {
    /// Fits mean and standard deviation of every column of a dense data set.
    pub fn fit(data: &Dataset) -> Result<Scaler> {
        let Features::Dense { dim, values } = data.features() else {
            return Err(sparse_refused());
        };
        let (dim, rows) = (*dim, data.len());
        if rows == 0 {
            return Err(Error::Shape {
                what: "rows to standardize".into(),
                expected: "at least 1".into(),
                found: "0".into(),
            });
        }
        let mut mean = vec![0.0; dim];
        for row in values.chunks_exact(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= rows as f64);
        let mut var = vec![0.0; dim];
        for row in values.chunks_exact(dim) {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        let scale = var
            .into_iter()
            .map(|s| {
                let sd = (s / rows as f64).sqrt();
                if sd > 0.0 {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        Ok(Scaler { mean, scale })
    }

    /// Standardizes a dense data set in place with this scaler.
    pub fn apply(&self, data: &mut Dataset) -> Result<()> {
        if data.dim() != self.mean.len() {
            return Err(Error::Shape {
                what: "features to standardize".into(),
                expected: self.mean.len().to_string(),
                found: data.dim().to_string(),
            });
        }
        let Features::Dense { dim, values } = data.features_mut() else {
            return Err(sparse_refused());
        };
        for row in values.chunks_exact_mut(*dim) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = ((f64::from(*v) - m) / s) as f32;
            }
        }
        Ok(())
    }
}

fn sparse_refused() -> Error {
    Error::config(
        "standardize",
        "on sparse data",
        "standardizing centres every column, which would make sparse rows dense; scale sparse features before writing the file",
    )
}

//! Target encoding: from the labels in a file to what an objective expects, and back.
//!
//! - least squares: targets as they are;
//! - logistic and hinge: exactly two distinct labels (e.g. {0, 1} or {−1, +1}); the smaller is
//!   encoded −1, the larger +1 (scikit-learn's `classes_` order);
//! - softmax: k ≥ 2 distinct labels (0..k−1 or any values), sorted, encoded 0..k−1.
//!
//! ```
//! use descent::data::Dataset;
//! use descent::labels::LabelEncoding;
//! use descent::objective::ModelKind;
//! let mut data = Dataset::dense(1, vec![0.0, 1.0, 2.0], vec![0.0, 1.0, 0.0]).unwrap();
//! let enc = LabelEncoding::fit(ModelKind::Logistic, &data).unwrap();
//! enc.encode(&mut data).unwrap();
//! assert_eq!(data.targets(), &[-1.0, 1.0, -1.0]);
//! ```

use crate::data::Dataset;
use crate::objective::ModelKind;
use crate::{Error, Result};

/// The most classes softmax accepts before suspecting real-valued targets.
pub const MAX_CLASSES: usize = 1000;

/// How a model's targets map to the labels of the data.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelEncoding {
    /// Real-valued targets, unchanged.
    Identity,
    /// Two classes: `classes[0]` ↦ −1, `classes[1]` ↦ +1.
    Binary([f64; 2]),
    /// k classes: `classes[c]` ↦ c.
    Classes(Vec<f64>),
}

impl LabelEncoding {
    /// Finds the classes of `data` for `model`, with an error at the first label that does
    /// not fit.
    pub fn fit(model: ModelKind, data: &Dataset) -> Result<Self> {
        let labels = (0..data.len()).map(|i| (data.target(i), data.line_of(i)));
        Self::fit_labels(model, &data.display_path(), labels)
    }

    /// Finds the classes of labels given with their lines in `path` (in file order).
    pub fn fit_labels(
        model: ModelKind,
        path: &std::path::Path,
        labels: impl IntoIterator<Item = (f64, u64)>,
    ) -> Result<Self> {
        let limit = match model {
            ModelKind::LeastSquares => return Ok(LabelEncoding::Identity),
            ModelKind::Logistic | ModelKind::Hinge => 2,
            ModelKind::Softmax | ModelKind::Mlp(_) => MAX_CLASSES,
        };
        let mut classes: Vec<f64> = Vec::new();
        let mut first_line = None;
        for (y, line) in labels {
            first_line.get_or_insert(line);
            if classes.iter().any(|&c| same_label(c, y)) {
                continue;
            }
            if classes.len() == limit {
                let reason = if limit == 2 {
                    format!(
                        "label {y} is a third class after {} and {}: `model` {} takes two classes; use `model` softmax for more",
                        classes[0], classes[1], model.name()
                    )
                } else {
                    format!(
                        "more than {MAX_CLASSES} distinct labels: softmax needs class labels; for real-valued targets use `model` least-squares"
                    )
                };
                return Err(Error::Labels {
                    path: path.to_path_buf(),
                    line,
                    reason,
                });
            }
            classes.push(y);
        }
        if classes.len() < 2 {
            let only = classes
                .first()
                .map_or("missing".to_string(), f64::to_string);
            return Err(Error::Labels {
                path: path.to_path_buf(),
                line: first_line.unwrap_or(1),
                reason: format!(
                    "every label is {only}: `model` {} needs at least two classes",
                    model.name()
                ),
            });
        }
        classes.sort_by(f64::total_cmp);
        Ok(if model.multiclass() {
            LabelEncoding::Classes(classes)
        } else {
            LabelEncoding::Binary([classes[0], classes[1]])
        })
    }

    /// Rebuilds an encoding from saved classes (`None` for regression).
    pub fn from_classes(classes: Option<&[f64]>, binary: bool) -> Self {
        match classes {
            None => LabelEncoding::Identity,
            Some(c) if binary && c.len() == 2 => LabelEncoding::Binary([c[0], c[1]]),
            Some(c) => LabelEncoding::Classes(c.to_vec()),
        }
    }

    /// Number of classes (1 for regression).
    pub fn n_classes(&self) -> usize {
        match self {
            LabelEncoding::Identity => 1,
            LabelEncoding::Binary(_) => 2,
            LabelEncoding::Classes(c) => c.len(),
        }
    }

    /// The labels in encoding order, or `None` for regression.
    pub fn classes(&self) -> Option<Vec<f64>> {
        match self {
            LabelEncoding::Identity => None,
            LabelEncoding::Binary(c) => Some(c.to_vec()),
            LabelEncoding::Classes(c) => Some(c.clone()),
        }
    }

    /// Encodes the targets of `data` in place; a label the model has not seen is an error.
    pub fn encode(&self, data: &mut Dataset) -> Result<()> {
        let unseen = |y: f64, classes: &[f64]| {
            let list: Vec<String> = classes.iter().map(f64::to_string).collect();
            format!(
                "label {y} is not one of the model's classes ({})",
                list.join(", ")
            )
        };
        match self {
            LabelEncoding::Identity => Ok(()),
            LabelEncoding::Binary(c) => data.map_targets(|y| {
                if same_label(y, c[0]) {
                    Ok(-1.0)
                } else if same_label(y, c[1]) {
                    Ok(1.0)
                } else {
                    Err(unseen(y, c))
                }
            }),
            LabelEncoding::Classes(c) => data.map_targets(|y| {
                c.iter()
                    .position(|&v| same_label(v, y))
                    .map(|k| k as f64)
                    .ok_or_else(|| unseen(y, c))
            }),
        }
    }

    /// The label of an encoded prediction.
    pub fn decode(&self, encoded: f64) -> f64 {
        match self {
            LabelEncoding::Identity => encoded,
            LabelEncoding::Binary(c) => {
                if encoded > 0.0 {
                    c[1]
                } else {
                    c[0]
                }
            }
            LabelEncoding::Classes(c) => c[encoded as usize],
        }
    }
}

/// Whether two labels are the same class. Labels are identifiers, so they compare exactly.
#[allow(clippy::float_cmp)]
pub fn same_label(a: f64, b: f64) -> bool {
    a == b
}

//! Trained models on disk: a JSON document that scikit-learn users can read at a glance.
//!
//! ```json
//! { "format": "descent-model", "version": 1, "model": "logistic", "n_features": 2,
//!   "weights": [0.5, -1.25], "intercept": 0.1, "fit_intercept": true,
//!   "classes": [0.0, 1.0], "training": { "method": "sgd", ... } }
//! ```
//!
//! For softmax, `weights` is k arrays (one per class, in `classes` order) and `intercept` an
//! array of k numbers. A network (`mlp:H`) adds `hidden_layer` (`weights`: H arrays of d,
//! `bias`: H numbers, `activation`: `tanh`); its `weights` and `intercept` are then the
//! softmax output layer over the H hidden units. `scaler` holds the standardization fitted on the training data, if
//! any, applied again at prediction. Maps are written in sorted key order and numbers in
//! shortest round-trip form, so the same training gives byte-identical files.

use crate::data::{Dataset, Scaler};
use crate::labels::LabelEncoding;
use crate::objective::{ModelKind, Objective};
use crate::output::{self, Existing};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The value of the `format` field.
pub const FORMAT: &str = "descent-model";

/// One number per model output, or one per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerOutput<T> {
    /// A single-output model.
    One(T),
    /// One entry per class (softmax).
    PerClass(Vec<T>),
}

/// The hidden layer of a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    /// One row of input weights per hidden unit.
    pub weights: Vec<Vec<f64>>,
    /// One bias per hidden unit.
    pub bias: Vec<f64>,
    /// The activation (`tanh`).
    pub activation: String,
}

/// A saved model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The model name (`least-squares`, `logistic`, `hinge`, `softmax`).
    pub model: String,
    /// Number of input features.
    pub n_features: usize,
    /// The weights.
    pub weights: PerOutput<Vec<f64>>,
    /// The intercept(s); zero when `fit_intercept` is false.
    pub intercept: PerOutput<f64>,
    /// Whether an intercept was fitted.
    pub fit_intercept: bool,
    /// A network's hidden layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_layer: Option<Layer>,
    /// Class labels of a classifier, in encoding order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<f64>>,
    /// CSV column names of the features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_names: Option<Vec<String>>,
    /// Standardization applied to the features before the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaler: Option<Scaler>,
    /// The training settings, for the record.
    #[serde(default)]
    pub training: BTreeMap<String, serde_json::Value>,
}

impl SavedModel {
    /// Packs trained parameters θ of `objective` (laid out as [`crate::objective`] says).
    pub fn new(
        kind: ModelKind,
        objective: &dyn Objective,
        theta: &[f64],
        intercept: bool,
        encoding: &LabelEncoding,
    ) -> Self {
        let d = objective.n_features();
        let k = encoding.n_classes();
        let mut hidden_layer = None;
        let (weights, bias) = match kind {
            ModelKind::Mlp(h) => {
                let rows = |at: usize, n: usize, len: usize| -> Vec<Vec<f64>> {
                    (0..n)
                        .map(|r| theta[at + r * len..at + (r + 1) * len].to_vec())
                        .collect()
                };
                hidden_layer = Some(Layer {
                    weights: rows(0, h, d),
                    bias: theta[h * d..h * d + h].to_vec(),
                    activation: "tanh".into(),
                });
                let out = h * d + h;
                (
                    PerOutput::PerClass(rows(out, k, h)),
                    PerOutput::PerClass(theta[out + k * h..out + k * h + k].to_vec()),
                )
            }
            ModelKind::Softmax => {
                let w = (0..k).map(|c| theta[c * d..(c + 1) * d].to_vec()).collect();
                let b = (0..k)
                    .map(|c| if intercept { theta[k * d + c] } else { 0.0 })
                    .collect();
                (PerOutput::PerClass(w), PerOutput::PerClass(b))
            }
            _ => {
                let b = if intercept { theta[d] } else { 0.0 };
                (PerOutput::One(theta[..d].to_vec()), PerOutput::One(b))
            }
        };
        SavedModel {
            format: FORMAT.into(),
            version: 1,
            model: kind.label(),
            n_features: d,
            weights,
            intercept: bias,
            fit_intercept: intercept || matches!(kind, ModelKind::Mlp(_)),
            hidden_layer,
            classes: encoding.classes(),
            feature_names: None,
            scaler: None,
            training: BTreeMap::new(),
        }
    }

    /// Reads and checks a saved model.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(path, &text)
    }

    /// Parses and checks a saved model's JSON `text` read from `path` (for messages).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let bad = |reason: String| Error::Model {
            path: path.to_path_buf(),
            reason,
        };
        let model: SavedModel = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if model.format != FORMAT || model.version != 1 {
            return Err(bad(format!(
                "format '{}' version {} (expected '{FORMAT}' version 1)",
                model.format, model.version
            )));
        }
        model.check().map_err(bad)?;
        Ok(model)
    }

    /// Writes the model atomically as pretty JSON (replacing an existing file only with
    /// [`Existing::Replace`]).
    pub fn save(&self, path: &Path, existing: Existing) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| Error::Model {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        text.push('\n');
        output::write(path, text.as_bytes(), existing)
    }

    /// The model kind.
    pub fn kind(&self) -> Result<ModelKind, String> {
        self.model.parse().map_err(|e: Error| e.to_string())
    }

    fn check(&self) -> Result<(), String> {
        let kind = self.kind()?;
        let d = self.n_features;
        let inputs = match (kind, &self.hidden_layer) {
            (ModelKind::Mlp(h), Some(layer)) => {
                let fits = layer.weights.len() == h
                    && layer.bias.len() == h
                    && layer.weights.iter().all(|r| r.len() == d);
                if !fits {
                    return Err(format!(
                        "'hidden_layer' does not fit mlp:{h} with {d} features"
                    ));
                }
                h
            }
            (ModelKind::Mlp(_), None) => return Err("a network needs 'hidden_layer'".into()),
            (_, Some(_)) => return Err("'hidden_layer' belongs to networks (mlp:H) only".into()),
            (_, None) => d,
        };
        let ok = match (&self.weights, &self.intercept, kind.multiclass()) {
            (PerOutput::PerClass(w), PerOutput::PerClass(b), true) => {
                w.len() >= 2 && w.len() == b.len() && w.iter().all(|r| r.len() == inputs)
            }
            (PerOutput::One(w), PerOutput::One(_), false) => w.len() == d,
            _ => false,
        };
        if !ok {
            return Err(format!(
                "weights and intercept do not fit a {} model with {d} features",
                kind.label()
            ));
        }
        let classes_ok = match (kind, &self.classes) {
            (ModelKind::LeastSquares, None) => true,
            (k, Some(c)) if k.multiclass() => Some(c.len()) == self.n_outputs(),
            (ModelKind::Logistic | ModelKind::Hinge, Some(c)) => c.len() == 2,
            _ => false,
        };
        if !classes_ok {
            return Err("'classes' does not fit the model".into());
        }
        if let Some(s) = &self.scaler {
            if s.mean.len() != d || s.scale.len() != d {
                return Err("'scaler' does not match n_features".into());
            }
        }
        Ok(())
    }

    fn n_outputs(&self) -> Option<usize> {
        match &self.weights {
            PerOutput::PerClass(w) => Some(w.len()),
            PerOutput::One(_) => None,
        }
    }

    /// The label encoding of the model's outputs.
    pub fn encoding(&self) -> LabelEncoding {
        LabelEncoding::from_classes(self.classes.as_deref(), self.n_outputs().is_none())
    }

    /// The objective (without regularizer) and parameters θ, ready to predict.
    pub fn objective(&self) -> Result<(Box<dyn Objective>, Vec<f64>), String> {
        let kind = self.kind()?;
        let classes = self.n_outputs().unwrap_or(1);
        let objective = kind.build(self.n_features, classes, self.fit_intercept, 0.0);
        let mut theta = Vec::with_capacity(objective.dim());
        if let Some(layer) = &self.hidden_layer {
            layer.weights.iter().for_each(|r| theta.extend(r));
            theta.extend(&layer.bias);
        }
        match (&self.weights, &self.intercept) {
            (PerOutput::One(w), PerOutput::One(b)) => {
                theta.extend(w);
                if self.fit_intercept {
                    theta.push(*b);
                }
            }
            (PerOutput::PerClass(w), PerOutput::PerClass(b)) => {
                w.iter().for_each(|r| theta.extend(r));
                if self.fit_intercept {
                    theta.extend(b);
                }
            }
            _ => return Err("weights and intercept disagree in shape".into()),
        }
        if theta.len() != objective.dim() {
            return Err(format!(
                "{} parameters for a model of {}",
                theta.len(),
                objective.dim()
            ));
        }
        Ok((objective, theta))
    }

    /// Prepares prediction input: checks the features, applies the scaler, encodes labels.
    pub fn prepare(&self, data: &mut Dataset, model_path: &Path) -> Result<()> {
        if let (Some(names), Some(found)) = (&self.feature_names, &data.source().feature_names) {
            if names != found {
                return Err(Error::Shape {
                    what: format!(
                        "feature columns of {} (as in {})",
                        data.display_path().display(),
                        model_path.display()
                    ),
                    expected: names.join(","),
                    found: found.join(","),
                });
            }
        }
        data.conform_to(self.n_features, model_path)?;
        if let Some(scaler) = &self.scaler {
            scaler.apply(data)?;
        }
        if data.is_labelled() {
            self.encoding().encode(data)?;
        }
        Ok(())
    }
}

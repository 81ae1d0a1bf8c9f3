//! Reading a run's training and test data: read, standardize (fitted on the training data),
//! encode the labels for the model. Shared by [`fit`](super::fit) and every command that
//! trains or evaluates on files.

use crate::data::{self, Dataset, ReadOptions, Scaler};
use crate::labels::LabelEncoding;
use crate::objective::ModelKind;
use crate::{Error, Result};
use std::path::Path;
use std::time::Instant;

/// Where the data of a run comes from and how to prepare it.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// The training file.
    pub data: &'a Path,
    /// How to read it.
    pub read: &'a ReadOptions,
    /// Held-out data, read the same way.
    pub test: Option<&'a Path>,
    /// NumPy labels of the held-out data.
    pub test_labels: Option<&'a Path>,
    /// Standardize features with the training data's statistics.
    pub standardize: bool,
    /// The model whose labels to encode.
    pub model: ModelKind,
}

/// Data ready to train on.
pub struct Loaded {
    /// Training data, scaled and encoded.
    pub train: Dataset,
    /// Test data, scaled and encoded as the training data.
    pub test: Option<Dataset>,
    /// The label encoding.
    pub encoding: LabelEncoding,
    /// The fitted scaler, with `standardize`.
    pub scaler: Option<Scaler>,
    /// Seconds spent reading the training data.
    pub load_seconds: f64,
}

/// `error` as a failure to load the `role` data at `path`.
fn loading<'a>(role: &'static str, path: &'a Path) -> impl FnOnce(Error) -> Error + 'a {
    move |error| Error::Input {
        role,
        path: path.to_path_buf(),
        source: Box::new(error),
    }
}

/// Reads and prepares the training (and test) data.
pub fn load(s: &Sources<'_>) -> Result<Loaded> {
    let started = Instant::now();
    let mut train = data::read(s.data, s.read).map_err(loading("training data", s.data))?;
    let load_seconds = started.elapsed().as_secs_f64();
    let scaler = if s.standardize {
        let scaler = Scaler::fit(&train)?;
        scaler.apply(&mut train)?;
        Some(scaler)
    } else {
        None
    };
    let encoding = LabelEncoding::fit(s.model, &train)?;
    encoding.encode(&mut train)?;
    let test = load_test(s, train.dim(), scaler.as_ref(), &encoding)?;
    Ok(Loaded {
        train,
        test,
        encoding,
        scaler,
        load_seconds,
    })
}

/// Reads the test data, widened to the training dimension, scaled and encoded as the
/// training data.
pub fn load_test(
    s: &Sources<'_>,
    dim: usize,
    scaler: Option<&Scaler>,
    encoding: &LabelEncoding,
) -> Result<Option<Dataset>> {
    let Some(path) = s.test else {
        return Ok(None);
    };
    let options = ReadOptions {
        features: s.read.features.or(Some(dim)),
        labels: s.test_labels.map(Path::to_path_buf),
        ..s.read.clone()
    };
    let mut test = data::read(path, &options).map_err(loading("test data", path))?;
    test.conform_to(dim, s.data)?;
    if let Some(scaler) = scaler {
        scaler.apply(&mut test)?;
    }
    encoding.encode(&mut test)?;
    Ok(Some(test))
}

//! Fuzz harnesses: one function per reader, fed arbitrary bytes by the fuzz targets in
//! `fuzz/` (cargo-fuzz, libFuzzer) and, in the ordinary test suite, by every file of their
//! kept corpora and crashers (`fuzz/corpus`, `fuzz/regressions`).
//!
//! Each harness must return normally for every input: a reader may refuse the bytes with an
//! error, never panic, hang or allocate without bound. Inputs that parse are checked further
//! (invariants of the result, agreement between the serial and parallel parsers), and any
//! violation panics, which the fuzzer reports as a crash.

use crate::checkpoint::Checkpoint;
use crate::data::{cache, csv, libsvm, npy, Dataset};
use crate::model::SavedModel;
use crate::objective::ModelKind;
use crate::train::Trainer;
use std::path::Path;

/// Separates the parts of a multi-file input (the two arrays of a NumPy pair, the files of
/// a cache folder).
pub const SEPARATOR: &[u8] = b"\n==descent-fuzz==\n";

/// The names of the harnesses, as the fuzz targets and corpus folders are named.
pub const TARGETS: [&str; 6] = ["libsvm", "csv", "npy", "cache", "model_json", "checkpoint"];

/// Runs the harness `target` on `bytes`.
pub fn run(target: &str, bytes: &[u8]) {
    match target {
        "libsvm" => self::libsvm(bytes),
        "csv" => self::csv(bytes),
        "npy" => self::npy(bytes),
        "cache" => self::cache(bytes),
        "model_json" => model_json(bytes),
        "checkpoint" => self::checkpoint(bytes),
        other => panic!("no fuzz harness named {other}"),
    }
}

/// Checks what every data set a reader returns must satisfy.
fn check_dataset(data: &Dataset) {
    assert!(!data.is_empty(), "readers refuse empty inputs");
    assert_eq!(data.targets().len(), data.len());
    assert!(data.targets().iter().all(|y| y.is_finite()));
    for i in 0..data.len() {
        data.row(i).for_each(|j, v| {
            assert!(
                j < data.dim(),
                "feature {j} outside the dimension {}",
                data.dim()
            );
            assert!(v.is_finite());
        });
    }
}

/// Two parses of the same bytes must agree: both fail alike, or give equal data.
fn same(serial: &crate::Result<Dataset>, parallel: &crate::Result<Dataset>) {
    match (serial, parallel) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.len(), b.len());
            assert_eq!(a.dim(), b.dim());
            assert_eq!(a.fingerprint(), b.fingerprint(), "parallel parse differs");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!(
            "serial and parallel parses disagree: {:?} vs {:?}",
            a.as_ref().err(),
            b.as_ref().err()
        ),
    }
}

/// LibSVM: the fast parser serially and in four chunks, and the streaming line parser.
pub fn libsvm(bytes: &[u8]) {
    let path = Path::new("fuzz.svm");
    let serial = libsvm::parse(path, bytes, None, 1);
    let parallel = libsvm::parse(path, bytes, None, 4);
    same(&serial, &parallel);
    if let Ok(data) = &serial {
        check_dataset(data);
        // A declared dimension at least the found one reads the same rows.
        let wider = libsvm::parse(path, bytes, Some(data.dim() + 1), 1);
        assert!(wider.is_ok_and(|w| w.len() == data.len()));
    }
    let mut sample = libsvm::Sample::default();
    for line in bytes.split(|&b| b == b'\n') {
        let _ = libsvm::parse_line(line, None, &mut sample);
    }
}

/// CSV with a `label` column, serially and in four chunks.
pub fn csv(bytes: &[u8]) {
    let path = Path::new("fuzz.csv");
    let serial = csv::parse(path, bytes, "label", true, 1);
    let parallel = csv::parse(path, bytes, "label", true, 4);
    same(&serial, &parallel);
    if let Ok(data) = &serial {
        check_dataset(data);
    }
    let _ = csv::parse(path, bytes, "label", false, 2);
}

/// Splits a multi-file input.
fn parts(bytes: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while let Some(k) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        parts.push(&rest[..k]);
        rest = &rest[k + SEPARATOR.len()..];
    }
    parts.push(rest);
    parts
}

/// NumPy: a feature array and a label array (the input's two parts; one part serves as
/// both).
pub fn npy(bytes: &[u8]) {
    let parts = parts(bytes);
    let x = npy::Array::from_bytes(Path::new("X.npy"), parts[0].to_vec());
    let y = npy::Array::from_bytes(
        Path::new("y.npy"),
        parts.get(1).unwrap_or(&parts[0]).to_vec(),
    );
    if let (Ok(x), Ok(y)) = (x, y) {
        if let Ok(data) = npy::pair((Path::new("X.npy"), &x), (Path::new("y.npy"), &y)) {
            check_dataset(&data);
        }
    }
}

/// A cache folder: its metadata, then `labels.npy`, then `X.npy` (dense) or `indptr.npy`,
/// `indices.npy` and `data.npy` (sparse).
pub fn cache(bytes: &[u8]) {
    let parts = parts(bytes);
    let Ok(meta) = std::str::from_utf8(parts[0]) else {
        return;
    };
    let open = |name: &str| {
        let k = match name {
            "labels.npy" => 1,
            "X.npy" | "indptr.npy" => 2,
            "indices.npy" => 3,
            _ => 4,
        };
        let bytes = parts.get(k).ok_or_else(|| {
            crate::Error::io(name, std::io::Error::from(std::io::ErrorKind::NotFound))
        })?;
        npy::Array::from_bytes(Path::new(name), bytes.to_vec())
    };
    if let Ok(data) = cache::from_parts(Path::new("fuzz.descent"), meta, open) {
        check_dataset(&data);
    }
}

/// A saved model: parsed, checked, rebuilt into its objective, and used to predict on a
/// row of ones.
pub fn model_json(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(model) = SavedModel::parse(Path::new("fuzz.json"), text) else {
        return;
    };
    let _ = model.encoding();
    if let Ok((objective, theta)) = model.objective() {
        assert_eq!(theta.len(), objective.dim());
        let d = objective.n_features();
        if d <= 1 << 16 {
            if let Ok(data) = Dataset::dense(d, vec![1.0; d], vec![0.0]) {
                let _ = objective.predict(&theta, data.row(0));
            }
        }
    }
}

/// A checkpoint: parsed, then resumed on a small data set with a model of its size (the
/// resume must accept it or refuse it with an error).
pub fn checkpoint(bytes: &[u8]) {
    let Ok(checkpoint) = Checkpoint::from_bytes(Path::new("fuzz.ckpt"), bytes) else {
        return;
    };
    let dim = checkpoint.state.rule.theta.len();
    if !(2..=1 << 12).contains(&dim) {
        return;
    }
    let features = dim - 1;
    let values: Vec<f32> = (0..8 * features).map(|k| (k % 7) as f32 - 3.0).collect();
    let targets: Vec<f64> = (0..8).map(|i| f64::from(i % 2 == 0)).collect();
    let Ok(data) = Dataset::dense(features, values, targets) else {
        return;
    };
    let objective = ModelKind::Logistic.build(features, 2, true, 1e-3);
    // Resumed in its epoch, which it finishes (at most 8 updates).
    let epochs = checkpoint.state.epoch.saturating_add(1);
    let _ = Trainer::new(objective.as_ref(), &data)
        .epochs(epochs)
        .resume(checkpoint)
        .run(&mut []);
}

//! Streaming from disk: cyclic streams train exactly as in memory, shuffled streams visit
//! every row once per epoch, evaluation by streaming equals evaluation in memory.

mod common;

use common::assert_bits;
use descent::batches::{Batches, Rng};
use descent::data::stream::{scan, Stream};
use descent::data::synth::{generate, Kind, Spec};
use descent::data::{self, write, ReadOptions};
use descent::engine::{Evaluate, Serial};
use descent::labels::LabelEncoding;
use descent::objective::ModelKind;
use descent::prelude::*;
use rand::SeedableRng;
use std::path::{Path, PathBuf};

/// A generated sparse classification file (LibSVM) and a dense one (CSV).
fn files(dir: &Path) -> (PathBuf, PathBuf) {
    let spec = Spec {
        kind: Kind::Sparse,
        rows: 5000,
        features: 400,
        nnz: 15,
        noise: 0.05,
        seed: 11,
    };
    let mut text = String::new();
    write::libsvm(&generate(&spec).unwrap(), &mut text);
    let svm = dir.join("s.svm");
    std::fs::write(&svm, format!("# generated\n{text}")).unwrap();
    let dense = Spec {
        kind: Kind::DenseClassification,
        features: 6,
        ..spec
    };
    let mut text = write::csv_header(6);
    write::csv(&generate(&dense).unwrap(), &mut text);
    let csv = dir.join("d.csv");
    std::fs::write(&csv, text).unwrap();
    (svm, csv)
}

fn stream(
    path: &Path,
    regime: Regime,
    sampling: Sampling,
    buffer: usize,
) -> (Stream, LabelEncoding) {
    let options = ReadOptions::default();
    let found = scan(path, &options).unwrap();
    let encoding =
        LabelEncoding::fit_labels(ModelKind::Logistic, path, found.labels.iter().copied()).unwrap();
    let s = Stream::new(
        path,
        &options,
        found,
        encoding.clone(),
        regime,
        sampling,
        buffer,
    )
    .unwrap();
    (s, encoding)
}

fn configure(t: Trainer<'_>, regime: Regime) -> Trainer<'_> {
    t.regime(regime)
        .sampling(Sampling::Cyclic)
        .schedule(Schedule::Constant { eta0: 0.2 })
        .optimizer(Chain::new().then(Momentum::new(0.5, false)))
        .epochs(2)
}

#[test]
fn cyclic_streams_train_bit_for_bit_as_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (svm, csv) = files(dir.path());
    for path in [svm, csv] {
        let mut data = data::read(&path, &ReadOptions::default()).unwrap();
        let encoding = LabelEncoding::fit(ModelKind::Logistic, &data).unwrap();
        encoding.encode(&mut data).unwrap();
        let objective = ModelKind::Logistic.build(data.dim(), 2, true, 1e-3);
        for regime in [Regime::Sgd, Regime::MiniBatch(64)] {
            let memory = configure(Trainer::new(objective.as_ref(), &data), regime)
                .run(&mut [])
                .unwrap();
            let (mut s, _) = stream(&path, regime, Sampling::Cyclic, 100);
            let streamed = configure(Trainer::on_batches(objective.as_ref(), &mut s), regime)
                .run(&mut [])
                .unwrap();
            assert_bits(
                &format!("{} {regime}", path.display()),
                &streamed.theta,
                &memory.theta,
            );
            assert_eq!(streamed.updates, memory.updates);

            let file = s.file();
            let a = file
                .evaluate(&Serial, objective.as_ref(), &memory.theta)
                .unwrap();
            let b = data
                .evaluate(&Serial, objective.as_ref(), &memory.theta)
                .unwrap();
            assert_eq!(a.loss.to_bits(), b.loss.to_bits(), "streamed evaluation");
            assert_eq!(a.accuracy, b.accuracy);
        }
    }
}

#[test]
fn shuffled_streams_visit_every_row_once_per_epoch_in_a_seeded_order() {
    let dir = tempfile::tempdir().unwrap();
    let (svm, _) = files(dir.path());
    let epoch_lines = |seed: u64, buffer: usize| {
        let (mut s, _) = stream(&svm, Regime::MiniBatch(7), Sampling::Shuffle, buffer);
        let mut rng = Rng::seed_from_u64(seed);
        let mut epochs = Vec::new();
        for _ in 0..2 {
            s.start_epoch(&mut rng).unwrap();
            let mut lines = Vec::new();
            while let Some(batch) = s.next_batch(&mut rng).unwrap() {
                assert!(batch.rows.len() <= 7 && batch.size == batch.rows.len());
                lines.extend(batch.rows.iter().map(|&i| batch.data.line_of(i)));
            }
            epochs.push(lines);
        }
        epochs
    };
    let a = epoch_lines(1, 500);
    assert_eq!(a, epoch_lines(1, 500), "same seed, same order");
    assert_ne!(a, epoch_lines(2, 500), "another seed, another order");
    assert_ne!(a[0], a[1], "each epoch draws a new order");
    for lines in &a {
        let mut sorted = lines.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (2..5002).collect::<Vec<u64>>(),
            "every row once (line 1 is a comment)"
        );
        assert_ne!(&sorted, lines, "shuffled");
    }
    let in_order = epoch_lines(1, 1);
    let mut sorted = in_order[0].clone();
    sorted.sort_unstable();
    assert_eq!(in_order[0], sorted, "a buffer of one row is file order");
}

#[test]
fn streams_refuse_what_they_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let (svm, _) = files(dir.path());
    let options = ReadOptions::default();
    let found = scan(&svm, &options).unwrap();
    let encoding = LabelEncoding::Identity;
    for (regime, sampling, buffer, needle) in [
        (Regime::Batch, Sampling::Shuffle, 10, "sgd or minibatch"),
        (Regime::Sgd, Sampling::Replacement, 10, "shuffle or cyclic"),
        (Regime::Sgd, Sampling::Shuffle, 0, "`buffer`"),
    ] {
        let err = Stream::new(
            &svm,
            &options,
            found.clone(),
            encoding.clone(),
            regime,
            sampling,
            buffer,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains(needle), "{err}");
    }
    let npy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy/x_f64_c.npy");
    let err = scan(&npy, &options).unwrap_err().to_string();
    assert!(err.contains("LibSVM or CSV"), "{err}");

    let bad = dir.path().join("bad.svm");
    std::fs::write(&bad, "1 1:1\n1 2:x\n").unwrap();
    let err = scan(&bad, &options).unwrap_err().to_string();
    assert!(err.contains("bad.svm:2:"), "{err}");
}

#[test]
fn a_file_that_changes_during_training_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (svm, _) = files(dir.path());
    let (mut s, _) = stream(&svm, Regime::MiniBatch(1000), Sampling::Cyclic, 10);
    let text = std::fs::read_to_string(&svm).unwrap();
    std::fs::write(&svm, text.lines().take(3000).collect::<Vec<_>>().join("\n")).unwrap();
    let objective = ModelKind::Logistic.build(400, 2, true, 0.0);
    let err = Trainer::on_batches(objective.as_ref(), &mut s)
        .epochs(1)
        .run(&mut [])
        .unwrap_err();
    assert!(err.to_string().contains("changed during training"), "{err}");
}

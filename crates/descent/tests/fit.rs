//! The whole-run entry point: `fit` on files gives what its pieces give by hand, writes what
//! the spec asks for, and refuses what it cannot run by the setting's name.

mod common;

use common::assert_bits;
use descent::fit::{load, CheckpointSpec, TraceSpec};
use descent::prelude::*;
use std::path::PathBuf;

fn repo_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

fn spec() -> RunSpec {
    let mut spec = RunSpec::new(repo_data("breast_cancer_train.csv"), ModelKind::Logistic);
    spec.test = Some(repo_data("breast_cancer_test.csv"));
    spec.standardize = true;
    spec.regime = Regime::MiniBatch(8);
    spec.lr = 0.1;
    spec.l2 = 1e-3;
    spec.schedule = "invscaling".parse().unwrap();
    spec.optimizer = Optimizer::Momentum {
        mu: 0.5,
        nesterov: false,
    };
    spec.epochs = 3;
    spec.seed = 11;
    spec
}

#[test]
fn fit_gives_the_bits_of_its_pieces_and_writes_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec();
    spec.save = Some(dir.path().join("model.json"));
    spec.trace = Some(TraceSpec {
        path: dir.path().join("trace.csv"),
        every: Some(20),
        seconds: false,
    });
    let fitted = fit(&spec, Hooks::default()).unwrap();

    // By hand: load, build, train.
    let loaded = load(&spec.sources()).unwrap();
    let data = &loaded.train;
    let objective = spec
        .model
        .build(data.dim(), loaded.encoding.n_classes(), true, spec.l2);
    let schedule = spec
        .schedule(spec.regime.updates_per_epoch(data.len()))
        .unwrap();
    let outcome = Trainer::new(objective.as_ref(), data)
        .regime(spec.regime)
        .schedule(schedule)
        .optimizer(spec.optimizer.chain())
        .epochs(spec.epochs)
        .seed(spec.seed)
        .run(&mut [])
        .unwrap();
    assert_bits(
        "fit against the trainer",
        &fitted.outcome.theta,
        &outcome.theta,
    );
    assert_eq!(fitted.samples, data.len());
    assert!(fitted.test.is_some() && fitted.loss_growth.is_none());

    let saved = SavedModel::load(spec.save.as_ref().unwrap()).unwrap();
    assert_eq!(saved.training["schedule"], "invscaling");
    assert_eq!(saved.training["momentum"], 0.5);
    assert!(saved.scaler.is_some(), "standardized: the scaler is saved");
    let trace = std::fs::read_to_string(dir.path().join("trace.csv")).unwrap();
    let header = trace.lines().next().unwrap();
    assert!(header.ends_with(",update_rule"), "{header}");
    let rows = trace.lines().count() - 1;
    let updates = fitted.outcome.updates;
    assert_eq!(
        rows as u64,
        1 + updates / 20 + u64::from(!updates.is_multiple_of(20))
    );

    // Outputs are not replaced unless the spec allows it.
    let err = fit(&spec, Hooks::default()).unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
    spec.replace = true;
    fit(&spec, Hooks::default()).unwrap();
}

#[test]
fn a_run_resumed_from_its_checkpoint_gives_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut short = spec();
    short.epochs = 2;
    short.checkpoint = Some(CheckpointSpec {
        path: dir.path().join("run.ckpt"),
        every: Some(descent::checkpoint::Every::Updates(10)),
        record: serde_json::json!({ "by": "test" }),
    });
    fit(&short, Hooks::default()).unwrap();
    let mut resumed = spec();
    resumed.resume = Some(dir.path().join("run.ckpt"));
    let continued = fit(&resumed, Hooks::default()).unwrap();
    let whole = fit(&spec(), Hooks::default()).unwrap();
    assert_bits("resumed", &continued.outcome.theta, &whole.outcome.theta);
    // Other data: refused, naming the checkpoint.
    let mut other = resumed.clone();
    other.data = repo_data("breast_cancer.csv");
    let err = fit(&other, Hooks::default()).unwrap_err().to_string();
    assert!(
        err.contains("run.ckpt") && err.contains("other data"),
        "{err}"
    );
}

#[test]
fn what_fit_cannot_run_is_refused_by_the_setting_name() {
    let mut mpi = spec();
    mpi.mode = Mode::Mpi {
        average_every: None,
    };
    let err = fit(&mpi, Hooks::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Config { name, .. } if name == "mode"),
        "{err}"
    );
    let mut hogwild = RunSpec::new(repo_data("iris.csv"), ModelKind::Softmax);
    hogwild.mode = Mode::Hogwild;
    let err = fit(&hogwild, Hooks::default()).unwrap_err();
    let source = std::error::Error::source(&err).and_then(Error::of);
    assert!(
        matches!(source, Some(Error::Config { name, .. }) if name == "mode"),
        "{err}: {source:?}"
    );
    let missing = RunSpec::new(repo_data("no-such-file.csv"), ModelKind::Logistic);
    let err = fit(&missing, Hooks::default()).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot load training data"),
        "{err}"
    );
}

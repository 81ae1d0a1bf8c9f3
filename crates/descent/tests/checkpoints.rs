//! Checkpoints and divergence: a run stopped at any update and resumed from its last
//! checkpoint ends with the same bits as a run that was never stopped, in every regime and
//! on every path (lazy sparse steps, momentum, averaging, streams); a diverging run stops
//! with the update and loss, or halves its rate and recovers.

mod common;

use common::{assert_bits, assert_close, dense_data, sign_label, sparse_data};
use descent::checkpoint::{Checkpoint, Checkpointing, Every};
use descent::data::stream::{scan, Stream};
use descent::data::synth::{generate, Kind, Spec};
use descent::data::{write, ReadOptions};
use descent::divergence::OnDivergence;
use descent::labels::LabelEncoding;
use descent::objective::ModelKind;
use descent::observe::{Control, Observer, Retry, State};
use descent::optim::Momentum;
use descent::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// A simulated crash: the run fails right after update `at` (after that update's checkpoint,
/// if one was due), leaving whatever checkpoint was last written.
struct CrashAt(u64);

impl Observer for CrashAt {
    fn on_step(&mut self, state: &State<'_>) -> Result<Control> {
        if state.update == self.0 {
            return Err(Error::config("crash", self.0, "a simulated crash"));
        }
        Ok(Control::Continue)
    }
}

/// [`CrashAt`] that looks only at that update, so the lazy path materializes the parameters
/// rarely and a checkpoint's θ may be an earlier update's.
struct CrashOnlyAt(u64);

impl Observer for CrashOnlyAt {
    fn interval(&self) -> u64 {
        self.0
    }

    fn on_step(&mut self, state: &State<'_>) -> Result<Control> {
        CrashAt(self.0).on_step(state)
    }
}

/// One way of training, applied to a fresh trainer.
struct Setting {
    name: &'static str,
    kind: ModelKind,
    regime: Regime,
    sampling: Sampling,
    momentum: f64,
    average: Option<u64>,
    l2: f64,
    lr: f64,
    epochs: u64,
}

impl Setting {
    fn trainer<'a>(&self, objective: &'a dyn Objective, data: &'a Dataset) -> Trainer<'a> {
        let chain = if self.momentum > 0.0 {
            Chain::new().then(Momentum::new(self.momentum, true))
        } else {
            Chain::new()
        };
        Trainer::new(objective, data)
            .regime(self.regime)
            .sampling(self.sampling)
            .optimizer(chain)
            .average(self.average)
            .schedule(Schedule::InverseTime {
                eta0: self.lr,
                decay: 0.01,
            })
            .epochs(self.epochs)
            .seed(17)
    }
}

fn settings() -> Vec<Setting> {
    let base = Setting {
        name: "",
        kind: ModelKind::Logistic,
        regime: Regime::Sgd,
        sampling: Sampling::Shuffle,
        momentum: 0.0,
        average: None,
        l2: 1e-3,
        lr: 0.1,
        epochs: 4,
    };
    vec![
        Setting {
            name: "sgd, lazy sparse steps, averaged",
            average: Some(50),
            ..base
        },
        Setting {
            name: "sgd with replacement, Nesterov momentum (O(nnz) steps)",
            sampling: Sampling::Replacement,
            momentum: 0.5,
            lr: 0.02,
            ..base
        },
        Setting {
            name: "minibatch:16 cyclic, least squares",
            kind: ModelKind::LeastSquares,
            regime: Regime::MiniBatch(16),
            sampling: Sampling::Cyclic,
            lr: 0.05,
            ..base
        },
        Setting {
            name: "minibatch:300 with momentum (generic dense sums), averaged",
            regime: Regime::MiniBatch(300),
            momentum: 0.5,
            average: Some(1),
            lr: 0.5,
            ..base
        },
        Setting {
            name: "full batch, hinge",
            kind: ModelKind::Hinge,
            regime: Regime::Batch,
            lr: 0.5,
            epochs: 60,
            ..base
        },
        Setting {
            name: "sgd, mlp:4",
            kind: ModelKind::Mlp(4),
            lr: 0.05,
            epochs: 2,
            ..base
        },
    ]
}

fn data() -> Dataset {
    sparse_data(400, 60, 0.1, 3, |idx, vals| {
        sign_label(idx, vals, |j| if j % 2 == 0 { 1.0 } else { -0.7 }, 0.05)
    })
}

fn checkpointing(path: &Path, every: u64) -> Checkpointing {
    Checkpointing {
        path: path.to_path_buf(),
        every: Some(Every::Updates(every)),
        meta: serde_json::json!({ "test": true }),
    }
}

#[test]
fn a_crashed_run_resumed_from_its_checkpoint_ends_bit_identical() {
    let data = data();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    for s in settings() {
        let objective = s.kind.build(data.dim(), 2, true, s.l2);
        let reference = s.trainer(objective.as_ref(), &data).run(&mut []).unwrap();
        let total = reference.updates;
        // Crash points: before, at and after checkpoints, mid-epoch and at an epoch's end.
        let every = (total / 7).max(1);
        let per_epoch = total / s.epochs;
        let crashes = [every + 1, 2 * every, 3 * every - 1, per_epoch, total - 1];
        for crash in crashes.into_iter().filter(|&c| c > every) {
            let _ = std::fs::remove_file(&path);
            let result = s
                .trainer(objective.as_ref(), &data)
                .checkpoint(checkpointing(&path, every))
                .run(&mut [&mut CrashAt(crash)]);
            assert!(result.is_err(), "{}: the crash happened", s.name);
            let checkpoint = Checkpoint::load(&path).unwrap();
            // The checkpoint of an update is written after its observers, so a crash there
            // leaves the one before.
            assert_eq!(
                checkpoint.state.update,
                (crash - 1) / every * every,
                "{}",
                s.name
            );
            assert_eq!(checkpoint.meta, serde_json::json!({ "test": true }));
            let resumed = s
                .trainer(objective.as_ref(), &data)
                .checkpoint(checkpointing(&path, every))
                .resume(checkpoint)
                .run(&mut [])
                .unwrap();
            let what = format!("{} crashed after update {crash}", s.name);
            assert_bits(&what, &resumed.theta, &reference.theta);
            assert_bits(&what, &resumed.iterate, &reference.iterate);
            assert_eq!(resumed.updates, reference.updates, "{what}");
            assert_eq!(
                resumed.sample_gradients, reference.sample_gradients,
                "{what}"
            );
        }
    }
}

#[test]
fn a_stream_resumes_at_the_same_row_of_its_shuffle_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.svm");
    let spec = Spec {
        kind: Kind::Sparse,
        rows: 900,
        features: 50,
        nnz: 6,
        noise: 0.05,
        seed: 2,
    };
    let mut text = String::new();
    write::libsvm(&generate(&spec).unwrap(), &mut text);
    std::fs::write(&file, text).unwrap();
    let options = ReadOptions::default();
    let open = || {
        let found = scan(&file, &options).unwrap();
        let encoding =
            LabelEncoding::fit_labels(ModelKind::Logistic, &file, found.labels.iter().copied())
                .unwrap();
        Stream::new(
            &file,
            &options,
            found,
            encoding,
            Regime::MiniBatch(5),
            Sampling::Shuffle,
            64,
        )
        .unwrap()
    };
    let objective = ModelKind::Logistic.build(50, 2, true, 1e-4);
    fn train<'a>(objective: &'a dyn Objective, stream: &'a mut Stream) -> Trainer<'a> {
        Trainer::on_batches(objective, stream)
            .schedule(Schedule::Constant { eta0: 0.2 })
            .epochs(3)
            .seed(9)
    }
    let mut s = open();
    let reference = train(objective.as_ref(), &mut s).run(&mut []).unwrap();
    let path = dir.path().join("stream.ckpt");
    for crash in [31, 180, 359] {
        let mut s = open();
        let crashed = train(objective.as_ref(), &mut s)
            .checkpoint(checkpointing(&path, 25))
            .run(&mut [&mut CrashAt(crash)]);
        assert!(crashed.is_err());
        let mut s = open();
        let resumed = train(objective.as_ref(), &mut s)
            .resume(Checkpoint::load(&path).unwrap())
            .run(&mut [])
            .unwrap();
        assert_bits(
            &format!("stream crashed after {crash}"),
            &resumed.theta,
            &reference.theta,
        );
    }
}

#[test]
fn a_checkpoint_of_other_settings_is_refused() {
    let data = data();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let objective = ModelKind::Logistic.build(data.dim(), 2, true, 1e-3);
    let _ = Trainer::new(objective.as_ref(), &data)
        .checkpoint(checkpointing(&path, 10))
        .run(&mut [&mut CrashAt(15)]);
    // Saved on the lazy sparse path without momentum; momentum is another setting.
    let err = Trainer::new(objective.as_ref(), &data)
        .optimizer(Chain::new().then(Momentum::new(0.9, false)))
        .resume(Checkpoint::load(&path).unwrap())
        .run(&mut [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("optimizer stages"), "{err}");
    // A model of another size.
    let other = dense_data(50, 3, 1, |x| f64::from(x[0] > 0.5));
    let small = ModelKind::Logistic.build(3, 2, true, 1e-3);
    let err = Trainer::new(small.as_ref(), &other)
        .resume(Checkpoint::load(&path).unwrap())
        .run(&mut [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected 4, found"), "{err}");
    // Fewer epochs than the checkpoint has reached.
    let _ = Trainer::new(objective.as_ref(), &data)
        .epochs(3)
        .checkpoint(checkpointing(&path, 10))
        .run(&mut [&mut CrashAt(900)]);
    let err = Trainer::new(objective.as_ref(), &data)
        .epochs(1)
        .resume(Checkpoint::load(&path).unwrap())
        .run(&mut [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`epochs`"), "{err}");
}

/// A run stopped after update 130 with fast paths `saved_on` (a checkpoint every 40 updates at
/// `path`) and resumed with them `resumed_on` ends where an unstopped run on the resumed path
/// does, to rounding; `fast_key`, when given, is in the checkpoint exactly when the fast path
/// wrote it.
fn assert_resumes_across_paths<'a>(
    trainer: impl Fn(bool) -> Trainer<'a>,
    path: &Path,
    fast_key: Option<&str>,
    what: &str,
) {
    for (saved_on, resumed_on) in [(false, true), (true, false)] {
        let reference = trainer(resumed_on).run(&mut []).unwrap();
        let _ = std::fs::remove_file(path);
        let crashed = trainer(saved_on)
            .checkpoint(checkpointing(path, 40))
            .run(&mut [&mut CrashOnlyAt(130)]);
        assert!(crashed.is_err());
        if let Some(key) = fast_key {
            let text = std::fs::read_to_string(path).unwrap();
            assert_eq!(text.contains(key), saved_on, "{what}: which path saved it");
        }
        let resumed = trainer(resumed_on)
            .resume(Checkpoint::load(path).unwrap())
            .run(&mut [])
            .unwrap();
        let what = format!("{what}: saved with fast paths {saved_on}, resumed with {resumed_on}");
        assert_eq!(resumed.updates, reference.updates, "{what}");
        assert_close(&what, &resumed.theta, &reference.theta, 1e-9);
    }
}

#[test]
fn a_checkpoint_from_another_update_rule_continues() {
    // A checkpoint from one update rule resumed by another (here: fast rules off, then on, and
    // the reverse) continues from the same parameters and average, to rounding.
    let data = data();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let objective = ModelKind::Logistic.build(data.dim(), 2, true, 1e-3);
    for average in [None, Some(1), Some(60)] {
        let trainer = |fast: bool| {
            Trainer::new(objective.as_ref(), &data)
                .regime(Regime::MiniBatch(4))
                .schedule(Schedule::Constant { eta0: 0.3 })
                .average(average)
                .epochs(3)
                .fast_paths(fast)
        };
        let what = format!("averaging {average:?}");
        assert_resumes_across_paths(trainer, &path, Some("\"rule\":\"lazy-sparse\""), &what);
    }
}

#[test]
fn a_momentum_checkpoint_from_the_other_code_path_continues() {
    // The same across the O(nnz) momentum rule and the generic one, whose buffers (the
    // chain's state on both) carry over too.
    let data = data();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let objective = ModelKind::Logistic.build(data.dim(), 2, true, 1e-3);
    for nesterov in [false, true] {
        let trainer = |fast: bool| {
            Trainer::new(objective.as_ref(), &data)
                .regime(Regime::MiniBatch(4))
                .schedule(Schedule::Constant { eta0: 0.05 })
                .optimizer(Chain::new().then(Momentum::new(0.9, nesterov)))
                .epochs(3)
                .fast_paths(fast)
        };
        let what = format!("Nesterov {nesterov}");
        assert_resumes_across_paths(trainer, &path, Some("\"rule\":\"lazy-momentum\""), &what);
    }
}

#[test]
fn an_interrupt_writes_a_checkpoint_and_stops() {
    let data = data();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("int.ckpt");
    let objective = ModelKind::Logistic.build(data.dim(), 2, true, 1e-3);
    let flag = AtomicBool::new(false);

    /// Raises the flag after an update, as a Ctrl-C handler would.
    struct Raise<'a>(&'a AtomicBool, u64);
    impl Observer for Raise<'_> {
        fn on_step(&mut self, state: &State<'_>) -> Result<Control> {
            if state.update == self.1 {
                self.0.store(true, Ordering::Relaxed);
            }
            Ok(Control::Continue)
        }
    }
    let err = Trainer::new(objective.as_ref(), &data)
        .checkpoint(Checkpointing {
            path: path.clone(),
            every: None,
            meta: serde_json::Value::Null,
        })
        .interrupt(&flag)
        .run(&mut [&mut Raise(&flag, 123)])
        .unwrap_err();
    assert!(
        matches!(err, Error::Interrupted { update: 123, .. }),
        "{err}"
    );
    assert!(
        matches!(&err, Error::Interrupted { checkpoint: Some(p), .. } if *p == path),
        "{err}"
    );
    let reference = Trainer::new(objective.as_ref(), &data)
        .run(&mut [])
        .unwrap();
    let resumed = Trainer::new(objective.as_ref(), &data)
        .resume(Checkpoint::load(&path).unwrap())
        .run(&mut [])
        .unwrap();
    assert_bits("interrupted and resumed", &resumed.theta, &reference.theta);
}

/// Least squares on features of scale ~10 with a rate far above 2/L.
fn diverging() -> (Dataset, Box<dyn Objective>) {
    let data = dense_data(300, 4, 8, |x| x.iter().map(|&v| f64::from(v)).sum::<f64>());
    let values: Vec<f32> = (0..data.len())
        .flat_map(|i| {
            let mut row = vec![0f32; 4];
            data.row(i).for_each(|j, v| row[j] = (10.0 * v) as f32);
            row
        })
        .collect();
    let scaled = Dataset::dense(4, values, data.targets().to_vec()).unwrap();
    (scaled, ModelKind::LeastSquares.build(4, 1, true, 0.0))
}

#[test]
fn divergence_stops_with_the_update_loss_and_a_smaller_rate() {
    let (data, objective) = diverging();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("div.ckpt");
    let err = Trainer::new(objective.as_ref(), &data)
        .regime(Regime::MiniBatch(10))
        .schedule(Schedule::Constant { eta0: 0.5 })
        .epochs(50)
        .checkpoint(checkpointing(&path, 2))
        .run(&mut [])
        .unwrap_err();
    let Error::Diverged { step, loss, .. } = &err else {
        panic!("expected divergence, got {err}");
    };
    let text = err.to_string();
    // The loss (its moving average) is non-finite or far above the starting loss.
    assert!(*step > 2 && (loss.is_nan() || *loss > 1e6), "{text}");
    assert!(text.contains("`lr` 0.05"), "{text}");
    assert!(text.contains("halve-lr"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    // The checkpoint holds the last good parameters: finite, and before the divergence.
    let saved = Checkpoint::load(&path).unwrap();
    assert!(saved.state.update < *step);
    assert!(saved
        .state
        .rule
        .theta
        .iter()
        .all(|t| t.is_finite() && t.abs() < 1e6));
}

#[test]
fn halve_lr_goes_back_and_recovers_deterministically() {
    let (data, objective) = diverging();

    #[derive(Default)]
    struct Retries(Vec<Retry>);
    impl Observer for Retries {
        fn on_retry(&mut self, retry: &Retry) -> Result<()> {
            self.0.push(*retry);
            Ok(())
        }
    }
    let run = || {
        let mut retries = Retries::default();
        let outcome = Trainer::new(objective.as_ref(), &data)
            .regime(Regime::MiniBatch(10))
            .schedule(Schedule::Constant { eta0: 1.0 })
            .epochs(20)
            .on_divergence(OnDivergence::HalveLr)
            .run(&mut [&mut retries])
            .unwrap();
        (outcome, retries.0)
    };
    let (outcome, retries) = run();
    assert!(!retries.is_empty());
    for (k, r) in retries.iter().enumerate() {
        assert_eq!(r.lr_scale, 0.5f64.powi(k as i32 + 1));
        assert!(r.back_to < r.update, "{r:?}");
    }
    let loss = descent::engine::evaluate(&Serial, objective.as_ref(), &data, &outcome.theta).loss;
    assert!(loss.is_finite() && loss < 1.0, "recovered: loss {loss}");
    assert_eq!(
        outcome.updates,
        20 * 30,
        "every update of the plan was made"
    );
    let (again, _) = run();
    assert_bits("halve-lr run repeated", &again.theta, &outcome.theta);
}

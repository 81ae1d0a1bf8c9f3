//! Hogwild is not deterministic, so it is checked by what it reaches: about the loss of serial
//! SGD on the same data, with several threads.

mod common;

use common::{assert_bits, assert_close, sign_label, sparse_data};
use descent::engine::{evaluate, Serial};
use descent::objective::ModelKind;
use descent::observe::{Control, Observer, Plan, State};
use descent::prelude::*;
use descent::Result;

#[test]
fn hogwild_reaches_the_loss_of_serial_sgd() {
    let data = sparse_data(4000, 500, 0.02, 71, |idx, vals| {
        sign_label(idx, vals, |j| if j < 250 { 1.0 } else { -1.0 }, 0.0)
    });
    let objective = ModelKind::Logistic.build(500, 2, true, 1e-4);
    let schedule = Schedule::InvScaling {
        eta0: 1.0,
        power: 0.5,
    };
    let serial = Trainer::new(objective.as_ref(), &data)
        .schedule(schedule.clone())
        .epochs(10)
        .run(&mut [])
        .unwrap();
    let serial_loss = evaluate(&Serial, objective.as_ref(), &data, &serial.theta).loss;
    let start_loss = evaluate(&Serial, objective.as_ref(), &data, &vec![0.0; 501]).loss;
    for threads in [1, 2, 4] {
        let model = objective.margin_model().unwrap();
        let run =
            descent::hogwild::train(model, &data, &schedule, (10, 3, threads), &mut []).unwrap();
        assert_eq!(run.updates, 10 * 4000);
        let loss = evaluate(&Serial, objective.as_ref(), &data, &run.theta).loss;
        assert!(
            loss < 0.75 * start_loss,
            "{threads} threads: {loss} from {start_loss}"
        );
        assert!(
            (loss - serial_loss).abs() < 0.05 * serial_loss,
            "{threads} threads: {loss} vs serial {serial_loss}"
        );
    }
}

/// One thread is serial SGD: the same permutation, rates, lazy L2 scaling and summation
/// order, so the same bits; with a scale that has to be folded back into v on the way (strong
/// L2), the same to rounding.
#[test]
fn one_hogwild_thread_is_serial_sgd() {
    let data = sparse_data(3000, 400, 0.03, 17, |idx, vals| {
        sign_label(idx, vals, |j| if j % 3 == 0 { 1.0 } else { -0.5 }, 0.0)
    });
    for (lambda, schedule, exact) in [
        (
            1e-4,
            Schedule::Optimal {
                alpha: 1e-4,
                t0: 1e3,
            },
            true,
        ),
        (
            1e-3,
            Schedule::InvScaling {
                eta0: 0.5,
                power: 0.5,
            },
            true,
        ),
        (0.5, Schedule::Constant { eta0: 0.05 }, false),
    ] {
        let objective = ModelKind::Logistic.build(400, 2, true, lambda);
        let serial = Trainer::new(objective.as_ref(), &data)
            .schedule(schedule.clone())
            .epochs(3)
            .seed(9)
            .run(&mut [])
            .unwrap();
        let model = objective.margin_model().unwrap();
        let hog = descent::hogwild::train(model, &data, &schedule, (3, 9, 1), &mut []).unwrap();
        assert_eq!(hog.updates, serial.updates);
        let what = format!("hogwild against serial SGD, λ = {lambda}");
        if exact {
            assert_bits(&what, &hog.theta, &serial.theta);
        } else {
            assert_close(&what, &hog.theta, &serial.theta, 1e-9);
        }
    }
}

/// A rate so large that the L2 shrink 1 − ηλ is not positive has no lazy scale: refused by
/// name, not trained into NaN.
#[test]
fn a_shrink_factor_below_zero_is_refused() {
    let data = sparse_data(50, 20, 0.2, 5, |idx, vals| {
        sign_label(idx, vals, |_| 1.0, 0.5)
    });
    let objective = ModelKind::Logistic.build(20, 2, true, 1.0);
    let model = objective.margin_model().unwrap();
    let schedule = Schedule::Constant { eta0: 2.0 };
    let err = descent::hogwild::train(model, &data, &schedule, (1, 1, 2), &mut []).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("`lr`") && text.contains("`l2`"), "{text}");
}

/// Observers see the start, every epoch's end (where the threads meet) and the finish, with
/// the parameters of that moment; a stop at an epoch's end ends the run there.
#[test]
fn observers_see_every_epoch_where_the_threads_meet() {
    #[derive(Default)]
    struct Record {
        starts: u32,
        epochs: Vec<(f64, Vec<f64>)>,
        finish: Option<Vec<f64>>,
        stop_after: Option<usize>,
    }
    impl Observer for Record {
        fn on_start(&mut self, _plan: &Plan, _s: &State<'_>) -> Result<()> {
            self.starts += 1;
            Ok(())
        }
        fn on_epoch(&mut self, s: &State<'_>) -> Result<Control> {
            self.epochs.push((s.epoch, s.theta.to_vec()));
            Ok(match self.stop_after {
                Some(k) if self.epochs.len() >= k => Control::Stop,
                _ => Control::Continue,
            })
        }
        fn on_finish(&mut self, s: &State<'_>) -> Result<()> {
            self.finish = Some(s.theta.to_vec());
            Ok(())
        }
    }
    let data = sparse_data(300, 40, 0.1, 8, |idx, vals| {
        sign_label(idx, vals, |j| if j < 20 { 1.0 } else { -1.0 }, 0.0)
    });
    let objective = ModelKind::Logistic.build(40, 2, true, 1e-3);
    let model = objective.margin_model().unwrap();
    let schedule = Schedule::Constant { eta0: 0.1 };
    let mut all = Record::default();
    let run = descent::hogwild::train(model, &data, &schedule, (4, 2, 2), &mut [&mut all]).unwrap();
    assert_eq!(all.starts, 1);
    let epochs: Vec<f64> = all.epochs.iter().map(|(e, _)| *e).collect();
    assert_eq!(epochs, vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(all.finish.as_deref(), Some(run.theta.as_slice()));
    assert_eq!(all.epochs[3].1, run.theta);
    assert_ne!(
        all.epochs[0].1, all.epochs[3].1,
        "the parameters move between epochs"
    );
    let mut two = Record {
        stop_after: Some(2),
        ..Record::default()
    };
    let run = descent::hogwild::train(model, &data, &schedule, (4, 2, 1), &mut [&mut two]).unwrap();
    assert_eq!(run.updates, 2 * 300);
    assert_eq!(two.epochs.len(), 2);
}

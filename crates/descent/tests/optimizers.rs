//! Schedules as sequences, Polyak–Ruppert averaging against the explicit mean of the
//! iterates, and the chain's conventions.

mod common;

use common::{assert_close, dense_data};
use descent::objective::ModelKind;
use descent::observe::{Control, Observer, State};
use descent::optim::{Chain, Momentum, Transform};
use descent::prelude::*;

fn sequence(s: &Schedule, n: u64) -> Vec<f64> {
    (0..n).map(|t| s.rate(t)).collect()
}

#[test]
fn schedules_follow_their_formulas() {
    let constant = Schedule::parse("constant", 0.5, 0.0, 10).unwrap();
    assert_close("constant", &sequence(&constant, 3), &[0.5, 0.5, 0.5], 0.0);

    // η₀/(1 + λη₀t) with η₀ = 0.5, λ = 2: 0.5, 0.5/2, 0.5/3.
    let bottou = Schedule::parse("inverse-time:2", 0.5, 0.0, 10).unwrap();
    assert_close(
        "inverse-time",
        &sequence(&bottou, 3),
        &[0.5, 0.25, 0.5 / 3.0],
        1e-15,
    );
    let from_l2 = Schedule::parse("inverse-time", 0.5, 2.0, 10).unwrap();
    assert_eq!(from_l2, bottou, "inverse-time's decay defaults to --l2");

    // η₀/(t+1)^p with p = 0.5: 1, 1/√2, 1/√3, 1/2.
    let inv = Schedule::parse("invscaling", 1.0, 0.0, 10).unwrap();
    let expected = [1.0, 0.5f64.sqrt(), (1.0f64 / 3.0).sqrt(), 0.5];
    assert_close("invscaling", &sequence(&inv, 4), &expected, 1e-15);

    // scikit-learn's optimal for α = 1e-4: typw = α^(−1/4) = 10, t₀ = 1/(α·10) = 1000,
    // η(t) = 1/(α(1000 + t)): 10, 10000/1001, 10000/1002.
    let optimal = Schedule::parse("optimal", 123.0, 1e-4, 10).unwrap();
    let expected = [10.0, 10_000.0 / 1001.0, 10_000.0 / 1002.0];
    assert_close("optimal", &sequence(&optimal, 3), &expected, 1e-12);

    // ×0.5 every 2 epochs of 3 updates: 6 updates at 1, 6 at 0.5, then 0.25.
    let step = Schedule::parse("step:2:0.5", 1.0, 0.0, 3).unwrap();
    let expected = [[1.0; 6], [0.5; 6], [0.25; 6]].concat();
    assert_close("step", &sequence(&step, 18), &expected, 0.0);
}

#[test]
fn bad_schedules_are_refused_with_the_allowed_forms() {
    for (spec, l2) in [
        ("cosine", 0.0),
        ("step", 0.0),
        ("step:0", 0.0),
        ("step:2:1.5", 0.0),
        ("invscaling:x", 0.0),
        ("invscaling:-1", 0.0),
        ("constant:3", 0.0),
        ("optimal", 0.0),
    ] {
        let err = Schedule::parse(spec, 0.1, l2, 10).unwrap_err().to_string();
        assert!(err.contains("`schedule`"), "{spec}: {err}");
    }
}

#[test]
fn momentum_reset_forgets_the_buffer() {
    let mut m = Momentum::new(0.9, false);
    let mut g = vec![1.0];
    m.apply(0, &[0.0], &mut g);
    let mut g = vec![1.0];
    m.apply(1, &[0.0], &mut g);
    assert_close("second step", &g, &[1.9], 1e-15);
    m.reset();
    let mut g = vec![1.0];
    m.apply(2, &[0.0], &mut g);
    assert_close("after reset", &g, &[1.0], 0.0);
    assert_eq!(
        Chain::new().then(Momentum::new(0.9, true)).name(),
        "nesterov(0.9)"
    );
}

struct Iterates(Vec<Vec<f64>>);

impl Observer for Iterates {
    fn on_step(&mut self, s: &State<'_>) -> Result<Control> {
        self.0.push(s.iterate.to_vec());
        Ok(Control::Continue)
    }
}

#[test]
fn averaging_returns_the_mean_of_the_iterates_after_start() {
    let data = dense_data(40, 3, 51, |x| f64::from(x[0] - x[1]));
    let objective = ModelKind::LeastSquares.build(3, 1, true, 0.0);
    for (start, first) in [(0u64, 0usize), (1, 0), (25, 24)] {
        let mut seen = Iterates(Vec::new());
        let outcome = Trainer::new(objective.as_ref(), &data)
            .regime(Regime::Sgd)
            .schedule(Schedule::Constant { eta0: 0.1 })
            .average(Some(start))
            .epochs(2)
            .seed(3)
            .run(&mut [&mut seen])
            .unwrap();
        let tail = &seen.0[first..];
        let mean: Vec<f64> = (0..4)
            .map(|j| tail.iter().map(|t| t[j]).sum::<f64>() / tail.len() as f64)
            .collect();
        assert_close(
            &format!("average from {start}"),
            &outcome.theta,
            &mean,
            1e-12,
        );
        assert_eq!(&outcome.iterate, seen.0.last().unwrap());
    }
}

#[test]
fn observers_can_stop_a_run() {
    struct StopAt(u64);
    impl Observer for StopAt {
        fn on_step(&mut self, s: &State<'_>) -> Result<Control> {
            Ok(if s.update == self.0 {
                Control::Stop
            } else {
                Control::Continue
            })
        }
    }
    let data = dense_data(30, 2, 52, |x| f64::from(x[0]));
    let objective = ModelKind::LeastSquares.build(2, 1, true, 0.0);
    let outcome = Trainer::new(objective.as_ref(), &data)
        .epochs(5)
        .run(&mut [&mut StopAt(45)])
        .unwrap();
    assert_eq!(outcome.updates, 45);
    assert!((outcome.epochs - 1.5).abs() < 1e-12);
}

#[test]
fn divergence_is_an_error_with_a_hint() {
    let data = dense_data(50, 3, 53, |x| 100.0 * f64::from(x[0]));
    let objective = ModelKind::LeastSquares.build(3, 1, true, 0.0);
    let err = Trainer::new(objective.as_ref(), &data)
        .regime(Regime::Batch)
        .schedule(Schedule::Constant { eta0: 50.0 })
        .epochs(2000)
        .run(&mut [])
        .unwrap_err();
    let Error::Diverged { step, .. } = &err else {
        panic!("expected Diverged, got {err}");
    };
    assert!(*step > 0);
    let text = err.to_string();
    assert!(text.contains("`lr` 5"), "{text}");
}

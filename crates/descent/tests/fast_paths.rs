//! Fast paths against the generic loop: O(nnz) lazy-scaled SGD must give the same parameters
//! (to rounding) on the same sample order, with and without averaging, on sparse and dense
//! rows, and with momentum on sparse rows.

mod common;

use common::{assert_close, dense_data, sign_label, sparse_data};
use descent::objective::ModelKind;
use descent::observe::{Control, Observer, State};
use descent::prelude::*;
use descent::step::RuleKind;

/// How a run steps: its regime and averaging start.
type Stepping = (Regime, Option<u64>);

fn run(
    data: &Dataset,
    (regime, average): Stepping,
    kind: ModelKind,
    l2: f64,
    schedule: Schedule,
    fast: bool,
    epochs: u64,
) -> Result<Outcome> {
    let objective = kind.build(data.dim(), 2, true, l2);
    Trainer::new(objective.as_ref(), data)
        .regime(regime)
        .schedule(schedule)
        .average(average)
        .epochs(epochs)
        .seed(5)
        .fast_paths(fast)
        .run(&mut [])
}

/// The fast rule ran, and its parameters and averaged iterate equal the generic rule's to
/// rounding.
fn assert_same_run(what: &str, fast: &Outcome, generic: &Outcome) {
    assert_eq!(generic.update_rule, RuleKind::Generic, "{what}");
    assert_ne!(
        fast.update_rule,
        RuleKind::Generic,
        "{what}: no fast rule ran"
    );
    assert_close(&format!("{what}: θ"), &fast.theta, &generic.theta, 1e-9);
    assert_close(
        &format!("{what}: iterate"),
        &fast.iterate,
        &generic.iterate,
        1e-9,
    );
}

#[test]
fn lazy_steps_equal_the_generic_loop_to_rounding() {
    let data = sparse_data(600, 300, 0.03, 61, |idx, vals| {
        sign_label(idx, vals, |j| if j % 3 == 0 { 1.0 } else { -1.0 }, 0.0)
    });
    for kind in [
        ModelKind::Logistic,
        ModelKind::Hinge,
        ModelKind::LeastSquares,
    ] {
        for (l2, schedule) in [
            (1e-3, Schedule::Constant { eta0: 0.1 }),
            (
                0.05,
                Schedule::InverseTime {
                    eta0: 0.5,
                    decay: 0.05,
                },
            ),
            (
                0.0,
                Schedule::InvScaling {
                    eta0: 0.2,
                    power: 0.5,
                },
            ),
            (1e-2, Schedule::optimal(1e-2).unwrap()),
        ] {
            for (regime, average) in [
                (Regime::Sgd, None),
                (Regime::Sgd, Some(1)),
                (Regime::Sgd, Some(700)),
                (Regime::MiniBatch(7), None),
                (Regime::MiniBatch(7), Some(1)),
                (Regime::MiniBatch(64), Some(30)),
                (Regime::MiniBatch(500), None),
            ] {
                let what = format!("{regime} {kind:?} λ = {l2} {schedule:?} average {average:?}");
                let fast = run(
                    &data,
                    (regime, average),
                    kind,
                    l2,
                    schedule.clone(),
                    true,
                    3,
                );
                let generic = run(
                    &data,
                    (regime, average),
                    kind,
                    l2,
                    schedule.clone(),
                    false,
                    3,
                );
                // scikit-learn's `optimal` rates (made for hinge and log loss) blow least
                // squares up on this data: both paths must say so.
                if kind == ModelKind::LeastSquares
                    && matches!(schedule, Schedule::Optimal { .. })
                    && regime == Regime::Sgd
                {
                    for r in [&fast, &generic] {
                        assert!(
                            matches!(r, Err(Error::Diverged { .. })),
                            "{what}: {:?}",
                            r.as_ref().map(|o| o.updates)
                        );
                    }
                    continue;
                }
                let (fast, generic) = (
                    fast.unwrap_or_else(|e| panic!("{what}: {e}")),
                    generic.unwrap_or_else(|e| panic!("{what}: {e}")),
                );
                assert_same_run(&what, &fast, &generic);
            }
        }
    }
}

#[test]
fn lazy_sgd_on_dense_rows_equals_the_generic_loop_to_rounding() {
    let data = dense_data(300, 12, 63, |x| {
        if x[0] - x[5] + 0.3 * x[11] > 0.0 {
            1.0
        } else {
            -1.0
        }
    });
    for kind in [ModelKind::Logistic, ModelKind::Hinge] {
        for stepping in [
            (Regime::Sgd, None),
            (Regime::Sgd, Some(1)),
            (Regime::Sgd, Some(400)),
            (Regime::MiniBatch(2), None),
            (Regime::MiniBatch(2), Some(1)),
        ] {
            let schedule = Schedule::InverseTime {
                eta0: 0.3,
                decay: 0.01,
            };
            let [fast, generic] = [true, false].map(|fast| {
                run(&data, stepping, kind, 0.02, schedule.clone(), fast, 3)
                    .unwrap_or_else(|e| panic!("{stepping:?} {kind:?}: {e}"))
            });
            let what = format!("dense {stepping:?} {kind:?}");
            assert_same_run(&what, &fast, &generic);
        }
    }
}

#[test]
fn lazy_sgd_renormalizes_when_the_scale_gets_tiny() {
    // ηλ = 0.5: the scale halves every step and is renormalized every ~30 steps.
    let data = sparse_data(200, 50, 0.1, 62, |idx, _| {
        if idx.len() % 2 == 0 {
            1.0
        } else {
            -1.0
        }
    });
    let fast = run(
        &data,
        (Regime::Sgd, Some(1)),
        ModelKind::Logistic,
        0.5,
        Schedule::Constant { eta0: 1.0 },
        true,
        2,
    )
    .unwrap();
    let generic = run(
        &data,
        (Regime::Sgd, Some(1)),
        ModelKind::Logistic,
        0.5,
        Schedule::Constant { eta0: 1.0 },
        false,
        2,
    )
    .unwrap();
    assert_close("θ", &fast.theta, &generic.theta, 1e-9);
    // ηλ ≥ 1 shrinks the weights to zero or flips them: handled, still equal.
    let fast = run(
        &data,
        (Regime::Sgd, None),
        ModelKind::Logistic,
        1.5,
        Schedule::Constant { eta0: 1.0 },
        true,
        1,
    )
    .unwrap();
    let generic = run(
        &data,
        (Regime::Sgd, None),
        ModelKind::Logistic,
        1.5,
        Schedule::Constant { eta0: 1.0 },
        false,
        1,
    )
    .unwrap();
    assert_close("θ with ηλ > 1", &fast.theta, &generic.theta, 1e-9);
}

/// Every N-th state: update, θ, iterate, and the batch loss (whose L2 term the lazy path
/// keeps from a running ‖v‖²).
struct Every(u64, Vec<(u64, Vec<f64>, Vec<f64>, f64)>);

impl Observer for Every {
    fn interval(&self) -> u64 {
        self.0
    }
    fn on_step(&mut self, s: &State<'_>) -> Result<Control> {
        self.1
            .push((s.update, s.theta.to_vec(), s.iterate.to_vec(), s.batch_loss));
        Ok(Control::Continue)
    }
}

#[test]
fn observers_see_the_same_parameters_on_both_paths() {
    let data = sparse_data(300, 80, 0.05, 63, |idx, _| {
        if idx.first().is_some_and(|&j| j < 40) {
            1.0
        } else {
            -1.0
        }
    });
    // A strong L2 term, so the batch loss's penalty part is large enough to check.
    let objective = ModelKind::Logistic.build(80, 2, true, 0.05);
    let watch = |fast: bool, regime: Regime| {
        let mut every = Every(37, Vec::new());
        Trainer::new(objective.as_ref(), &data)
            .regime(regime)
            .schedule(Schedule::Constant { eta0: 0.3 })
            .average(Some(50))
            .epochs(2)
            .fast_paths(fast)
            .run(&mut [&mut every])
            .unwrap();
        every.1
    };
    // Single samples (closed-form norm) and batches of 3 (the norm's change summed per
    // nonzero).
    for (regime, updates) in [(Regime::Sgd, 600), (Regime::MiniBatch(3), 200)] {
        let (fast, generic) = (watch(true, regime), watch(false, regime));
        assert_eq!(fast.len(), updates / 37);
        for ((u, a, i, l), (v, b, j, m)) in fast.iter().zip(&generic) {
            assert_eq!(u, v);
            assert!(u % 37 == 0);
            assert_close("average", a, b, 1e-9);
            assert_close("iterate", i, j, 1e-9);
            assert_close(&format!("{regime} batch loss"), &[*l], &[*m], 1e-9);
        }
    }
}

#[test]
fn momentum_on_sparse_rows_equals_the_generic_loop_to_rounding() {
    let data = sparse_data(600, 300, 0.03, 64, |idx, vals| {
        sign_label(idx, vals, |j| if j % 3 == 0 { 1.0 } else { -1.0 }, 0.0)
    });
    let schedules = [
        (1e-3, Schedule::Constant { eta0: 0.05 }),
        (
            0.02,
            Schedule::InverseTime {
                eta0: 0.1,
                decay: 0.05,
            },
        ),
        (0.0, Schedule::Constant { eta0: 0.02 }),
    ];
    for kind in [
        ModelKind::Logistic,
        ModelKind::Hinge,
        ModelKind::LeastSquares,
    ] {
        for (l2, schedule) in &schedules {
            for (mu, nesterov) in [(0.9, false), (0.9, true), (0.5, false)] {
                for regime in [Regime::Sgd, Regime::MiniBatch(7), Regime::MiniBatch(64)] {
                    let objective = kind.build(data.dim(), 2, true, *l2);
                    let [fast, generic] = [true, false].map(|fast| {
                        Trainer::new(objective.as_ref(), &data)
                            .regime(regime)
                            .schedule(schedule.clone())
                            .optimizer(Chain::new().then(Momentum::new(mu, nesterov)))
                            .epochs(3)
                            .seed(5)
                            .fast_paths(fast)
                            .run(&mut [])
                    });
                    let what =
                        format!("{regime} {kind:?} λ = {l2} {schedule:?} μ = {mu} {nesterov}");
                    let (fast, generic) = (
                        fast.unwrap_or_else(|e| panic!("{what}: {e}")),
                        generic.unwrap_or_else(|e| panic!("{what}: {e}")),
                    );
                    assert_same_run(&what, &fast, &generic);
                }
            }
        }
    }
}

#[test]
fn outcomes_name_the_rule_that_ran() {
    let sparse = sparse_data(200, 50, 0.1, 65, |idx, vals| {
        sign_label(idx, vals, |j| if j % 2 == 0 { 1.0 } else { -1.0 }, 0.0)
    });
    let dense = dense_data(200, 4, 66, |x| f64::from(x[0] > 0.5));
    let momentum = || Chain::new().then(Momentum::new(0.9, false));
    let rule = |data: &Dataset, kind: ModelKind, regime, chain: Chain, average, fast| {
        let objective = kind.build(data.dim(), 10, true, 1e-3);
        Trainer::new(objective.as_ref(), data)
            .regime(regime)
            .optimizer(chain)
            .average(average)
            .epochs(1)
            .fast_paths(fast)
            .run(&mut [])
            .unwrap()
    };
    let lin = ModelKind::Logistic;
    for (what, outcome, expected, noted) in [
        (
            "sparse sgd",
            rule(&sparse, lin, Regime::Sgd, Chain::new(), None, true),
            RuleKind::LazySparse,
            false,
        ),
        (
            "sparse sgd, fast rules off",
            rule(&sparse, lin, Regime::Sgd, Chain::new(), None, false),
            RuleKind::Generic,
            false,
        ),
        // 200 rows: a full batch small enough for O(nnz) steps.
        (
            "sparse full batch",
            rule(&sparse, lin, Regime::Batch, Chain::new(), None, true),
            RuleKind::LazySparse,
            false,
        ),
        (
            "sparse sgd + momentum",
            rule(&sparse, lin, Regime::Sgd, momentum(), None, true),
            RuleKind::LazyMomentum,
            false,
        ),
        (
            "sparse sgd + momentum + average",
            rule(&sparse, lin, Regime::Sgd, momentum(), Some(1), true),
            RuleKind::Generic,
            true,
        ),
        (
            "dense sgd",
            rule(&dense, lin, Regime::Sgd, Chain::new(), Some(1), true),
            RuleKind::LazySparse,
            false,
        ),
        (
            "dense minibatch:8",
            rule(&dense, lin, Regime::MiniBatch(8), Chain::new(), None, true),
            RuleKind::Generic,
            false,
        ),
        (
            "dense sgd + momentum",
            rule(&dense, lin, Regime::Sgd, momentum(), None, true),
            RuleKind::Generic,
            false,
        ),
        (
            "softmax sgd",
            rule(
                &dense,
                ModelKind::Softmax,
                Regime::Sgd,
                Chain::new(),
                None,
                true,
            ),
            RuleKind::Generic,
            false,
        ),
    ] {
        assert_eq!(outcome.update_rule, expected, "{what}");
        assert_eq!(
            outcome.rule_note.is_some(),
            noted,
            "{what}: {:?}",
            outcome.rule_note
        );
    }
}

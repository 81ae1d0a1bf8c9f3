//! descent against independent computations: scikit-learn's numbers (committed with the
//! script that made them, `scripts/make_reference.py`), the normal equations, and momentum
//! sequences computed by hand in PyTorch's convention.

mod common;

use common::{assert_close, dense_data, solve};
use descent::data::{self, ReadOptions, Scaler};
use descent::labels::LabelEncoding;
use descent::objective::ModelKind;
use descent::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn reference(name: &str) -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/reference/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn cyclic_sgd_matches_sklearn_sgd_regressor() {
    let r = reference("sgd_regressor_diabetes");
    let data = data::read(&repo("data/diabetes.csv"), &ReadOptions::default()).unwrap();
    let objective = ModelKind::LeastSquares.build(data.dim(), 1, true, r["l2"].as_f64().unwrap());
    for run in r["runs"].as_array().unwrap() {
        let epochs = run["epochs"].as_u64().unwrap();
        let outcome = Trainer::new(objective.as_ref(), &data)
            .regime(Regime::Sgd)
            .sampling(Sampling::Cyclic)
            .schedule(Schedule::Constant {
                eta0: r["lr"].as_f64().unwrap(),
            })
            .epochs(epochs)
            .run(&mut [])
            .unwrap();
        let mut expected = numbers(&run["coef"]);
        expected.push(run["intercept"].as_f64().unwrap());
        // Same arithmetic up to rounding order (scikit-learn scales w, then adds dloss·x).
        assert_close(
            &format!("{epochs} epochs"),
            &outcome.theta,
            &expected,
            1e-10,
        );
    }
}

/// breast_cancer standardized and encoded for a binary model, as the reference script does.
fn breast_cancer_binary() -> Dataset {
    let mut data = data::read(&repo("data/breast_cancer.csv"), &ReadOptions::default()).unwrap();
    Scaler::fit(&data).unwrap().apply(&mut data).unwrap();
    let encoding = LabelEncoding::fit(ModelKind::Logistic, &data).unwrap();
    encoding.encode(&mut data).unwrap();
    data
}

#[test]
fn cyclic_sgd_classifiers_match_sklearn_schedules_and_averaging() {
    let r = reference("sgd_classifier_breast_cancer");
    let data = breast_cancer_binary();
    for run in r["runs"].as_array().unwrap() {
        let p = &run["params"];
        let alpha = p["alpha"].as_f64().unwrap();
        let kind = match p["loss"].as_str().unwrap() {
            "hinge" => ModelKind::Hinge,
            _ => ModelKind::Logistic,
        };
        let eta0 = p["eta0"].as_f64().unwrap_or(0.0);
        let schedule = match p["learning_rate"].as_str().unwrap() {
            "optimal" => Schedule::optimal(alpha).unwrap(),
            "invscaling" => Schedule::InvScaling {
                eta0,
                power: p["power_t"].as_f64().unwrap(),
            },
            _ => Schedule::Constant { eta0 },
        };
        let average = match &p["average"] {
            Value::Bool(true) => Some(1),
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        let objective = kind.build(data.dim(), 2, true, alpha);
        let outcome = Trainer::new(objective.as_ref(), &data)
            .regime(Regime::Sgd)
            .sampling(Sampling::Cyclic)
            .schedule(schedule)
            .average(average)
            .epochs(run["epochs"].as_u64().unwrap())
            .run(&mut [])
            .unwrap();
        let mut expected = numbers(&run["coef"]);
        expected.push(run["intercept"].as_f64().unwrap());
        // scikit-learn's log loss approximates dloss beyond |margin| > 18 (relative 1e-8).
        assert_close(
            run["name"].as_str().unwrap(),
            &outcome.theta,
            &expected,
            1e-7,
        );
    }
}

#[test]
fn batch_gd_on_least_squares_reaches_the_normal_equation_solution() {
    let (m, d, l2) = (400, 5, 0.02);
    let truth = [1.5, -2.0, 0.5, 0.0, 3.0];
    let mut noise = common::rng(41);
    let data = dense_data(m, d, 42, |x| {
        x.iter()
            .zip(truth)
            .map(|(&v, w)| f64::from(v) * w)
            .sum::<f64>()
            + 0.7
            + 0.1 * common::uniform(&mut noise)
    });
    // (AᵀA/M + λ·diag(1…1, 0)) θ = Aᵀy/M with A = [X 1]: intercept not regularized.
    let n = d + 1;
    let (mut a, mut b) = (vec![0.0; n * n], vec![0.0; n]);
    for i in 0..m {
        let Row::Dense(x) = data.row(i) else {
            unreachable!()
        };
        let row: Vec<f64> = x.iter().map(|&v| f64::from(v)).chain([1.0]).collect();
        for j in 0..n {
            b[j] += row[j] * data.target(i) / m as f64;
            for k in 0..n {
                a[j * n + k] += row[j] * row[k] / m as f64;
            }
        }
    }
    (0..d).for_each(|j| a[j * n + j] += l2);
    let exact = solve(a, b);

    let objective = ModelKind::LeastSquares.build(d, 1, true, l2);
    let outcome = Trainer::new(objective.as_ref(), &data)
        .regime(Regime::Batch)
        .schedule(Schedule::Constant { eta0: 1.0 })
        .epochs(3000)
        .run(&mut [])
        .unwrap();
    assert_close("batch GD vs normal equations", &outcome.theta, &exact, 1e-9);
}

/// f(θ) = ½(θ − 1)²: one sample x = 1, y = 1, no intercept; gradient θ − 1, θ₀ = 0.
fn momentum_run(nesterov: bool) -> Vec<f64> {
    let data = Dataset::dense(1, vec![1.0], vec![1.0]).unwrap();
    let objective = ModelKind::LeastSquares.build(1, 1, false, 0.0);
    let mut path = Vec::new();
    struct Record<'a>(&'a mut Vec<f64>);
    impl descent::observe::Observer for Record<'_> {
        fn on_step(
            &mut self,
            s: &descent::observe::State<'_>,
        ) -> Result<descent::observe::Control> {
            self.0.push(s.iterate[0]);
            Ok(descent::observe::Control::Continue)
        }
    }
    Trainer::new(objective.as_ref(), &data)
        .regime(Regime::Batch)
        .schedule(Schedule::Constant { eta0: 0.1 })
        .optimizer(Chain::new().then(Momentum::new(0.9, nesterov)))
        .epochs(3)
        .run(&mut [&mut Record(&mut path)])
        .unwrap();
    path
}

#[test]
fn momentum_follows_the_pytorch_sequence_computed_by_hand() {
    // u = θ − 1 starts at −1. buf₁ = g₁ = −1 → u = −0.9; buf₂ = 0.9·(−1) − 0.9 = −1.8 →
    // u = −0.72; buf₃ = 0.9·(−1.8) − 0.72 = −2.34 → u = −0.486.
    assert_close(
        "heavy ball",
        &momentum_run(false),
        &[0.1, 0.28, 0.514],
        1e-12,
    );
}

#[test]
fn nesterov_follows_the_pytorch_sequence_computed_by_hand() {
    // update = g + μ·buf. Step 1: g = −1, buf = −1, update = −1.9 → u = −0.81.
    // Step 2: g = −0.81, buf = −0.9 − 0.81 = −1.71, update = −0.81 − 1.539 = −2.349 →
    // u = −0.5751. Step 3: g = −0.5751, buf = −1.539 − 0.5751 = −2.1141,
    // update = −0.5751 − 1.90269 = −2.47779 → u = −0.327321.
    assert_close(
        "nesterov",
        &momentum_run(true),
        &[0.19, 0.4249, 0.672679],
        1e-12,
    );
}

#[test]
fn batch_gd_on_l2_logistic_reaches_sklearn_optimum_on_breast_cancer() {
    let r = reference("logistic_breast_cancer");
    let data = breast_cancer_binary();
    let l2 = r["l2"].as_f64().unwrap();
    let objective = ModelKind::Logistic.build(data.dim(), 2, true, l2);
    let outcome = Trainer::new(objective.as_ref(), &data)
        .regime(Regime::Batch)
        .schedule(Schedule::Constant { eta0: 0.3 })
        .epochs(20_000)
        .run(&mut [])
        .unwrap();
    let value = descent::engine::evaluate(&Serial, objective.as_ref(), &data, &outcome.theta).loss;
    let optimum = r["objective"].as_f64().unwrap();
    assert!(
        (value - optimum).abs() <= 1e-9 * optimum,
        "objective {value} vs scikit-learn's {optimum}"
    );
    let mut expected = numbers(&r["coef"]);
    expected.push(r["intercept"].as_f64().unwrap());
    assert_close("logistic optimum", &outcome.theta, &expected, 1e-4);
}

//! Every objective's gradient against central finite differences, on random θ, dense and
//! sparse rows, with and without intercept and L2.

mod common;

use common::{check_gradient, dense_data, random_theta, sparse_data};
use descent::data::Dataset;
use descent::objective::{ModelKind, Objective};

fn objectives(d: usize) -> Vec<(Box<dyn Objective>, Vec<f64>)> {
    let mut all = Vec::new();
    for kind in ModelKind::ALL.into_iter().chain([ModelKind::Mlp(5)]) {
        for intercept in [true, false] {
            for l2 in [0.0, 0.3] {
                let classes = if kind.multiclass() { 4 } else { 2 };
                let labels = match kind {
                    ModelKind::LeastSquares => vec![-1.7, 0.4, 2.5],
                    k if k.multiclass() => vec![0.0, 1.0, 2.0, 3.0],
                    _ => vec![-1.0, 1.0],
                };
                all.push((kind.build(d, classes, intercept, l2), labels));
            }
        }
    }
    all
}

#[test]
fn gradients_match_finite_differences_on_dense_rows() {
    let d = 7;
    let data = dense_data(6, d, 11, |_| 0.0);
    for (seed, (objective, labels)) in objectives(d).into_iter().enumerate() {
        for i in 0..data.len() {
            let theta = random_theta(objective.dim(), 1.5, 100 + seed as u64 * 10 + i as u64);
            let y = labels[i % labels.len()];
            check_gradient(objective.as_ref(), &theta, data.row(i), y);
        }
    }
}

#[test]
fn gradients_match_finite_differences_on_sparse_rows() {
    let d = 40;
    let data = sparse_data(8, d, 0.15, 12, |_, _| 0.0);
    for (seed, (objective, labels)) in objectives(d).into_iter().enumerate() {
        for i in 0..data.len() {
            let theta = random_theta(objective.dim(), 1.5, 900 + seed as u64 * 10 + i as u64);
            let y = labels[i % labels.len()];
            check_gradient(objective.as_ref(), &theta, data.row(i), y);
        }
    }
}

#[test]
fn sparse_gradient_touches_only_the_rows_nonzeros_and_intercept() {
    let d = 50;
    let data = sparse_data(3, d, 0.1, 13, |_, _| 1.0);
    let objective = ModelKind::Logistic.build(d, 2, true, 0.0);
    let theta = random_theta(d + 1, 1.0, 5);
    for i in 0..data.len() {
        let mut grad = vec![0.0; d + 1];
        objective.add_gradient(&theta, data.row(i), 1.0, 1.0, &mut grad);
        let descent::data::Row::Sparse(entries) = data.row(i) else {
            panic!("expected a sparse row");
        };
        for (j, g) in grad[..d].iter().enumerate() {
            if !entries.iter().any(|e| e.index as usize == j) {
                assert_eq!(g.to_bits(), 0.0f64.to_bits(), "coordinate {j} touched");
            }
        }
    }
}

#[test]
fn logistic_loss_is_stable_for_huge_margins() {
    let objective = ModelKind::Logistic.build(1, 2, false, 0.0);
    let x = descent::data::Row::Dense(&[1.0]);
    let far = objective.loss(&[800.0], x, -1.0);
    assert!(
        (far - 800.0).abs() < 1e-9,
        "loss at margin 800, y = −1: {far}"
    );
    assert!(objective.loss(&[800.0], x, 1.0) >= 0.0);
    let mut g = [0.0];
    objective.add_gradient(&[-800.0], x, 1.0, 1.0, &mut g);
    assert!(
        (g[0] + 1.0).abs() < 1e-12,
        "gradient at margin −800, y = 1: {}",
        g[0]
    );
}

#[test]
fn combined_loss_and_prediction_agree_with_the_separate_methods() {
    let d = 7;
    let data = dense_data(6, d, 14, |_| 0.0);
    for (seed, (objective, labels)) in objectives(d).into_iter().enumerate() {
        for i in 0..data.len() {
            let theta = random_theta(objective.dim(), 1.5, 500 + seed as u64 * 10 + i as u64);
            let y = labels[i % labels.len()];
            let (loss, prediction) = objective.loss_and_prediction(&theta, data.row(i), y);
            assert_eq!(
                loss.to_bits(),
                objective.loss(&theta, data.row(i), y).to_bits(),
                "{}",
                objective.name()
            );
            assert_eq!(
                prediction.to_bits(),
                objective.predict(&theta, data.row(i)).to_bits(),
                "{}",
                objective.name()
            );
        }
    }
}

/// The loss and gradient of `rows` from one `add_gradients` call, then from `add_gradient`
/// row by row.
fn batched_and_row_by_row(
    objective: &dyn Objective,
    theta: &[f64],
    data: &Dataset,
    rows: &[usize],
) -> [(f64, Vec<f64>); 2] {
    let mut batched = vec![0.0; objective.dim()];
    let loss = objective.add_gradients(theta, data, rows, &mut batched);
    let mut single = vec![0.0; objective.dim()];
    let mut expected = 0.0;
    for &i in rows {
        expected += objective.add_gradient(theta, data.row(i), data.target(i), 1.0, &mut single);
    }
    [(loss, batched), (expected, single)]
}

#[test]
fn batched_dense_gradients_equal_the_sum_of_row_gradients() {
    // Rows 4 at a time with rows ahead asked for: the same losses and gradient as row by row,
    // to rounding (four losses are computed together, and the four rows are added as
    // ((d₀x₀ + d₁x₁) + (d₂x₂ + d₃x₃))), for batches longer and shorter than the read-ahead,
    // in shuffled order, with a remainder.
    let d = 37;
    let data = dense_data(61, d, 12, |x| if x[0] > 0.5 { 1.0 } else { -1.0 });
    let order: Vec<usize> = (0..data.len()).map(|k| (k * 23) % data.len()).collect();
    for (seed, (objective, _)) in objectives(d).into_iter().enumerate() {
        let theta = random_theta(objective.dim(), 0.5, 300 + seed as u64);
        for rows in [&order[..], &order[..7], &order[5..25]] {
            let [(loss, batched), (expected, single)] =
                batched_and_row_by_row(objective.as_ref(), &theta, &data, rows);
            let name = objective.name();
            assert!((loss - expected).abs() <= 1e-12 * expected.abs(), "{name}");
            for (b, s) in batched.iter().zip(&single) {
                assert!(
                    (b - s).abs() <= 1e-12 * (1.0 + s.abs()),
                    "{name}: {b} vs {s}"
                );
            }
        }
    }
}

#[test]
fn batched_sparse_gradients_equal_row_by_row_to_the_bit() {
    // A batch of sparse rows (rows read ahead of the walk) gives exactly the row-by-row sums,
    // for batches longer and shorter than the read-ahead, in shuffled order.
    let d = 60;
    let data = sparse_data(67, d, 0.2, 21, |idx, vals| {
        common::sign_label(idx, vals, |j| (j as f64 * 0.37).sin(), 0.0)
    });
    let order: Vec<usize> = (0..data.len()).map(|k| (k * 29) % data.len()).collect();
    for (seed, (objective, _)) in objectives(d).into_iter().enumerate() {
        let theta = random_theta(objective.dim(), 0.5, 700 + seed as u64);
        for rows in [&order[..], &order[..6], &order[9..40]] {
            let [(loss, batched), (expected, single)] =
                batched_and_row_by_row(objective.as_ref(), &theta, &data, rows);
            let name = objective.name();
            assert_eq!(loss.to_bits(), expected.to_bits(), "{name}: loss");
            common::assert_bits(name, &batched, &single);
        }
    }
}

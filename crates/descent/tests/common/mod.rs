//! Helpers shared by the integration tests: seeded random data, the one finite-difference
//! gradient check, a dense linear solver, and float comparison.
#![allow(dead_code)]

use descent::data::{Dataset, Features, Row, Source};
use descent::objective::Objective;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A seeded generator.
pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// Uniform in [-1, 1).
pub fn uniform(rng: &mut Xoshiro256PlusPlus) -> f64 {
    rng.random::<f64>() * 2.0 - 1.0
}

/// M dense rows of d features, uniform in [-1, 1), targets from `target(row)`.
pub fn dense_data(m: usize, d: usize, seed: u64, target: impl FnMut(&[f32]) -> f64) -> Dataset {
    let mut r = rng(seed);
    let values: Vec<f32> = (0..m * d).map(|_| uniform(&mut r) as f32).collect();
    let targets = values.chunks(d).map(target).collect();
    Dataset::dense(d, values, targets).unwrap()
}

/// M sparse rows over d features with about `density`·d nonzeros each.
pub fn sparse_data(
    m: usize,
    d: usize,
    density: f64,
    seed: u64,
    target: impl Fn(&[u32], &[f32]) -> f64,
) -> Dataset {
    let mut r = rng(seed);
    let (mut indptr, mut indices, mut values, mut targets) = (vec![0], vec![], vec![], vec![]);
    for _ in 0..m {
        let start = indices.len();
        for j in 0..d {
            if r.random::<f64>() < density {
                indices.push(j as u32);
                values.push(uniform(&mut r) as f32);
            }
        }
        targets.push(target(&indices[start..], &values[start..]));
        indptr.push(indices.len());
    }
    let features = Features::from_csr(d, indptr, &indices, &values).unwrap();
    Dataset::new(features, targets, Source::default()).unwrap()
}

/// A linearly separable class for a sparse row: +1 when Σ weight(j)·xⱼ > threshold, else −1.
pub fn sign_label(idx: &[u32], vals: &[f32], weight: impl Fn(u32) -> f64, threshold: f64) -> f64 {
    let s: f64 = idx
        .iter()
        .zip(vals)
        .map(|(&j, &v)| weight(j) * f64::from(v))
        .sum();
    if s > threshold {
        1.0
    } else {
        -1.0
    }
}

/// A random parameter vector with entries in [-scale, scale).
pub fn random_theta(n: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n).map(|_| scale * uniform(&mut r)).collect()
}

/// Checks `add_gradient` and `add_penalty_gradient` of `objective` at `theta` on `(x, y)`
/// against central finite differences of `loss + penalty`, entry by entry.
pub fn check_gradient(objective: &dyn Objective, theta: &[f64], x: Row<'_>, y: f64) {
    let n = objective.dim();
    let mut grad = vec![0.0; n];
    let loss = objective.add_gradient(theta, x, y, 1.0, &mut grad);
    objective.add_penalty_gradient(theta, &mut grad);
    let f = |t: &[f64]| objective.loss(t, x, y) + objective.penalty(t);
    assert!(
        (loss - objective.loss(theta, x, y)).abs() <= 1e-12 * loss.abs().max(1.0),
        "add_gradient returned loss {loss}, loss() says {}",
        objective.loss(theta, x, y)
    );
    for j in 0..n {
        let h = 1e-6 * theta[j].abs().max(1.0);
        let (mut plus, mut minus) = (theta.to_vec(), theta.to_vec());
        plus[j] += h;
        minus[j] -= h;
        let numeric = (f(&plus) - f(&minus)) / (2.0 * h);
        let tolerance = 1e-6 * numeric.abs().max(grad[j].abs()).max(1.0);
        assert!(
            (numeric - grad[j]).abs() <= tolerance,
            "{}: d/dθ[{j}]: analytic {} vs finite difference {numeric} (θ = {theta:?})",
            objective.name(),
            grad[j]
        );
    }
}

/// Solves A x = b (n×n, row-major) by Gaussian elimination with partial pivoting.
pub fn solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))
            .unwrap();
        for k in 0..n {
            a.swap(col * n + k, pivot * n + k);
        }
        b.swap(col, pivot);
        for row in col + 1..n {
            let factor = a[row * n + col] / a[col * n + col];
            for k in col..n {
                a[row * n + k] -= factor * a[col * n + k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row * n + k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row * n + row];
    }
    x
}

/// Asserts |a − b| ≤ tol·max(1, |b|) entry by entry, printing both sides.
pub fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (j, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * y.abs().max(1.0),
            "{what}[{j}]: {x} vs {y} (tolerance {tol})\n  left:  {a:?}\n  right: {b:?}"
        );
    }
}

/// Asserts two vectors are bit-identical, printing both on failure.
pub fn assert_bits(what: &str, a: &[f64], b: &[f64]) {
    let same = a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
    assert!(
        same,
        "{what}: not bit-identical\n  left:  {a:?}\n  right: {b:?}"
    );
}

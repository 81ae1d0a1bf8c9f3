//! Landscapes: minima where the analysis puts them, per-sample surfaces that average to the
//! training surface, a biased sample that moves the training minimum (and a fair one that
//! does not), and gradient noise computed as defined.

mod common;

use common::{assert_close, check_gradient, random_theta};
use descent::data::{Dataset, Row};
use descent::engine::{evaluate, Serial};
use descent::landscape::noise::GradientNoise;
use descent::landscape::{minima, Grid, Problem};
use descent::objective::{ModelKind, SineRegression};

fn training_minima(problem: &Problem, data: &Dataset) -> Vec<minima::Minimum> {
    let objective = problem.model.objective();
    let f = |t: &[f64]| evaluate(&Serial, objective.as_ref(), data, t).loss;
    let grid = Grid::new(problem.window, 61);
    minima::find(&grid, &grid.evaluate(f), f)
}

/// The least-squares line through a sample (normal equations for slope and intercept).
fn fitted_line(data: &Dataset) -> [f64; 2] {
    let m = data.len() as f64;
    let xs: Vec<f64> = (0..data.len())
        .map(|i| match data.row(i) {
            Row::Dense(x) => f64::from(x[0]),
            Row::Sparse { .. } => unreachable!(),
        })
        .collect();
    let (mx, my) = (
        xs.iter().sum::<f64>() / m,
        data.targets().iter().sum::<f64>() / m,
    );
    let sxy: f64 = xs
        .iter()
        .zip(data.targets())
        .map(|(x, y)| (x - mx) * (y - my))
        .sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let a = sxy / sxx;
    [a, my - a * mx]
}

#[test]
fn line_population_minimum_is_where_the_analysis_puts_it() {
    // y = x + 0.6x² + 0.5ε, x ~ U(−2, 2). The best line: a = E[xg]/E[x²] = 1, b = E[g] = 0.8,
    // and the loss there is ½(0.36·E[x⁴] − 0.96·E[x²] + 0.64) + ½·0.25 = 0.381.
    let problem = Problem::builtin("line").unwrap();
    let grid = Grid::new(problem.window, 41);
    let f = |t: &[f64]| problem.population_loss(t);
    let found = minima::find(&grid, &grid.evaluate(f), f);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_close("population minimum", &found[0].theta, &[1.0, 0.8], 1e-7);
    assert!((found[0].loss - 0.381).abs() < 1e-12, "{}", found[0].loss);
}

#[test]
fn line_training_minimum_is_the_least_squares_fit_of_the_sample() {
    let problem = Problem::builtin("line").unwrap();
    let data = problem.sample(300, 1.0, 5).unwrap();
    let found = training_minima(&problem, &data);
    assert_eq!(found.len(), 1);
    assert_close(
        "training minimum",
        &found[0].theta,
        &fitted_line(&data),
        1e-6,
    );
}

#[test]
fn sine_population_has_two_valleys_and_the_biased_sample_prefers_the_other() {
    let problem = Problem::builtin("sine").unwrap();
    let grid = Grid::new(problem.window, 81);
    let f = |t: &[f64]| problem.population_loss(t);
    let population = minima::find(&grid, &grid.evaluate(f), f);
    assert_eq!(population.len(), 2, "{population:?}");
    assert!(
        population[0].theta[0] < 1.5 && population[1].theta[0] > 2.5,
        "slow wave is the global minimum: {population:?}"
    );
    let biased = training_minima(&problem, &problem.sample(2000, 3.0, 1).unwrap());
    assert!(
        biased[0].theta[0] > 2.5,
        "the biased sample's best fit is the fast wave: {biased:?}"
    );
    let fair = training_minima(&problem, &problem.sample(2000, 0.0, 1).unwrap());
    assert!(
        fair[0].theta[0] < 1.5,
        "a fair sample keeps the slow wave: {fair:?}"
    );
}

#[test]
fn bias_moves_the_training_minimum_and_a_fair_sample_does_not() {
    let problem = Problem::builtin("line").unwrap();
    let fair = fitted_line(&problem.sample(20_000, 0.0, 3).unwrap());
    let biased = fitted_line(&problem.sample(20_000, 3.0, 3).unwrap());
    // Sampling error of the slope and intercept at M = 20,000 is about 0.01.
    assert!(
        (fair[0] - 1.0).abs() < 0.04 && (fair[1] - 0.8).abs() < 0.04,
        "fair: {fair:?}"
    );
    assert!(
        biased[0] > 1.3,
        "biased towards large x, the slope grows: {biased:?}"
    );
    let stronger = fitted_line(&problem.sample(20_000, 6.0, 3).unwrap());
    assert!(
        stronger[0] > biased[0],
        "more bias, more shift: {biased:?} → {stronger:?}"
    );
}

#[test]
fn per_sample_surfaces_average_to_the_training_surface() {
    let problem = Problem::builtin("sine").unwrap();
    let data = problem.sample(50, 2.0, 4).unwrap();
    let objective = problem.model.objective();
    let grid = Grid::new(problem.window, 9);
    for j in 0..grid.n {
        for i in 0..grid.n {
            let theta = grid.point(i, j);
            let mean = (0..data.len())
                .map(|k| objective.loss(&theta, data.row(k), data.target(k)))
                .sum::<f64>()
                / data.len() as f64;
            let whole = evaluate(&Serial, objective.as_ref(), &data, &theta).loss;
            assert!(
                (mean - whole).abs() <= 1e-12 * whole,
                "at {theta:?}: {mean} vs {whole}"
            );
        }
    }
}

#[test]
fn samples_are_deterministic_and_fair_without_bias() {
    let problem = Problem::builtin("line").unwrap();
    assert_eq!(
        problem.sample(100, 2.0, 9).unwrap(),
        problem.sample(100, 2.0, 9).unwrap()
    );
    assert_ne!(
        problem.sample(100, 2.0, 9).unwrap(),
        problem.sample(100, 2.0, 10).unwrap()
    );
    let x_mean =
        |d: &Dataset| (0..d.len()).map(|i| d.row(i).dot(&[1.0])).sum::<f64>() / d.len() as f64;
    let fair = problem.sample(20_000, 0.0, 1).unwrap();
    assert!(
        x_mean(&fair).abs() < 0.05,
        "uniform on (−2, 2): {}",
        x_mean(&fair)
    );
    assert!(x_mean(&problem.sample(20_000, 3.0, 1).unwrap()) > 0.5);
    assert!(Problem::builtin("nope").is_err());
    assert!(problem.sample(0, 0.0, 1).is_err());
}

#[test]
fn sine_gradients_match_finite_differences() {
    let objective = SineRegression;
    for (k, x) in [-2.5f32, -0.3, 0.0, 1.7, 3.0].into_iter().enumerate() {
        let theta = random_theta(2, 3.0, 70 + k as u64);
        check_gradient(&objective, &theta, Row::Dense(&[x]), 0.4 - k as f64 * 0.3);
    }
}

#[test]
fn gradient_noise_is_the_spread_of_per_sample_gradients() {
    // Least squares without intercept, θ = 0: gᵢ = −yᵢxᵢ. Samples (x, y) = (1, 1), (2, −1):
    // g = −1 and 2, G = 0.5, Σ = ((−1.5)² + 1.5²)/2 = 2.25, noise scale 2.25/0.25 = 9.
    let data = Dataset::dense(1, vec![1.0, 2.0], vec![1.0, -1.0]).unwrap();
    let objective = ModelKind::LeastSquares.build(1, 1, false, 0.0);
    let noise = GradientNoise::at(objective.as_ref(), &data, &[0.0]);
    assert_close("G", &noise.full, &[0.5], 1e-15);
    assert!((noise.trace - 2.25).abs() < 1e-15);
    assert!((noise.noise_scale - 9.0).abs() < 1e-12);
    assert!((noise.batch_spread(4) - 0.75).abs() < 1e-15);
    assert_eq!(noise.per_sample, vec![vec![-1.0], vec![2.0]]);
}

//! Loss landscapes of two-parameter models: the training surface beside the population
//! ("real world") surface, their minima, the paths of the regimes across them, and the
//! gradient noise that makes SGD's path differ from full-batch GD's.
//!
//! - [`Problem`]: a two-parameter model and a population to draw training sets from, with an
//!   optional selection bias, and the population loss by quadrature.
//! - [`Grid`]: a surface evaluated on a grid (in parallel).
//! - [`minima`]: local minima by grid search, refined by Nelder–Mead.
//! - [`noise`]: per-sample and mini-batch gradient spread, the gradient noise scale.
//! - [`PathRecorder`]: an observer that keeps every iterate.
//!
//! ```
//! use descent::landscape::{minima, Grid, Problem};
//! let problem = Problem::builtin("line").unwrap();
//! let grid = Grid::new(problem.window, 41);
//! let surface = grid.evaluate(|t| problem.population_loss(t));
//! let found = minima::find(&grid, &surface, |t| problem.population_loss(t));
//! assert_eq!(found.len(), 1); // convex: one minimum
//! assert!((found[0].theta[0] - 1.0).abs() < 1e-6 && (found[0].theta[1] - 0.8).abs() < 1e-6);
//! ```

pub mod basins;
mod grid;
pub mod minima;
pub mod noise;
mod path;
mod problem;
mod quadrature;

pub use grid::{Grid, Window};
pub use path::PathRecorder;
pub use problem::{Model2, Problem, PROBLEMS};
pub use quadrature::gauss_legendre;

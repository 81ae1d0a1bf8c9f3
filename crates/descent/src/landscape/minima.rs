//! Local minima of a surface: grid points lower than their eight neighbours, each refined by
//! Nelder–Mead on the function itself, kept if inside the window, merged when they coincide.

use super::Grid;
use serde::Serialize;

/// A local minimum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Minimum {
    /// Where.
    pub theta: [f64; 2],
    /// The function's value there.
    pub loss: f64,
}

/// The local minima of `f` found from its values `surface` on `grid`, lowest first.
pub fn find(grid: &Grid, surface: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<Minimum> {
    let n = grid.n;
    let at = |i: usize, j: usize| surface[j * n + i];
    let mut found: Vec<Minimum> = Vec::new();
    let scale = (grid.window.a.1 - grid.window.a.0).max(grid.window.b.1 - grid.window.b.0);
    for j in 0..n {
        for i in 0..n {
            let v = at(i, j);
            let lower = (-1i64..=1).all(|dj| {
                (-1i64..=1).all(|di| {
                    let (ii, jj) = (i as i64 + di, j as i64 + dj);
                    (di == 0 && dj == 0)
                        || ii < 0
                        || jj < 0
                        || ii >= n as i64
                        || jj >= n as i64
                        || v < at(ii as usize, jj as usize)
                })
            });
            if !lower {
                continue;
            }
            let cell = [
                (grid.window.a.1 - grid.window.a.0) / (n - 1) as f64,
                (grid.window.b.1 - grid.window.b.0) / (n - 1) as f64,
            ];
            let theta = nelder_mead(&f, grid.point(i, j), cell);
            let margin = 1e-9 * scale;
            let inside = theta[0] >= grid.window.a.0 - margin
                && theta[0] <= grid.window.a.1 + margin
                && theta[1] >= grid.window.b.0 - margin
                && theta[1] <= grid.window.b.1 + margin;
            let duplicate = found
                .iter()
                .any(|m| (m.theta[0] - theta[0]).hypot(m.theta[1] - theta[1]) < 1e-4 * scale);
            if inside && !duplicate {
                found.push(Minimum {
                    theta,
                    loss: f(&theta),
                });
            }
        }
    }
    found.sort_by(|x, y| x.loss.total_cmp(&y.loss));
    found
}

/// Nelder–Mead from `start` with an initial simplex of size `step`, to a relative tolerance
/// of 1e-13 in the function value or 2,000 iterations.
pub fn nelder_mead(f: impl Fn(&[f64]) -> f64, start: [f64; 2], step: [f64; 2]) -> [f64; 2] {
    let mut simplex = [
        start,
        [start[0] + step[0], start[1]],
        [start[0], start[1] + step[1]],
    ];
    let mut values = simplex.map(|p| f(&p));
    for _ in 0..2000 {
        let mut order = [0, 1, 2];
        order.sort_by(|&x, &y| values[x].total_cmp(&values[y]));
        simplex = order.map(|k| simplex[k]);
        values = order.map(|k| values[k]);
        let spread = (values[2] - values[0]).abs();
        let size = (simplex[2][0] - simplex[0][0]).abs() + (simplex[2][1] - simplex[0][1]).abs();
        if spread <= 1e-13 * values[0].abs().max(1e-300) && size < 1e-10 {
            break;
        }
        let centroid = [
            (simplex[0][0] + simplex[1][0]) / 2.0,
            (simplex[0][1] + simplex[1][1]) / 2.0,
        ];
        let along = |t: f64| {
            [
                centroid[0] + t * (simplex[2][0] - centroid[0]),
                centroid[1] + t * (simplex[2][1] - centroid[1]),
            ]
        };
        let reflected = along(-1.0);
        let fr = f(&reflected);
        if fr < values[0] {
            let expanded = along(-2.0);
            let fe = f(&expanded);
            (simplex[2], values[2]) = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < values[1] {
            (simplex[2], values[2]) = (reflected, fr);
        } else {
            let contracted = if fr < values[2] {
                along(-0.5)
            } else {
                along(0.5)
            };
            let fc = f(&contracted);
            if fc < values[2].min(fr) {
                (simplex[2], values[2]) = (contracted, fc);
            } else {
                for k in 1..3 {
                    simplex[k] = [
                        (simplex[0][0] + simplex[k][0]) / 2.0,
                        (simplex[0][1] + simplex[k][1]) / 2.0,
                    ];
                    values[k] = f(&simplex[k]);
                }
            }
        }
    }
    let best = (0..3)
        .min_by(|&x, &y| values[x].total_cmp(&values[y]))
        .unwrap_or(0);
    simplex[best]
}

/// The index of the minimum in `minima` that `theta` flows to under `f`: Nelder–Mead from
/// `theta`, then the nearest minimum (`None` if it lands farther than `radius` from all).
pub fn basin_of(
    f: impl Fn(&[f64]) -> f64,
    theta: [f64; 2],
    minima: &[Minimum],
    step: [f64; 2],
    radius: f64,
) -> Option<usize> {
    let end = nelder_mead(f, theta, step);
    minima
        .iter()
        .enumerate()
        .map(|(k, m)| (k, (m.theta[0] - end[0]).hypot(m.theta[1] - end[1])))
        .filter(|&(_, d)| d <= radius)
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::Window;

    /// Himmelblau's function: four minima of value 0 at known points.
    fn himmelblau(t: &[f64]) -> f64 {
        (t[0] * t[0] + t[1] - 11.0).powi(2) + (t[0] + t[1] * t[1] - 7.0).powi(2)
    }

    #[test]
    fn finds_the_four_minima_of_himmelblau() {
        let grid = Grid::new(
            Window {
                a: (-5.0, 5.0),
                b: (-5.0, 5.0),
            },
            60,
        );
        let surface = grid.evaluate(himmelblau);
        let found = find(&grid, &surface, himmelblau);
        assert_eq!(found.len(), 4, "{found:?}");
        let known = [
            [3.0, 2.0],
            [-2.805118, 3.131312],
            [-3.779310, -3.283186],
            [3.584428, -1.848126],
        ];
        for k in known {
            let hit = found
                .iter()
                .any(|m| (m.theta[0] - k[0]).abs() < 1e-5 && (m.theta[1] - k[1]).abs() < 1e-5);
            assert!(hit, "{k:?} not in {found:?}");
        }
        assert!(found.iter().all(|m| m.loss < 1e-10));
    }

    #[test]
    fn basins_follow_the_flow() {
        let grid = Grid::new(
            Window {
                a: (-5.0, 5.0),
                b: (-5.0, 5.0),
            },
            60,
        );
        let found = find(&grid, &grid.evaluate(himmelblau), himmelblau);
        let near =
            |k: [f64; 2]| basin_of(himmelblau, k, &found, [0.1, 0.1], 0.01).map(|i| found[i].theta);
        let to = near([2.5, 2.5]).unwrap();
        assert!((to[0] - 3.0).abs() < 1e-5 && (to[1] - 2.0).abs() < 1e-5);
        assert!(basin_of(himmelblau, [0.0, 0.0], &[], [0.1, 0.1], 0.01).is_none());
    }
}

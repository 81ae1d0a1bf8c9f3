//! Contour lines of a surface on a grid by marching squares: for each cell and level, the
//! edges where the surface crosses the level are joined by a segment (the saddle case is
//! resolved by the cell's mean).

/// The segments where `values` (n × n, row j·n + i, spanning `x` and `y`) cross `level`.
pub fn segments(
    values: &[f64],
    n: usize,
    x: (f64, f64),
    y: (f64, f64),
    level: f64,
) -> Vec<[(f64, f64); 2]> {
    let at = |i: usize, j: usize| values[j * n + i];
    let px = |i: f64| x.0 + (x.1 - x.0) * i / (n - 1) as f64;
    let py = |j: f64| y.0 + (y.1 - y.0) * j / (n - 1) as f64;
    let mut out = Vec::new();
    for j in 0..n.saturating_sub(1) {
        for i in 0..n.saturating_sub(1) {
            // Corners counter-clockwise from bottom-left.
            let c = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
            if c.iter().any(|v| !v.is_finite()) {
                continue;
            }
            let corner = [
                (i as f64, j as f64),
                (i as f64 + 1.0, j as f64),
                (i as f64 + 1.0, j as f64 + 1.0),
                (i as f64, j as f64 + 1.0),
            ];
            let mut crossings = Vec::with_capacity(4);
            for e in 0..4 {
                let (a, b) = (c[e], c[(e + 1) % 4]);
                if (a < level) != (b < level) {
                    let t = (level - a) / (b - a);
                    let (p, q) = (corner[e], corner[(e + 1) % 4]);
                    crossings.push((px(p.0 + t * (q.0 - p.0)), py(p.1 + t * (q.1 - p.1))));
                }
            }
            match crossings.len() {
                2 => out.push([crossings[0], crossings[1]]),
                4 => {
                    let centre = c.iter().sum::<f64>() / 4.0;
                    if (centre < level) == (c[0] < level) {
                        out.push([crossings[0], crossings[3]]);
                        out.push([crossings[1], crossings[2]]);
                    } else {
                        out.push([crossings[0], crossings[1]]);
                        out.push([crossings[2], crossings[3]]);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circle_is_traced_at_its_radius() {
        let n = 81;
        let values: Vec<f64> = (0..n * n)
            .map(|k| {
                let (x, y) = (
                    -2.0 + 4.0 * (k % n) as f64 / 80.0,
                    -2.0 + 4.0 * (k / n) as f64 / 80.0,
                );
                x * x + y * y
            })
            .collect();
        let segs = segments(&values, n, (-2.0, 2.0), (-2.0, 2.0), 1.0);
        assert!(segs.len() > 50);
        for s in &segs {
            for (x, y) in s {
                assert!(((x * x + y * y).sqrt() - 1.0).abs() < 0.01, "({x}, {y})");
            }
        }
        assert!(segments(&values, n, (-2.0, 2.0), (-2.0, 2.0), 100.0).is_empty());
    }
}

//! Gauss–Legendre quadrature: the population loss is an integral over the input density.

/// Nodes and weights of the n-point Gauss–Legendre rule on [lo, hi], weights summing to
/// 1 (so Σ wₖ f(xₖ) is the mean of f under the uniform density). Exact for polynomials of
/// degree 2n − 1. Nodes are found by Newton's method on the Legendre polynomial Pₙ.
pub fn gauss_legendre(n: usize, lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut nodes, mut weights) = (vec![0.0; n], vec![0.0; n]);
    for i in 0..n.div_ceil(2) {
        // Chebyshev-like first guess for the i-th root.
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, z);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * z * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            let pn = if n == 0 {
                1.0
            } else if n == 1 {
                z
            } else {
                p1
            };
            let pn_1 = if n == 1 { 1.0 } else { p0 };
            derivative = n as f64 * (z * pn - pn_1) / (z * z - 1.0);
            let step = pn / derivative;
            z -= step;
            if step.abs() < 1e-15 {
                break;
            }
        }
        let w = 2.0 / ((1.0 - z * z) * derivative * derivative);
        let (mid, half) = ((lo + hi) / 2.0, (hi - lo) / 2.0);
        nodes[i] = mid - half * z;
        nodes[n - 1 - i] = mid + half * z;
        weights[i] = w / 2.0;
        weights[n - 1 - i] = w / 2.0;
    }
    (nodes, weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_polynomials_and_smooth_functions_exactly() {
        let (x, w) = gauss_legendre(20, -2.0, 2.0);
        let mean = |f: &dyn Fn(f64) -> f64| x.iter().zip(&w).map(|(&x, &w)| w * f(x)).sum::<f64>();
        assert!((mean(&|_| 1.0) - 1.0).abs() < 1e-14);
        assert!((mean(&|x| x * x) - 4.0 / 3.0).abs() < 1e-13); // E[x²] on U(−2, 2)
        assert!((mean(&|x| x.powi(4)) - 16.0 / 5.0).abs() < 1e-12);
        // E[sin²(3x)] on U(−2, 2) = ½ − sin(12)/24.
        let exact = 0.5 - 12.0f64.sin() / 24.0;
        assert!((mean(&|x| (3.0 * x).sin().powi(2)) - exact).abs() < 1e-12);
    }
}

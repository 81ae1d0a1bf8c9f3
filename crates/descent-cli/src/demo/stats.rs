//! Summaries over seeds: medians with interquartile ranges, means with standard errors, and
//! percentile-bootstrap 95% intervals of means and of differences (paired and unpaired),
//! with effect sizes. Every resampling is seeded: the same inputs give the same interval.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Resamples per interval.
pub const RESAMPLES: usize = 4000;

/// The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    if lo == hi || v[hi] == v[lo] {
        return v[lo];
    }
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// The median.
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// "median [q1, q3]" with `digits` significant digits.
pub fn median_iqr(values: &[f64], digits: usize) -> String {
    format!(
        "{} [{}, {}]",
        super::significant(median(values), digits),
        super::significant(quantile(values, 0.25), digits),
        super::significant(quantile(values, 0.75), digits)
    )
}

/// The mean of `values` (NaN when empty).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample standard deviation (0 for fewer than two values).
pub fn std_dev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

/// The percentile-bootstrap 95% interval of `statistic` over resamples of the `groups`
/// (each group resampled with replacement on its own, with `seed`).
fn bootstrap(groups: &[&[f64]], seed: u64, statistic: impl Fn(&[Vec<f64>]) -> f64) -> [f64; 2] {
    if groups.iter().any(|g| g.is_empty()) {
        return [f64::NAN, f64::NAN];
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut resample: Vec<Vec<f64>> = groups.iter().map(|g| vec![0.0; g.len()]).collect();
    let mut stats: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for (out, g) in resample.iter_mut().zip(groups) {
                for v in out.iter_mut() {
                    *v = g[rng.random_range(0..g.len())];
                }
            }
            statistic(&resample)
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    [quantile(&stats, 0.025), quantile(&stats, 0.975)]
}

/// The percentile-bootstrap 95% interval of `statistic(a, b)` over resamples of the pairs
/// (aᵢ, bᵢ): the same indices drawn for both, so that what pairs them (a repeat measured in
/// one minute) stays together.
pub fn paired_statistic_ci(
    a: &[f64],
    b: &[f64],
    seed: u64,
    statistic: impl Fn(&[f64], &[f64]) -> f64,
) -> [f64; 2] {
    let n = a.len().min(b.len());
    if n == 0 {
        return [f64::NAN, f64::NAN];
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut ra, mut rb) = (vec![0.0; n], vec![0.0; n]);
    let mut stats: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for k in 0..n {
                let i = rng.random_range(0..n);
                (ra[k], rb[k]) = (a[i], b[i]);
            }
            statistic(&ra, &rb)
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    [quantile(&stats, 0.025), quantile(&stats, 0.975)]
}

/// A difference of means with its interval and a standardized effect size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// mean(a) − mean(b) (paired: the mean of the differences).
    pub estimate: f64,
    /// Its percentile-bootstrap 95% interval.
    pub ci95: [f64; 2],
    /// Cohen's d (unpaired, pooled standard deviation) or d_z (paired: mean / sd of the
    /// differences); 0 when there is no spread.
    pub effect_size: f64,
}

impl Difference {
    /// Whether the whole interval lies above `delta`.
    pub fn above(&self, delta: f64) -> bool {
        self.ci95[0] > delta
    }

    /// Whether the whole interval lies below `delta`.
    pub fn below(&self, delta: f64) -> bool {
        self.ci95[1] < delta
    }

    /// `estimate [lo, hi]` with `digits` significant digits.
    pub fn text(&self, digits: usize) -> String {
        format!(
            "{} [{}, {}]",
            super::significant(self.estimate, digits),
            super::significant(self.ci95[0], digits),
            super::significant(self.ci95[1], digits)
        )
    }
}

fn ratio_or_zero(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// mean(a) − mean(b) for independent samples.
pub fn unpaired(a: &[f64], b: &[f64], seed: u64) -> Difference {
    let estimate = mean(a) - mean(b);
    let pooled = (((a.len().saturating_sub(1)) as f64 * std_dev(a).powi(2)
        + (b.len().saturating_sub(1)) as f64 * std_dev(b).powi(2))
        / (a.len() + b.len()).saturating_sub(2).max(1) as f64)
        .sqrt();
    Difference {
        estimate,
        ci95: bootstrap(&[a, b], seed, |r| mean(&r[0]) - mean(&r[1])),
        effect_size: ratio_or_zero(estimate, pooled),
    }
}

/// The mean of paired differences aᵢ − bᵢ (one pair per unit: start, sample or seed).
pub fn paired(a: &[f64], b: &[f64], seed: u64) -> Difference {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let estimate = mean(&d);
    Difference {
        estimate,
        ci95: bootstrap(&[&d], seed, |r| mean(&r[0])),
        effect_size: ratio_or_zero(estimate, std_dev(&d)),
    }
}

/// The mean with its percentile-bootstrap 95% interval.
pub fn mean_ci(values: &[f64], seed: u64) -> (f64, [f64; 2]) {
    (mean(values), bootstrap(&[values], seed, |r| mean(&r[0])))
}

/// The median with its percentile-bootstrap 95% interval.
pub fn median_ci(values: &[f64], seed: u64) -> (f64, [f64; 2]) {
    (
        median(values),
        bootstrap(&[values], seed, |r| median(&r[0])),
    )
}

/// A figure's band of 95% intervals of the median: (x, low, high) for each x and the values
/// measured there, each resampled with its own seed (`seed`, `seed` + 1, ...); an x whose
/// values are not all finite is left out.
pub fn median_band<'a>(
    points: impl IntoIterator<Item = (f64, &'a [f64])>,
    seed: u64,
) -> Vec<(f64, f64, f64)> {
    points
        .into_iter()
        .zip(seed..)
        .filter(|((_, values), _)| !values.is_empty() && values.iter().all(|v| v.is_finite()))
        .map(|((x, values), s)| {
            let (_, [lo, hi]) = median_ci(values, s);
            (x, lo, hi)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_median_band_brackets_each_median_and_skips_unfinished_points() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [10.0, 12.0, f64::INFINITY];
        let c = [7.0, 7.5, 8.0, 9.0];
        let band = super::median_band([(1.0, &a[..]), (2.0, &b[..]), (4.0, &c[..])], 3);
        assert_eq!(
            band.len(),
            2,
            "the point with an unfinished run is left out"
        );
        assert_eq!(band[0].0, 1.0);
        assert_eq!(band[1].0, 4.0);
        for (&(_, lo, hi), values) in band.iter().zip([&a[..], &c[..]]) {
            let m = super::median(values);
            assert!(lo <= m && m <= hi, "[{lo}, {hi}] misses the median {m}");
            assert!(lo < hi, "resampling {values:?} must give a proper interval");
        }
    }

    use super::*;

    #[test]
    fn bootstrap_intervals_cover_the_estimate_and_shrink_with_more_data() {
        let noisy = |n: usize, shift: f64| -> Vec<f64> {
            (0..n)
                .map(|i| shift + ((i * 7919 % 101) as f64 / 50.0 - 1.0))
                .collect()
        };
        let (a, b) = (noisy(40, 0.5), noisy(40, 0.0));
        let d = unpaired(&a, &b, 1);
        assert!((d.estimate - 0.5).abs() < 0.2, "{d:?}");
        assert!(d.ci95[0] < d.estimate && d.estimate < d.ci95[1]);
        assert!(d.above(0.0) && !d.above(0.5) && !d.below(0.5));
        let wide = unpaired(&a[..8], &b[..8], 1);
        assert!(wide.ci95[1] - wide.ci95[0] > d.ci95[1] - d.ci95[0]);
        assert_eq!(unpaired(&a, &b, 1), d, "seeded");
        // Pairing removes the shared spread: every pair differs by exactly 0.5.
        let p = paired(&a, &b, 2);
        assert!((p.ci95[0] - 0.5).abs() < 1e-12 && (p.ci95[1] - 0.5).abs() < 1e-12);
        assert_eq!(p.effect_size, 0.0, "no spread of the differences");
        let (m, ci) = mean_ci(&b, 3);
        assert!(ci[0] < m && m < ci[1]);
        // Pairs resampled together: a statistic of the pairs' differences sees none of the
        // shared spread (every pair differs by 0.5).
        let ci = paired_statistic_ci(&a, &b, 4, |x, y| mean(x) - mean(y));
        assert!(
            (ci[0] - 0.5).abs() < 1e-12 && (ci[1] - 0.5).abs() < 1e-12,
            "{ci:?}"
        );
        assert!(unpaired(&[], &b, 1).ci95[0].is_nan());
    }

    #[test]
    fn quantiles_and_standard_errors() {
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(median(&v), 2.5);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(mean(&[1.0, 3.0]), 2.0);
        assert!((std_dev(&[1.0, 3.0]) - 2f64.sqrt()).abs() < 1e-15);
    }
}

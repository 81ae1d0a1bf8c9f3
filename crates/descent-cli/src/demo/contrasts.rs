//! Step size or noise? Two paired contrasts over a map of (batch size B, rate η) cells, each
//! cell holding one value per unit (a start, a training set):
//!
//! - **more noise at the same step**: (η, B) − (η, 4B): the same η, four times the noise scale
//!   η/B (Smith & Le 2018);
//! - **larger step at the same noise**: (4η, 4B) − (η, B): the same η/B, four times the step.
//!
//! Each contrast averages, per unit, over every pair of cells that both are eligible (mostly
//! settled, every value finite), and is then bootstrapped over units. Full batch (B = M) is
//! left out: its noise is zero whatever η. At an equal budget of epochs a 4× smaller batch
//! also makes 4× more updates, so "more noise" here comes with more, smaller-batch steps: the
//! contrast separates η/B from η, not noise from the number of updates.

use super::stats::{self, Difference};

/// A cell of the map: (batch index, rate index).
type Cell = (usize, usize);

/// A map's cells: `values[b][e][unit]` for `batches[b]` and `etas[e]`.
pub struct CellMap<'a> {
    /// The batch sizes of the rows.
    pub batches: &'a [usize],
    /// The rates of the columns.
    pub etas: &'a [f64],
    /// Per cell, one value per unit.
    pub values: &'a [Vec<Vec<f64>>],
    /// Whether a cell may be compared (e.g. at most half its runs unsettled).
    pub eligible: &'a [Vec<bool>],
    /// The full batch's size, left out of the contrasts.
    pub full: usize,
}

/// One contrast: its paired difference and how many cell pairs it averaged.
#[derive(Debug, Clone, Copy)]
pub struct Contrast {
    /// The difference, first cell of each pair minus the second, averaged per unit.
    pub difference: Difference,
    /// Cell pairs averaged.
    pub pairs: usize,
}

/// (more noise at the same step, larger step at the same noise); `None` where no pair of
/// cells is eligible.
pub fn noise_and_step(map: &CellMap<'_>, seed: u64) -> (Option<Contrast>, Option<Contrast>) {
    let usable =
        |b: usize, e: usize| map.eligible[b][e] && map.values[b][e].iter().all(|v| v.is_finite());
    let (mut noise, mut step) = (Vec::new(), Vec::new());
    for (bi, &b) in map.batches.iter().enumerate() {
        let Some(bj) = map
            .batches
            .iter()
            .position(|&c| c == 4 * b && c != map.full)
        else {
            continue;
        };
        if b == map.full {
            continue;
        }
        for (ei, &eta) in map.etas.iter().enumerate() {
            if usable(bi, ei) && usable(bj, ei) {
                noise.push(((bi, ei), (bj, ei)));
            }
            let four_eta = map
                .etas
                .iter()
                .position(|&e| (e / (4.0 * eta) - 1.0).abs() < 1e-9);
            if let Some(ej) = four_eta.filter(|&ej| usable(bi, ei) && usable(bj, ej)) {
                step.push(((bj, ej), (bi, ei)));
            }
        }
    }
    let units = map
        .values
        .first()
        .and_then(|r| r.first())
        .map_or(0, Vec::len);
    let contrast = |pairs: &[(Cell, Cell)], seed: u64| {
        if pairs.is_empty() || units == 0 {
            return None;
        }
        let side = |first: bool| -> Vec<f64> {
            (0..units)
                .map(|u| {
                    let sum: f64 = pairs
                        .iter()
                        .map(|&(a, b)| {
                            let (bi, ei) = if first { a } else { b };
                            map.values[bi][ei][u]
                        })
                        .sum();
                    sum / pairs.len() as f64
                })
                .collect()
        };
        Some(Contrast {
            difference: stats::paired(&side(true), &side(false), seed),
            pairs: pairs.len(),
        })
    };
    (contrast(&noise, seed), contrast(&step, seed + 1))
}

/// What the two contrasts say, in words: `better` is +1 when a larger value is better (a share
/// in the global basin), −1 when a smaller one is (a loss); a contrast counts when its
/// interval excludes zero.
pub fn mechanism(
    noise: Option<Contrast>,
    step: Option<Contrast>,
    better: f64,
    goal: &str,
) -> String {
    let helps = |c: Option<Contrast>| {
        c.is_some_and(|c| {
            let [lo, hi] = c.difference.ci95;
            if better > 0.0 {
                lo > 0.0
            } else {
                hi < 0.0
            }
        })
    };
    let hurts = |c: Option<Contrast>| {
        c.is_some_and(|c| c.difference.ci95[0] > 0.0 || c.difference.ci95[1] < 0.0) && !helps(c)
    };
    match (helps(noise), helps(step)) {
        (true, false) => format!("more noise (η/B), not larger steps, {goal}"),
        (false, true) => format!("larger steps (η), not more noise, {goal}"),
        (true, true) => format!("both more noise and larger steps {goal}"),
        _ if hurts(noise) || hurts(step) => {
            format!(
                "neither more noise nor larger steps {goal}: at least one of them works against it"
            )
        }
        _ => "neither contrast is distinguishable from zero".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values that depend on η/B alone: the noise contrast is their change with 4× η/B, the
    /// step contrast zero.
    #[test]
    fn values_of_the_noise_scale_alone_give_a_noise_contrast_and_no_step_contrast() {
        let batches = [1usize, 4, 16, 100];
        let etas = [0.1, 0.2, 0.4, 0.8];
        let units = 5;
        let values: Vec<Vec<Vec<f64>>> = batches
            .iter()
            .map(|&b| {
                etas.iter()
                    .map(|&e| (0..units).map(|u| (e / b as f64).ln() + u as f64).collect())
                    .collect()
            })
            .collect();
        let eligible = vec![vec![true; etas.len()]; batches.len()];
        let map = CellMap {
            batches: &batches,
            etas: &etas,
            values: &values,
            eligible: &eligible,
            full: 100,
        };
        let (noise, step) = noise_and_step(&map, 1);
        let (noise, step) = (noise.unwrap(), step.unwrap());
        // Pairs: B 1→4 and 4→16 at each of 4 rates; steps 0.1→0.4 and 0.2→0.8 for each.
        assert_eq!((noise.pairs, step.pairs), (8, 4));
        assert!((noise.difference.estimate - 4f64.ln()).abs() < 1e-12);
        assert!(step.difference.estimate.abs() < 1e-12);
        // An ineligible cell drops its pairs.
        let mut some = eligible.clone();
        some[0][0] = false;
        let (noise, _) = noise_and_step(
            &CellMap {
                eligible: &some,
                ..map
            },
            1,
        );
        assert_eq!(noise.unwrap().pairs, 7);
    }
}

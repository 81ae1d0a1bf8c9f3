//! Experiment 7: the critical batch size. Up to some batch size, doubling B halves the updates
//! a run needs (the batch gradient's noise is what limits it); beyond it, doubling B buys
//! almost nothing (the curvature limits it) and only costs sample gradients (McCandlish et al.
//! 2018). With this machine's measured time per update, the batch size that reaches the target
//! soonest follows.

use super::rule;
use super::stats::{self, median};
use super::{significant, Context, Effect, Finding, Numbers};
use anyhow::Result;
use descent::engine::{evaluate, Serial};
use descent::objective::{ModelKind, Objective};
use descent::observe::{Control, Observer, Plan, State};
use descent::prelude::*;
use descent::tune::{holdout, RateSearch, Shape, Tuned};
use descent_report::html::{Cell, Outcome, Section, Table, Verdict};
use descent_report::{Curve, CurveFigure, PALETTE};
use rayon::prelude::*;
use serde_json::json;

/// Records the full training loss at about `points` evenly spaced updates.
struct Spread<'a> {
    objective: &'a dyn Objective,
    data: &'a Dataset,
    points: u64,
    every: u64,
    /// (update, training loss), the start first.
    losses: Vec<(u64, f64)>,
}

impl Observer for Spread<'_> {
    fn on_start(&mut self, plan: &Plan, s: &State<'_>) -> descent::Result<()> {
        self.every = (plan.total_updates() / self.points.max(1)).max(1);
        self.losses.push((
            0,
            evaluate(&Serial, self.objective, self.data, s.theta).loss,
        ));
        Ok(())
    }

    fn interval(&self) -> u64 {
        self.every
    }

    fn on_step(&mut self, s: &State<'_>) -> descent::Result<Control> {
        self.losses.push((
            s.update,
            evaluate(&Serial, self.objective, self.data, s.theta).loss,
        ));
        Ok(Control::Continue)
    }
}

/// The first recorded update after which every recorded loss stays at or below `target`
/// (∞ when the run ends above it): a noisy curve that touches the target and leaves it again
/// has not reached it.
fn updates_to(losses: &[(u64, f64)], target: f64) -> f64 {
    let mut reached = f64::INFINITY;
    for &(u, l) in losses.iter().rev() {
        if l <= target {
            reached = u as f64;
        } else {
            break;
        }
    }
    reached
}

/// Runs the experiment.
pub fn run(ctx: &Context, numbers: &mut Numbers) -> Result<Finding> {
    let rows = ctx.size(20_000, 4_000);
    let d = 20;
    let all = super::rates::classification_in_units(rows, ctx.seed + 7)?;
    let (data, validation) = holdout(&all, 0.2, ctx.seed)?;
    let m = data.len();
    let l2 = 1e-4;
    let objective = ModelKind::Logistic.build(d, 2, true, l2);
    let optimum = evaluate(
        &Serial,
        objective.as_ref(),
        &data,
        &super::rates::logistic_optimum(&data, l2),
    )
    .loss;
    let start = evaluate(
        &Serial,
        objective.as_ref(),
        &data,
        &vec![0.0; objective.dim()],
    )
    .loss;
    let target = optimum + 0.05 * (start - optimum);
    let batches: Vec<usize> = ctx.size(
        vec![1, 4, 16, 64, 256, 1024, 4096, m],
        vec![1, 4, 16, 64, 256, m],
    );
    let base_epochs = ctx.size(10, 5);
    let min_updates = ctx.size(400, 200) as u64;
    let seeds = ctx.size(30, 5) as u64;
    let regime_of = |b: usize| {
        if b == m {
            Regime::Batch
        } else {
            Regime::for_batch(b, m)
        }
    };
    // Each B gets at least `min_updates` updates: large batches need updates, not epochs.
    let epochs_of = |b: usize| {
        let r = regime_of(b);
        base_epochs.max(min_updates.div_ceil(r.updates_per_epoch(m)))
    };
    let tuned: Vec<Tuned> = batches
        .iter()
        .map(|&b| {
            let r = regime_of(b);
            let mut search = RateSearch::new(objective.as_ref(), &data, &validation, epochs_of(b));
            // Full batch ignores the seed: one probe is all its probes.
            search.seeds = if r == Regime::Batch {
                vec![ctx.seed + 10_000]
            } else {
                rule::probe_seeds(ctx)
            };
            search.choose(r)
        })
        .collect::<descent::Result<_>>()?;
    struct Runs {
        per_update: f64,
        updates: Vec<f64>,
        epochs: Vec<f64>,
        seconds: Vec<f64>,
    }
    let runs: Vec<Runs> = batches
        .iter()
        .zip(&tuned)
        .map(|(&b, t)| {
            let r = regime_of(b);
            let count = if r == Regime::Batch { 1 } else { seeds };
            let per_run: Vec<(f64, f64)> = (0..count)
                .into_par_iter()
                .map(|s| {
                    let mut spread = Spread {
                        objective: objective.as_ref(),
                        data: &data,
                        points: 100,
                        every: 1,
                        losses: Vec::new(),
                    };
                    let outcome = Trainer::new(objective.as_ref(), &data)
                        .regime(r)
                        .schedule(Shape::Constant.schedule(t.lr, 0))
                        .epochs(epochs_of(b))
                        .seed(ctx.seed + 1 + s)
                        .run(&mut [&mut spread])?;
                    Ok((
                        updates_to(&spread.losses, target),
                        outcome.seconds / outcome.updates.max(1) as f64,
                    ))
                })
                .collect::<Result<_>>()?;
            let updates: Vec<f64> = per_run.iter().map(|p| p.0).collect();
            let per_update = median(&per_run.iter().map(|p| p.1).collect::<Vec<_>>());
            Ok(Runs {
                epochs: updates.iter().map(|u| u * b as f64 / m as f64).collect(),
                seconds: updates.iter().map(|u| u * per_update).collect(),
                per_update,
                updates,
            })
        })
        .collect::<Result<_>>()?;
    let med = |v: &[f64]| median(v);
    let updates: Vec<f64> = runs.iter().map(|r| med(&r.updates)).collect();
    let epochs: Vec<f64> = runs.iter().map(|r| med(&r.epochs)).collect();
    let seconds: Vec<f64> = runs.iter().map(|r| med(&r.seconds)).collect();
    // The ratio U(next B)/U(B) for each step of the list, against the ideal 1/(B ratio).
    let steps: Vec<(usize, usize, f64, f64)> = (0..batches.len() - 1)
        .map(|k| {
            let ratio = updates[k + 1] / updates[k];
            let ideal = batches[k] as f64 / batches[k + 1] as f64;
            (batches[k], batches[k + 1], ratio, ideal)
        })
        .collect();
    // Critical: the first step whose updates fall by less than half of the ideal factor (in
    // log terms: less than half the batch's growth shows up as fewer updates).
    let critical = steps
        .iter()
        .find(|s| s.2.is_finite() && s.2.ln() > 0.5 * s.3.ln())
        .map(|s| s.0);
    let fastest = (0..batches.len())
        .filter(|&k| seconds[k].is_finite())
        .min_by(|&a, &b| seconds[a].total_cmp(&seconds[b]));
    let near_linear_at_small = steps
        .first()
        .is_some_and(|s| s.2.is_finite() && s.2.ln() <= 0.5 * s.3.ln());
    let held = near_linear_at_small && critical.is_some();

    let label = |b: usize| {
        if b == m {
            format!("M = {m}")
        } else {
            b.to_string()
        }
    };
    // Why that batch size: time = updates × time per update. Below it, more samples per update
    // cost less than the updates they save; above it, the reverse.
    let why_fastest = fastest.map_or(String::new(), |k| {
        let neighbour = |j: usize| {
            if updates[j].is_finite() {
                format!(
                    "B = {}: {} updates × {} s",
                    label(batches[j]),
                    significant(updates[j], 3),
                    significant(runs[j].per_update, 3)
                )
            } else {
                format!(
                    "B = {}: most runs never stayed at the target",
                    label(batches[j])
                )
            }
        };
        let mut parts = vec![neighbour(k)];
        if k > 0 {
            parts.insert(0, neighbour(k - 1));
        }
        if k + 1 < batches.len() {
            parts.push(neighbour(k + 1));
        }
        format!(
            ", because time = updates × time per update ({}): next to it, a smaller batch needs more updates than its cheaper updates make up for, and a larger one saves fewer updates than its dearer updates cost",
            parts.join("; ")
        )
    });
    let x = |b: usize| b as f64;
    let curve = |name: &str, ys: &[f64], colour| Curve {
        name: name.into(),
        points: batches
            .iter()
            .zip(ys)
            .filter(|(_, y)| y.is_finite() && **y > 0.0)
            .map(|(&b, &y)| (x(b), y))
            .collect(),
        colour,
        band: Vec::new(),
    };
    let perfect: Vec<f64> = batches.iter().map(|&b| updates[0] / b as f64).collect();
    let fig_updates = ctx.figure(
        &CurveFigure {
            title: format!("Updates to the target against batch size (median of {seeds} seeds)"),
            x_label: "batch size B (log scale)".into(),
            y_label: "updates to target (log scale)".into(),
            curves: vec![
                curve("measured", &updates, PALETTE[5]).with_band(stats::median_band(
                    batches.iter().zip(&runs).map(|(&b, r)| (x(b), r.updates.as_slice())),
                    ctx.seed,
                )),
                curve("perfect scaling: U(1)/B", &perfect, PALETTE[6]),
                curve("epochs to target", &epochs, PALETTE[0]),
            ],
            log_x: true,
            log_y: true,
        },
        "e7_updates",
        "Updates (blue) and epochs (orange) until the training loss stays within 5% of the initial gap above the optimum; yellow: halving the updates with every doubling of B. Where blue leaves yellow, more batch buys fewer and fewer updates: the critical batch size. Shaded: 95% intervals of the median over seeds.",
    )?;
    let fig_seconds = ctx.figure(
        &CurveFigure {
            title: "Seconds to the target on this machine against batch size".into(),
            x_label: "batch size B (log scale)".into(),
            y_label: "seconds to target (log scale)".into(),
            curves: vec![
                curve("updates × measured seconds per update", &seconds, PALETTE[4]).with_band(
                    stats::median_band(
                        batches.iter().zip(&runs).map(|(&b, r)| (x(b), r.seconds.as_slice())),
                        ctx.seed,
                    ),
                ),
            ],
            log_x: true,
            log_y: true,
        },
        "e7_seconds",
        "Median updates to target times this machine's measured training time per update at each batch size (all threads for batch gradients); shaded: 95% interval of the median over seeds.",
    )?;
    let best: Vec<f64> = tuned.iter().map(|t| t.lr).collect();
    let stable: Vec<f64> = tuned.iter().map(Tuned::largest_stable).collect();
    let linear: Vec<f64> = batches.iter().map(|&b| best[0] * b as f64).collect();
    let sqrt: Vec<f64> = batches
        .iter()
        .map(|&b| best[0] * (b as f64).sqrt())
        .collect();
    let fig_rates = ctx.figure(
        &CurveFigure {
            title: "The rule's rate and the largest stable rate against batch size".into(),
            x_label: "batch size B (log scale)".into(),
            y_label: "learning rate (log scale)".into(),
            curves: vec![
                curve("rule's rate", &best, PALETTE[5]),
                curve("largest stable rate tried", &stable, PALETTE[4]),
                curve("linear rule: η(1)·B", &linear, PALETTE[6]),
                curve("square-root rule: η(1)·√B", &sqrt, PALETTE[2]),
            ],
            log_x: true,
            log_y: true,
        },
        "e7_rates",
        "The rate the rule chose for each batch size and the largest rate at which no probe diverged, beside the linear (Goyal et al. 2017) and square-root (Krizhevsky 2014; Hoffer et al. 2017) scaling rules started from B = 1's rate.",
    )?;
    let mut table_rows = Vec::new();
    for (k, &b) in batches.iter().enumerate() {
        let key = format!("b{b}");
        table_rows.push(vec![
            Cell::text(label(b)),
            numbers.cell(&format!("{key}.lr"), best[k], significant(best[k], 3)),
            numbers.cell(
                &format!("{key}.largest_stable_lr"),
                stable[k],
                significant(stable[k], 3),
            ),
            Cell::text(runs[k].updates.len().to_string()),
            numbers.cell(
                &format!("{key}.updates_to_target"),
                updates[k],
                stats::median_iqr(&runs[k].updates, 3),
            ),
            numbers.cell(
                &format!("{key}.epochs_to_target"),
                epochs[k],
                stats::median_iqr(&runs[k].epochs, 3),
            ),
            numbers.sig(&format!("{key}.seconds_per_update"), runs[k].per_update, 3),
            numbers.cell(
                &format!("{key}.seconds_to_target"),
                seconds[k],
                stats::median_iqr(&runs[k].seconds, 3),
            ),
        ]);
    }
    let step_rows = steps
        .iter()
        .map(|&(a, b, ratio, ideal)| {
            vec![
                Cell::text(format!("{} → {}", label(a), label(b))),
                numbers.sig(&format!("step.{a}.ratio"), ratio, 3),
                Cell::text(significant(ideal, 3)),
                Cell::text(format!(
                    "{:.0}%",
                    100.0 * (ratio.ln() / ideal.ln()).clamp(-1.0, 2.0)
                )),
            ]
        })
        .collect();
    let first_ratio = steps.first().map_or(f64::NAN, |s| s.2);
    let section = Section {
        id: "critical-batch-size".into(),
        title: "7. The critical batch size: where a larger batch stops saving updates".into(),
        claim: "Up to a critical batch size, multiplying the batch size divides the updates needed to reach a target loss by about as much; beyond it, larger batches save few updates and cost more sample gradients.".into(),
        setup: format!(
            "Generated dense classification (seed {}), {m} training rows, 20 features in different units, {} validation rows; L2 logistic regression (λ = {l2}) from zero. Batch sizes {}; each at a constant rate chosen by the rule on the validation split for its own budget ({base_epochs} epochs, or at least {min_updates} updates for large batches); {seeds} seeds each (full batch once: it ignores the seed). Target: the training loss stays within 5% of the initial gap above the optimum (f* = {} by Newton's method), recorded at 100 points of each run; a run counts as there at the first record after which it never leaves. Seconds: updates × the run's measured training time per update on {} threads.",
            ctx.seed + 7, validation.len(),
            batches.iter().map(|&b| label(b)).collect::<Vec<_>>().join(", "),
            significant(optimum, 6), ctx.threads
        ),
        figures: vec![fig_updates, fig_seconds, fig_rates],
        tables: vec![
            Table { caption: "Each batch size at its rule rate: medians [interquartile range] over seeds".into(), header: ["B", "rule's η", "largest stable η", "runs", "updates to target", "epochs to target", "seconds per update", "seconds to target"].map(String::from).to_vec(), rows: table_rows },
            Table { caption: "What each step up in batch size buys: the ratio of updates to target, against the ideal (the batch ratio's inverse), and the share of the ideal saving achieved (in log terms)".into(), header: ["step", "updates ratio", "ideal", "of the ideal saving"].map(String::from).to_vec(), rows: step_rows },
        ],
        rule: "Decided before the run: held if the first step up in batch size saves at least half of the ideal (log) factor in updates, and some later step saves less than half: the critical batch size is the smaller batch of the first such step. The fastest batch size on this machine is reported, not judged.".into(),
        verdict: Some(Verdict {
            outcome: Outcome::from_held(held),
            detail: format!(
                "first step's updates ratio {} (ideal {}); critical batch size {}; fastest here: B = {} ({} s to target){}.",
                significant(first_ratio, 3),
                significant(steps.first().map_or(f64::NAN, |s| s.3), 3),
                critical.map_or("not reached within the list".into(), label),
                fastest.map_or("none reached the target".into(), |k| label(batches[k])),
                fastest.map_or("–".into(), |k| significant(seconds[k], 3)),
                why_fastest
            ),
        }),
        literature: format!(
            "McCandlish et al. (2018) model the updates to a target as S_min·(1 + B_noise/B): near-perfect scaling below the gradient noise scale, none above it; Shallue et al. (2019) measured the same shape across models. This run {} that shape.",
            if held { "shows" } else { "does not show" }
        ),
    };
    let mut finding = Finding::new(
        section,
        json!({
            "batch_sizes": batches,
            "updates_to_target": updates,
            "epochs_to_target": epochs,
            "seconds_to_target": seconds,
            "lr": best,
            "largest_stable_lr": stable,
            "critical_batch_size": critical,
            "target_loss": target,
            "optimum": optimum,
        }),
    );
    finding.seeds = batches
        .iter()
        .zip(&runs)
        .map(|(&b, r)| (regime_of(b).to_string(), r.updates.len()))
        .collect();
    if let Some(s) = steps.first() {
        let a: Vec<f64> = runs[0].updates.iter().map(|u| u.ln()).collect();
        let b: Vec<f64> = runs[1].updates.iter().map(|u| u.ln()).collect();
        let d = stats::unpaired(&b, &a, ctx.seed);
        finding.effect = Some(Effect::of(
            format!(
                "log updates to target, B = {} − B = {} (ideal {})",
                s.1,
                s.0,
                significant(s.3.ln(), 3)
            ),
            &d,
        ));
    }
    Ok(finding)
}

//! The demo's use of the library's rate rule ([`descent::tune`]): the same probe seeds
//! everywhere, and one table that shows every rate tried, the pick, whether it sits on the
//! grid's edge, and how many probe seeds agree with it.

use super::{significant, Context, Numbers};
use anyhow::Result;
use descent::data::Dataset;
use descent::objective::Objective;
use descent::regime::Regime;
use descent::tune::{Edge, RateSearch, Shape, Tuned};
use descent_report::html::{Cell, Table};

/// Probe seeds of the rule (3 in quick mode, 5 otherwise), apart from the runs' own seeds.
pub fn probe_seeds(ctx: &Context) -> Vec<u64> {
    (0..ctx.size(5, 3)).map(|k| ctx.seed + 10_000 + k).collect()
}

/// What the rule is applied to: an objective trained on `train` for `epochs` epochs at a rate
/// of `shape` from `start` (default zero), scored on `validation`.
pub struct Probe<'a> {
    /// The objective.
    pub objective: &'a dyn Objective,
    /// The training split.
    pub train: &'a Dataset,
    /// The validation split.
    pub validation: &'a Dataset,
    /// The run's budget in epochs.
    pub epochs: u64,
    /// The rate's shape over the run.
    pub shape: Shape,
    /// The run's start.
    pub start: Option<&'a [f64]>,
}

impl Probe<'_> {
    /// The rule's choice for `regime`, with the demo's probe seeds.
    pub fn tune(&self, ctx: &Context, regime: Regime) -> Result<Tuned> {
        let mut search = RateSearch::new(self.objective, self.train, self.validation, self.epochs);
        search.seeds = probe_seeds(ctx);
        search.shape = self.shape;
        search.start = self.start.map(<[f64]>::to_vec);
        Ok(search.choose(regime)?)
    }

    /// The rule's choice for each of `regimes`, in order.
    pub fn tune_each(&self, ctx: &Context, regimes: &[Regime]) -> Result<Vec<Tuned>> {
        regimes.iter().map(|&r| self.tune(ctx, r)).collect()
    }
}

/// One sentence stating the rule for a section's setup.
pub fn statement(epochs: u64, shape: Shape, validation: &str) -> String {
    format!(
        "Rates by the rule (first section): each method trained for the same {epochs} epochs ({} rate) with every rate of the grid, scored by the median over probe seeds of the final loss on {validation}; the grid widens where the pick sits on its edge.",
        shape.label()
    )
}

/// The table of the rule's trials: the score of every rate, the pick, its edge and the
/// probe seeds' agreement; the picks are registered under `prefix.lr.METHOD`.
pub fn table(tuned: &[Tuned], numbers: &mut Numbers, prefix: &str, caption: &str) -> Table {
    let mut rates: Vec<f64> = tuned
        .iter()
        .flat_map(|t| t.trials.iter().map(|x| x.lr))
        .collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup_by(|a, b| a.to_bits() == b.to_bits());
    let mut header = vec!["method".to_string()];
    header.extend(rates.iter().map(|r| format!("η = {}", significant(*r, 2))));
    header.extend(["chosen η", "edge", "seeds agreeing"].map(String::from));
    let rows = tuned
        .iter()
        .map(|t| {
            let mut row = vec![Cell::text(t.regime.to_string())];
            row.extend(rates.iter().map(|r| {
                Cell::text(
                    match t.trials.iter().find(|x| x.lr.to_bits() == r.to_bits()) {
                        None => "–".to_string(),
                        Some(x) if x.score.is_infinite() => "diverged".to_string(),
                        Some(x) => significant(x.score, 4),
                    },
                )
            }));
            row.push(numbers.cell(
                &format!("{prefix}.lr.{}", t.regime),
                t.lr,
                significant(t.lr, 3),
            ));
            row.push(Cell::text(match t.edge {
                None => "no",
                Some(Edge::Low) => "low (grid widened to its limit)",
                Some(Edge::High) => "high (grid widened to its limit)",
            }));
            row.push(Cell::text(format!("{:.0}%", 100.0 * t.agreement())));
            row
        })
        .collect();
    Table {
        caption: format!("{caption}: median validation loss over probe seeds for each rate (lowest wins); 'seeds agreeing' is the share of probe seeds whose own best rate is within one grid step of the pick"),
        header,
        rows,
    }
}

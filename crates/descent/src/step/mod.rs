//! Update rules: how one update θ ← θ − η_t · T(g) is computed, chosen once per run.
//!
//! Every rule computes the same update (the loop's formula in [`crate::train`]); they differ
//! in how they hold the parameters and so in what an update costs:
//!
//! | rule | holds | cost of an update | runs |
//! |---|---|---|---|
//! | [`generic`] | θ, the chain's stages, the average | O(\|B\|·d) | every model, chain, regime |
//! | `lazy_sparse` | w = s·v (and the average as A·u + B·v) | O(nnz of the batch) | L2 linear models, small batches, no chain stage |
//! | `lazy_momentum` | (θⱼ, bufⱼ) = P·yⱼ | O(nnz of the batch) | the same, sparse rows, one momentum stage, no averaging |
//!
//! [`choose`] decides which, from what the run is ([`Situation`]); the trainer builds that
//! rule once ([`build_into`], which hands it to the loop compiled for that rule type, so no
//! update pays a virtual call) and never asks again. A rule saves its state in one generic form
//! ([`RuleState`]: the iterate, the average, each chain stage's named buffers), plus its own
//! representation for a bit-for-bit continuation when the same rule resumes it; any rule
//! resumes any other's state from the generic part, to rounding.

pub mod generic;
pub(crate) mod lazy_momentum;
pub(crate) mod lazy_sparse;

pub use lazy_sparse::{MAX_BATCH, MAX_DENSE_BATCH};

use crate::batches::Batch;
use crate::engine::Engine;
use crate::objective::Objective;
use crate::optim::{Average, Chain, LazyForm, StageState};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which update rule ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    /// The dense update through the engine's batch gradient and the optimizer chain.
    Generic,
    /// Bottou's lazily scaled weights: O(nnz) per update (also dense single samples and pairs).
    LazySparse,
    /// Momentum on lazily transformed (weight, buffer) pairs: O(nnz) per update.
    LazyMomentum,
    /// Lock-free parallel SGD ([`crate::hogwild`]): a loop of its own, which [`choose`] never
    /// picks (the caller asks for it).
    Hogwild,
}

impl RuleKind {
    /// The name reported in outcomes and `--json` (`generic`, `lazy-sparse`, `lazy-momentum`).
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Generic => "generic",
            RuleKind::LazySparse => "lazy-sparse",
            RuleKind::LazyMomentum => "lazy-momentum",
            RuleKind::Hogwild => "hogwild",
        }
    }
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What decides the update rule: the facts about a run that [`choose`] reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Situation {
    /// The objective is a linear model with an L2 term (it has a
    /// [`MarginModel`](crate::objective::MarginModel)).
    pub margin_model: bool,
    /// The rows are sparse.
    pub sparse: bool,
    /// Every batch is small enough for an O(nnz) rule: at most
    /// [`MAX_BATCH`] samples on sparse rows, [`MAX_DENSE_BATCH`]
    /// on dense ones.
    pub small_batches: bool,
    /// The caller allows rules other than the generic one.
    pub fast_rules: bool,
    /// Processes average their parameters (local SGD), which reads and writes θ itself.
    pub consensus: bool,
    /// The optimizer chain, as the O(nnz) rules see it.
    pub chain: LazyForm,
    /// Iterate averaging is on.
    pub averaging: bool,
}

/// The rule [`choose`] picked, and why a faster one could not run, if that is the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The rule.
    pub rule: RuleKind,
    /// Set when an O(nnz) rule fitted the model and data but the settings sent the run to
    /// the generic rule: what was in the way.
    pub fallback: Option<String>,
}

/// The one place that decides which update rule runs.
pub fn choose(s: &Situation) -> Choice {
    let generic = |fallback: Option<String>| Choice {
        rule: RuleKind::Generic,
        fallback,
    };
    if !(s.fast_rules && s.small_batches && s.margin_model && !s.consensus) {
        return generic(None);
    }
    let rule = |rule| Choice {
        rule,
        fallback: None,
    };
    match s.chain {
        LazyForm::Identity => rule(RuleKind::LazySparse),
        LazyForm::Momentum { .. } if s.sparse && !s.averaging => rule(RuleKind::LazyMomentum),
        // On dense rows an update is O(d) on either rule: nothing is lost.
        LazyForm::Momentum { .. } if !s.sparse => generic(None),
        LazyForm::Momentum { .. } => generic(Some(
            "the O(nnz) momentum rule does not average iterates: the generic rule runs, O(d) per update"
                .into(),
        )),
        LazyForm::Other => generic(Some(
            "the optimizer has stages the O(nnz) rules cannot run: the generic rule runs, O(d) per update"
                .into(),
        )),
    }
}

/// The rule's own representation, kept beside the generic state so that the same rule
/// continues bit for bit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "rule")]
pub(crate) enum Exact {
    /// The lazy-sparse rule's scaled weights.
    LazySparse(lazy_sparse::LazyState),
    /// The lazy-momentum rule's transformed pairs.
    LazyMomentum(lazy_momentum::LazyMomentumState),
}

/// An update rule's state in the form every rule reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleState {
    /// The current iterate θ.
    pub theta: Vec<f64>,
    /// The iterate average, with averaging on.
    pub average: Option<Average>,
    /// Each optimizer stage's state, in the chain's order (one momentum stage's buffer for the
    /// O(nnz) momentum rule, which runs that stage itself).
    pub stages: Vec<StageState>,
    /// The saving rule's own form, for a bit-for-bit continuation by the same rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exact: Option<Exact>,
}

impl RuleState {
    /// Checks that the state holds `dim` parameters and an average exactly when `averaging`.
    pub(crate) fn check(&self, dim: usize, averaging: bool) -> Result<()> {
        let shape = |what: &str, found: usize| Error::Shape {
            what: what.into(),
            expected: dim.to_string(),
            found: found.to_string(),
        };
        if self.theta.len() != dim {
            return Err(shape("parameters in the saved state", self.theta.len()));
        }
        match (&self.average, averaging) {
            (Some(a), true) if a.len() != dim => Err(shape("averaged parameters", a.len())),
            (Some(_), true) | (None, false) => Ok(()),
            (found, _) => Err(Error::Shape {
                what: "iterate average in the saved state".into(),
                expected: if averaging { "one" } else { "none" }.into(),
                found: if found.is_some() { "one" } else { "none" }.into(),
            }),
        }
    }
}

/// One way of computing updates. The loop calls [`step`](UpdateRule::step) once per batch
/// and reads the parameters only after [`materialize`](UpdateRule::materialize).
pub trait UpdateRule {
    /// Which rule this is.
    fn kind(&self) -> RuleKind;
    /// Update number `n` (1-based) on `batch` at rate `lr`: the batch's mean loss plus the
    /// penalty at the parameters before the update when `want_loss` (or when the rule computes
    /// it anyway), else 0, or NaN when a margin was not finite (so that divergence is still
    /// caught).
    fn step(&mut self, batch: Batch<'_>, lr: f64, n: u64, want_loss: bool) -> f64;
    /// Writes the parameters out where the rule keeps them in another form.
    fn materialize(&mut self);
    /// The last iterate (as last materialized).
    fn iterate(&self) -> &[f64];
    /// The trained parameters: the average with averaging on, else the iterate (as last
    /// materialized).
    fn parameters(&self) -> &[f64];
    /// The state, for a checkpoint or a retry.
    fn save(&self) -> RuleState;
    /// Continues from `state`: bit for bit from a state this rule saved, to rounding from
    /// another rule's.
    fn restore(&mut self, state: RuleState) -> Result<()>;
    /// Lets `edit` change the iterate (model averaging between processes), then continues
    /// from it.
    fn edit_iterate(&mut self, edit: &mut dyn FnMut(&mut [f64]) -> Result<()>) -> Result<()> {
        let mut state = self.save();
        state.exact = None;
        edit(&mut state.theta)?;
        self.restore(state)
    }
}

/// What runs with a rule that [`build_into`] builds, compiled once per rule type (the
/// training loop, so that its step is a direct call, not a virtual one per update).
pub trait WithRule<'a> {
    /// What it gives.
    type Output;
    /// Runs with `rule`.
    fn with<R: UpdateRule + 'a>(self, rule: R) -> Self::Output;
}

/// Builds the rule `choice` names, starting from `theta`, with the optimizer `chain` (which
/// the generic rule runs and the O(nnz) momentum rule reads) and averaging from update
/// `average` (the generic rule where the objective or chain does not fit a fast one), and
/// hands it to `with`.
pub fn build_into<'a, W: WithRule<'a>>(
    choice: RuleKind,
    (objective, engine): (&'a dyn Objective, &'a dyn Engine),
    chain: Chain,
    (theta, average): (Vec<f64>, Option<u64>),
    with: W,
) -> W::Output {
    let model = objective.margin_model();
    match (choice, model, chain.lazy_form()) {
        (RuleKind::LazySparse, Some(model), _) => {
            with.with(lazy_sparse::LazySparseRule::new(model, theta, average))
        }
        (RuleKind::LazyMomentum, Some(model), LazyForm::Momentum { mu, nesterov }) => with.with(
            lazy_momentum::LazyMomentumRule::new(model, theta, mu, nesterov),
        ),
        _ => with.with(generic::GenericRule::new(
            (objective, engine),
            chain,
            theta,
            average,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_for_every_combination() {
        let momentum = LazyForm::Momentum {
            mu: 0.9,
            nesterov: false,
        };
        for margin_model in [false, true] {
            for sparse in [false, true] {
                for small_batches in [false, true] {
                    for fast_rules in [false, true] {
                        for consensus in [false, true] {
                            for chain in [LazyForm::Identity, momentum, LazyForm::Other] {
                                for averaging in [false, true] {
                                    let s = Situation {
                                        margin_model,
                                        sparse,
                                        small_batches,
                                        fast_rules,
                                        consensus,
                                        chain,
                                        averaging,
                                    };
                                    let fits =
                                        margin_model && small_batches && fast_rules && !consensus;
                                    // The table, written out.
                                    let (rule, note) = match chain {
                                        _ if !fits => (RuleKind::Generic, false),
                                        LazyForm::Identity => (RuleKind::LazySparse, false),
                                        LazyForm::Momentum { .. } if !sparse => {
                                            (RuleKind::Generic, false)
                                        }
                                        LazyForm::Momentum { .. } if averaging => {
                                            (RuleKind::Generic, true)
                                        }
                                        LazyForm::Momentum { .. } => {
                                            (RuleKind::LazyMomentum, false)
                                        }
                                        LazyForm::Other => (RuleKind::Generic, true),
                                    };
                                    let got = choose(&s);
                                    assert_eq!(got.rule, rule, "{s:?}");
                                    assert_eq!(got.fallback.is_some(), note, "{s:?}: {got:?}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn rule_names_are_what_outcomes_report() {
        for (kind, name) in [
            (RuleKind::Generic, "generic"),
            (RuleKind::LazySparse, "lazy-sparse"),
            (RuleKind::LazyMomentum, "lazy-momentum"),
        ] {
            assert_eq!(kind.to_string(), name);
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
        }
    }
}

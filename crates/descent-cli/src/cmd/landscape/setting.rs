//! What a landscape is drawn for: a built-in problem, or the user's data.

use crate::args::LandscapeArgs;
use anyhow::{bail, Result};
use descent::data::Dataset;
use descent::engine::{evaluate, Serial};
use descent::fit::{load, Sources};
use descent::landscape::minima;
use descent::landscape::{Problem, Window};
use descent::objective::Objective;

/// What a landscape is drawn for: a built-in problem with its population, or the user's
/// training data with held-out data standing in for the population.
/// A landscape's model, data and reference surface.
pub struct Setting {
    /// The figure title.
    pub title: String,
    /// One sentence for the summary.
    pub description: String,
    /// The two-parameter training objective.
    pub objective: Box<dyn Objective>,
    /// The training data.
    pub data: Dataset,
    /// What stands for the real world.
    pub reference: Reference,
    /// The plotted region.
    pub window: Window,
    /// Where every method starts.
    pub start: [f64; 2],
    /// Names of the two parameters.
    pub axes: [String; 2],
}

/// The surface standing for the real world.
pub enum Reference {
    /// A built-in problem's population loss.
    Population(Problem),
    /// Held-out data's loss.
    HeldOut(Dataset),
}

impl Setting {
    /// The population loss (or the held-out loss standing in for it).
    pub fn reference_loss(&self, theta: &[f64]) -> f64 {
        match &self.reference {
            Reference::Population(p) => p.population_loss(theta),
            Reference::HeldOut(test) => {
                evaluate(&Serial, self.objective.as_ref(), test, theta).loss
            }
        }
    }

    pub fn reference_name(&self) -> &'static str {
        match self.reference {
            Reference::Population(_) => "population",
            Reference::HeldOut(_) => "held-out",
        }
    }

    pub fn built_in(args: &LandscapeArgs) -> Result<Setting> {
        let problem = Problem::builtin(&args.problem)?;
        let data = problem.sample(args.rows, args.bias, args.seed)?;
        let bias = if args.bias == 0.0 {
            "a fair sample".to_string()
        } else {
            format!("selection bias {}", args.bias)
        };
        Ok(Setting {
            title: format!(
                "{}: training loss (M = {}, {bias})",
                problem.name, args.rows
            ),
            description: problem.description.to_string(),
            objective: problem.model.objective(),
            data,
            window: problem.window,
            start: problem.start,
            axes: problem.model.parameter_names().map(String::from),
            reference: Reference::Population(problem),
        })
    }

    pub fn from_files(args: &LandscapeArgs, path: &std::path::Path) -> Result<Setting> {
        let read = args.how.read_options(None, true);
        let loaded = load(&Sources {
            data: path,
            read: &read,
            test: args.test.as_deref(),
            test_labels: None,
            standardize: args.standardize,
            model: args.model,
        })?;
        let objective = args.model.build(
            loaded.train.dim(),
            loaded.encoding.n_classes(),
            !args.no_intercept,
            0.0,
        );
        if objective.dim() != 2 {
            bail!(
                "a landscape needs a model with exactly 2 parameters (one feature with an intercept, or two features with --no-intercept); --model {} on {} has {}",
                args.model.label(), path.display(), objective.dim()
            );
        }
        let Some(test) = loaded.test else {
            bail!("--data needs --test: held-out data stands in for the population");
        };
        // A square window around the training minimum, wide enough to contain the origin.
        let f = |t: &[f64]| evaluate(&Serial, objective.as_ref(), &loaded.train, t).loss;
        let best = minima::nelder_mead(f, [0.0, 0.0], [1.0, 1.0]);
        let half = 1.5 * best[0].abs().max(best[1].abs()).max(0.7);
        let names = loaded
            .train
            .source()
            .feature_names
            .clone()
            .unwrap_or_default();
        let axes = if args.no_intercept {
            [0, 1].map(|j| {
                format!(
                    "weight of {}",
                    names.get(j).cloned().unwrap_or(format!("feature {j}"))
                )
            })
        } else {
            [
                format!("weight of {}", names.first().cloned().unwrap_or("x".into())),
                "intercept".to_string(),
            ]
        };
        Ok(Setting {
            title: format!(
                "{} on {}: training loss (M = {})",
                args.model.label(),
                path.display(),
                loaded.train.len()
            ),
            description: format!(
                "{} on {}, held-out loss from {}",
                args.model.label(),
                path.display(),
                args.test
                    .as_deref()
                    .map_or(String::new(), |p| p.display().to_string())
            ),
            objective,
            data: loaded.train,
            reference: Reference::HeldOut(test),
            window: Window {
                a: (best[0] - half, best[0] + half),
                b: (best[1] - half, best[1] + half),
            },
            start: [0.0, 0.0],
            axes,
        })
    }
}

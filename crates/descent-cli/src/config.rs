//! Raw `train` flags become a checked [`TrainConfig`] here, once; after this, code trusts its
//! inputs. Each numeric flag's range is checked as clap reads it ([`crate::flag`]); what is
//! checked here is how flags combine.

use crate::args::TrainArgs;
use anyhow::{bail, Result};
use descent::checkpoint::Every;
use descent::divergence::OnDivergence;
use descent::engine::Engine;
use descent::fit::{Mode, Optimizer, RunSpec, TraceSpec};
use descent::objective::ModelKind;
use descent::regime::Regime;
use descent::schedule::ScheduleSpec;
use std::path::PathBuf;

/// Checked settings of one `descent train` run: the library's [`RunSpec`] and what only the
/// binary uses.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// The run.
    pub spec: RunSpec,
    /// Print the results as one JSON object.
    pub json: bool,
    /// No progress bar.
    pub quiet: bool,
    /// `--checkpoint PATH`.
    pub checkpoint: Option<PathBuf>,
    /// `--checkpoint-every` (or its default).
    pub checkpoint_every: Every,
}

/// How often a run with --checkpoint saves when --checkpoint-every is not given.
const DEFAULT_CHECKPOINT_EVERY: Every = Every::Seconds(600.0);

impl TrainConfig {
    /// Checks every flag.
    pub fn from_args(a: TrainArgs) -> Result<Self> {
        if a.nesterov && a.momentum <= 0.0 {
            bail!("--nesterov needs --momentum > 0 (e.g. --momentum 0.9)");
        }
        let threads = threads(a.threads);
        // The schedule is checked now; `step` is resolved once M is known.
        let schedule: ScheduleSpec = a.schedule.parse()?;
        schedule.resolve(a.lr, a.l2, 1)?;
        if a.stream && a.standardize {
            bail!("--standardize needs every row before training; with --stream, standardize the file beforehand");
        }
        if a.hogwild {
            let clash = [
                (a.method != Regime::Sgd, "--method other than sgd"),
                (a.momentum > 0.0, "--momentum"),
                (a.average.is_some(), "--average"),
                (a.stream, "--stream"),
                (a.trace.is_some(), "--trace"),
                (
                    matches!(a.setup.model, ModelKind::Softmax | ModelKind::Mlp(_)),
                    "--model softmax or mlp",
                ),
            ];
            if let Some((_, what)) = clash.iter().find(|(c, _)| *c) {
                bail!("--hogwild runs plain SGD of a linear model (least-squares, logistic, hinge) from memory; it cannot be combined with {what}");
            }
        }
        let outputs = [
            ("--trace", &a.trace),
            ("--save", &a.save),
            ("--checkpoint", &a.checkpoint),
        ];
        for (i, (name, path)) in outputs.iter().enumerate() {
            for (other, other_path) in &outputs[i + 1..] {
                if path.is_some() && path == other_path {
                    bail!("{name} and {other} name the same file");
                }
            }
        }
        if a.checkpoint_every.is_some() && a.checkpoint.is_none() && a.resume.is_none() {
            bail!("--checkpoint-every needs --checkpoint PATH (where to write the checkpoints)");
        }
        let mpi = a.engine == "mpi";
        if mpi {
            let clash = [
                (a.hogwild, "--hogwild"),
                (a.stream, "--stream"),
                (a.checkpoint.is_some(), "--checkpoint"),
                (a.resume.is_some(), "--resume"),
            ];
            if let Some((_, what)) = clash.iter().find(|(c, _)| *c) {
                bail!("--engine mpi cannot be combined with {what} (not supported over MPI yet)");
            }
        }
        if a.average_every.is_some() {
            if !mpi {
                bail!(
                    "--average-every averages the models of MPI processes: it needs --engine mpi"
                );
            }
            if a.method == Regime::Batch
                || a.average.is_some()
                || a.on_divergence != OnDivergence::Stop
            {
                bail!("--average-every (local SGD) runs sgd or minibatch:B on each process, without --average or --on-divergence halve-lr");
            }
        }
        if a.hogwild && (a.checkpoint.is_some() || a.resume.is_some()) {
            bail!("--hogwild runs are not deterministic, so they cannot be checkpointed and resumed exactly: drop --checkpoint/--resume or --hogwild");
        }
        let mode = if mpi {
            Mode::Mpi {
                average_every: a.average_every,
            }
        } else if a.hogwild {
            Mode::Hogwild
        } else if a.stream {
            Mode::Stream { buffer: a.buffer }
        } else {
            Mode::Local
        };
        let optimizer = if a.momentum > 0.0 {
            Optimizer::Momentum {
                mu: a.momentum,
                nesterov: a.nesterov,
            }
        } else {
            Optimizer::Plain
        };
        let spec = RunSpec {
            read: a.setup.input.how.read_options(a.setup.features, true),
            data: a.setup.input.data,
            test: a.setup.test,
            test_labels: a.setup.test_labels,
            standardize: a.standardize,
            model: a.setup.model,
            intercept: !a.no_intercept,
            l2: a.l2,
            regime: a.method,
            sampling: a.sampling,
            lr: a.lr,
            schedule,
            optimizer,
            average: a.average,
            epochs: a.epochs,
            seed: a.seed,
            threads,
            mode,
            on_divergence: a.on_divergence,
            save: a.save,
            trace: a.trace.map(|path| TraceSpec {
                path,
                every: a.trace_every,
                seconds: !a.no_trace_time,
            }),
            checkpoint: None,
            resume: a.resume,
            replace: a.force,
        };
        Ok(TrainConfig {
            spec,
            json: a.json,
            quiet: a.quiet,
            checkpoint: a.checkpoint,
            checkpoint_every: a.checkpoint_every.unwrap_or(DEFAULT_CHECKPOINT_EVERY),
        })
    }
}

/// `--threads` (already checked by [`crate::flag::threads`]), else every core.
pub fn threads(flag: Option<usize>) -> usize {
    flag.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The engine for `threads` threads: serial for one.
pub fn engine(threads: usize) -> Result<Box<dyn Engine>> {
    Ok(descent::engine::with_threads(threads)?)
}

//! `descent train --engine mpi`: [`descent::fit`] on every process of an MPI job, with the
//! job as its [`Cluster`](descent::fit::Cluster) (`descent::fit`'s cluster module says how
//! the data is sharded and what is collective). Only rank 0 prints results. A process that
//! cannot load its shard makes every process exit with the failures listed; an error later
//! ends the whole job (MPI_Abort), so no process waits forever.

use super::train::{print_summary, report};
use crate::config::TrainConfig;
use crate::progress::Progress;
use anyhow::{anyhow, Result};
use descent::fit::{fit, Hooks, Mode};
use descent::observe::Observer;
use descent_mpi::Mpi;
use serde_json::{json, Value};

/// Runs `descent train --engine mpi` on this process: [`descent::fit`] with the MPI job.
pub fn run(config: TrainConfig) -> Result<()> {
    let mpi = Mpi::init().map_err(|e| anyhow!(e))?;
    let leader = mpi.rank() == 0;
    let mut progress = Progress::new(config.quiet || config.json || !leader);
    let observers: Vec<&mut dyn Observer> = vec![&mut progress];
    let hooks = Hooks {
        observers,
        interrupt: None,
        cluster: Some(&mpi),
    };
    let fitted = match fit(&config.spec, hooks) {
        Ok(fitted) => fitted,
        Err(descent::Error::JobStart { failures }) => {
            // Every process prints the failures before any exits (mpirun ends the job at
            // the first non-zero exit).
            eprintln!(
                "error (rank {}): the MPI job could not start:\n{}",
                mpi.rank(),
                crate::explain::flags(&failures)
            );
            mpi.barrier();
            return Err(super::Reported.into());
        }
        Err(error) => {
            // A later error is this process's alone: end the whole job, so that no process
            // waits forever in a collective.
            eprintln!(
                "error (rank {}): {}",
                mpi.rank(),
                crate::explain::chain(&error.into())
            );
            mpi.abort(2);
        }
    };
    if !leader {
        return Ok(());
    }
    let spec = &config.spec;
    if config.json {
        let mut report = report(spec, &fitted);
        report.insert("ranks".into(), json!(mpi.size()));
        report.insert(
            "algorithm".into(),
            json!(match spec.mode {
                Mode::Mpi {
                    average_every: Some(k),
                } => format!("local SGD, models averaged every {k} updates"),
                _ => "synchronous data-parallel".into(),
            }),
        );
        println!("{}", Value::Object(report));
    } else {
        let outcome = &fitted.outcome;
        print_summary(
            spec,
            outcome,
            &fitted.train,
            fitted.test.as_ref(),
            fitted.load_seconds,
        );
        println!("{} ranks: {}", mpi.size(), fitted.engine);
    }
    Ok(())
}

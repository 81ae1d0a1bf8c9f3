//! `descent`: train linear models by full-batch, mini-batch or stochastic gradient descent.
//!
//! `main → args (raw flags) → config (checked) → cmd::<subcommand>`; errors print their
//! chain on stderr and exit with status 2.

#![deny(missing_docs)]

mod args;
mod cmd;
mod config;
mod demo;
mod explain;
mod failpoint;
mod flag;
mod methods;
mod progress;
mod recorder;
mod resume;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let result = resume::expand(std::env::args_os().collect()).and_then(|argv| {
        let cli = args::Cli::parse_from(&argv);
        cmd::run(cli, &argv)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.downcast_ref::<cmd::Reported>().is_some() => ExitCode::from(2),
        Err(error) => {
            eprintln!("error: {}", explain::describe(error.as_ref()));
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {}", explain::describe(cause));
            }
            let interrupted = error.chain().any(|e| {
                matches!(
                    descent::Error::of(e),
                    Some(descent::Error::Interrupted { .. })
                )
            });
            // 130: the shell's code for a process ended by Ctrl-C.
            ExitCode::from(if interrupted { 130 } else { 2 })
        }
    }
}

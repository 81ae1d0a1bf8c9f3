//! `descent`: train linear models by full-batch, mini-batch or stochastic gradient descent.
//!
//! `main → args (raw flags) → config (checked) → cmd::<subcommand>`; errors print their
//! chain on stderr and exit with status 2.

#![deny(missing_docs)]

mod args;
mod cmd;
mod config;
mod demo;
mod methods;
mod progress;
mod recorder;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

//! One file per subcommand.

mod bench;
mod compare;
mod convert;
mod gen;
mod inspect;
mod landscape;
pub mod load;
mod predict;
mod train;

use crate::args::{Cli, Command};
use anyhow::Result;

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => train::run(crate::config::TrainConfig::from_args(*args)?),
        Command::Predict(args) => predict::run(args),
        Command::Gen(args) => gen::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Landscape(args) => landscape::run(args),
        Command::Compare(args) => compare::run(*args),
        Command::Demo(args) => crate::demo::run(args),
        Command::Bench(args) => bench::run(args),
    }
}

//! One file per subcommand.

mod bench;
mod compare;
mod convert;
#[cfg(feature = "mpi")]
mod distributed;
mod gen;
mod inspect;
pub mod landscape;
mod predict;
mod train;

use crate::args::{Cli, Command};
use anyhow::Result;
use descent::output::{Existing, OutputDir};

/// An error already printed (by every process of an MPI job): exit non-zero, print nothing
/// more.
#[derive(Debug)]
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reported above")
    }
}

impl std::error::Error for Reported {}

/// Starts a report folder (`demo`, `compare`, `landscape`): created whole at the end, its
/// parent folders now; an existing folder is replaced only with `--force`.
pub fn report_folder(path: &std::path::Path, force: bool) -> Result<OutputDir> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
    }
    Ok(OutputDir::create(path, Existing::from_force(force))?)
}

/// Runs the chosen subcommand; `argv` is the command line it was parsed from.
pub fn run(cli: Cli, argv: &[std::ffi::OsString]) -> Result<()> {
    match cli.command {
        Command::Train(args) => train::run(crate::config::TrainConfig::from_args(*args)?, argv),
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

/// `v` in the shortest form that reads back as the same number: plain decimals between 10⁻⁴
/// and 10¹⁶, exponent form (`1e308`) outside.
pub fn shortest(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e16).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod shortest_tests {
    use super::shortest;

    #[test]
    fn numbers_print_short_and_read_back_the_same() {
        for v in [1e308, 1.5e-7, 0.25, 123456.0, 2.0e16, -3e-5, 0.0] {
            let text = shortest(v);
            assert!(text.len() <= 8, "{v}: {text}");
            assert_eq!(text.parse::<f64>().unwrap(), v, "{text}");
        }
        assert_eq!(shortest(1e308), "1e308");
    }
}

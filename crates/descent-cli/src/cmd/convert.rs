//! `descent convert IN OUT`: any input to the binary cache.

use crate::args::ConvertArgs;
use anyhow::{Context, Result};
use descent::data::{self, cache};
use descent::output::Existing;
use std::time::Instant;

/// Runs `descent convert`.
pub fn run(args: ConvertArgs) -> Result<()> {
    let started = Instant::now();
    let existing = Existing::from_force(args.force);
    existing.check(&args.output)?;
    let options = args.how.read_options(args.features, true);
    let data = data::read(&args.input, &options)
        .with_context(|| format!("cannot load {}", args.input.display()))?;
    let loaded = started.elapsed().as_secs_f64();
    cache::write(&data, &args.output, existing)
        .with_context(|| format!("cannot write the cache {}", args.output.display()))?;
    eprintln!(
        "{} → {}: {} rows, {} features, {} stored values (read {:.2} s, total {:.2} s)",
        args.input.display(),
        args.output.display(),
        data.len(),
        data.dim(),
        data.stored(),
        loaded,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

//! `descent gen`: synthetic data written as LibSVM or CSV, a group of blocks at a time so
//! memory stays bounded, atomically.

use crate::args::GenArgs;
use anyhow::{Context, Result};
use descent::data::synth::{self, Kind, Spec, BLOCK_ROWS};
use descent::data::{write, Format};
use descent::landscape::{Problem, PROBLEMS};
use descent::output::{AtomicFile, Existing};
use rayon::prelude::*;
use std::time::Instant;

/// Runs `descent gen`.
pub fn run(args: GenArgs) -> Result<()> {
    let started = Instant::now();
    Existing::from_force(args.force).check(&args.out)?;
    if PROBLEMS.contains(&args.kind.as_str()) {
        return write_problem(&args, started);
    }
    let kind: Kind = args.kind.parse().map_err(|_| {
        anyhow::anyhow!(
            "unknown KIND '{}': one of {}, {}",
            args.kind,
            Kind::NAMES,
            PROBLEMS.join(", ")
        )
    })?;
    let spec = Spec {
        kind,
        rows: args.rows,
        features: args
            .features
            .unwrap_or(if kind == Kind::Sparse { 47_152 } else { 20 }),
        nnz: args.nnz,
        noise: args.noise.unwrap_or(match kind {
            Kind::Sparse => 0.05,
            Kind::DenseRegression => 0.5,
            Kind::DenseClassification => 0.0,
        }),
        seed: args.seed,
    };
    let is_cache_name = args.out.extension().is_some_and(|e| e == "descent");
    spec.validate()?;
    let format = args.format.unwrap_or(if is_cache_name {
        Format::Cache
    } else {
        Format::from_path(&args.out)
    });
    match format {
        Format::Cache => return write_cache(&spec, &args, started),
        Format::Npy => anyhow::bail!(
            "gen writes csv, libsvm or a cache folder (--format cache; NumPy arrays are inside it)"
        ),
        Format::Csv | Format::LibSvm => {}
    }
    let mut file = AtomicFile::create(&args.out, Existing::from_force(args.force))?;
    if format == Format::Csv {
        file.write_all(write::csv_header(spec.features).as_bytes())?;
    }
    let blocks = spec.rows.div_ceil(BLOCK_ROWS);
    let group = 4 * rayon::current_num_threads();
    let (mut bytes, mut nonzeros) = (0usize, 0usize);
    for first in (0..blocks).step_by(group) {
        let parts = synth::generate_blocks(&spec, first..(first + group).min(blocks))?;
        let texts: Vec<String> = parts
            .par_iter()
            .map(|block| {
                let mut text = String::new();
                if format == Format::Csv {
                    write::csv(block, &mut text);
                } else {
                    write::libsvm(block, &mut text);
                }
                text
            })
            .collect();
        for (block, text) in parts.iter().zip(&texts) {
            nonzeros += block.stored();
            bytes += text.len();
            file.write_all(text.as_bytes())?;
        }
    }
    file.commit()
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "wrote {}: {} rows, {} features, {} stored values, {:.1} MB in {:.2} s",
        args.out.display(),
        spec.rows,
        spec.features,
        nonzeros,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Generates in memory and writes a cache folder.
fn write_cache(spec: &Spec, args: &GenArgs, started: Instant) -> Result<()> {
    let data = synth::generate(spec)?;
    descent::data::cache::write(&data, &args.out, Existing::from_force(args.force))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "wrote {}: {} rows, {} features, {} stored values in {:.2} s",
        args.out.display(),
        data.len(),
        data.dim(),
        data.stored(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A landscape problem's training sample (x, y), with its selection bias.
fn write_problem(args: &GenArgs, started: Instant) -> Result<()> {
    let problem = Problem::builtin(&args.kind)?;
    let data = problem.sample(args.rows, args.bias, args.seed)?;
    let format = args.format.unwrap_or_else(|| Format::from_path(&args.out));
    let mut text = String::new();
    match format {
        Format::Csv => {
            text.push_str("label,x\n");
            write::csv(&data, &mut text);
        }
        Format::LibSvm => write::libsvm(&data, &mut text),
        Format::Npy | Format::Cache => {
            anyhow::bail!("{} samples are written as CSV or LibSVM", args.kind)
        }
    }
    descent::output::write(&args.out, text.as_bytes(), Existing::from_force(args.force))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "wrote {}: {} samples of the {} problem (bias {}) in {:.2} s",
        args.out.display(),
        data.len(),
        args.kind,
        args.bias,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

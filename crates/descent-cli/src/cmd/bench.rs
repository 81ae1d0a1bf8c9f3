//! `descent bench`: how fast this machine computes gradients, against how fast it can read
//! memory. Dense and sparse logistic-regression gradients for batches of 1 to M samples on one
//! thread and on all threads; each row reports samples/s, GB/s of feature data read and the
//! fraction of the measured read bandwidth for that thread count (the higher of measurements
//! before and after the passes). Then the dense full batch over rows that fit in cache (the
//! arithmetic's own pace, beside the memory's). Then how fast training runs on the same data
//! (one thread, shuffled) with SGD and mini-batches of 8, 64 and 512: whole updates, which on
//! sparse rows cost O(nnz) and form no d-long gradient (a batch gradient of one sample above
//! does).

use crate::args::BenchArgs;
use anyhow::{bail, Result};
use descent::bench::{gradient_throughput, processor, read_bandwidths, training_throughput};
use descent::data::synth::{generate, Kind, Spec};
use descent::data::Dataset;
use descent::engine::{block_rows, Engine, Serial, Threads};
use descent::labels::LabelEncoding;
use descent::objective::{ModelKind, Objective};
use descent::regime::Regime;
use serde_json::json;

/// The regimes whose training speed is measured (one thread, shuffled).
const TRAINING_REGIMES: [Regime; 4] = [
    Regime::Sgd,
    Regime::MiniBatch(8),
    Regime::MiniBatch(64),
    Regime::MiniBatch(512),
];

/// Runs `descent bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    if !(args.budget > 0.0 && args.budget.is_finite())
        || args.dense_rows == 0
        || args.dense_features == 0
    {
        bail!("--budget, --dense-rows and --dense-features must be > 0");
    }
    let threads = crate::config::threads(None);
    let before = read_bandwidths(512 << 20, threads, 5)?;
    let many = Threads::new(threads)?;
    let engines: [(&dyn Engine, usize); 2] = [(&Serial, 1), (&many, threads)];
    let mut rows = Vec::new();
    let mut training = Vec::new();
    let mut sets = vec![("dense", dense_spec(args.dense_rows, args.dense_features, 1))];
    if args.sparse_rows > 0 {
        sets.push((
            "sparse",
            Spec {
                kind: Kind::Sparse,
                rows: args.sparse_rows,
                features: 47_152,
                nnz: 76,
                noise: 0.05,
                seed: 1,
            },
        ));
    }
    for (name, spec) in sets {
        let (data, objective) = logistic_problem(&spec)?;
        // Rows of the engine's fixed blocks for this gradient's sums (its entries, the
        // intercept and the loss): a batch of at most this many is one block, one thread.
        let block = block_rows(objective.dim() + 1);
        // Bytes read per sample: f32 values, plus u32 indices for sparse rows.
        let bytes_per_sample =
            data.stored() as f64 / data.len() as f64 * if data.is_sparse() { 8.0 } else { 4.0 };
        for (engine, t) in &engines {
            for b in [1, 8, 64, 512, 4096, data.len()] {
                let sps = gradient_throughput(*engine, objective.as_ref(), &data, b, args.budget);
                let gbs = sps * bytes_per_sample / 1e9;
                rows.push(json!({
                    "data": name,
                    "rows": data.len(),
                    "features": data.dim(),
                    "threads": t,
                    "batch": b,
                    "samples_per_second": sps,
                    "gb_per_second": gbs,
                    "block_rows": block,
                }));
            }
        }
        for regime in TRAINING_REGIMES {
            let sps = training_throughput(objective.as_ref(), &data, regime, 0.01, args.budget)?;
            let gbs = sps * bytes_per_sample / 1e9;
            training.push(json!({
                "data": name,
                "rows": data.len(),
                "features": data.dim(),
                "threads": 1,
                "method": regime.to_string(),
                "samples_per_second": sps,
                "gb_per_second": gbs,
            }));
        }
    }
    // The bandwidth again after the passes, and the higher of the two for every fraction: on
    // a shared machine it drifts, and a fraction of the lower figure would flatter.
    let after = read_bandwidths(512 << 20, threads, 5)?;
    let bandwidth = [before[0].max(after[0]), before[1].max(after[1])];
    for row in rows.iter_mut().chain(&mut training) {
        let k = usize::from(row["threads"].as_u64() != Some(1));
        let gbs = row["gb_per_second"].as_f64().unwrap_or(0.0);
        row["bandwidth_fraction"] = json!(gbs / bandwidth[k]);
    }
    let in_cache = dense_in_cache(&args, bandwidth[0])?;
    let (cpu, kernels) = (processor(), descent::kernels::build());
    let report = json!({
        "processor": cpu,
        "dense_kernels": kernels,
        "threads": threads,
        "read_bandwidth_gb_per_second": {
            "one_thread": bandwidth[0],
            "all_threads": bandwidth[1],
            "before": { "one_thread": before[0], "all_threads": before[1] },
            "after": { "one_thread": after[0], "all_threads": after[1] },
        },
        "measurements": rows,
        "training": training,
        "dense_in_cache": in_cache,
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    println!("processor: {cpu}, {threads} threads (dense kernels: {kernels})");
    println!(
        "memory read bandwidth: {:.1} GB/s on 1 thread, {:.1} GB/s on {threads} (the higher of \
         {:.1}/{:.1} before the passes and {:.1}/{:.1} after)",
        bandwidth[0], bandwidth[1], before[0], before[1], after[0], after[1]
    );
    println!(
        "{:<8} {:>8} {:>8} {:>9} {:>14} {:>8} {:>12}",
        "data", "threads", "batch", "", "samples/s", "GB/s", "of bandwidth"
    );
    for r in report["measurements"].as_array().into_iter().flatten() {
        let batch = r["batch"].as_u64().unwrap_or(0);
        let shown = if batch == r["rows"].as_u64().unwrap_or(0) {
            "M".to_string()
        } else {
            batch.to_string()
        };
        println!(
            "{:<8} {:>8} {:>8} {:>14.0} {:>8.2} {:>12.0}%",
            r["data"].as_str().unwrap_or(""),
            r["threads"].as_u64().unwrap_or(0),
            shown,
            r["samples_per_second"].as_f64().unwrap_or(0.0),
            r["gb_per_second"].as_f64().unwrap_or(0.0),
            100.0 * r["bandwidth_fraction"].as_f64().unwrap_or(0.0)
        );
    }
    if threads > 1 {
        let mut seen = Vec::new();
        for r in report["measurements"].as_array().into_iter().flatten() {
            let (name, block) = (r["data"].as_str().unwrap_or(""), r["block_rows"].as_u64());
            if !seen.contains(&name) {
                seen.push(name);
                println!(
                    "  {name}: batches of up to {} samples are one engine block: one thread \
                     (blocks are fixed so that results do not depend on the thread count)",
                    block.unwrap_or(0)
                );
            }
        }
    }
    println!(
        "dense full batch with its {} rows in cache (about 1 MiB), 1 thread: {:.2} GB/s = {:.0}% \
         of one thread's memory bandwidth (the arithmetic's own pace: from memory a pass is no \
         faster than the slower of the two)",
        in_cache["rows"],
        in_cache["gb_per_second"].as_f64().unwrap_or(0.0),
        100.0 * in_cache["bandwidth_fraction"].as_f64().unwrap_or(0.0)
    );
    println!(
        "training, 1 thread, shuffled (each update's gradient and step; O(nnz) per sample on \
         sparse rows for sgd and batches up to {}):",
        descent::step::MAX_BATCH
    );
    println!(
        "{:<8} {:>17} {:>14} {:>8} {:>12}",
        "data", "method", "samples/s", "GB/s", "of bandwidth"
    );
    for r in report["training"].as_array().into_iter().flatten() {
        println!(
            "{:<8} {:>17} {:>14.0} {:>8.2} {:>12.0}%",
            r["data"].as_str().unwrap_or(""),
            r["method"].as_str().unwrap_or(""),
            r["samples_per_second"].as_f64().unwrap_or(0.0),
            r["gb_per_second"].as_f64().unwrap_or(0.0),
            100.0 * r["bandwidth_fraction"].as_f64().unwrap_or(0.0)
        );
    }
    Ok(())
}

/// The dense full-batch gradient on one thread over rows that fit in cache (about 1 MiB of
/// them, the benchmark's width): how fast the arithmetic alone goes, against `bandwidth`, one
/// thread's memory read bandwidth.
fn dense_in_cache(args: &BenchArgs, bandwidth: f64) -> Result<serde_json::Value> {
    let features = args.dense_features;
    let rows = ((1 << 20) / (4 * features)).max(64);
    let (data, objective) = logistic_problem(&dense_spec(rows, features, 2))?;
    let sps = gradient_throughput(&Serial, objective.as_ref(), &data, data.len(), args.budget);
    let gbs = sps * (4 * features) as f64 / 1e9;
    Ok(json!({
        "rows": data.len(),
        "features": features,
        "samples_per_second": sps,
        "gb_per_second": gbs,
        "bandwidth_fraction": gbs / bandwidth,
    }))
}

/// Generated dense classification data of `rows` × `features`.
fn dense_spec(rows: usize, features: usize, seed: u64) -> Spec {
    Spec {
        kind: Kind::DenseClassification,
        rows,
        features,
        nnz: 0,
        noise: 0.0,
        seed,
    }
}

/// The data `spec` generates, its labels encoded for logistic regression, and that unregularized
/// logistic objective (with an intercept).
fn logistic_problem(spec: &Spec) -> Result<(Dataset, Box<dyn Objective>)> {
    let mut data = generate(spec)?;
    LabelEncoding::fit(ModelKind::Logistic, &data)?.encode(&mut data)?;
    let objective = ModelKind::Logistic.build(data.dim(), 2, true, 0.0);
    Ok((data, objective))
}

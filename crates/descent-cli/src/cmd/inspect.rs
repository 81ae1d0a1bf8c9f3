//! `descent inspect`: the first thing to run on a new file.

use crate::args::InspectArgs;
use anyhow::{Context, Result};
use descent::data;
use descent::data::summary::Summary;
use serde_json::json;
use std::time::Instant;

/// Runs `descent inspect`.
pub fn run(args: InspectArgs) -> Result<()> {
    let path = &args.input.data;
    let options = args.input.how.read_options(args.features, false);
    let started = Instant::now();
    let data =
        data::read(path, &options).with_context(|| format!("cannot load {}", path.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let bytes = input_bytes(path, args.input.how.labels.as_deref());
    let summary = Summary::of(&data);
    let mb_per_second = bytes as f64 / 1e6 / seconds.max(1e-9);
    if args.json {
        let mut report = serde_json::to_value(&summary)?;
        report["path"] = json!(path.display().to_string());
        report["bytes"] = json!(bytes);
        report["labelled"] = json!(data.is_labelled());
        report["load_seconds"] = json!(seconds);
        report["mb_per_second"] = json!(mb_per_second);
        println!("{report}");
        return Ok(());
    }
    let s = &summary;
    println!("{}", path.display());
    println!("  rows         {}", s.rows);
    println!(
        "  features     {} ({} used), {}",
        s.features,
        s.features_used,
        if s.sparse { "sparse" } else { "dense" }
    );
    println!(
        "  nonzeros     {} (density {}; per row min {} / mean {:.1} / max {})",
        s.nonzeros,
        percentage(s.density),
        s.nonzeros_per_row[0],
        s.nonzeros_per_row[1],
        s.nonzeros_per_row[2]
    );
    println!(
        "  values       [{}, {}]",
        s.value_range[0], s.value_range[1]
    );
    if !data.is_labelled() {
        println!("  labels       none (no '{}' column)", args.input.how.label);
    } else if let Some(counts) = &s.labels.counts {
        let list: Vec<String> = counts
            .iter()
            .map(|c| format!("{}: {}", c.label, c.count))
            .collect();
        println!(
            "  labels       {} classes: {}",
            s.labels.distinct,
            list.join(", ")
        );
    } else {
        let [lo, mean, hi] = s.labels.min_mean_max;
        println!(
            "  labels       {} distinct, min {lo} / mean {mean:.4} / max {hi}",
            s.labels.distinct
        );
    }
    println!(
        "  loaded       {:.1} MB in {:.3} s ({:.0} MB/s)",
        bytes as f64 / 1e6,
        seconds,
        mb_per_second
    );
    Ok(())
}

/// Bytes read: the file, a cache folder's files, or a NumPy pair.
fn input_bytes(path: &std::path::Path, labels: Option<&std::path::Path>) -> u64 {
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let own = if path.is_dir() {
        std::fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| size(&e.path())).sum())
            .unwrap_or(0)
    } else {
        size(path)
    };
    own + labels.map_or(0, size)
}

/// A fraction as a percentage with three significant digits (`0.161%`, `100%`).
fn percentage(fraction: f64) -> String {
    let p = 100.0 * fraction;
    if p == 0.0 || !p.is_finite() {
        return format!("{p}%");
    }
    let decimals = (2 - p.abs().log10().floor() as i32).max(0) as usize;
    format!("{p:.decimals$}%")
}

#[cfg(test)]
mod tests {
    #[test]
    fn density_reads_as_a_percentage() {
        assert_eq!(super::percentage(0.001612), "0.161%");
        assert_eq!(super::percentage(1.0), "100%");
        assert_eq!(super::percentage(0.5), "50.0%");
        assert_eq!(super::percentage(0.0), "0%");
    }
}

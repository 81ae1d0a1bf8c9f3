//! Measurements of this machine: memory read bandwidth, gradient throughput, and SGD's update
//! rate. Used by `descent bench` and the demo's hardware experiment. Timings are measured,
//! never asserted.

use crate::data::Dataset;
use crate::engine::{batch_sums, Engine};
use crate::objective::Objective;
use rayon::prelude::*;
use std::time::Instant;

/// Sums `values` with eight independent accumulators (so the loop is bound by memory, not by
/// the latency of dependent additions), asking for the line [`AHEAD`] bytes on when `ahead`.
fn sum_lanes(values: &[f32], ahead: bool) -> f64 {
    let mut acc = [0.0f64; 8];
    // One cache line (16 floats) at a time.
    let mut lines = values.chunks_exact(16);
    for (n, line) in (&mut lines).enumerate() {
        if ahead {
            if let Some(next) = values.get(16 * n + AHEAD / 4) {
                crate::data::prefetch::into_l2((next as *const f32).cast());
            }
        }
        for k in 0..8 {
            acc[k] += f64::from(line[k]) + f64::from(line[k + 8]);
        }
    }
    acc.iter().sum::<f64>() + lines.remainder().iter().map(|&v| f64::from(v)).sum::<f64>()
}

/// How far ahead the read-bandwidth loop asks for memory. A core's own hardware prefetcher
/// does not keep enough reads in flight on every machine: on a 2-core Xeon VM, summing 512 MB
/// in 4 KiB pages read 8.0 GB/s on one thread without this, 12.0 GB/s asking 4 KiB ahead into
/// L2 (2 KiB: 10.6, 8 KiB: 11.9), and 17-18 GB/s with the array in huge pages ([`test_array`],
/// as descent's data sets are), where a prefetch across a page boundary no longer waits for a
/// page-table walk (34-36 GB/s on two threads; the same for 256 MB and 2 GB, so not the L3).
const AHEAD: usize = 4096;

/// Best-of-`repeats` read bandwidth in GB/s of summing `values` on `threads` threads: the
/// better of a plain loop and one that asks for memory ahead, so the figure is what this
/// machine's cores can read, not what one way of reading gets.
pub fn read_bandwidth(values: &[f32], threads: usize, repeats: usize) -> crate::Result<f64> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| crate::Error::config("--threads", threads, e.to_string()))?;
    let mut best = f64::INFINITY;
    let mut sink = 0.0f64;
    for _ in 0..repeats.max(1) {
        for ahead in [false, true] {
            let started = Instant::now();
            let sum: f64 = pool.install(|| {
                values
                    .par_chunks(1 << 18)
                    .map(|c| sum_lanes(c, ahead))
                    .sum()
            });
            best = best.min(started.elapsed().as_secs_f64());
            sink += sum;
        }
    }
    std::hint::black_box(sink);
    Ok((values.len() * 4) as f64 / best / 1e9)
}

/// This machine's processor, as the operating system names it (Linux's `/proc/cpuinfo`
/// "model name"), else its architecture: measurements differ between machines that both
/// call themselves x86_64 with 2 cores, so reports say which one they were made on.
pub fn processor() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| model_name(&info))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The first "model name" in the text of `/proc/cpuinfo`.
fn model_name(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name" && !value.trim().is_empty()).then(|| value.trim().to_string())
    })
}

/// A test array of `bytes` bytes of nonzero f32 values, in huge pages where the system has them.
pub fn test_array(bytes: usize) -> Vec<f32> {
    // In huge pages, as descent's data sets are (`data::pages`).
    crate::data::pages::collect_huge((0..bytes / 4).map(|i| (i % 1000) as f32 * 1e-3 + 1.0))
}

/// Sample gradients per second for batches of `b` consecutive samples: the best pass over the
/// data after a warm-up, passes repeated until `budget` seconds are spent (at least 3).
pub fn gradient_throughput(
    engine: &dyn Engine,
    objective: &dyn Objective,
    data: &Dataset,
    b: usize,
    budget: f64,
) -> f64 {
    let order: Vec<usize> = (0..data.len()).collect();
    let theta = vec![0.01; objective.dim()];
    let mut sums = vec![0.0; objective.dim() + 1];
    let pass = |sums: &mut Vec<f64>| {
        let started = Instant::now();
        for batch in order.chunks(b.max(1)) {
            batch_sums(engine, objective, data, &theta, batch, sums);
        }
        started.elapsed().as_secs_f64()
    };
    pass(&mut sums);
    let (mut best, mut spent, mut passes) = (f64::INFINITY, 0.0, 0);
    while passes < 3 || spent < budget {
        let t = pass(&mut sums);
        best = best.min(t);
        spent += t;
        passes += 1;
    }
    std::hint::black_box(&sums);
    data.len() as f64 / best
}

/// Training samples per second in `regime`: shuffled epochs through the trainer (each update's
/// gradient and step; the O(nnz) lazy path on sparse rows of L2 linear models for SGD and
/// batches of up to [`MAX_BATCH`](crate::lazy::MAX_BATCH), the generic step otherwise) at a
/// constant rate `eta`, one thread, the best epoch's training time after a warm-up, epochs
/// repeated until `budget` seconds are spent (at least 3). Unlike [`gradient_throughput`], this
/// counts the whole update: for SGD and small batches no d-long gradient is formed.
pub fn training_throughput(
    objective: &dyn Objective,
    data: &Dataset,
    regime: crate::regime::Regime,
    eta: f64,
    budget: f64,
) -> crate::Result<f64> {
    let epoch = |seed: u64| -> crate::Result<f64> {
        let outcome = crate::train::Trainer::new(objective, data)
            .regime(regime)
            .sampling(crate::regime::Sampling::Shuffle)
            .schedule(crate::schedule::Schedule::Constant { eta0: eta })
            .seed(seed)
            .epochs(1)
            .run(&mut [])?;
        Ok(outcome.seconds)
    };
    epoch(0)?;
    let (mut best, mut spent, mut passes) = (f64::INFINITY, 0.0, 0u64);
    while passes < 3 || spent < budget {
        let t = epoch(passes + 1)?;
        best = best.min(t);
        spent += t;
        passes += 1;
    }
    Ok(data.len() as f64 / best.max(f64::MIN_POSITIVE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_processor_is_named_from_cpuinfo() {
        let info = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(
            model_name(info).as_deref(),
            Some("Intel(R) Xeon(R) Processor")
        );
        assert_eq!(model_name("processor\t: 0\nmodel name\t:\n"), None);
    }
}

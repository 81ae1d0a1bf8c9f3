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
                crate::kernels::prefetch::into_l2((next as *const f32).cast());
            }
        }
        for k in 0..8 {
            acc[k] += f64::from(line[k]) + f64::from(line[k + 8]);
        }
    }
    acc.iter().sum::<f64>() + lines.remainder().iter().map(|&v| f64::from(v)).sum::<f64>()
}

/// [`sum_lanes`] reading four places at once: the lines of `values` in four runs of equal
/// length (started a line apart in their 4 KiB pages, so that they do not evict each other
/// from the L1 cache), one line of each in turn, then the few lines left. A core's hardware
/// follows each run, and on some machines four runs read more than one (the dense gradient
/// pass reads its rows this way, so the bandwidth it is measured against must too).
fn sum_streams(values: &[f32], ahead: bool) -> f64 {
    let lines = values.len() / 16;
    // Runs of q lines; q ≢ 0 (mod 64 lines) puts their starts in different places of a page.
    let q = match lines / 4 {
        q if q % 64 == 0 && q > 0 => q - 1,
        q => q,
    };
    let mut acc = [0.0f64; 8];
    for n in 0..q {
        for k in 0..4 {
            let at = 16 * (k * q + n);
            if ahead {
                if let Some(next) = values.get(at + AHEAD / 4) {
                    crate::kernels::prefetch::into_l2((next as *const f32).cast());
                }
            }
            let line = &values[at..at + 16];
            for j in 0..8 {
                acc[j] += f64::from(line[j]) + f64::from(line[j + 8]);
            }
        }
    }
    acc.iter().sum::<f64>() + sum_lanes(&values[16 * 4 * q..], ahead)
}

/// How far ahead the read-bandwidth loop asks for memory. A core's own hardware prefetcher
/// does not keep enough reads in flight on every machine; asking 4 KiB ahead into L2 reads
/// more, and more again with the array in huge pages ([`test_array`], as descent's data sets
/// are), where a prefetch across a page boundary no longer waits for a page-table walk
/// (BENCHMARKS.md, "Measurements behind the code's constants").
const AHEAD: usize = 4096;

/// Best-of-`repeats` read bandwidth in GB/s of summing `values` on `threads` threads: the
/// best of a plain loop and one that asks for memory ahead, each reading one place at a time
/// and four (`sum_streams`), so the figure is what this machine's cores can read, not what
/// one way of reading gets.
pub fn read_bandwidth(values: &[f32], threads: usize, repeats: usize) -> crate::Result<f64> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| crate::Error::config("threads", threads, e.to_string()))?;
    let mut best = f64::INFINITY;
    let mut sink = 0.0f64;
    for _ in 0..repeats.max(1) {
        for (ahead, streams) in [(false, false), (true, false), (false, true), (true, true)] {
            let sum_chunk = if streams { sum_streams } else { sum_lanes };
            let started = Instant::now();
            let sum: f64 = pool.install(|| {
                values
                    .par_chunks(1 << 18)
                    .map(|c| sum_chunk(c, ahead))
                    .sum()
            });
            best = best.min(started.elapsed().as_secs_f64());
            sink += sum;
        }
    }
    std::hint::black_box(sink);
    Ok((values.len() * 4) as f64 / best / 1e9)
}

/// [`read_bandwidth`] on one thread and on `threads`, over a fresh [`test_array`] of `bytes`
/// bytes (freed before returning).
pub fn read_bandwidths(bytes: usize, threads: usize, repeats: usize) -> crate::Result<[f64; 2]> {
    let array = test_array(bytes);
    Ok([
        read_bandwidth(&array, 1, repeats)?,
        read_bandwidth(&array, threads, repeats)?,
    ])
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
/// batches of up to [`MAX_BATCH`](crate::step::MAX_BATCH), the generic step otherwise) at a
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
        let info = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Example(R) Processor 9000\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(
            model_name(info).as_deref(),
            Some("Example(R) Processor 9000")
        );
        assert_eq!(model_name("processor\t: 0\nmodel name\t:\n"), None);
    }

    #[test]
    fn every_way_of_reading_sums_every_value_once() {
        // Whole numbers, so every order of addition gives the exact sum; lengths with and
        // without a partial line, runs a multiple of a page long (moved a line) or not.
        for len in [0, 7, 16 * 4, 16 * 64 * 4 + 5, 16 * 1000 + 3, 1 << 18] {
            let values: Vec<f32> = (0..len).map(|i| (i % 97) as f32 + 1.0).collect();
            let exact = values.iter().fold(0.0, |s, &v| s + f64::from(v));
            for ahead in [false, true] {
                assert_eq!(
                    sum_lanes(&values, ahead).to_bits(),
                    exact.to_bits(),
                    "{len}, lanes"
                );
                assert_eq!(
                    sum_streams(&values, ahead).to_bits(),
                    exact.to_bits(),
                    "{len}, streams"
                );
            }
        }
    }
}

//! The multi-threaded engine: blocks are summed in parallel on a rayon pool and merged in
//! block order, so the result equals [`Serial`](super::Serial)'s bit for bit.

use super::{block_rows, blocks, BlockFn, Engine};
use crate::{Error, Result};
use rayon::prelude::*;

/// Blocks summed in parallel at a time; bounds the memory of partial sums. Any value gives
/// the same result.
const BLOCKS_IN_FLIGHT: usize = 64;

/// Sums blocks on a pool of `threads` workers.
pub struct Threads {
    pool: rayon::ThreadPool,
}

impl Threads {
    /// An engine with its own pool of `threads` workers.
    pub fn new(threads: usize) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("descent-{i}"))
            .build()
            .map_err(|e| {
                Error::config("--threads", threads, format!("cannot start threads: {e}"))
            })?;
        Ok(Threads { pool })
    }

    /// Number of worker threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

impl Engine for Threads {
    fn name(&self) -> String {
        format!("threads({})", self.threads())
    }

    fn block_sum(&self, n: usize, width: usize, f: &BlockFn<'_>, out: &mut [f64]) {
        out.fill(0.0);
        if n <= block_rows(width) {
            // One block (or none): no thread hand-off and no allocation; Serial's arithmetic.
            if n > 0 {
                f(0..n, out);
            }
            return;
        }
        let all: Vec<_> = blocks(n, width).collect();
        let mut first = true;
        for group in all.chunks(BLOCKS_IN_FLIGHT) {
            let partials: Vec<Vec<f64>> = self.pool.install(|| {
                group
                    .par_iter()
                    .map(|block| {
                        let mut partial = vec![0.0; width];
                        f(block.clone(), &mut partial);
                        partial
                    })
                    .collect()
            });
            for partial in partials {
                if first {
                    out.copy_from_slice(&partial);
                    first = false;
                } else {
                    for (o, p) in out.iter_mut().zip(&partial) {
                        *o += p;
                    }
                }
            }
        }
    }
}

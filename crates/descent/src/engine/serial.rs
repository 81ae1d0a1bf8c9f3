//! The one-thread engine: the reference every other engine must match bit for bit.

use super::{blocks, BlockFn, Engine};

/// Sums blocks one after another on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct Serial;

impl Engine for Serial {
    fn name(&self) -> String {
        "serial".into()
    }

    fn block_sum(&self, n: usize, width: usize, f: &BlockFn<'_>, out: &mut [f64]) {
        out.fill(0.0);
        let mut parts = blocks(n, width);
        let Some(first) = parts.next() else {
            return;
        };
        f(first, out);
        // Allocated only when there is a second block: single-block sums (every SGD step)
        // allocate nothing.
        let mut partial = Vec::new();
        for block in parts {
            partial.clear();
            partial.resize(width, 0.0);
            f(block, &mut partial);
            for (o, p) in out.iter_mut().zip(&partial) {
                *o += p;
            }
        }
    }
}

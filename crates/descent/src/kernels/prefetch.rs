//! Reading rows ahead of a walk in random order.
//!
//! SGD visits rows in a shuffled order, so each row is a cache miss unless it is asked for
//! early. The choices below were each measured (BENCHMARKS.md, "Measurements behind the
//! code's constants": prefetching); here is why each one holds:
//!
//! - Only the row [`FAR`] steps ahead, into L2. Asking further ahead into L1 gains nothing: a
//!   core has few slots for loads that miss L1, and rows in flight there crowd out the
//!   weights' loads; L2's miss queue is deeper, and distances of 16 to 32 steps are alike.
//! - Where a row is stored (its `indptr` entry) and its target are asked for a few steps
//!   before the row itself, so the row's address is at hand when its prefetch is issued
//!   (else the prefetch of the row waits for its address).
//! - When: the SGD step asks once it has its margin, while it waits for the loss derivative: a
//!   prefetch that has to wait for a free miss buffer then holds nothing up. The batch source
//!   only says which rows come next ([`Batch::ahead`](crate::batches::Batch::ahead)).
//! - A batch gradient asks for its own rows ahead as it goes, but not past its last row, so a
//!   mini-batch step first asks for the first rows of the next batch
//!   ([`Dataset::read_next_batch`]: as many as the batch holds, up to 16); it pays for small
//!   batches, and changes nothing from a few hundred rows on.
//! - SGD over dense rows (1 KiB each for 256 floats) asks for the row [`DENSE_FAR`] steps ahead
//!   through its own dot-product loop, a line per 16 values, as the batch gradient does:
//!   sixteen prefetches in one burst held the step up whenever the core had no free miss
//!   buffer.
//! - Mini-batches on the O(nnz) path visit rows in random order too: their margins ask for
//!   the rows ahead the same way, across the end of the batch into the next ones
//!   ([`Dataset::read_upcoming_across`]).
//!
//! These are hints: they change no result, only when memory is read.

use crate::data::{Dataset, Features, Row};

/// Rows this many steps ahead are asked into L2.
const FAR: usize = 24;
/// At most this many rows of the next batch are asked for before a batch's gradient.
const NEXT_BATCH_ROWS: usize = 16;
/// Offsets and targets this many steps ahead of [`FAR`] are asked into L1.
const META: usize = 4;

/// Dense rows this many steps ahead are asked for by the step's own loop (see
/// [`Dataset::dense_row_ahead`]).
const DENSE_FAR: usize = 4;

/// Position `p` of the walk `rest`, then `then`.
#[inline]
fn nth_across(rest: &[usize], then: &[usize], p: usize) -> Option<usize> {
    match rest.get(p) {
        Some(&i) => Some(i),
        None => then.get(p - rest.len()).copied(),
    }
}

/// Which cache a prefetch fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    L1,
    L2,
}

impl Dataset {
    /// Asks for the rows of a walk ahead of where it is: `upcoming` are the rows it visits
    /// next, the next first (the row `FAR` steps ahead, and where the one `META` steps beyond
    /// it is stored; an empty or short list asks for what it has).
    #[inline]
    pub fn read_upcoming(&self, upcoming: &[usize]) {
        self.read_upcoming_across(upcoming, &[]);
    }

    /// Asks for the first rows of the next batch (`next`, the rows after this one's), as many
    /// as this batch holds (`size`) up to 16, before this batch's gradient is computed: they
    /// arrive while it is, and the batch gradient asks for its later rows itself.
    #[inline]
    pub fn read_next_batch(&self, next: &[usize], size: usize) {
        for &i in next.iter().take(size.min(NEXT_BATCH_ROWS)) {
            self.prefetch_meta(i);
            self.prefetch_row(i);
        }
    }

    /// [`read_upcoming`](Self::read_upcoming) for a walk whose next rows are `rest` (of the
    /// batch it is in), then `then` (the batches after it).
    #[inline]
    pub fn read_upcoming_across(&self, rest: &[usize], then: &[usize]) {
        if let Some(i) = nth_across(rest, then, FAR - 1) {
            self.prefetch_row(i);
        }
        if let Some(i) = nth_across(rest, then, FAR + META - 1) {
            self.prefetch_meta(i);
        }
    }

    /// For a step on a dense row of a walk whose next rows are `rest`, then `then`: the row
    /// four steps ahead, for the step to ask for line by line through its arithmetic
    /// ([`kernels::dot_and_squared_norm_ahead`](super::dot_and_squared_norm_ahead)),
    /// and its target asked for now (empty when the walk ends sooner or the rows are sparse).
    #[inline]
    pub fn dense_row_ahead(&self, rest: &[usize], then: &[usize]) -> &[f32] {
        if let Some(i) = nth_across(rest, then, DENSE_FAR + META - 1) {
            self.prefetch_meta(i);
        }
        match nth_across(rest, then, DENSE_FAR - 1).map(|i| self.row(i)) {
            Some(Row::Dense(x)) => x,
            _ => &[],
        }
    }

    /// Asks for every cache line of row `i`'s values, into L2.
    #[inline]
    fn prefetch_row(&self, i: usize) {
        let (start, bytes): (*const u8, usize) = match self.row(i) {
            Row::Dense(x) => (x.as_ptr().cast(), std::mem::size_of_val(x)),
            Row::Sparse(entries) => (entries.as_ptr().cast(), std::mem::size_of_val(entries)),
        };
        if bytes == 0 {
            return;
        }
        // Every line from the one holding the first byte to the one holding the last.
        let last = start as usize + bytes - 1;
        let mut line = start.wrapping_sub(start as usize % 64);
        while line as usize <= last {
            hint(line, Level::L2);
            line = line.wrapping_add(64);
        }
    }

    /// Asks for where row `i` is stored and its target (not its values).
    #[inline]
    fn prefetch_meta(&self, i: usize) {
        if let Some(t) = self.targets().get(i) {
            hint((t as *const f64).cast(), Level::L1);
        }
        if let Features::Sparse { indptr, .. } = self.features() {
            if let Some(p) = indptr.get(i) {
                hint((p as *const usize).cast(), Level::L1);
            }
        }
    }
}

/// Asks for the cache line at `address` into L2 (a hint; nothing on other processors).
#[inline(always)]
pub(crate) fn into_l2(address: *const u8) {
    hint(address, Level::L2);
}

/// One prefetch instruction (nothing on other processors).
#[inline(always)]
fn hint(address: *const u8, level: Level) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0, _MM_HINT_T1};
        // SAFETY: a prefetch never faults and changes no memory, whatever the address.
        unsafe {
            match level {
                Level::L1 => _mm_prefetch::<_MM_HINT_T0>(address.cast()),
                Level::L2 => _mm_prefetch::<_MM_HINT_T1>(address.cast()),
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (address, level);
}

//! One sample's features, borrowed from a [`Dataset`](super::Dataset).

use super::sparse::pairwise;

/// One stored nonzero of a sparse row: its 0-based feature index and its value, side by side,
/// so a row is one contiguous run of memory (SGD visits rows in random order, and every
/// separate array would be one more cache and TLB miss per row).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// 0-based feature index.
    pub index: u32,
    /// The value at that index.
    pub value: f32,
}

impl Entry {
    /// The nonzero `value` at 0-based feature `index`.
    pub fn new(index: u32, value: f32) -> Self {
        Entry { index, value }
    }
}

/// A borrowed feature vector: dense or sparse. Parameters are f64; features are f32 and are
/// widened on use, so every accumulation happens in f64.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    /// All `dim` values.
    Dense(&'a [f32]),
    /// The nonzeros, by strictly increasing index.
    Sparse(&'a [Entry]),
}

impl Row<'_> {
    /// `wᵀx` over the row's features (`w` must have at least `dim` entries).
    #[inline]
    pub fn dot(&self, w: &[f64]) -> f64 {
        match *self {
            Row::Dense(x) => crate::kernels::dot(x, w),
            Row::Sparse(entries) => super::sparse::dot(entries, w),
        }
    }

    /// `(wᵀx, ‖x‖²)` in one pass over the row (the same bits as [`dot`](Row::dot) and
    /// [`squared_norm`](Row::squared_norm); the squares are nearly free beside the gathers of
    /// w, or in the dense dot product's loop).
    #[inline]
    pub fn dot_and_squared_norm(&self, w: &[f64]) -> (f64, f64) {
        match *self {
            Row::Dense(x) => crate::kernels::dot_and_squared_norm(x, w),
            Row::Sparse(entries) => super::sparse::dot_and_squared_norm(entries, w),
        }
    }

    /// `wᵀx` with the weights read through `w(j)` (for weights that are not a slice, such as
    /// Hogwild's shared atomics): sparse rows in the order of [`dot`](Row::dot), so the same
    /// bits; dense rows in four partial sums.
    #[inline]
    pub fn dot_by(&self, w: impl Fn(usize) -> f64) -> f64 {
        match *self {
            Row::Sparse(entries) => super::sparse::dot_by(entries, w),
            Row::Dense(x) => {
                let mut acc = [0.0f64; 4];
                for (j, &v) in x.iter().enumerate() {
                    acc[j & 3] += f64::from(v) * w(j);
                }
                pairwise(acc, 0.0)
            }
        }
    }

    /// `out += a·x`, touching only the row's nonzeros when sparse.
    #[inline]
    pub fn axpy(&self, a: f64, out: &mut [f64]) {
        match *self {
            Row::Dense(x) => crate::kernels::axpy(a, x, out),
            Row::Sparse(entries) => super::sparse::axpy(a, entries, out),
        }
    }

    /// Calls `f(j, xⱼ)` for every stored value (every feature when dense, the nonzeros when
    /// sparse), in index order.
    #[inline]
    pub fn for_each(&self, mut f: impl FnMut(usize, f64)) {
        match *self {
            Row::Dense(x) => x.iter().enumerate().for_each(|(j, &v)| f(j, f64::from(v))),
            Row::Sparse(entries) => entries
                .iter()
                .for_each(|e| f(e.index as usize, f64::from(e.value))),
        }
    }

    /// ‖x‖²: of a sparse row in four interleaved partial sums, of a dense one in the lanes of
    /// [`kernels::dot`](crate::kernels::dot).
    pub fn squared_norm(&self) -> f64 {
        match *self {
            Row::Dense(x) => crate::kernels::squared_norm(x),
            Row::Sparse(entries) => super::sparse::squared_norm(entries),
        }
    }

    /// Number of stored values (dim for dense rows, nonzeros for sparse rows).
    pub fn stored(&self) -> usize {
        match *self {
            Row::Dense(x) => x.len(),
            Row::Sparse(entries) => entries.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fused_pass_gives_the_bits_of_the_separate_ones() {
        let w: Vec<f64> = (0..300)
            .map(|j| ((j * 37 % 101) as f64 - 50.0) / 9.0)
            .collect();
        for n in [0usize, 1, 3, 4, 5, 8, 70, 71] {
            let entries: Vec<Entry> = (0..n)
                .map(|k| Entry::new((k * 4 + k % 3) as u32, ((k * 53 % 97) as f32 - 48.0) / 7.0))
                .collect();
            let dense: Vec<f32> = (0..n).map(|k| (k as f32 - 3.5) / 3.0).collect();
            for row in [Row::Sparse(&entries), Row::Dense(&dense)] {
                let (dot, sq) = row.dot_and_squared_norm(&w);
                assert_eq!(dot.to_bits(), row.dot(&w).to_bits(), "n = {n}");
                assert_eq!(sq.to_bits(), row.squared_norm().to_bits(), "n = {n}");
            }
            let exact: f64 = entries.iter().map(|e| f64::from(e.value).powi(2)).sum();
            assert!((Row::Sparse(&entries).squared_norm() - exact).abs() <= 1e-12 * exact.max(1.0));
        }
    }
}

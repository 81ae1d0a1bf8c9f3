//! One sample's features, borrowed from a [`Dataset`](super::Dataset).

/// A borrowed feature vector: dense or sparse. Parameters are f64; features are f32 and are
/// widened on use, so every accumulation happens in f64.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    /// All `dim` values.
    Dense(&'a [f32]),
    /// The nonzeros: strictly increasing 0-based `indices` and their `values`.
    Sparse {
        /// 0-based feature indices, strictly increasing.
        indices: &'a [u32],
        /// The values at those indices.
        values: &'a [f32],
    },
}

impl Row<'_> {
    /// `wᵀx` over the row's features (`w` must have at least `dim` entries).
    #[inline]
    pub fn dot(&self, w: &[f64]) -> f64 {
        match *self {
            Row::Dense(x) => super::kernels::dot(x, w),
            Row::Sparse { indices, values } => sparse_dot(indices, values, w),
        }
    }

    /// `out += a·x`, touching only the row's nonzeros when sparse.
    #[inline]
    pub fn axpy(&self, a: f64, out: &mut [f64]) {
        match *self {
            Row::Dense(x) => super::kernels::axpy(a, x, out),
            Row::Sparse { indices, values } => {
                for (&j, &v) in indices.iter().zip(values) {
                    out[j as usize] += a * f64::from(v);
                }
            }
        }
    }

    /// Calls `f(j, xⱼ)` for every stored value (every feature when dense, the nonzeros when
    /// sparse), in index order.
    #[inline]
    pub fn for_each(&self, mut f: impl FnMut(usize, f64)) {
        match *self {
            Row::Dense(x) => x.iter().enumerate().for_each(|(j, &v)| f(j, f64::from(v))),
            Row::Sparse { indices, values } => indices
                .iter()
                .zip(values)
                .for_each(|(&j, &v)| f(j as usize, f64::from(v))),
        }
    }

    /// ‖x‖², in four interleaved partial sums (so the additions do not wait on each other).
    pub fn squared_norm(&self) -> f64 {
        let values = match *self {
            Row::Dense(x) => x,
            Row::Sparse { values, .. } => values,
        };
        let mut acc = [0.0f64; 4];
        let chunks = values.chunks_exact(4);
        let tail: f64 = chunks
            .remainder()
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum();
        for c in chunks {
            for k in 0..4 {
                acc[k] += f64::from(c[k]) * f64::from(c[k]);
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
    }

    /// Number of stored values (dim for dense rows, nonzeros for sparse rows).
    pub fn stored(&self) -> usize {
        match *self {
            Row::Dense(x) => x.len(),
            Row::Sparse { values, .. } => values.len(),
        }
    }
}

/// Σ values[k]·w[indices[k]] in four interleaved partial sums, so the additions do not wait on
/// each other (one sum's chain costs a float latency per nonzero), added as
/// ((s0 + s1) + (s2 + s3)) + the remainder.
#[inline]
fn sparse_dot(indices: &[u32], values: &[f32], w: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (js, vs) = (indices.chunks_exact(4), values.chunks_exact(4));
    let tail: f64 = js
        .remainder()
        .iter()
        .zip(vs.remainder())
        .map(|(&j, &v)| f64::from(v) * w[j as usize])
        .sum();
    for (j, v) in js.zip(vs) {
        for k in 0..4 {
            acc[k] += f64::from(v[k]) * w[j[k] as usize];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

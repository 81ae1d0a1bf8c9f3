//! The inner loops over a sparse row's nonzeros: `wᵀx`, `(wᵀx, ‖x‖²)` and `out += a·x`.
//!
//! Every sum keeps four partial sums (lane k adds the terms at positions ≡ k mod 4 of the
//! row, so the additions do not wait on each other), added as ((s₀ + s₁) + (s₂ + s₃)) and then
//! the remainder, whose terms are summed one after another. This is the one order of these
//! sums, on every processor.
//!
//! On x86-64 the lanes live in two SSE2 registers (SSE2 is part of every x86-64 processor, so
//! nothing is detected at run time): one instruction widens the values of two nonzeros to
//! f64, where the portable loop widens each alone and then shuffles the lanes together. The
//! operations and their order are the same, so the bits are (tested against the portable
//! loops). SGD is bound by these loops once its rows are read ahead (BENCHMARKS.md has what
//! the SSE2 form gained).

use super::Entry;

/// `wᵀx` over the nonzeros.
#[inline]
pub(super) fn dot(entries: &[Entry], w: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::dot_and_squared_norm::<false>(entries, w).0
    }
    #[cfg(not(target_arch = "x86_64"))]
    dot_by(entries, |j| w[j])
}

/// `(wᵀx, ‖x‖²)` in one pass: the bits of [`dot`] and [`squared_norm`].
#[inline]
pub(super) fn dot_and_squared_norm(entries: &[Entry], w: &[f64]) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::dot_and_squared_norm::<true>(entries, w)
    }
    #[cfg(not(target_arch = "x86_64"))]
    (dot_by(entries, |j| w[j]), squared_norm(entries))
}

/// `out += a·x` on the nonzeros (each `out[j] + a·xⱼ`, in index order).
#[inline]
pub(super) fn axpy(a: f64, entries: &[Entry], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    sse2::axpy(a, entries, out);
    #[cfg(not(target_arch = "x86_64"))]
    axpy_portable(a, entries, out);
}

/// [`dot`] with the weights read through `w(j)` (for weights that are not a slice, such as
/// Hogwild's shared atomics), portable: the same bits.
#[inline]
pub(super) fn dot_by(entries: &[Entry], w: impl Fn(usize) -> f64) -> f64 {
    sum4(entries, |e| f64::from(e.value) * w(e.index as usize))
}

/// ‖x‖² over the nonzeros.
#[inline]
pub(super) fn squared_norm(entries: &[Entry]) -> f64 {
    sum4(entries, |e| f64::from(e.value) * f64::from(e.value))
}

/// Σ term(item) in the order above (dense rows' ‖x‖² uses it too).
#[inline(always)]
pub(super) fn sum4<T>(items: &[T], term: impl Fn(&T) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = items.chunks_exact(4);
    let tail = remainder_sum(chunks.remainder(), &term);
    for c in chunks {
        for k in 0..4 {
            acc[k] += term(&c[k]);
        }
    }
    pairwise(acc, tail)
}

/// The terms past the last group of four, one after another.
#[inline(always)]
fn remainder_sum<T>(rest: &[T], term: impl Fn(&T) -> f64) -> f64 {
    rest.iter().map(term).sum()
}

/// Four partial sums added as ((s₀ + s₁) + (s₂ + s₃)) + tail.
#[inline(always)]
pub(super) fn pairwise(acc: [f64; 4], tail: f64) -> f64 {
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The portable [`axpy`].
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn axpy_portable(a: f64, entries: &[Entry], out: &mut [f64]) {
    for e in entries {
        out[e.index as usize] += a * f64::from(e.value);
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::{pairwise, remainder_sum, Entry};
    use std::arch::x86_64::{
        __m128, __m128d, _mm_add_pd, _mm_cvtps_pd, _mm_load_sd, _mm_loadh_pd, _mm_loadu_ps,
        _mm_mul_pd, _mm_set1_pd, _mm_set_pd, _mm_setzero_pd, _mm_shuffle_ps, _mm_storeh_pd,
        _mm_storel_pd, _mm_storeu_pd,
    };

    /// The values of two adjacent entries, widened: `[x₀, x₁]`.
    ///
    /// # Safety
    /// `pair` must hold at least two entries.
    #[inline(always)]
    unsafe fn values(pair: &[Entry]) -> __m128d {
        debug_assert!(pair.len() >= 2);
        // An entry is (u32 index, f32 value), `repr(C)`: 16 bytes hold i₀ x₀ i₁ x₁ as four
        // 32-bit lanes; lanes 1 and 3 are the values.
        let lanes: __m128 = _mm_loadu_ps(pair.as_ptr().cast::<f32>());
        _mm_cvtps_pd(_mm_shuffle_ps::<0b11_01_11_01>(lanes, lanes))
    }

    /// Lanes 0-1 and 2-3 of the four partial sums, back in an array.
    #[inline(always)]
    fn unpack(low: __m128d, high: __m128d) -> [f64; 4] {
        let mut acc = [0.0f64; 4];
        // SAFETY: `acc` has room for the four values stored.
        unsafe {
            _mm_storeu_pd(acc.as_mut_ptr(), low);
            _mm_storeu_pd(acc.as_mut_ptr().add(2), high);
        }
        acc
    }

    /// `wᵀx`, and `‖x‖²` when `SQUARES` (else 0).
    #[inline(always)]
    pub(super) fn dot_and_squared_norm<const SQUARES: bool>(
        entries: &[Entry],
        w: &[f64],
    ) -> (f64, f64) {
        let chunks = entries.chunks_exact(4);
        let rest = chunks.remainder();
        let dot_tail = remainder_sum(rest, |e| f64::from(e.value) * w[e.index as usize]);
        let sq_tail = if SQUARES {
            remainder_sum(rest, |e| f64::from(e.value) * f64::from(e.value))
        } else {
            0.0
        };
        // SAFETY: SSE2 is present on every x86-64 processor; every chunk holds four entries;
        // the weights are read by checked indexing.
        unsafe {
            let (mut dot01, mut dot23) = (_mm_setzero_pd(), _mm_setzero_pd());
            let (mut sq01, mut sq23) = (_mm_setzero_pd(), _mm_setzero_pd());
            for c in chunks {
                let (x01, x23) = (values(&c[..2]), values(&c[2..]));
                let w01 = _mm_set_pd(w[c[1].index as usize], w[c[0].index as usize]);
                let w23 = _mm_set_pd(w[c[3].index as usize], w[c[2].index as usize]);
                dot01 = _mm_add_pd(dot01, _mm_mul_pd(x01, w01));
                dot23 = _mm_add_pd(dot23, _mm_mul_pd(x23, w23));
                if SQUARES {
                    sq01 = _mm_add_pd(sq01, _mm_mul_pd(x01, x01));
                    sq23 = _mm_add_pd(sq23, _mm_mul_pd(x23, x23));
                }
            }
            (
                pairwise(unpack(dot01, dot23), dot_tail),
                if SQUARES {
                    pairwise(unpack(sq01, sq23), sq_tail)
                } else {
                    0.0
                },
            )
        }
    }

    /// `out += a·x`, two nonzeros at a time.
    #[inline(always)]
    pub(super) fn axpy(a: f64, entries: &[Entry], out: &mut [f64]) {
        let pairs = entries.chunks_exact(2);
        let rest = pairs.remainder();
        let (len, base) = (out.len(), out.as_mut_ptr());
        // SAFETY: SSE2 is present on every x86-64 processor; every pair holds two entries;
        // both indices are checked against `out` before its memory is touched.
        unsafe {
            let a2 = _mm_set1_pd(a);
            for p in pairs {
                let (j0, j1) = (p[0].index as usize, p[1].index as usize);
                assert!(j0 < len && j1 < len, "index {} out of {len}", j0.max(j1));
                let (o0, o1) = (base.add(j0), base.add(j1));
                if j0 == j1 {
                    // A repeated index (not in a validated data set, but a row can be built by
                    // hand): one after the other, as the portable loop does.
                    *o0 += a * f64::from(p[0].value);
                    *o0 += a * f64::from(p[1].value);
                    continue;
                }
                let old = _mm_loadh_pd(_mm_load_sd(o0), o1);
                let new = _mm_add_pd(old, _mm_mul_pd(a2, values(p)));
                _mm_storel_pd(o0, new);
                _mm_storeh_pd(o1, new);
            }
        }
        super::axpy_portable(a, rest, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of every length around the groups of four, with varied values and gaps.
    fn rows() -> Vec<Vec<Entry>> {
        (0..=13)
            .chain([70, 71])
            .map(|n: usize| {
                (0..n)
                    .map(|k| {
                        let value = ((k * 53 % 97) as f32 - 48.0) / 7.0 + 1e-3 * k as f32;
                        Entry::new((k * 4 + k % 3) as u32, value)
                    })
                    .collect()
            })
            .collect()
    }

    fn weights() -> Vec<f64> {
        (0..300)
            .map(|j| ((j * 37 % 101) as f64 - 50.0) / 9.0 + 1.0 / (j as f64 + 3.0))
            .collect()
    }

    #[test]
    fn the_kernels_give_the_bits_of_the_portable_loops() {
        let w = weights();
        for row in rows() {
            let n = row.len();
            let portable_dot = dot_by(&row, |j| w[j]);
            assert_eq!(dot(&row, &w).to_bits(), portable_dot.to_bits(), "n = {n}");
            let (d, sq) = dot_and_squared_norm(&row, &w);
            assert_eq!(d.to_bits(), portable_dot.to_bits(), "n = {n}");
            assert_eq!(sq.to_bits(), squared_norm(&row).to_bits(), "n = {n}");
            let (mut fast, mut slow) = (w.clone(), w.clone());
            axpy(-0.37, &row, &mut fast);
            axpy_portable(-0.37, &row, &mut slow);
            assert!(fast
                .iter()
                .zip(&slow)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn the_sums_are_the_sums() {
        let w = weights();
        for row in rows() {
            let exact_dot: f64 = row
                .iter()
                .map(|e| f64::from(e.value) * w[e.index as usize])
                .sum();
            let exact_sq: f64 = row.iter().map(|e| f64::from(e.value).powi(2)).sum();
            let (d, sq) = dot_and_squared_norm(&row, &w);
            assert!((d - exact_dot).abs() <= 1e-12 * (1.0 + exact_dot.abs()));
            assert!((sq - exact_sq).abs() <= 1e-12 * (1.0 + exact_sq));
            let mut out = w.clone();
            axpy(2.5, &row, &mut out);
            for (j, (o, base)) in out.iter().zip(&w).enumerate() {
                let x = row
                    .iter()
                    .find(|e| e.index as usize == j)
                    .map_or(0.0, |e| e.value.into());
                assert_eq!(o.to_bits(), (base + 2.5 * x).to_bits(), "index {j}");
            }
        }
    }

    #[test]
    fn a_repeated_index_adds_both_values() {
        let row = [Entry::new(3, 1.0), Entry::new(3, 2.0), Entry::new(5, 4.0)];
        let mut out = vec![0.0; 8];
        axpy(0.5, &row, &mut out);
        assert_eq!(out[3].to_bits(), 1.5f64.to_bits());
        assert_eq!(out[5].to_bits(), 2.0f64.to_bits());
    }
}

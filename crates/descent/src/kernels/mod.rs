//! The dense inner loops of every gradient: `wᵀx` and `out += a·x` over f32 features and f64
//! parameters.
//!
//! The dot product keeps [`LANES`] independent partial sums (lane k sums the products at
//! positions ≡ k mod 16), added in a fixed tree at the end, then the tail. This breaks the chain
//! of dependent additions that would otherwise bound the loop by add latency, and lets the
//! compiler use SIMD registers. Every multiply-add is fused (one rounding, as IEEE 754 defines
//! it): on x86-64 an AVX2 + FMA build is chosen at run time when the processor has both (no
//! `target-cpu=native` needed), elsewhere the portable loop's `f64::mul_add` is the same
//! operation (a single instruction on aarch64 and on any x86-64 built for it; a library call on
//! x86-64 processors without FMA, which are slow but give the same bits). So the result depends
//! on the data, not on the processor or the thread count.
//!
//! A pass over many dense rows ([`dot4_add4`]) computes four rows' margins in the same loop that
//! adds the previous four rows' gradient terms, each with the bits of [`dot`] and [`axpy4`].

#[cfg(target_arch = "x86_64")]
pub(crate) mod prefetch;

use prefetch::into_l2;

/// Independent partial sums of the dot product.
pub const LANES: usize = 16;

/// Σⱼ xⱼwⱼ in [`LANES`] lanes and a fixed tree, for weights of either precision (f32 weights
/// are widened exactly, so `dot_body(x, x)` is ‖x‖² in the same order).
#[inline(always)]
fn dot_body<W: Copy + Into<f64>>(x: &[f32], w: &[W]) -> f64 {
    let n = x.len().min(w.len());
    let (x, w) = (&x[..n], &w[..n]);
    let mut acc = [0.0f64; LANES];
    let mut xs = x.chunks_exact(LANES);
    let mut ws = w.chunks_exact(LANES);
    for (xc, wc) in (&mut xs).zip(&mut ws) {
        for k in 0..LANES {
            acc[k] = f64::from(xc[k]).mul_add(wc[k].into(), acc[k]);
        }
    }
    // A fixed tree: lanes k and k + 8, then k and k + 4, then `finish`.
    let mut half = [0.0f64; 8];
    for k in 0..8 {
        half[k] = acc[k] + acc[k + 8];
    }
    let quarter = [
        half[0] + half[4],
        half[1] + half[5],
        half[2] + half[6],
        half[3] + half[7],
    ];
    finish(quarter, tail(xs.remainder(), ws.remainder()))
}

/// The products past the last full block of [`LANES`], one after another.
#[inline(always)]
fn tail<W: Copy + Into<f64>>(x: &[f32], w: &[W]) -> f64 {
    x.iter()
        .zip(w)
        .fold(0.0, |sum, (&xv, &wv)| f64::from(xv).mul_add(wv.into(), sum))
}

/// The last levels of the tree, (q₀ + q₂) + (q₁ + q₃), then the tail: shared by every build.
#[inline(always)]
fn finish(quarter: [f64; 4], tail: f64) -> f64 {
    ((quarter[0] + quarter[2]) + (quarter[1] + quarter[3])) + tail
}

#[inline(always)]
fn axpy_body(a: f64, x: &[f32], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = a.mul_add(f64::from(v), *o);
    }
}

#[inline(always)]
fn axpy4_body(a: [f64; 4], x: [&[f32]; 4], out: &mut [f64]) {
    let n = out.len().min(x.iter().map(|r| r.len()).min().unwrap_or(0));
    for j in 0..n {
        let pair0 = a[1].mul_add(f64::from(x[1][j]), a[0] * f64::from(x[0][j]));
        let pair1 = a[3].mul_add(f64::from(x[3][j]), a[2] * f64::from(x[2][j]));
        out[j] += pair0 + pair1;
    }
}

/// Entries `j..j + 4` of `row`, widened to f64. Only for the AVX2 builds below, into which it
/// is inlined (the caller guarantees `j + 4 ≤ row.len()`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn widen(row: &[f32], j: usize) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    _mm256_cvtps_pd(_mm_loadu_ps(row.as_ptr().add(j)))
}

/// [`axpy4_body`]'s four terms at entries `j..j + 4`, `fma(a₁, x₁, a₀x₀) + fma(a₃, x₃, a₂x₂)`,
/// with `av` the four factors broadcast (AVX2 builds only; `j + 4` within every row).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn four_terms(
    av: [std::arch::x86_64::__m256d; 4],
    x: [&[f32]; 4],
    j: usize,
) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    let pair0 = _mm256_fmadd_pd(av[1], widen(x[1], j), _mm256_mul_pd(av[0], widen(x[0], j)));
    let pair1 = _mm256_fmadd_pd(av[3], widen(x[3], j), _mm256_mul_pd(av[2], widen(x[2], j)));
    _mm256_add_pd(pair0, pair1)
}

/// [`dot_body`]'s last steps from its [`LANES`] in four AVX2 accumulators (`acc[l]` holding
/// lanes 4l to 4l + 3): lanes k and k + 8, then k and k + 4, then [`finish`] with the products
/// of `x_tail` and `w_tail`, the entries past the last full block.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn reduce<W: Copy + Into<f64>>(
    acc: [std::arch::x86_64::__m256d; 4],
    x_tail: &[f32],
    w_tail: &[W],
) -> f64 {
    use std::arch::x86_64::*;
    let half_lo = _mm256_add_pd(acc[0], acc[2]);
    let half_hi = _mm256_add_pd(acc[1], acc[3]);
    let mut quarter = [0.0f64; 4];
    _mm256_storeu_pd(quarter.as_mut_ptr(), _mm256_add_pd(half_lo, half_hi));
    finish(quarter, tail(x_tail, w_tail))
}

/// [`axpy4_body`] written with AVX2 intrinsics, four entries at a time (the same operations
/// per entry, so the same bits), asking for a cache line of each row in `ahead` every 32
/// entries: the k-th line of each at the k-th group of 32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn axpy4_avx2(a: [f64; 4], x: [&[f32]; 4], out: &mut [f64], ahead: [&[f32]; 4]) {
    use std::arch::x86_64::*;
    let n = out.len().min(x.iter().map(|r| r.len()).min().unwrap_or(0));
    let quads = n / 4;
    let av = a.map(|v| _mm256_set1_pd(v));
    for q in 0..quads {
        let j = 4 * q;
        if j % 32 == 0 {
            let line = j / 2;
            for row in ahead {
                if line < row.len() {
                    into_l2(row[line..].as_ptr().cast());
                }
            }
        }
        // SAFETY: j + 3 < quads·4 ≤ n, within every row and `out`.
        let o = out.as_mut_ptr().add(j);
        _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), four_terms(av, x, j)));
    }
    let done = 4 * quads;
    axpy4_body(a, x.map(|r| &r[done..n]), &mut out[done..n]);
}

/// `out[j] += (fma(a₁, x₁[j], a₀x₀[j]) + fma(a₃, x₃[j], a₂x₂[j]))`: four rows added in one pass.
#[inline]
pub fn axpy4(a: [f64; 4], x: [&[f32]; 4], out: &mut [f64]) {
    axpy4_ahead(a, x, out, [&[]; 4]);
}

/// [`axpy4`] (the same bits) that also asks for the rows `ahead` from memory, one cache line
/// of each per 32 entries of `out`, half a line per line of `x` it reads: with [`dot_ahead`]
/// asking for the other half, a pass over many rows asks for memory at an even pace (see
/// there). Only the AVX2 build asks.
#[inline]
pub fn axpy4_ahead(a: [f64; 4], x: [&[f32]; 4], out: &mut [f64], ahead: [&[f32]; 4]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the processor supports AVX2 and FMA (checked at run time).
        return unsafe { axpy4_avx2(a, x, out, ahead) };
    }
    let _ = ahead;
    axpy4_body(a, x, out)
}

/// [`dot_body`] written with AVX2 intrinsics: lanes 0-3, 4-7, 8-11 and 12-15 in four 256-bit
/// accumulators (the compiler's own vectorization of the portable loop uses 128-bit registers),
/// the same fused multiply-adds per lane and the same final tree, so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(x: &[f32], w: &[f64], ahead: &[f32]) -> f64 {
    use std::arch::x86_64::*;
    let n = x.len().min(w.len());
    let blocks = n / LANES;
    let wp = w.as_ptr();
    let mut acc = [_mm256_setzero_pd(); 4];
    for b in 0..blocks {
        let at = b * LANES;
        if at < ahead.len() {
            // The line of the row ahead at this offset.
            into_l2(ahead[at..].as_ptr().cast());
        }
        for (k, a) in acc.iter_mut().enumerate() {
            // SAFETY: at + 4k + 3 < blocks·LANES ≤ n, within both slices.
            let wv = _mm256_loadu_pd(wp.add(at + 4 * k));
            *a = _mm256_fmadd_pd(widen(x, at + 4 * k), wv, *a);
        }
    }
    let done = blocks * LANES;
    reduce(acc, &x[done..n], &w[done..n])
}

/// [`dot_avx2`] and the same loop's ‖x‖² ([`dot_body`]`(x, x)`'s lanes and tree) in four more
/// accumulators: the same bits as the two separately, in one pass, asking for the row `ahead`
/// as [`dot_avx2`] does. Without `DOT`, ‖x‖² alone over all of `x` (`w` unused, the dot
/// product 0).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_and_squared_norm_avx2<const DOT: bool>(
    x: &[f32],
    w: &[f64],
    ahead: &[f32],
) -> (f64, f64) {
    use std::arch::x86_64::*;
    let n = if DOT { x.len().min(w.len()) } else { x.len() };
    let blocks = n / LANES;
    let wp = w.as_ptr();
    let (mut acc, mut sq) = ([_mm256_setzero_pd(); 4], [_mm256_setzero_pd(); 4]);
    for b in 0..blocks {
        let at = b * LANES;
        if at < ahead.len() {
            // The line of the row ahead at this offset.
            into_l2(ahead[at..].as_ptr().cast());
        }
        for k in 0..4 {
            // SAFETY: at + 4k + 3 < blocks·LANES ≤ n, within x (and w when DOT).
            let xv = widen(x, at + 4 * k);
            if DOT {
                acc[k] = _mm256_fmadd_pd(xv, _mm256_loadu_pd(wp.add(at + 4 * k)), acc[k]);
            }
            sq[k] = _mm256_fmadd_pd(xv, xv, sq[k]);
        }
    }
    let done = blocks * LANES;
    let x_tail = &x[done..n];
    let dot = if DOT {
        reduce(acc, x_tail, &w[done..n])
    } else {
        0.0
    };
    (dot, reduce(sq, x_tail, x_tail))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn axpy_avx2(a: f64, x: &[f32], out: &mut [f64]) {
    axpy_body(a, x, out)
}

/// The four rows a pass has computed margins for and not yet added: `out += Σₖ aₖ·xₖ` with the
/// bits of [`axpy4`]`(a, x, out)`.
pub type Pending<'a> = ([f64; 4], [&'a [f32]; 4]);

/// [`dot4_add4`] in one loop: 16 entries of each of the four new rows at a time (the [`LANES`]
/// of each row's dot product in four 256-bit accumulators, sixteen in all, which needs the 32
/// vector registers of AVX-512VL; the instructions are AVX2's), adding the pending rows' terms
/// to the same 16 entries of `out` and asking for a line of each row `ahead`. Each margin's
/// multiply-adds form four dependent chains, one per accumulator: interleaving four rows and
/// the additions keeps the processor busy while they wait. `n` entries of every slice are used
/// (the caller checks the lengths).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
unsafe fn dot4_add4_avx512vl<const ADD: bool>(
    n: usize,
    rows: [&[f32]; 4],
    w: &[f64],
    (a, old): Pending<'_>,
    out: &mut [f64],
    ahead: [&[f32]; 4],
) -> [f64; 4] {
    use std::arch::x86_64::*;
    let blocks = n / LANES;
    // acc[l][k]: lanes 4l to 4l + 3 of row k.
    let mut acc = [[_mm256_setzero_pd(); 4]; 4];
    let av = a.map(|v| _mm256_set1_pd(v));
    let (wp, op) = (w.as_ptr(), out.as_mut_ptr());
    // Rows ahead shorter than the loop (none, past the end of a pass) are replaced by the new
    // rows, already read: no test per line.
    let asked: [*const f32; 4] = std::array::from_fn(|k| {
        if ahead[k].len() >= blocks * LANES {
            ahead[k]
        } else {
            rows[k]
        }
        .as_ptr()
    });
    for b in 0..blocks {
        let at = b * LANES;
        for row in asked {
            into_l2(row.wrapping_add(at).cast());
        }
        for (l, lanes) in acc.iter_mut().enumerate() {
            // SAFETY: j + 3 < blocks·LANES ≤ n, within every slice.
            let j = at + 4 * l;
            let wv = _mm256_loadu_pd(wp.add(j));
            for (sum, row) in lanes.iter_mut().zip(rows) {
                *sum = _mm256_fmadd_pd(widen(row, j), wv, *sum);
            }
            if ADD {
                let o = op.add(j);
                _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), four_terms(av, old, j)));
            }
        }
    }
    let done = blocks * LANES;
    if ADD {
        axpy4_body(a, old.map(|r| &r[done..n]), &mut out[done..n]);
    }
    let mut margins = [0.0; 4];
    for (k, margin) in margins.iter_mut().enumerate() {
        let lanes = [acc[0][k], acc[1][k], acc[2][k], acc[3][k]];
        *margin = reduce(lanes, &rows[k][done..n], &w[done..n]);
    }
    margins
}

/// The margins `wᵀxₖ` of four dense rows, each with the bits of [`dot`], computed in the pass
/// that also adds the `pending` rows (the previous four, whose losses are known by now) to
/// `out` with the bits of [`axpy4`], and asks for the rows `ahead` from memory (one cache line
/// of each per 16 entries). A pass over many rows calls it once per four rows, handing each
/// call's rows on as the next call's pending ones, and adds the last four with [`axpy4`]: the
/// same sums as computing each group's margins, then adding its terms, in that order.
///
/// With AVX-512VL (and FMA) the two run in one loop (`dot4_add4_avx512vl`, faster than the
/// two passes both with the rows in L2 and from memory: BENCHMARKS.md); elsewhere it is the two passes, [`axpy4_ahead`] then four
/// [`dot_ahead`]s, which ask for the rows ahead half and half.
///
/// Rows `ahead` may be shorter or empty: they are only hints.
///
/// # Panics
/// When a new or pending row holds fewer than `w.len()` entries, or `out` not exactly as many.
#[inline]
pub fn dot4_add4(
    rows: [&[f32]; 4],
    w: &[f64],
    pending: Option<Pending<'_>>,
    out: &mut [f64],
    ahead: [&[f32]; 4],
) -> [f64; 4] {
    let n = w.len();
    assert!(
        out.len() == n && rows.iter().all(|r| r.len() >= n),
        "dot4_add4: rows of {:?} entries and an output of {} for {n} weights",
        rows.map(|r| r.len()),
        out.len()
    );
    if let Some((_, old)) = pending {
        assert!(
            old.iter().all(|r| r.len() >= n),
            "dot4_add4: a pending row is short"
        );
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx512vl_fma() {
        // SAFETY: the processor supports AVX2, FMA, AVX-512F and AVX-512VL (checked at run
        // time); every slice holds at least n entries (asserted above).
        return unsafe {
            match pending {
                Some(p) => dot4_add4_avx512vl::<true>(n, rows, w, p, out, ahead),
                None => dot4_add4_avx512vl::<false>(n, rows, w, ([0.0; 4], rows), out, ahead),
            }
        };
    }
    two_passes(rows, w, pending, out, ahead)
}

/// [`dot4_add4`] as two passes: the pending rows' terms, then the four margins, asking for
/// the first half of each row ahead in its margin's pass and the second in the other.
fn two_passes(
    rows: [&[f32]; 4],
    w: &[f64],
    pending: Option<Pending<'_>>,
    out: &mut [f64],
    ahead: [&[f32]; 4],
) -> [f64; 4] {
    let halves = ahead.map(|r| r.split_at(r.len() / 2));
    if let Some((a, old)) = pending {
        axpy4_ahead(a, old, out, halves.map(|h| h.1));
    }
    std::array::from_fn(|k| dot_ahead(rows[k], w, halves[k].0))
}

/// Whether the processor has AVX2 (asked once).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2() -> bool {
    use std::sync::OnceLock;
    static AVX2: OnceLock<bool> = OnceLock::new();
    *AVX2.get_or_init(|| std::arch::is_x86_feature_detected!("avx2"))
}

/// Whether the processor has AVX2 and FMA (asked once): the fast build of these kernels.
#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    use std::sync::OnceLock;
    static BOTH: OnceLock<bool> = OnceLock::new();
    *BOTH.get_or_init(|| has_avx2() && std::arch::is_x86_feature_detected!("fma"))
}

/// Whether the processor has AVX-512F and AVX-512VL besides AVX2 and FMA (asked once): the
/// one-loop build of [`dot4_add4`].
#[cfg(target_arch = "x86_64")]
fn has_avx512vl_fma() -> bool {
    use std::sync::OnceLock;
    static ALL: OnceLock<bool> = OnceLock::new();
    *ALL.get_or_init(|| {
        has_avx2_fma()
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
    })
}

/// Which build of these kernels this processor runs: `"AVX2 + FMA, AVX-512VL registers"` (the
/// one-loop [`dot4_add4`]), `"AVX2 + FMA"` or `"portable"`.
pub fn build() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if has_avx512vl_fma() {
        return "AVX2 + FMA, AVX-512VL registers";
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return "AVX2 + FMA";
    }
    "portable"
}

/// Σⱼ xⱼwⱼ over min(len) entries, in [`LANES`] lanes.
#[inline]
pub fn dot(x: &[f32], w: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the processor supports AVX2 and FMA (checked at run time).
        return unsafe { dot_avx2(x, w, &[]) };
    }
    dot_body(x, w)
}

/// [`dot`] (the same bits) that also asks for the row `ahead` from memory, one cache line per
/// 16 entries of `x` read, so that a pass over many rows keeps memory busy while it computes:
/// the first half of the row here and the second half in [`axpy4_ahead`], at an even pace
/// (one burst of prefetches per four rows gained nothing; BENCHMARKS.md has the figures).
/// Only the AVX2 build asks; elsewhere this is [`dot`].
#[inline]
pub fn dot_ahead(x: &[f32], w: &[f64], ahead: &[f32]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the processor supports AVX2 and FMA (checked at run time).
        return unsafe { dot_avx2(x, w, ahead) };
    }
    let _ = ahead;
    dot_body(x, w)
}

/// ([`dot`]`(x, w)`, [`squared_norm`]`(x)` over the same entries) in one pass, with the bits of
/// the two.
#[inline]
pub fn dot_and_squared_norm(x: &[f32], w: &[f64]) -> (f64, f64) {
    dot_and_squared_norm_ahead(x, w, &[])
}

/// [`dot_and_squared_norm`] (the same bits) that also asks for the row `ahead` from memory,
/// one cache line per 16 entries of `x`, as [`dot_ahead`] does (only the AVX2 build asks).
#[inline]
pub fn dot_and_squared_norm_ahead(x: &[f32], w: &[f64], ahead: &[f32]) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the processor supports AVX2 and FMA (checked at run time).
        return unsafe { dot_and_squared_norm_avx2::<true>(x, w, ahead) };
    }
    let _ = ahead;
    let x = &x[..x.len().min(w.len())];
    (dot_body(x, w), dot_body(x, x))
}

/// ‖x‖², in the [`LANES`] lanes and tree of [`dot`].
#[inline]
pub fn squared_norm(x: &[f32]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the processor supports AVX2 and FMA (checked at run time).
        return unsafe { dot_and_squared_norm_avx2::<false>(x, &[], &[]).1 };
    }
    dot_body(x, x)
}

/// `out[j] += a·x[j]` over min(len) entries.
#[inline]
pub fn axpy(a: f64, x: &[f32], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the processor supports AVX2 and FMA (checked at run time).
        return unsafe { axpy_avx2(a, x, out) };
    }
    axpy_body(a, x, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_build_gives_the_same_bits_as_the_portable_loop() {
        for n in [0usize, 1, 7, 8, 9, 63, 64, 257] {
            let x: Vec<f32> = (0..n)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
                .collect();
            let w: Vec<f64> = (0..n)
                .map(|i| ((i * 53 % 97) as f64 - 48.0) / 3.0)
                .collect();
            assert_eq!(dot(&x, &w).to_bits(), dot_body(&x, &w).to_bits(), "n = {n}");
            // Asking for another row on the way changes nothing, whatever its length.
            let other: Vec<f32> = (0..2 * n).map(|i| i as f32).collect();
            for ahead in [&other[..0], &other[..n / 2], &other[..n], &other[..]] {
                assert_eq!(dot_ahead(&x, &w, ahead).to_bits(), dot(&x, &w).to_bits());
            }
            let exact: f64 = x.iter().zip(&w).map(|(&a, &b)| f64::from(a) * b).sum();
            assert!((dot(&x, &w) - exact).abs() <= 1e-12 * exact.abs().max(1.0));
            let (d, q) = dot_and_squared_norm(&x, &w);
            assert_eq!(d.to_bits(), dot(&x, &w).to_bits(), "n = {n}");
            for ahead in [&other[..0], &other[..n / 2], &other[..]] {
                let (d2, q2) = dot_and_squared_norm_ahead(&x, &w, ahead);
                assert_eq!((d2.to_bits(), q2.to_bits()), (d.to_bits(), q.to_bits()));
            }
            assert_eq!(q.to_bits(), squared_norm(&x).to_bits(), "n = {n}");
            assert_eq!(q.to_bits(), dot_body(&x, &x).to_bits(), "n = {n}");
            let exact: f64 = x.iter().map(|&a| f64::from(a) * f64::from(a)).sum();
            assert!((q - exact).abs() <= 1e-12 * exact.max(1.0), "n = {n}");
            // Over the entries both have: a shorter w cuts the norm too.
            let short = dot_and_squared_norm(&x, &w[..n / 2]);
            assert_eq!(short.1.to_bits(), squared_norm(&x[..n / 2]).to_bits());
            let (mut a, mut b) = (w.clone(), w.clone());
            axpy(0.3, &x, &mut a);
            axpy_body(0.3, &x, &mut b);
            assert_eq!(a, b);
            let rows = [&x[..], &x[..], &x[..], &x[..]];
            let (mut c, mut e) = (w.clone(), w.clone());
            axpy4([0.5, -1.0, 2.0, 0.25], rows, &mut c);
            axpy4_body([0.5, -1.0, 2.0, 0.25], rows, &mut e);
            assert_eq!(c, e);
            let (mut f, half) = (w.clone(), &other[..n / 2]);
            axpy4_ahead(
                [0.5, -1.0, 2.0, 0.25],
                rows,
                &mut f,
                [half, &other, &[], half],
            );
            assert_eq!(f, e);
        }
    }

    /// Rows of `n` entries with different values, none zero.
    fn rows_of(n: usize, count: usize) -> Vec<Vec<f32>> {
        (0..count)
            .map(|r| {
                (0..n)
                    .map(|i| (((i * 37 + r * 11) % 101) as f32 - 50.5) / 7.0)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn four_margins_with_the_pending_terms_are_four_dots_then_axpy4() {
        for n in [0usize, 1, 15, 16, 17, 33, 64, 255, 256, 300] {
            let data = rows_of(n, 12);
            let w: Vec<f64> = (0..n)
                .map(|i| ((i * 53 % 97) as f64 - 48.0) / 3.0)
                .collect();
            let start: Vec<f64> = (0..n).map(|i| (i as f64 - 7.0) * 0.125).collect();
            let rows: [&[f32]; 4] = std::array::from_fn(|k| &data[k][..]);
            let old: [&[f32]; 4] = std::array::from_fn(|k| &data[4 + k][..]);
            let a = [0.5, -1.25, 2.0, 0.3];
            for ahead in [[&[][..]; 4], std::array::from_fn(|k| &data[8 + k][..])] {
                // The two steps one after the other, with the kernels the fused pass matches.
                let mut expected = start.clone();
                axpy4(a, old, &mut expected);
                let margins: [f64; 4] = std::array::from_fn(|k| dot(rows[k], &w));
                // This processor's build, and the two passes other processors run.
                for fused in [dot4_add4, two_passes] {
                    let mut out = start.clone();
                    let got = fused(rows, &w, Some((a, old)), &mut out, ahead);
                    assert_eq!(got.map(f64::to_bits), margins.map(f64::to_bits), "n = {n}");
                    assert_eq!(out, expected, "n = {n}");
                    // Without pending rows, only the margins; the output is untouched.
                    let mut same = start.clone();
                    let alone = fused(rows, &w, None, &mut same, ahead);
                    assert_eq!(alone.map(f64::to_bits), margins.map(f64::to_bits));
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&same), bits(&start));
                }
            }
        }
    }
}

//! The logistic loss's two transcendental pieces, e = exp(−|z|) and log(1 + e), written out in
//! basic IEEE operations (no libm, no fused multiply-add) so that a 4-wide AVX2 build and the
//! portable build give the same bits on every processor, and a full-batch gradient evaluates
//! four rows' losses in the time of one libm call.
//!
//! exp: x = n·ln 2 + r with |r| ≤ ln(2)/2 (Cody–Waite: ln 2 in two parts, n·ln2_hi exact), e^r
//! by its Taylor series to r¹³ (truncation below 10⁻¹⁷, evaluated by Estrin's scheme), then 2ⁿ
//! applied as two powers of two so that results down to the smallest subnormal are reached.
//! log(1 + e) for e ∈ [0, 1]:
//! fdlibm's `log1p` (u = 1 + e, the rounding of u corrected by c = (e − (u − 1))/u, u reduced to
//! [√2/2, √2), log(1 + f) = f − f²/2 + s·(f²/2 + R(s²)) with s = f/(2 + f) and fdlibm's minimax
//! polynomial R). Both are within about 1 ulp of the correctly rounded value (tested against
//! the standard library over their whole domains).

const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// 1.5·2⁵²: adding it rounds to an integer (ties to even) and leaves that integer in the low
/// bits of the sum.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// ln 2 in two parts (fdlibm's ln2_hi and ln2_lo, by their bits): the high part ends in 21
/// zero bits, so n·LN2_HI is exact for the |n| ≤ 1077 used here.
const LN2_HI: f64 = f64::from_bits(0x3fe62e42fee00000);
const LN2_LO: f64 = f64::from_bits(0x3dea39ef35793c76);
/// Below this e^x is 0 in f64.
const EXP_FLOOR: f64 = -746.0;
/// 1/k! for k = 2 to 13: e^r = 1 + (r + r²·Q(r)) with Q(r) = Σ C[k]·rᵏ.
const C: [f64; 12] = [
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];
const SQRT_2: f64 = std::f64::consts::SQRT_2;
/// fdlibm's minimax coefficients of log(1 + f) (e_log.c, Lg1 to Lg7).
const LG: [f64; 7] = [
    f64::from_bits(0x3fe5555555555593), // 6.666666666666735130e-1
    f64::from_bits(0x3fd999999997fa04), // 3.999999999940941908e-1
    f64::from_bits(0x3fd2492494229359), // 2.857142874366239149e-1
    f64::from_bits(0x3fcc71c51d8e78af), // 2.222219843214978396e-1
    f64::from_bits(0x3fc7466496cb03de), // 1.818357216161805012e-1
    f64::from_bits(0x3fc39a09d078c69f), // 1.531383769920937332e-1
    f64::from_bits(0x3fc2f112df3e5244), // 1.479819860511658591e-1
];

/// 2ⁿ for an integer-valued n in [−1022, 1023], from the bits of n + [`ROUND`].
#[inline(always)]
fn power_of_two(n: f64) -> f64 {
    f64::from_bits((n + ROUND).to_bits().wrapping_add(1023) << 52)
}

/// e^x for x ≤ 0 (NaN stays NaN).
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    let x = if x < EXP_FLOOR { EXP_FLOOR } else { x };
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Q(r) by Estrin's scheme (pairs, then powers r², r⁴, r⁸): a dependency chain of about
    // ten operations instead of Horner's 24, which an SGD step waits for.
    let (r2, pair) = (r * r, |k: usize| C[k] + C[k + 1] * r);
    let [p0, p1, p2, p3, p4, p5] = std::array::from_fn(|k| pair(2 * k));
    let r4 = r2 * r2;
    let (r8, a, b, c) = (r4 * r4, p0 + p1 * r2, p2 + p3 * r2, p4 + p5 * r2);
    let q = (a + b * r4) + c * r8;
    let p = 1.0 + (r + r2 * q);
    // Two powers of two, so that 2ⁿ below 2⁻¹⁰²² (subnormal results) is still reached. Any
    // split into integers works; rounding n/2 by ROUND needs no libm `floor`.
    let half = (n * 0.5 + ROUND) - ROUND;
    p * power_of_two(half) * power_of_two(n - half)
}

/// log(1 + e) for e ∈ [0, 1] (NaN stays NaN).
#[inline(always)]
pub fn log1p_unit(e: f64) -> f64 {
    let u = 1.0 + e;
    let (k, f, c) = if u >= SQRT_2 {
        (1.0, u * 0.5 - 1.0, (1.0 - (u - e)) / u)
    } else {
        (0.0, u - 1.0, (e - (u - 1.0)) / u)
    };
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
    let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    let r = t2 + t1;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + (k * LN2_LO + c))) - f)
}

/// log(1 + e^z) = max(z, 0) + log(1 + e) from e = exp(−|z|).
#[inline(always)]
fn softplus_from(z: f64, e: f64) -> f64 {
    let positive_part = if z > 0.0 { z } else { 0.0 };
    positive_part + log1p_unit(e)
}

/// σ(z) = 1/(1 + e^−z) from e = exp(−|z|), on the side that does not overflow.
#[inline(always)]
fn sigmoid_from(z: f64, e: f64) -> f64 {
    let numerator = if z >= 0.0 { 1.0 } else { e };
    numerator / (1.0 + e)
}

/// log(1 + e^z) without overflow: the bits of [`logistic`]'s first part, without its division.
#[inline(always)]
pub fn softplus(z: f64) -> f64 {
    softplus_from(z, exp_nonpositive(-z.abs()))
}

/// σ(z) = 1/(1 + e^−z): the bits of [`logistic`]'s second part, without its logarithm.
#[inline(always)]
pub fn sigmoid(z: f64) -> f64 {
    sigmoid_from(z, exp_nonpositive(-z.abs()))
}

/// For z = −y·m: (log(1 + e^z), σ(z)), both from one e = exp(−|z|).
#[inline(always)]
pub fn logistic(z: f64) -> (f64, f64) {
    let e = exp_nonpositive(-z.abs());
    (softplus_from(z, e), sigmoid_from(z, e))
}

/// [`logistic`] of four values at once: AVX2 when the processor has it, the same bits either
/// way.
#[inline]
pub fn logistic4(z: [f64; 4]) -> ([f64; 4], [f64; 4]) {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::has_avx2() {
        // SAFETY: the processor supports AVX2 (checked at run time).
        return unsafe { avx2::logistic4(z[0], z[1], z[2], z[3]) };
    }
    let parts = z.map(logistic);
    (parts.map(|p| p.0), parts.map(|p| p.1))
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! The functions above, four lanes at a time, operation for operation.
    use super::*;
    use std::arch::x86_64::*;

    #[inline(always)]
    unsafe fn splat(v: f64) -> __m256d {
        _mm256_set1_pd(v)
    }

    #[inline(always)]
    unsafe fn power_of_two(n: __m256d) -> __m256d {
        let bits = _mm256_castpd_si256(_mm256_add_pd(n, splat(ROUND)));
        _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_add_epi64(
            bits,
            _mm256_set1_epi64x(1023),
        )))
    }

    #[inline(always)]
    unsafe fn exp_nonpositive(x: __m256d) -> __m256d {
        // max(floor, x) returns x when x is NaN (the second operand), as the scalar `if` does.
        let x = _mm256_max_pd(splat(EXP_FLOOR), x);
        let n = _mm256_sub_pd(
            _mm256_add_pd(_mm256_mul_pd(x, splat(LOG2_E)), splat(ROUND)),
            splat(ROUND),
        );
        let r = _mm256_sub_pd(
            _mm256_sub_pd(x, _mm256_mul_pd(n, splat(LN2_HI))),
            _mm256_mul_pd(n, splat(LN2_LO)),
        );
        let r2 = _mm256_mul_pd(r, r);
        let pair = |k: usize| _mm256_add_pd(splat(C[k]), _mm256_mul_pd(splat(C[k + 1]), r));
        let [p0, p1, p2, p3, p4, p5] = std::array::from_fn(|k| pair(2 * k));
        let r4 = _mm256_mul_pd(r2, r2);
        let r8 = _mm256_mul_pd(r4, r4);
        let a = _mm256_add_pd(p0, _mm256_mul_pd(p1, r2));
        let b = _mm256_add_pd(p2, _mm256_mul_pd(p3, r2));
        let c = _mm256_add_pd(p4, _mm256_mul_pd(p5, r2));
        let q = _mm256_add_pd(_mm256_add_pd(a, _mm256_mul_pd(b, r4)), _mm256_mul_pd(c, r8));
        let p = _mm256_add_pd(splat(1.0), _mm256_add_pd(r, _mm256_mul_pd(r2, q)));
        let half = _mm256_sub_pd(
            _mm256_add_pd(_mm256_mul_pd(n, splat(0.5)), splat(ROUND)),
            splat(ROUND),
        );
        _mm256_mul_pd(
            _mm256_mul_pd(p, power_of_two(half)),
            power_of_two(_mm256_sub_pd(n, half)),
        )
    }

    #[inline(always)]
    unsafe fn log1p_unit(e: __m256d) -> __m256d {
        let one = splat(1.0);
        let u = _mm256_add_pd(one, e);
        let high = _mm256_cmp_pd::<_CMP_GE_OQ>(u, splat(SQRT_2));
        let k = _mm256_and_pd(high, one);
        let f = _mm256_blendv_pd(
            _mm256_sub_pd(u, one),
            _mm256_sub_pd(_mm256_mul_pd(u, splat(0.5)), one),
            high,
        );
        let c = _mm256_div_pd(
            _mm256_blendv_pd(
                _mm256_sub_pd(e, _mm256_sub_pd(u, one)),
                _mm256_sub_pd(one, _mm256_sub_pd(u, e)),
                high,
            ),
            u,
        );
        let hfsq = _mm256_mul_pd(_mm256_mul_pd(splat(0.5), f), f);
        let s = _mm256_div_pd(f, _mm256_add_pd(splat(2.0), f));
        let z = _mm256_mul_pd(s, s);
        let w = _mm256_mul_pd(z, z);
        let horner = |a: __m256d, b: f64| _mm256_add_pd(splat(b), _mm256_mul_pd(w, a));
        let t1 = _mm256_mul_pd(w, horner(horner(splat(LG[5]), LG[3]), LG[1]));
        let t2 = _mm256_mul_pd(z, horner(horner(horner(splat(LG[6]), LG[4]), LG[2]), LG[0]));
        let r = _mm256_add_pd(t2, t1);
        let inner = _mm256_add_pd(
            _mm256_mul_pd(s, _mm256_add_pd(hfsq, r)),
            _mm256_add_pd(_mm256_mul_pd(k, splat(LN2_LO)), c),
        );
        _mm256_sub_pd(
            _mm256_mul_pd(k, splat(LN2_HI)),
            _mm256_sub_pd(_mm256_sub_pd(hfsq, inner), f),
        )
    }

    /// The four values come as four arguments, in registers: an array would be passed in
    /// memory, written by the caller one value (or two) at a time and read here 32 bytes at
    /// once, a read the processor cannot forward from those writes, so it waits until they
    /// reach the cache, and calls no longer overlap (more than twice the time per call:
    /// BENCHMARKS.md).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn logistic4(z0: f64, z1: f64, z2: f64, z3: f64) -> ([f64; 4], [f64; 4]) {
        let zv = _mm256_set_pd(z3, z2, z1, z0);
        let sign = splat(-0.0);
        // −|z|: the sign bit set.
        let e = exp_nonpositive(_mm256_or_pd(zv, sign));
        let zero = _mm256_setzero_pd();
        let positive = _mm256_cmp_pd::<_CMP_GT_OQ>(zv, zero);
        let loss = _mm256_add_pd(_mm256_and_pd(positive, zv), log1p_unit(e));
        let non_negative = _mm256_cmp_pd::<_CMP_GE_OQ>(zv, zero);
        let numerator = _mm256_blendv_pd(e, splat(1.0), non_negative);
        let sigma = _mm256_div_pd(numerator, _mm256_add_pd(splat(1.0), e));
        let (mut l, mut s) = ([0.0; 4], [0.0; 4]);
        _mm256_storeu_pd(l.as_mut_ptr(), loss);
        _mm256_storeu_pd(s.as_mut_ptr(), sigma);
        (l, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place (both finite, same sign).
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    /// Points spread over [lo, hi], dense near both ends, plus the ends.
    fn sweep(lo: f64, hi: f64, n: usize) -> Vec<f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut out = vec![lo, hi];
        for i in 0..n {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let t = if i % 2 == 0 { u } else { u.powi(8) };
            out.push(lo + (hi - lo) * t);
            out.push(hi - (hi - lo) * t);
        }
        out
    }

    #[test]
    fn exp_is_within_two_ulps_of_the_standard_library() {
        let mut worst = 0;
        for x in sweep(-708.0, 0.0, 200_000) {
            worst = worst.max(ulps(exp_nonpositive(x), x.exp()));
        }
        assert!(worst <= 2, "worst error {worst} ulps");
        // Subnormal results, the underflow to 0, and the special values.
        for x in [-720.0, -740.0, -745.0, -745.2, -800.0, f64::NEG_INFINITY] {
            let (ours, std) = (exp_nonpositive(x), x.exp());
            assert!(
                (ours - std).abs() <= 2.0 * f64::from_bits(1),
                "{x}: {ours} vs {std}"
            );
        }
        assert_eq!(exp_nonpositive(0.0).to_bits(), 1.0f64.to_bits());
        assert_eq!(exp_nonpositive(-0.0).to_bits(), 1.0f64.to_bits());
        assert!(exp_nonpositive(f64::NAN).is_nan());
    }

    #[test]
    fn log1p_is_within_two_ulps_of_the_standard_library() {
        let mut worst = 0;
        for e in sweep(0.0, 1.0, 200_000)
            .into_iter()
            .chain(sweep(0.0, 1e-10, 2_000))
        {
            worst = worst.max(ulps(log1p_unit(e), e.ln_1p()));
        }
        assert!(worst <= 2, "worst error {worst} ulps");
        assert_eq!(log1p_unit(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(log1p_unit(1e-300).to_bits(), 1e-300f64.to_bits());
        assert!(log1p_unit(f64::NAN).is_nan());
    }

    #[test]
    fn four_lanes_give_the_bits_of_one() {
        let values = sweep(-800.0, 800.0, 4_000)
            .into_iter()
            .chain([0.0, -0.0, 1e-300, -1e-300, f64::INFINITY, f64::NEG_INFINITY])
            .collect::<Vec<_>>();
        for group in values.chunks_exact(4) {
            let z = [group[0], group[1], group[2], group[3]];
            let (loss, sigma) = logistic4(z);
            for k in 0..4 {
                let (l, s) = logistic(z[k]);
                assert_eq!(loss[k].to_bits(), l.to_bits(), "loss at {}", z[k]);
                assert_eq!(sigma[k].to_bits(), s.to_bits(), "sigma at {}", z[k]);
                assert_eq!(sigmoid(z[k]).to_bits(), s.to_bits(), "sigmoid at {}", z[k]);
                assert_eq!(
                    softplus(z[k]).to_bits(),
                    l.to_bits(),
                    "softplus at {}",
                    z[k]
                );
            }
        }
        let (loss, sigma) = logistic4([f64::NAN; 4]);
        assert!(loss.iter().chain(&sigma).all(|v| v.is_nan()));
    }
}

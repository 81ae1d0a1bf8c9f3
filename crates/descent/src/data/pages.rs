//! Large arrays in huge pages.
//!
//! SGD reads rows in random order, so nearly every row lies on a page whose address
//! translation is not cached: with 4 KiB pages a 170 MB data set spans 41,000 pages, far more
//! than the processor's translation buffer holds, and each row waits for a page-table walk on
//! top of the memory access. With 2 MiB pages the same data spans 85, which all fit (the gain
//! on a shuffled SGD epoch is in BENCHMARKS.md, "Measurements behind the code's constants").
//!
//! The kernel is asked (`madvise(MADV_HUGEPAGE)`) before the memory is first written, so pages
//! come huge from the start; the advice changes nothing but speed, and where it is not
//! available (other systems, huge pages switched off) nothing happens.

/// Arrays smaller than this stay as they are (a huge page is 2 MiB; a few of them are not
/// worth the advice).
const MIN_BYTES: usize = 8 << 20;

/// An empty vector with room for `capacity` elements, whose memory the kernel is asked to back
/// with huge pages (when it is large enough to matter). Fill it with `push` or `extend`.
pub(crate) fn huge_vec<T>(capacity: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(capacity);
    advise(
        v.as_ptr().cast(),
        capacity.saturating_mul(std::mem::size_of::<T>()),
    );
    v
}

/// Collects `items` into a vector backed by huge pages (see [`huge_vec`]).
pub(crate) fn collect_huge<T>(items: impl ExactSizeIterator<Item = T>) -> Vec<T> {
    let mut v = huge_vec(items.len());
    v.extend(items);
    v
}

/// Advises the whole 2 MiB-aligned pages inside `[start, start + bytes)`; returns whether the
/// kernel took the advice (false also when the range is too small to be worth it).
#[cfg(target_os = "linux")]
fn advise(start: *const u8, bytes: usize) -> bool {
    const HUGE: usize = 2 << 20;
    if bytes < MIN_BYTES {
        return false;
    }
    let first = (start as usize).next_multiple_of(HUGE);
    let end = (start as usize + bytes) & !(HUGE - 1);
    // SAFETY: the range lies inside one live allocation (the vector's capacity), and
    // MADV_HUGEPAGE neither moves nor discards memory. It is only advice: a refusal (huge
    // pages not built into the kernel) changes nothing but speed.
    end > first
        && unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) }
            == 0
}

#[cfg(not(target_os = "linux"))]
fn advise(_start: *const u8, _bytes: usize) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_vectors_hold_what_is_put_in_them() {
        let n = MIN_BYTES / 8 * 3 + 5;
        let v = collect_huge((0..n).map(|i| i as u64 * 3));
        assert_eq!(v.len(), n);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64 * 3));
        let small: Vec<u8> = collect_huge([1u8, 2, 3].into_iter());
        assert_eq!(small, [1, 2, 3]);
        let empty: Vec<f32> = huge_vec(0);
        assert!(empty.is_empty());
    }

    /// Where the kernel is built with transparent huge pages (its settings file exists), it
    /// takes the advice, whatever the setting: `[never]` only stops it from acting on it.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernel_takes_the_advice_where_it_has_huge_pages() {
        let setting = "/sys/kernel/mm/transparent_hugepage/enabled";
        if std::fs::metadata(setting).is_err() {
            eprintln!("{setting} not found: this kernel has no transparent huge pages");
            return;
        }
        let v: Vec<u8> = Vec::with_capacity(4 * MIN_BYTES);
        assert!(advise(v.as_ptr(), v.capacity()), "the advice was refused");
        assert!(
            !advise(v.as_ptr(), MIN_BYTES - 1),
            "small ranges are left alone"
        );
    }
}

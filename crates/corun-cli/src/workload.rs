//! The CPU-bound workload of the `cpu` experiment and the `pool` demo: the
//! classic Python example `sum(i * i for i in range(n))` over the numbers
//! `5_000_000 + k`, `k` in `0..20`.

use std::hint::black_box;

/// How many numbers the workload sums over.
pub(crate) const COUNT: u64 = 20;

/// The numbers `base + k` for `k` in `0..COUNT`.
pub(crate) fn numbers(base: u64) -> Vec<u64> {
    (0..COUNT).map(|k| base + k).collect()
}

/// `0² + 1² + … + (n-1)²`, exactly, by a real loop.
///
/// The sums pass `u64::MAX` from `n ≈ 3.8 million` on, so they are added
/// as `u128`. Left alone, LLVM turns the loop into the closed formula
/// `(n-1)·n·(2n-1)/6` and the "work" takes nanoseconds; hiding each `i`
/// behind `black_box` keeps one multiply-add per item (about 1.3 ns each on
/// a 2.5 GHz Xeon, so ~6 ms for `n = 5_000_000`). Never inlined, so every
/// mode of the `cpu` experiment runs the very same machine code (a copy
/// inlined elsewhere can differ by a few percent through alignment alone).
#[inline(never)]
pub(crate) fn sum_of_squares(n: u64) -> u128 {
    let mut total: u128 = 0;
    for i in 0..black_box(n) {
        let i = u128::from(black_box(i));
        total += i * i;
    }
    total
}

/// A task that does nothing: what the overhead experiments submit.
pub(crate) fn noop(i: u64) -> u64 {
    i
}

/// The trivial item function of `map-processes`.
pub(crate) fn inc(i: u64) -> u64 {
    i + 1
}

/// Aborts the process running it for every tenth item (`i % 10 == 9`):
/// the faulty task of the `crash` experiment and demo.
pub(crate) fn abort_every_tenth(i: u64) -> u64 {
    if i % 10 == 9 {
        std::process::abort();
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed formula, to check the loop against.
    fn closed(n: u64) -> u128 {
        let n = u128::from(n);
        if n == 0 {
            0
        } else {
            (n - 1) * n * (2 * n - 1) / 6
        }
    }

    #[test]
    fn matches_the_closed_formula() {
        for n in [0, 1, 2, 3, 10, 1000, 12_345] {
            assert_eq!(sum_of_squares(n), closed(n), "n = {n}");
        }
    }

    #[test]
    fn numbers_count_up_from_the_base() {
        let ns = numbers(5_000_000);
        assert_eq!(ns.len(), 20);
        assert_eq!(ns[0], 5_000_000);
        assert_eq!(ns[19], 5_000_019);
    }

    /// The full-size sums need more than 64 bits, as Python's ints do.
    #[test]
    fn large_sums_exceed_u64() {
        assert!(closed(5_000_000) > u128::from(u64::MAX));
    }
}

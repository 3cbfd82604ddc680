//! Timing contenders side by side: every repetition runs each contender
//! once, in turn, starting with a different one each time, so drift on a
//! shared machine and the cost of going first hit them all alike; the median
//! of the repetitions is kept.

use std::time::{Duration, Instant};

use super::progress;

/// One implementation under test: runs `n` operations, returns the time.
pub(crate) struct Contender<'a> {
    pub(crate) name: &'static str,
    pub(crate) run: Box<dyn FnMut(usize) -> Duration + 'a>,
}

impl<'a> Contender<'a> {
    /// A contender that times itself.
    pub(crate) fn new(name: &'static str, run: impl FnMut(usize) -> Duration + 'a) -> Self {
        Self {
            name,
            run: Box::new(run),
        }
    }

    /// A contender timed from the outside: the whole call of `run(n)`.
    pub(crate) fn timed(name: &'static str, mut run: impl FnMut(usize) + 'a) -> Self {
        Self::new(name, move |n| {
            let start = Instant::now();
            run(n);
            start.elapsed()
        })
    }
}

/// Median nanoseconds per operation of each contender, in input order.
pub(crate) fn per_op(n: usize, runs: usize, contenders: &mut [Contender<'_>]) -> Vec<f64> {
    // One untimed warm-up of each, to fault in memory and spin up caches.
    for c in contenders.iter_mut() {
        progress::step(format!("{} (warm-up)", c.name));
        (c.run)(n.min(10_000));
    }
    let count = contenders.len();
    let mut samples = vec![Vec::with_capacity(runs); count];
    for repetition in 0..runs {
        for k in 0..count {
            let i = (repetition + k) % count;
            progress::step(format!(
                "{} ({}/{runs})",
                contenders[i].name,
                repetition + 1
            ));
            samples[i].push((contenders[i].run)(n).as_nanos() as f64 / n as f64);
        }
    }
    samples.into_iter().map(median).collect()
}

/// Median milliseconds per whole run of each contender, in input order:
/// for contenders that time one fixed job (called with `n = 1`), after one
/// untimed warm-up run each.
pub(crate) fn per_run_ms(runs: usize, contenders: &mut [Contender<'_>]) -> Vec<f64> {
    per_op(1, runs, contenders)
        .into_iter()
        .map(|ns| ns / 1e6)
        .collect()
}

/// The median of the samples (the mean of the middle two for an even count).
pub(crate) fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    if samples.len() % 2 == 0 {
        (samples[mid - 1] + samples[mid]) / 2.0
    } else {
        samples[mid]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn per_op_divides_by_n() {
        let mut c = [Contender::new("fixed", |n| {
            Duration::from_nanos(10 * n as u64)
        })];
        assert_eq!(per_op(100, 3, &mut c), [10.0]);
    }

    #[test]
    fn per_run_is_in_milliseconds() {
        let mut calls = 0;
        let mut c = [Contender::new("fixed", |n| {
            assert_eq!(n, 1, "a whole-run contender is called with n = 1");
            calls += 1;
            Duration::from_micros(2500)
        })];
        assert_eq!(per_run_ms(3, &mut c), [2.5]);
        drop(c);
        assert_eq!(calls, 4, "one warm-up, then three timed runs");
    }
}

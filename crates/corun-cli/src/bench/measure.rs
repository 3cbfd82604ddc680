//! Timing contenders side by side, and the figures that come out.
//!
//! Every repetition runs each contender once, in turn (A B A B …),
//! starting with a different one each time, so drift on a shared machine
//! and the cost of going first hit them all alike. A contender's figure is
//! the median of its repetitions with their spread (see [`Figure`]); two
//! contenders timed together are compared repetition by repetition (see
//! [`Figure::ratio`]), which cancels most of the drift.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

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

/// A measured figure: the median of its samples and their spread.
///
/// The spread runs from the smallest sample to the largest; from
/// [`TRIM_FROM`] samples on, the one most extreme sample at each end is
/// left out, so a single hiccup of the machine does not stretch it. A
/// true median lies outside it only when all but one sample fall on one
/// side: for a figure measured against itself, one chance in a thousand
/// with 15 samples.
///
/// Figures timed in the same [`per_op`] call share a batch, and the
/// samples of one repetition sit at the same index in each: such figures
/// are compared pairwise.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Figure {
    pub(crate) median: f64,
    /// The smallest sample.
    pub(crate) low: f64,
    /// The largest sample.
    pub(crate) high: f64,
    pub(crate) samples: Vec<f64>,
    /// Which interleaved measurement the samples come from, if any.
    #[serde(skip)]
    batch: Option<u64>,
}

/// From this many samples on, a spread leaves out the extreme sample at
/// each end.
pub(crate) const TRIM_FROM: usize = 10;

/// Numbers the interleaved measurements, for [`Figure::batch`].
static BATCHES: AtomicU64 = AtomicU64::new(0);

impl Figure {
    /// A figure of independent samples (not paired with any other's).
    pub(crate) fn from_samples(samples: Vec<f64>) -> Self {
        assert!(!samples.is_empty(), "a figure needs at least one sample");
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let median = median(sorted.clone());
        let trim = usize::from(sorted.len() >= TRIM_FROM);
        let (low, high) = (sorted[trim], sorted[sorted.len() - 1 - trim]);
        Self {
            median,
            low,
            high,
            samples,
            batch: None,
        }
    }

    /// A single measurement (one run, or a peer's own report): no spread.
    pub(crate) fn once(value: f64) -> Self {
        Self::from_samples(vec![value])
    }

    /// Every sample multiplied by `factor` (a change of unit); the
    /// pairing is kept.
    pub(crate) fn scaled(&self, factor: f64) -> Self {
        let mut scaled = Self::from_samples(self.samples.iter().map(|s| s * factor).collect());
        scaled.batch = self.batch;
        scaled
    }

    /// The spread as a fraction of the median, on its wider side.
    pub(crate) fn relative_spread(&self) -> f64 {
        if self.median == 0.0 {
            return 0.0;
        }
        ((self.high - self.median).max(self.median - self.low) / self.median).abs()
    }

    /// `self / other`. Figures timed together give the median and spread
    /// of the per-repetition ratios; others the ratio of the medians,
    /// spread from the most favourable to the least favourable pairing of
    /// their extremes.
    pub(crate) fn ratio(&self, other: &Figure) -> Figure {
        let paired = self.batch.is_some()
            && self.batch == other.batch
            && self.samples.len() == other.samples.len();
        if paired {
            let ratios = self
                .samples
                .iter()
                .zip(&other.samples)
                .map(|(a, b)| a / b)
                .collect();
            return Self::from_samples(ratios);
        }
        Self {
            median: self.median / other.median,
            low: self.low / other.high,
            high: self.high / other.low,
            samples: vec![self.median / other.median],
            batch: None,
        }
    }
}

/// A change of unit: every sample divided (ns → µs: `/ 1e3`).
impl std::ops::Div<f64> for Figure {
    type Output = Figure;

    fn div(self, divisor: f64) -> Figure {
        self.scaled(1.0 / divisor)
    }
}

/// A change of unit: every sample multiplied.
impl std::ops::Mul<f64> for Figure {
    type Output = Figure;

    fn mul(self, factor: f64) -> Figure {
        self.scaled(factor)
    }
}

impl std::ops::Div<f64> for &Figure {
    type Output = Figure;

    fn div(self, divisor: f64) -> Figure {
        self.scaled(1.0 / divisor)
    }
}

impl From<f64> for Figure {
    fn from(value: f64) -> Self {
        Self::once(value)
    }
}

impl From<&f64> for Figure {
    fn from(value: &f64) -> Self {
        Self::once(*value)
    }
}

impl From<&Figure> for Figure {
    fn from(figure: &Figure) -> Self {
        figure.clone()
    }
}

/// Nanoseconds per operation of each contender, in input order: the
/// median of `runs` interleaved repetitions, with their spread.
pub(crate) fn per_op(n: usize, runs: usize, contenders: &mut [Contender<'_>]) -> Vec<Figure> {
    let count = contenders.len();
    progress::add_steps(count * (runs + 1));
    // One untimed warm-up of each, to fault in memory and spin up caches.
    for c in contenders.iter_mut() {
        progress::step(format!("{} (warm-up)", c.name));
        (c.run)(n.min(10_000));
    }
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
    let batch = BATCHES.fetch_add(1, Ordering::Relaxed);
    samples
        .into_iter()
        .map(|s| {
            let mut figure = Figure::from_samples(s);
            figure.batch = Some(batch);
            figure
        })
        .collect()
}

/// Milliseconds per whole run of each contender, in input order: for
/// contenders that time one fixed job (called with `n = 1`), after one
/// untimed warm-up run each.
pub(crate) fn per_run_ms(runs: usize, contenders: &mut [Contender<'_>]) -> Vec<Figure> {
    per_op(1, runs, contenders)
        .into_iter()
        .map(|ns| ns.scaled(1e-6))
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
        let t = per_op(100, 3, &mut c);
        assert_eq!((t[0].median, t[0].low, t[0].high), (10.0, 10.0, 10.0));
        assert_eq!(t[0].samples.len(), 3);
    }

    #[test]
    fn per_run_is_in_milliseconds() {
        let mut calls = 0;
        let mut c = [Contender::new("fixed", |n| {
            assert_eq!(n, 1, "a whole-run contender is called with n = 1");
            calls += 1;
            Duration::from_micros(2500)
        })];
        assert_eq!(per_run_ms(3, &mut c)[0].median, 2.5);
        drop(c);
        assert_eq!(calls, 4, "one warm-up, then three timed runs");
    }

    #[test]
    fn contenders_alternate_and_rotate() {
        let order = std::cell::RefCell::new(Vec::new());
        let mut c = [
            Contender::new("a", |_| {
                order.borrow_mut().push('a');
                Duration::from_nanos(1)
            }),
            Contender::new("b", |_| {
                order.borrow_mut().push('b');
                Duration::from_nanos(1)
            }),
        ];
        per_op(1, 4, &mut c);
        drop(c);
        // Warm-ups, then A B, B A, A B, B A.
        assert_eq!(order.into_inner(), "ababbaabba".chars().collect::<Vec<_>>());
    }

    #[test]
    fn figures_timed_together_are_compared_per_repetition() {
        // A drifts with B: every pair is exactly 2×, though the samples
        // range over 10×.
        let mut k = 0u64;
        let mut j = 0u64;
        let mut c = [
            Contender::new("a", |_| {
                k += 1;
                Duration::from_nanos(200 * k)
            }),
            Contender::new("b", |_| {
                j += 1;
                Duration::from_nanos(100 * j)
            }),
        ];
        let t = per_op(1, 5, &mut c);
        drop(c);
        let ratio = t[0].ratio(&t[1]);
        assert_eq!((ratio.median, ratio.low, ratio.high), (2.0, 2.0, 2.0));
        // Unpaired, the same figures give the widest honest spread.
        let unpaired = Figure::from_samples(t[0].samples.clone()).ratio(&t[1]);
        assert!(unpaired.low < 1.0 && unpaired.high > 5.0, "{unpaired:?}");
        assert!((unpaired.median - 2.0).abs() < 1e-9);
    }

    #[test]
    fn scaling_keeps_the_pairing() {
        let mut c = [
            Contender::new("a", |_| Duration::from_micros(3)),
            Contender::new("b", |_| Duration::from_micros(1)),
        ];
        let t = per_run_ms(3, &mut c);
        assert!((t[0].median - 0.003).abs() < 1e-12);
        assert_eq!(t[0].ratio(&t[1]).samples.len(), 3);
    }

    #[test]
    fn a_spread_of_ten_or_more_leaves_out_one_extreme_each_side() {
        let few = Figure::from_samples(vec![5.0, 1.0, 3.0, 100.0]);
        assert_eq!((few.low, few.high), (1.0, 100.0));
        let mut samples: Vec<f64> = (1..=9).map(f64::from).collect();
        samples.push(1000.0);
        let many = Figure::from_samples(samples);
        assert_eq!((many.low, many.high, many.median), (2.0, 9.0, 5.5));
    }

    #[test]
    fn relative_spread_takes_the_wider_side() {
        let f = Figure::from_samples(vec![9.0, 10.0, 12.0]);
        assert!((f.relative_spread() - 0.2).abs() < 1e-12);
        assert_eq!(Figure::once(0.0).relative_spread(), 0.0);
    }
}

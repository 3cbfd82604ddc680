//! The `reactive` experiment: the cost of `corun::reactive` per item.
//!
//! - **pipeline**: the numbers `0..n` through `range → map(x * 3) →
//!   filter(even) → scan(sum)`, the last sum stored for the caller;
//! - **fan-out**: `n` items into a `Subject` with 10 observers, each adding
//!   the item to a counter.
//!
//! Each against the floor (a plain iterator chain; a loop over a
//! `Vec<Box<dyn FnMut>>`), rxRust (its single-threaded `Local` context,
//! `Rc`/`RefCell`, and its thread-safe `Shared` context, `Arc`/`Mutex`,
//! which is what corun's `Send + Sync` observables are), and RxPY when
//! `reactivex` is importable. Every sink does the same work: a relaxed
//! atomic store of an item that [`black_box`] hides from the optimiser,
//! so that no contender's chain is folded into a vectorised sum (the
//! plain iterator's and rxRust's were, at 0.05 ns per item and operator,
//! without it). Figures are per item per operator (the pipeline's time
//! over 3) and per item per observer. Bars: ≤ 10 ns per item per operator
//! and per observer, and ≥ 100 × faster than RxPY.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use corun::reactive::{Subject, range};
use rxrust::prelude::{Local, Observable as _, ObservableFactory as _, Observer as _, Shared};

use super::Plan;
use super::measure::{Contender, Figure, per_op};
use super::progress;
use super::python::run_script;
use super::report::Row;

const EXPERIMENT: &str = "reactive";
/// BENCHMARKS.md: at most 10 ns per item per operator (and per observer).
const BAR_NS: f64 = 10.0;
/// At least 100 × faster than RxPY.
const BAR_VS_PYTHON: f64 = 1.0 / 100.0;
/// The operators of the pipeline: map, filter, scan.
const OPERATORS: usize = 3;
/// The observers of the fan-out.
const OBSERVERS: usize = 10;
/// The rxRust release the bench is built against (pinned in Cargo.toml).
const RXRUST_VERSION: &str = "1.0.0-rc.6";
const PYTHON_SCRIPT: &str = include_str!("../../python/reactive_bench.py");

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(1_000_000, 100_000);
    let pipeline = pipeline_times(n, plan.runs)?;
    let fan_out = fan_out_times(n, plan.runs)?;

    let rx = format!("rxRust {RXRUST_VERSION}");
    let mut rows = Vec::new();
    let kinds = [
        (
            "range → map → filter → scan",
            "ns/item/operator",
            &pipeline,
            "plain iterator map → filter → scan",
            format!("{n} items, time over {OPERATORS} operators"),
        ),
        (
            "Subject.on_next, 10 observers",
            "ns/item/observer",
            &fan_out,
            "Vec<Box<dyn FnMut>> loop, 10 closures",
            format!("{n} items, time over {OBSERVERS} observers"),
        ),
    ];
    for (corun, unit, t, floor, note) in &kinds {
        rows.push(
            Row::target(
                EXPERIMENT,
                *corun,
                &t[0],
                BAR_NS,
                format!("{BAR_NS} {unit}"),
            )
            .unit(unit)
            .note(note.clone()),
        );
        rows.push(
            Row::compare(EXPERIMENT, *corun, *floor, &t[0], &t[1], None)
                .unit(unit)
                .note(note.clone()),
        );
        rows.push(
            Row::compare(
                EXPERIMENT,
                *corun,
                format!("{rx} Local (Rc/RefCell)"),
                &t[0],
                &t[2],
                None,
            )
            .unit(unit)
            .note(note.clone()),
        );
        rows.push(
            Row::compare(
                EXPERIMENT,
                *corun,
                format!("{rx} Shared (Arc/Mutex)"),
                &t[0],
                &t[3],
                None,
            )
            .unit(unit)
            .note(note.clone()),
        );
    }
    if plan.python {
        // RxPY takes microseconds per item: a tenth of the items.
        let py_n = (n / 10).max(1);
        progress::step(format!("RxPY ({py_n} items)"));
        let args = [py_n.to_string(), plan.runs.to_string()];
        let outcome =
            run_script(PYTHON_SCRIPT, &args)?.and_then(|json| match json["skipped"].as_str() {
                Some(why) => Err(why.to_owned()),
                None => Ok(json),
            });
        match outcome {
            Ok(json) => {
                let peer = json["peer"].as_str().unwrap_or("RxPY");
                let version = json["python"].as_str().unwrap_or("?");
                for ((corun, unit, t, _, _), key, per) in [
                    (&kinds[0], "ns_per_item_pipeline", OPERATORS),
                    (&kinds[1], "ns_per_item_fan_out", OBSERVERS),
                ] {
                    let py = json[key]
                        .as_f64()
                        .with_context(|| format!("python peer gave no {key}: {json}"))?;
                    rows.push(
                        Row::compare(
                            EXPERIMENT,
                            *corun,
                            format!("Python {version} {peer}"),
                            &t[0],
                            py / per as f64,
                            Some(BAR_VS_PYTHON),
                        )
                        .unit(unit)
                        .note(format!("RxPY: {py_n} items")),
                    );
                }
            }
            Err(why) => {
                for (corun, unit, t, _, _) in &kinds {
                    rows.push(
                        Row::peer_missing(EXPERIMENT, *corun, "RxPY", &t[0], why.clone())
                            .unit(unit),
                    );
                }
            }
        }
    }
    Ok(rows)
}

/// The pipeline's last sum for `0..n`: `3 x` for every even `x`, added up.
fn expected_sum(n: usize) -> u64 {
    let evens = n.div_ceil(2) as u64;
    3 * evens.saturating_sub(1) * evens
}

/// Median ns per item per operator: corun, the floor, rxRust Local, rxRust
/// Shared.
fn pipeline_times(n: usize, runs: usize) -> anyhow::Result<Vec<Figure>> {
    let sink = Arc::new(AtomicU64::new(0));
    let corun_pipeline = {
        let sink = Arc::clone(&sink);
        move |n: usize| {
            let sink = Arc::clone(&sink);
            let observable = range(0, black_box(n) as u64)
                .map(|x| x * 3)
                .filter(|x| x % 2 == 0)
                .scan(0_u64, |acc, x| acc.wrapping_add(x));
            let start = Instant::now();
            observable.subscribe(move |v| sink.store(black_box(v), Ordering::Relaxed));
            start.elapsed()
        }
    };
    let mut contenders = [
        checked_pipeline(&sink, "corun range → map → filter → scan", corun_pipeline),
        checked_pipeline(&sink, "plain iterator", |n| {
            let start = Instant::now();
            (0..black_box(n) as u64)
                .map(|x| x * 3)
                .filter(|x| x % 2 == 0)
                .scan(0_u64, |acc, x| {
                    *acc = acc.wrapping_add(x);
                    Some(*acc)
                })
                .for_each(|v| sink.store(black_box(v), Ordering::Relaxed));
            start.elapsed()
        }),
        checked_pipeline(&sink, "rxRust Local", |n| {
            let sink = Arc::clone(&sink);
            let start = Instant::now();
            Local::from_iter(0..black_box(n) as u64)
                .map(|x| x * 3)
                .filter(|x| x % 2 == 0)
                .scan(0_u64, |acc, x| acc.wrapping_add(x))
                .subscribe(move |v| sink.store(black_box(v), Ordering::Relaxed));
            start.elapsed()
        }),
        checked_pipeline(&sink, "rxRust Shared", |n| {
            let sink = Arc::clone(&sink);
            let start = Instant::now();
            Shared::from_iter(0..black_box(n) as u64)
                .map(|x| x * 3)
                .filter(|x| x % 2 == 0)
                .scan(0_u64, |acc, x| acc.wrapping_add(x))
                .subscribe(move |v| sink.store(black_box(v), Ordering::Relaxed));
            start.elapsed()
        }),
    ];
    let t = per_op(n, runs, &mut contenders);
    Ok(t.into_iter().map(|ns| ns / OPERATORS as f64).collect())
}

/// A pipeline contender whose last sum is checked after each run.
fn checked_pipeline<'a>(
    sink: &'a AtomicU64,
    name: &'static str,
    mut run: impl FnMut(usize) -> Duration + 'a,
) -> Contender<'a> {
    Contender::new(name, move |n| {
        sink.store(0, Ordering::Relaxed);
        let t = run(n);
        assert_eq!(
            sink.load(Ordering::Relaxed),
            expected_sum(n),
            "{name} lost items"
        );
        t
    })
}

/// A fan-out contender: `emit` called for `0..n`, timed; every observer's
/// additions checked after each run.
fn checked_fan_out<'a>(
    total: &'a AtomicU64,
    name: &'static str,
    mut emit: impl FnMut(u64) + 'a,
) -> Contender<'a> {
    Contender::new(name, move |n| {
        total.store(0, Ordering::Relaxed);
        let start = Instant::now();
        for i in 0..n as u64 {
            emit(black_box(i));
        }
        let t = start.elapsed();
        let n = n as u64;
        assert_eq!(
            total.load(Ordering::Relaxed),
            OBSERVERS as u64 * (n * n.saturating_sub(1) / 2),
            "{name} lost items"
        );
        t
    })
}

/// An observer's work: add `x` to `total` (a load and a store, no
/// read-modify-write instruction).
#[inline]
fn add(total: &AtomicU64, x: u64) {
    total.store(
        total.load(Ordering::Relaxed).wrapping_add(x),
        Ordering::Relaxed,
    );
}

/// Median ns per item per observer: corun, the floor, rxRust Local, rxRust
/// Shared.
fn fan_out_times(n: usize, runs: usize) -> anyhow::Result<Vec<Figure>> {
    let total = Arc::new(AtomicU64::new(0));

    let corun = Subject::new();
    let mut floor: Vec<Box<dyn FnMut(u64) + Send>> = Vec::new();
    let mut rx_local = Local::subject();
    let mut rx_shared = Shared::subject();
    for _ in 0..OBSERVERS {
        let t = Arc::clone(&total);
        corun.observable().subscribe(move |x| add(&t, x));
        let t = Arc::clone(&total);
        floor.push(Box::new(move |x| add(&t, x)));
        let t = Arc::clone(&total);
        rx_local.clone().subscribe(move |x: u64| add(&t, x));
        let t = Arc::clone(&total);
        rx_shared.clone().subscribe(move |x: u64| add(&t, x));
    }
    anyhow::ensure!(
        corun.observer_count() == OBSERVERS,
        "the subject has {} observers, not {OBSERVERS}",
        corun.observer_count()
    );

    let mut contenders = [
        checked_fan_out(&total, "corun Subject", |i| corun.on_next(i)),
        checked_fan_out(&total, "Vec<Box<dyn FnMut>>", |i| {
            for f in black_box(&mut floor).iter_mut() {
                f(i);
            }
        }),
        checked_fan_out(&total, "rxRust Local subject", |i| rx_local.next(i)),
        checked_fan_out(&total, "rxRust Shared subject", |i| rx_shared.next(i)),
    ];
    let t = per_op(n, runs, &mut contenders);
    Ok(t.into_iter().map(|ns| ns / OBSERVERS as f64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_sum_matches_the_pipeline() {
        for n in [0, 1, 2, 3, 10, 11] {
            let sum: u64 = (0..n as u64).map(|x| x * 3).filter(|x| x % 2 == 0).sum();
            assert_eq!(expected_sum(n), sum, "n = {n}");
        }
    }

    #[test]
    fn rxrust_version_is_the_pinned_one() {
        let manifest = include_str!("../../Cargo.toml");
        assert!(
            manifest.contains(&format!("rxrust = {{ version = \"={RXRUST_VERSION}\"")),
            "Cargo.toml pins another rxrust than {RXRUST_VERSION}"
        );
    }

    #[test]
    fn each_contender_delivers_every_item() {
        assert_eq!(pipeline_times(1_001, 1).unwrap().len(), 4);
        assert_eq!(fan_out_times(1_001, 1).unwrap().len(), 4);
    }
}

//! The `emit` experiment: the cost of one emit to one listener and to ten,
//! through `corun::events::EventEmitter` (any thread: no lock, one
//! hazard-pointer store per emit, for the snapshot) and `LocalEmitter`
//! (one thread: `Rc` and `RefCell`), against the floor, a plain
//! `Vec<Box<dyn Fn>>` looped over, and Python (pyee when importable, else
//! a stdlib callback list). Every listener does the same work: it adds the
//! payload to a counter. Bars: ≤ 3 × the floor, and ≥ 50 × faster than
//! Python.

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use corun::events::{EventEmitter, LocalEmitter};

use super::Plan;
use super::measure::{Contender, per_op};
use super::progress;
use super::python::run_script;
use super::report::Row;

const EXPERIMENT: &str = "emit";
/// At most 3 × the plain loop's time.
const BAR_VS_FLOOR: f64 = 3.0;
/// At least 50 × faster than Python.
const BAR_VS_PYTHON: f64 = 1.0 / 50.0;
const PYTHON_SCRIPT: &str = include_str!("../../python/emit_bench.py");

/// A listener of the floor: a boxed closure, as the emitters store theirs.
type Listener = Box<dyn Fn(&u64)>;

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(2_000_000, 100_000);
    let mut times = Vec::new();
    for listeners in [1, 10] {
        let sync_total = Arc::new(AtomicU64::new(0));
        let sync = EventEmitter::<u64>::new();
        let local_total = Rc::new(Cell::new(0_u64));
        let local = LocalEmitter::<u64>::new();
        let floor_total = Rc::new(Cell::new(0_u64));
        let mut floor: Vec<Listener> = Vec::new();
        for _ in 0..listeners {
            let t = Arc::clone(&sync_total);
            sync.on("data", move |x: &u64| {
                t.store(
                    t.load(Ordering::Relaxed).wrapping_add(*x),
                    Ordering::Relaxed,
                )
            });
            let t = Rc::clone(&local_total);
            local.on("data", move |x: &u64| t.set(t.get().wrapping_add(*x)));
            let t = Rc::clone(&floor_total);
            floor.push(Box::new(move |x: &u64| t.set(t.get().wrapping_add(*x))));
        }
        let mut contenders = [
            Contender::new("EventEmitter", |n| {
                time(n, |i| sync.emit("data", i).map(drop))
            }),
            Contender::new("LocalEmitter", |n| {
                time(n, |i| local.emit("data", i).map(drop))
            }),
            Contender::new("Vec<Box<dyn Fn>>", |n| {
                time(n, |i| {
                    for f in black_box(&floor).iter() {
                        f(&i);
                    }
                    Ok(())
                })
            }),
        ];
        let t = per_op(n, plan.runs, &mut contenders);
        drop(contenders);
        anyhow::ensure!(
            sync_total.load(Ordering::Relaxed) > 0
                && local_total.get() > 0
                && floor_total.get() > 0,
            "the listeners never ran"
        );
        times.push((listeners, t));
    }

    let mut rows = Vec::new();
    for (listeners, t) in &times {
        let floor = format!("Vec<Box<dyn Fn>> loop, {listeners} listener(s)");
        rows.push(
            Row::compare(
                EXPERIMENT,
                format!("EventEmitter.emit, {listeners} listener(s)"),
                floor.clone(),
                &t[0],
                &t[2],
                Some(BAR_VS_FLOOR),
            )
            .note("thread-safe: one hazard-pointer store per emit"),
        );
        rows.push(Row::compare(
            EXPERIMENT,
            format!("LocalEmitter.emit, {listeners} listener(s)"),
            floor,
            &t[1],
            &t[2],
            Some(BAR_VS_FLOOR),
        ));
    }
    if plan.python {
        progress::step(format!("Python emit ({n} emits)"));
        let py_n = n / 4;
        let args = [py_n.to_string(), plan.runs.to_string()];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let peer = json["peer"].as_str().unwrap_or("?").to_owned();
                let version = json["python"].as_str().unwrap_or("?").to_owned();
                for (listeners, t) in &times {
                    let py = json[format!("ns_per_emit_{listeners}")]
                        .as_f64()
                        .with_context(|| format!("python peer gave no figure: {json}"))?;
                    for (k, name) in ["EventEmitter", "LocalEmitter"].into_iter().enumerate() {
                        rows.push(
                            Row::compare(
                                EXPERIMENT,
                                format!("{name}.emit, {listeners} listener(s)"),
                                format!("Python {version} {peer}, {listeners} listener(s)"),
                                &t[k],
                                py,
                                Some(BAR_VS_PYTHON),
                            )
                            .note(format!("Python: {py_n} emits")),
                        );
                    }
                }
            }
            Err(why) => {
                for (listeners, t) in &times {
                    rows.push(Row::peer_missing(
                        EXPERIMENT,
                        format!("EventEmitter.emit, {listeners} listener(s)"),
                        "Python emitter",
                        &t[0],
                        why.clone(),
                    ));
                }
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let note = r.note.clone();
            let r = r.unit("ns/emit");
            match note {
                Some(note) => r.note(format!("{note}; {n} emits")),
                None => r.note(format!("{n} emits")),
            }
        })
        .collect())
}

/// `n` emits of `0..n`, timed.
fn time(n: usize, mut emit: impl FnMut(u64) -> Result<(), corun::Error>) -> Duration {
    let start = Instant::now();
    for i in 0..n as u64 {
        emit(black_box(i)).expect("nothing fails here");
    }
    start.elapsed()
}

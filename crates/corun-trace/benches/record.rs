//! The cost of recording: one task's `submitted` + `started` + `finished`
//! (three events, a static label). Criterion's `time` is per task; its
//! `thrpt` is in events (divide the time by three for the cost of one).
//!
//! - `record/none`: an executor built without a recorder (`None`): the
//!   branch it pays instead.
//! - `record/1_thread`: one thread recording.
//! - `record/2_threads`: two threads recording into one recorder at once,
//!   each the same number of tasks; the time is the slower thread's, so the
//!   figure is what each thread pays per event.
//!
//! Every [`CHUNK`] tasks go to a fresh recorder (dropped untimed), so
//! memory stays bounded however many iterations criterion asks for; the
//! growth of each recorder's buffers up to a chunk is part of the cost.

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use corun_trace::{Outcome, Recorder};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parking_lot::Mutex;

/// Tasks recorded into one recorder before it is replaced.
const CHUNK: u64 = 100_000;
/// Events per task: submitted, started, finished.
const EVENTS: u64 = 3;

/// Records `n` tasks on the calling thread, as an executor would: the
/// submitter's event, then the worker's two.
fn record_tasks(rec: Option<&Recorder>, n: u64) {
    for _ in 0..n {
        if let Some(rec) = rec {
            let id = rec.submitted("task");
            rec.started(id);
            rec.finished(id, Outcome::Ok);
        }
    }
}

/// Chunk sizes adding up to `iters`.
fn chunks(iters: u64) -> Vec<u64> {
    let mut sizes = vec![CHUNK; usize::try_from(iters / CHUNK).unwrap_or(usize::MAX)];
    if iters % CHUNK != 0 {
        sizes.push(iters % CHUNK);
    }
    sizes
}

fn record(c: &mut Criterion) {
    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Elements(EVENTS));

    g.bench_function("none", |b| {
        b.iter(|| record_tasks(black_box(None), 1));
    });

    g.bench_function("1_thread", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for n in chunks(iters) {
                let rec = Recorder::new();
                let start = Instant::now();
                record_tasks(Some(&rec), n);
                total += start.elapsed();
            }
            total
        });
    });

    g.bench_function("2_threads", |b| {
        b.iter_custom(|iters| {
            let sizes = chunks(iters);
            let recorders: Vec<_> = (0..sizes.len())
                .map(|_| Mutex::new(Some(Recorder::new())))
                .collect();
            let barrier = Barrier::new(2);
            let work = || {
                let mut total = Duration::ZERO;
                for (slot, &n) in recorders.iter().zip(&sizes) {
                    let rec = slot.lock().clone();
                    barrier.wait();
                    let start = Instant::now();
                    record_tasks(rec.as_ref(), n);
                    total += start.elapsed();
                    drop(rec);
                    if barrier.wait().is_leader() {
                        slot.lock().take();
                    }
                }
                total
            };
            thread::scope(|s| {
                let other = s.spawn(work);
                let mine = work();
                mine.max(other.join().expect("recording thread panicked"))
            })
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    targets = record
}
criterion_main!(benches);

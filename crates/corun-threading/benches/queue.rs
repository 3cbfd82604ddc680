//! Queue throughput: corun's `Queue` and `SimpleQueue` against
//! crossbeam-channel and `std::sync::mpsc` (the `queue` row of
//! `BENCHMARKS.md`; bar: `Queue` within 1.5× of crossbeam-channel of the
//! same boundedness).
//!
//! `spsc/*` moves [`ITEMS`] items from one producer thread to one consumer
//! thread per iteration; `roundtrip/*` is one put followed by one get on a
//! single thread (the uncontended cost per item).

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use corun_threading::queue::{Queue, SimpleQueue};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

/// Items moved per iteration of a producer→consumer benchmark.
const ITEMS: u64 = 100_000;

/// The bound of every bounded queue or channel here.
const BOUND: usize = 1024;

/// Runs `produce` on a second thread and `consume` on this one; returns the
/// consumer's checksum so the work cannot be optimised away.
fn spsc<P, C>(produce: P, consume: C) -> u64
where
    P: FnOnce() + Send,
    C: FnOnce() -> u64,
{
    thread::scope(|s| {
        let producer = s.spawn(produce);
        let sum = consume();
        producer.join().expect("producer panicked");
        sum
    })
}

/// The sum the consumer must see: 0 + 1 + … + (ITEMS − 1).
const EXPECTED: u64 = ITEMS * (ITEMS - 1) / 2;

fn corun_queue(q: &Queue<u64>) -> u64 {
    spsc(
        || {
            for i in 0..ITEMS {
                q.put(i).expect("queue is open");
            }
        },
        || (0..ITEMS).map(|_| q.get().expect("queue is open")).sum(),
    )
}

fn producer_consumer(c: &mut Criterion) {
    let mut g = c.benchmark_group("spsc");
    g.throughput(Throughput::Elements(ITEMS));
    // Iterations take milliseconds: the same count per sample.
    g.sampling_mode(SamplingMode::Flat);

    g.bench_function("corun_queue_unbounded", |b| {
        b.iter(|| {
            let q = Queue::new();
            assert_eq!(corun_queue(&q), EXPECTED);
        });
    });
    g.bench_function("crossbeam_unbounded", |b| {
        b.iter(|| {
            let (tx, rx) = crossbeam_channel::unbounded();
            let sum = spsc(
                move || {
                    for i in 0..ITEMS {
                        tx.send(i).expect("receiver alive");
                    }
                },
                || rx.iter().sum(),
            );
            assert_eq!(sum, EXPECTED);
        });
    });
    g.bench_function("corun_simple_queue", |b| {
        b.iter(|| {
            let q = SimpleQueue::new();
            let sum = spsc(
                || {
                    for i in 0..ITEMS {
                        q.put(i);
                    }
                },
                || (0..ITEMS).map(|_| q.get()).sum::<u64>(),
            );
            assert_eq!(sum, EXPECTED);
        });
    });
    g.bench_function("std_mpsc_channel", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            let sum = spsc(
                move || {
                    for i in 0..ITEMS {
                        tx.send(i).expect("receiver alive");
                    }
                },
                || rx.iter().sum(),
            );
            assert_eq!(sum, EXPECTED);
        });
    });
    g.bench_function("corun_queue_bounded_1024", |b| {
        b.iter(|| {
            let q = Queue::with_maxsize(BOUND);
            assert_eq!(corun_queue(&q), EXPECTED);
        });
    });
    g.bench_function("crossbeam_bounded_1024", |b| {
        b.iter(|| {
            let (tx, rx) = crossbeam_channel::bounded(BOUND);
            let sum = spsc(
                move || {
                    for i in 0..ITEMS {
                        tx.send(i).expect("receiver alive");
                    }
                },
                || rx.iter().sum(),
            );
            assert_eq!(sum, EXPECTED);
        });
    });
    g.bench_function("std_mpsc_sync_channel_1024", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::sync_channel(BOUND);
            let sum = spsc(
                move || {
                    for i in 0..ITEMS {
                        tx.send(i).expect("receiver alive");
                    }
                },
                || rx.iter().sum(),
            );
            assert_eq!(sum, EXPECTED);
        });
    });
    g.finish();
}

fn roundtrip(c: &mut Criterion) {
    let mut g = c.benchmark_group("roundtrip");
    g.throughput(Throughput::Elements(1));

    let q = Queue::new();
    g.bench_function("corun_queue_unbounded", |b| {
        b.iter(|| {
            q.put(black_box(1_u64)).expect("queue is open");
            black_box(q.get().expect("queue is open"))
        });
    });
    let (tx, rx) = crossbeam_channel::unbounded();
    g.bench_function("crossbeam_unbounded", |b| {
        b.iter(|| {
            tx.send(black_box(1_u64)).expect("receiver alive");
            black_box(rx.recv().expect("sender alive"))
        });
    });
    let q = Queue::with_maxsize(BOUND);
    g.bench_function("corun_queue_bounded_1024", |b| {
        b.iter(|| {
            q.put(black_box(1_u64)).expect("queue is open");
            black_box(q.get().expect("queue is open"))
        });
    });
    let (tx, rx) = crossbeam_channel::bounded(BOUND);
    g.bench_function("crossbeam_bounded_1024", |b| {
        b.iter(|| {
            tx.send(black_box(1_u64)).expect("receiver alive");
            black_box(rx.recv().expect("sender alive"))
        });
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(15)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = producer_consumer, roundtrip
}
criterion_main!(benches);

//! Synchronisation primitives: corun's `Lock`, `Semaphore`, `Event` and
//! `Barrier` against the std and parking_lot primitives they stand for (the
//! `sync` row of `BENCHMARKS.md`; bar: no slower than the wrapped primitive
//! by more than 10%).
//!
//! - `lock_uncontended/*`: one acquire, increment, release on one thread.
//! - `lock_contended/*`: two threads each incrementing [`CONTENDED`] times.
//! - `semaphore_uncontended/*`: one acquire and release of a permit.
//! - `event_pingpong/*`: [`PINGS`] set/wait round trips between two threads.
//! - `barrier_2/*`: [`GENERATIONS`] generations of a two-party barrier.

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use corun_threading::threading::{Barrier, Event, Lock, Semaphore};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

/// Increments per thread in the contended lock benchmark.
const CONTENDED: u64 = 100_000;
/// Round trips per iteration of the event ping-pong.
const PINGS: u64 = 1_000;
/// Generations per iteration of the barrier benchmark.
const GENERATIONS: u64 = 10_000;

/// Runs `f` on this thread and on one more, at the same time.
fn on_two_threads<F: Fn() + Sync>(f: F) {
    thread::scope(|s| {
        let other = s.spawn(&f);
        f();
        other.join().expect("worker panicked");
    });
}

fn lock_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_uncontended");
    g.throughput(Throughput::Elements(1));
    let corun = Lock::new(0_u64);
    g.bench_function("corun_lock", |b| {
        b.iter(|| *black_box(&corun).acquire() += 1);
    });
    let pl = parking_lot::Mutex::new(0_u64);
    g.bench_function("parking_lot_mutex", |b| {
        b.iter(|| *black_box(&pl).lock() += 1);
    });
    let std = std::sync::Mutex::new(0_u64);
    g.bench_function("std_mutex", |b| {
        b.iter(|| *black_box(&std).lock().expect("not poisoned") += 1);
    });
    g.finish();
}

fn lock_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_contended");
    g.throughput(Throughput::Elements(2 * CONTENDED));
    // Iterations take milliseconds: the same count per sample.
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("corun_lock", |b| {
        b.iter(|| {
            let lock = Lock::new(0_u64);
            on_two_threads(|| {
                for _ in 0..CONTENDED {
                    *lock.acquire() += 1;
                }
            });
            assert_eq!(lock.into_inner(), 2 * CONTENDED);
        });
    });
    g.bench_function("parking_lot_mutex", |b| {
        b.iter(|| {
            let lock = parking_lot::Mutex::new(0_u64);
            on_two_threads(|| {
                for _ in 0..CONTENDED {
                    *lock.lock() += 1;
                }
            });
            assert_eq!(lock.into_inner(), 2 * CONTENDED);
        });
    });
    g.bench_function("std_mutex", |b| {
        b.iter(|| {
            let lock = std::sync::Mutex::new(0_u64);
            on_two_threads(|| {
                for _ in 0..CONTENDED {
                    *lock.lock().expect("not poisoned") += 1;
                }
            });
            assert_eq!(lock.into_inner().expect("not poisoned"), 2 * CONTENDED);
        });
    });
    g.finish();
}

/// The obvious counting semaphore on parking_lot: the baseline for corun's.
struct PlSemaphore {
    permits: parking_lot::Mutex<usize>,
    cond: parking_lot::Condvar,
}

impl PlSemaphore {
    fn new(permits: usize) -> Self {
        Self {
            permits: parking_lot::Mutex::new(permits),
            cond: parking_lot::Condvar::new(),
        }
    }

    fn acquire(&self) {
        let mut permits = self.permits.lock();
        while *permits == 0 {
            self.cond.wait(&mut permits);
        }
        *permits -= 1;
    }

    fn release(&self) {
        *self.permits.lock() += 1;
        self.cond.notify_one();
    }
}

fn semaphore_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore_uncontended");
    g.throughput(Throughput::Elements(1));
    let corun = Semaphore::new(1);
    g.bench_function("corun_semaphore", |b| {
        b.iter(|| drop(black_box(&corun).acquire()));
    });
    let pl = PlSemaphore::new(1);
    g.bench_function("parking_lot_mutex_condvar", |b| {
        b.iter(|| {
            let sem = black_box(&pl);
            sem.acquire();
            sem.release();
        });
    });
    g.finish();
}

/// A flag with wait/set/clear on parking_lot: the baseline for `Event`.
struct PlFlag {
    flag: parking_lot::Mutex<bool>,
    cond: parking_lot::Condvar,
}

impl PlFlag {
    fn new() -> Self {
        Self {
            flag: parking_lot::Mutex::new(false),
            cond: parking_lot::Condvar::new(),
        }
    }

    fn set(&self) {
        *self.flag.lock() = true;
        self.cond.notify_all();
    }

    fn clear(&self) {
        *self.flag.lock() = false;
    }

    fn wait(&self) {
        let mut flag = self.flag.lock();
        while !*flag {
            self.cond.wait(&mut flag);
        }
    }
}

/// [`PINGS`] round trips: this thread sets `ping` and waits for `pong`, the
/// other waits for `ping` and sets `pong`. Each side clears the flag it waited
/// for before the flag can be set again, so no round trip is missed.
fn pingpong<E: Sync>(
    ping: &E,
    pong: &E,
    set: impl Fn(&E) + Sync,
    wait: impl Fn(&E) + Sync,
    clear: impl Fn(&E) + Sync,
) {
    thread::scope(|s| {
        let other = s.spawn(|| {
            for _ in 0..PINGS {
                wait(ping);
                clear(ping);
                set(pong);
            }
        });
        for _ in 0..PINGS {
            set(ping);
            wait(pong);
            clear(pong);
        }
        other.join().expect("ponger panicked");
    });
}

fn event_pingpong(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_pingpong");
    g.throughput(Throughput::Elements(PINGS));
    // Iterations take milliseconds: the same count per sample.
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("corun_event", |b| {
        b.iter(|| {
            let (ping, pong) = (Event::new(), Event::new());
            pingpong(&ping, &pong, Event::set, Event::wait, Event::clear);
        });
    });
    g.bench_function("parking_lot_mutex_condvar", |b| {
        b.iter(|| {
            let (ping, pong) = (PlFlag::new(), PlFlag::new());
            pingpong(&ping, &pong, PlFlag::set, PlFlag::wait, PlFlag::clear);
        });
    });
    g.finish();
}

/// The textbook generation-counting barrier on parking_lot's mutex and
/// condition variable: what corun's `Barrier` is built from.
struct PlBarrier {
    parties: usize,
    state: parking_lot::Mutex<(usize, u64)>,
    cond: parking_lot::Condvar,
}

impl PlBarrier {
    fn new(parties: usize) -> Self {
        Self {
            parties,
            state: parking_lot::Mutex::new((0, 0)),
            cond: parking_lot::Condvar::new(),
        }
    }

    /// Returns whether this thread was the last to arrive.
    fn wait(&self) -> bool {
        let mut state = self.state.lock();
        let generation = state.1;
        state.0 += 1;
        if state.0 < self.parties {
            while state.1 == generation {
                self.cond.wait(&mut state);
            }
            false
        } else {
            *state = (0, generation.wrapping_add(1));
            self.cond.notify_all();
            true
        }
    }
}

fn barrier_2(c: &mut Criterion) {
    let mut g = c.benchmark_group("barrier_2");
    g.throughput(Throughput::Elements(GENERATIONS));
    // Iterations take milliseconds: the same count per sample.
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("corun_barrier", |b| {
        b.iter(|| {
            let barrier = Barrier::new(2).expect("two parties");
            on_two_threads(|| {
                for _ in 0..GENERATIONS {
                    black_box(barrier.wait().expect("never broken"));
                }
            });
        });
    });
    g.bench_function("parking_lot_barrier", |b| {
        b.iter(|| {
            let barrier = PlBarrier::new(2);
            on_two_threads(|| {
                for _ in 0..GENERATIONS {
                    black_box(barrier.wait());
                }
            });
        });
    });
    g.bench_function("std_barrier", |b| {
        b.iter(|| {
            let barrier = std::sync::Barrier::new(2);
            on_two_threads(|| {
                for _ in 0..GENERATIONS {
                    black_box(barrier.wait().is_leader());
                }
            });
        });
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = lock_uncontended, lock_contended, semaphore_uncontended, event_pingpong, barrier_2
}
criterion_main!(benches);

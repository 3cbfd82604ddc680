//! The `sync` experiment: contended round trips through corun's Lock,
//! Semaphore, Event and Barrier against the primitives they are built on.
//!
//! Each corun primitive is compared with the simplest correct version of the
//! same thing on its foundation (parking_lot's mutex and condition variable),
//! and with std where std has it; BENCHMARKS.md allows 10% over the former.

use std::sync::atomic::{AtomicU64, Ordering};

use corun::threading::{Barrier, Event, Lock, Semaphore};
use parking_lot::{Condvar, Mutex};

use super::Plan;
use super::measure::{Contender, per_op};
use super::report::Row;

const EXPERIMENT: &str = "sync";
/// A wrapper may cost at most this factor over what it wraps.
const BAR_VS_WRAPPED: f64 = 1.10;
/// Threads contending in each case.
const THREADS: usize = 2;

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    rows.extend(locks(plan));
    rows.extend(semaphores(plan));
    rows.extend(events(plan));
    rows.extend(barriers(plan));
    Ok(rows)
}

/// Two threads each add 1 under the lock `n / 2` times.
fn locks(plan: &Plan) -> Vec<Row> {
    let n = plan.size(2_000_000, 100_000);
    let mut c = [
        Contender::timed("Lock", |n| {
            let lock = Lock::new(0_u64);
            contend(n, || *lock.acquire() += 1);
            assert_eq!(lock.into_inner(), n as u64);
        }),
        Contender::timed("parking_lot::Mutex", |n| {
            let lock = Mutex::new(0_u64);
            contend(n, || *lock.lock() += 1);
            assert_eq!(lock.into_inner(), n as u64);
        }),
        Contender::timed("std::sync::Mutex", |n| {
            let lock = std::sync::Mutex::new(0_u64);
            contend(n, || *lock.lock().unwrap() += 1);
            assert_eq!(lock.into_inner().unwrap(), n as u64);
        }),
    ];
    let t = per_op(n, plan.runs, &mut c);
    vec![
        Row::compare(
            EXPERIMENT,
            "Lock",
            c[1].name,
            &t[0],
            &t[1],
            Some(BAR_VS_WRAPPED),
        ),
        Row::compare(EXPERIMENT, "Lock", c[2].name, &t[0], &t[2], None),
    ]
}

/// Two threads each take and give back the one permit `n / 2` times.
fn semaphores(plan: &Plan) -> Vec<Row> {
    let n = plan.size(1_000_000, 50_000);
    let mut c = [
        Contender::timed("Semaphore", |n| {
            let sem = Semaphore::new(1);
            contend(n, || drop(sem.acquire()));
            assert_eq!(sem.value(), 1);
        }),
        Contender::timed("Mutex+Condvar semaphore", |n| {
            let sem = PlainSemaphore::new(1);
            contend(n, || {
                sem.acquire();
                sem.release();
            });
        }),
    ];
    let t = per_op(n, plan.runs, &mut c);
    vec![Row::compare(
        EXPERIMENT,
        "Semaphore",
        c[1].name,
        &t[0],
        &t[1],
        Some(BAR_VS_WRAPPED),
    )]
}

/// Ping-pong: the main thread sets `ping` and waits for `pong`; the other
/// thread waits for `ping`, clears it and sets `pong`. `n` round trips.
fn events(plan: &Plan) -> Vec<Row> {
    let n = plan.size(100_000, 5_000);
    let mut c = [
        Contender::timed("Event", |n| {
            let (ping, pong) = (Event::new(), Event::new());
            ping_pong(
                n,
                || ping.set(),
                || {
                    pong.wait();
                    pong.clear();
                },
                || {
                    ping.wait();
                    ping.clear();
                },
                || pong.set(),
            );
        }),
        Contender::timed("Mutex<bool>+Condvar", |n| {
            let (ping, pong) = (PlainEvent::default(), PlainEvent::default());
            ping_pong(
                n,
                || ping.set(),
                || pong.wait_clear(),
                || ping.wait_clear(),
                || pong.set(),
            );
        }),
    ];
    let t = per_op(n, plan.runs, &mut c);
    vec![Row::compare(
        EXPERIMENT,
        "Event ping-pong",
        c[1].name,
        &t[0],
        &t[1],
        Some(BAR_VS_WRAPPED),
    )]
}

/// Two threads pass a two-party barrier `n` times.
fn barriers(plan: &Plan) -> Vec<Row> {
    let n = plan.size(100_000, 5_000);
    let mut c = [
        Contender::timed("Barrier", |n| {
            let barrier = Barrier::new(THREADS).expect("two parties");
            each_thread(|| {
                (0..n).for_each(|_| {
                    barrier.wait().expect("not broken");
                })
            });
        }),
        Contender::timed("Mutex+Condvar barrier", |n| {
            let barrier = PlainBarrier::new(THREADS);
            each_thread(|| {
                (0..n).for_each(|_| {
                    barrier.wait();
                })
            });
        }),
        Contender::timed("std::sync::Barrier", |n| {
            let barrier = std::sync::Barrier::new(THREADS);
            each_thread(|| {
                (0..n).for_each(|_| {
                    barrier.wait();
                })
            });
        }),
    ];
    let t = per_op(n, plan.runs, &mut c);
    vec![
        Row::compare(
            EXPERIMENT,
            "Barrier",
            c[1].name,
            &t[0],
            &t[1],
            Some(BAR_VS_WRAPPED),
        )
        .unit("ns/generation"),
        Row::compare(EXPERIMENT, "Barrier", c[2].name, &t[0], &t[2], None).unit("ns/generation"),
    ]
}

/// Runs `op` `n` times in total, split over [`THREADS`] threads.
fn contend(n: usize, op: impl Fn() + Sync) {
    let per_thread = n / THREADS;
    each_thread(|| (0..per_thread).for_each(|_| op()));
}

/// Runs `body` on [`THREADS`] threads at once.
fn each_thread(body: impl Fn() + Sync) {
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(&body);
        }
    });
}

fn ping_pong(
    n: usize,
    send_ping: impl Fn(),
    await_pong: impl Fn(),
    await_ping: impl Fn() + Sync,
    send_pong: impl Fn() + Sync,
) {
    let rounds = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..n {
                await_ping();
                rounds.fetch_add(1, Ordering::Relaxed);
                send_pong();
            }
        });
        for _ in 0..n {
            send_ping();
            await_pong();
        }
    });
    assert_eq!(rounds.into_inner(), n as u64);
}

/// The textbook semaphore on parking_lot, what `Semaphore` is built from.
struct PlainSemaphore {
    value: Mutex<usize>,
    cond: Condvar,
}

impl PlainSemaphore {
    fn new(value: usize) -> Self {
        Self {
            value: Mutex::new(value),
            cond: Condvar::new(),
        }
    }

    fn acquire(&self) {
        let mut value = self.value.lock();
        while *value == 0 {
            self.cond.wait(&mut value);
        }
        *value -= 1;
    }

    fn release(&self) {
        *self.value.lock() += 1;
        self.cond.notify_one();
    }
}

/// The textbook generation-counting barrier on parking_lot, what `Barrier`
/// is built from (std's `Barrier` is the same design on std's futex locks).
struct PlainBarrier {
    parties: usize,
    /// Threads arrived in this generation, and the generation number.
    state: Mutex<(usize, u64)>,
    cond: Condvar,
}

impl PlainBarrier {
    fn new(parties: usize) -> Self {
        Self {
            parties,
            state: Mutex::new((0, 0)),
            cond: Condvar::new(),
        }
    }

    fn wait(&self) {
        let mut state = self.state.lock();
        let generation = state.1;
        state.0 += 1;
        if state.0 < self.parties {
            while state.1 == generation {
                self.cond.wait(&mut state);
            }
        } else {
            *state = (0, generation.wrapping_add(1));
            self.cond.notify_all();
        }
    }
}

/// The textbook event on parking_lot, what `Event` is built from.
#[derive(Default)]
struct PlainEvent {
    flag: Mutex<bool>,
    cond: Condvar,
}

impl PlainEvent {
    fn set(&self) {
        *self.flag.lock() = true;
        self.cond.notify_all();
    }

    fn wait_clear(&self) {
        let mut flag = self.flag.lock();
        while !*flag {
            self.cond.wait(&mut flag);
        }
        *flag = false;
    }
}

//! Per-element cost of `range → map → filter → scan` over 1 000 000
//! elements and of a `Subject` fanning out to 10 observers, against a
//! plain iterator: `cargo run --release -p corun-reactive --example
//! throughput`. (The `corun bench` experiment compares peers; this is the
//! quick look.)

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use corun::reactive::{Subject, range};

const N: i64 = 1_000_000;

fn best_of(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e9 / N as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let floor = best_of(7, || {
        let mut acc = 0_i64;
        let mut last = 0;
        for x in black_box(0..N) {
            let y = black_box(x * 3);
            if y % 2 == 0 {
                acc += y;
                last = acc;
            }
        }
        black_box(last);
    });
    let pipeline = range(0, N)
        .map(|x| black_box(x * 3))
        .filter(|x| x % 2 == 0)
        .scan(0_i64, |acc, x| acc + x);
    let rx = best_of(7, || {
        let last = Arc::new(AtomicU64::new(0));
        let l = last.clone();
        pipeline.subscribe(move |x| l.store(x as u64, Ordering::Relaxed));
        black_box(last.load(Ordering::Relaxed));
    });
    println!(
        "range→map→filter→scan: {rx:.2} ns/item ({:.2} ns per operator); plain loop {floor:.2} ns/item",
        rx / 3.0
    );

    let subject = Subject::new();
    let total = Arc::new(AtomicU64::new(0));
    for _ in 0..10 {
        let t = total.clone();
        subject.observable().subscribe(move |x: u64| {
            t.fetch_add(x, Ordering::Relaxed);
        });
    }
    let fan = best_of(7, || {
        for x in 0..N as u64 {
            subject.on_next(x);
        }
    });
    println!(
        "Subject fan-out to 10: {fan:.2} ns per on_next ({:.2} ns per observer)",
        fan / 10.0
    );
}

//! The `latency-threads` experiment: one task at a time, submit a no-op and
//! wait for its result, against the floor of waking another thread and
//! being woken back: a std mpsc ping-pong between two threads.

use std::sync::mpsc;

use anyhow::Context;
use corun::concurrent::ThreadPoolExecutor;

use super::Plan;
use super::measure::{Contender, per_op};
use super::report::Row;

const EXPERIMENT: &str = "latency-threads";
/// BENCHMARKS.md: at most 1.2 × the ping-pong.
const BAR_VS_PING_PONG: f64 = 1.2;

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(20_000, 2_000);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(cpus)
        .build()
        .context("building the pool")?;
    let mut contenders = [
        Contender::timed("ThreadPoolExecutor submit → result", |n| {
            for i in 0..n {
                let task = pool.spawn(move || i).expect("the pool is open");
                assert_eq!(task.result().expect("a no-op succeeds"), i);
            }
        }),
        Contender::timed("std mpsc ping-pong", ping_pong),
    ];
    let t = per_op(n, plan.runs, &mut contenders);
    Ok(vec![
        Row::compare(
            EXPERIMENT,
            format!("ThreadPoolExecutor({cpus}) submit → result"),
            contenders[1].name,
            &t[0],
            &t[1],
            Some(BAR_VS_PING_PONG),
        )
        .unit("ns/round trip"),
    ])
}

/// `n` round trips between this thread and an echo thread over two std
/// channels: the cost of one wake-up each way.
fn ping_pong(n: usize) {
    let (to_echo, echo_in) = mpsc::channel::<usize>();
    let (echo_out, from_echo) = mpsc::channel::<usize>();
    let echo = std::thread::spawn(move || {
        for i in echo_in {
            if echo_out.send(i).is_err() {
                break;
            }
        }
    });
    for i in 0..n {
        to_echo.send(i).expect("the echo thread runs");
        assert_eq!(from_echo.recv().expect("the echo thread answers"), i);
    }
    drop(to_echo);
    echo.join().expect("the echo thread does not panic");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_pong_completes() {
        ping_pong(100);
    }
}

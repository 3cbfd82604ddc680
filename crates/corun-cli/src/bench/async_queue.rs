//! The `async-queue` experiment: items from one producer task to one
//! consumer task on an event loop, through `corun::asyncio::Queue(1024)`,
//! against `tokio::sync::mpsc::channel(1024)` on a current-thread runtime
//! and Python's `asyncio.Queue(1024)`.

use std::time::{Duration, Instant};

use corun::asyncio::{Queue, create_task};

use super::Plan;
use super::measure::{Contender, per_op};
use super::python::run_script;
use super::report::Row;

const EXPERIMENT: &str = "async-queue";
/// Bound of every queue.
const BOUND: usize = 1024;
/// corun's asyncio Queue must stay within this factor of tokio's mpsc.
const BAR_VS_TOKIO: f64 = 1.5;
const PYTHON_SCRIPT: &str = include_str!("../../python/async_queue_bench.py");

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(1_000_000, 50_000);
    let mut contenders = [
        Contender::new("asyncio Queue(1024)", corun_queue),
        Contender::new("tokio mpsc channel(1024)", tokio_mpsc),
    ];
    let t = per_op(n, plan.runs, &mut contenders);
    let mut rows = vec![Row::compare(
        EXPERIMENT,
        contenders[0].name,
        contenders[1].name,
        &t[0],
        &t[1],
        Some(BAR_VS_TOKIO),
    )];
    if plan.python {
        let py_n = plan.size(200_000, 20_000);
        let args = [py_n.to_string(), plan.runs.to_string(), BOUND.to_string()];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let py = json["ns_per_item"]
                    .as_f64()
                    .ok_or_else(|| anyhow::anyhow!("python peer gave no ns_per_item: {json}"))?;
                let version = json["python"].as_str().unwrap_or("?");
                rows.push(Row::compare(
                    EXPERIMENT,
                    contenders[0].name,
                    format!("Python {version} asyncio.Queue(1024)"),
                    &t[0],
                    py,
                    None,
                ));
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                contenders[0].name,
                "Python asyncio.Queue(1024)",
                &t[0],
                why,
            )),
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("ns/item")).collect())
}

/// `0..n` through a `corun::asyncio::Queue(1024)`, a producer task and a
/// consumer task; times the transfer, not the loop's start and close.
fn corun_queue(n: usize) -> Duration {
    corun::asyncio::run(async move {
        let start = Instant::now();
        let queue = std::rc::Rc::new(Queue::with_maxsize(BOUND));
        let q = queue.clone();
        let producer = create_task(async move {
            for i in 0..n {
                q.put(i).await.expect("put failed");
            }
        });
        let consumer = create_task(async move {
            for expected in 0..n {
                let got = queue.get().await.expect("get failed");
                assert_eq!(got, expected, "item lost or reordered");
            }
        });
        producer.await.expect("producer failed");
        consumer.await.expect("consumer failed");
        start.elapsed()
    })
    .expect("the event loop failed")
}

/// `0..n` through `tokio::sync::mpsc::channel(1024)` between two tasks on a
/// current-thread runtime; times the transfer, not the runtime's start.
fn tokio_mpsc(n: usize) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let start = Instant::now();
        let (tx, mut rx) = tokio::sync::mpsc::channel(BOUND);
        let producer = tokio::spawn(async move {
            for i in 0..n {
                tx.send(i).await.expect("send failed");
            }
        });
        let consumer = tokio::spawn(async move {
            for expected in 0..n {
                let got = rx.recv().await.expect("recv failed");
                assert_eq!(got, expected, "item lost or reordered");
            }
        });
        producer.await.expect("producer failed");
        consumer.await.expect("consumer failed");
        start.elapsed()
    })
}

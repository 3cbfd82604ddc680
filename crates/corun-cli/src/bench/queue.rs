//! The `queue` experiment: items from one producer thread to one consumer
//! thread through `corun::queue::Queue`, against crossbeam-channel, std mpsc
//! and Python's `queue.Queue`.

use corun::queue::{Queue, SimpleQueue};

use super::Plan;
use super::measure::{Contender, per_op};
use super::python::run_script;
use super::report::Row;

const EXPERIMENT: &str = "queue";
/// Bound of the bounded variants.
const BOUND: usize = 1024;
/// corun's Queue must stay within this factor of crossbeam-channel.
const BAR_VS_CROSSBEAM: f64 = 1.5;
const PYTHON_SCRIPT: &str = include_str!("../../python/queue_bench.py");

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(1_000_000, 50_000);
    let mut contenders = [
        Contender::timed("Queue", |n| {
            let q = Queue::new();
            through(n, &q, &q, |q, i| q.put(i).ok(), |q| q.get().ok())
        }),
        Contender::timed("crossbeam unbounded", |n| {
            let (tx, rx) = crossbeam_channel::unbounded();
            through(n, tx, rx, |tx, i| tx.send(i).ok(), |rx| rx.recv().ok())
        }),
        Contender::timed("std mpsc channel", |n| {
            let (tx, rx) = std::sync::mpsc::channel();
            through(n, tx, rx, |tx, i| tx.send(i).ok(), |rx| rx.recv().ok())
        }),
        Contender::timed("Queue(1024)", |n| {
            let q = Queue::with_maxsize(BOUND);
            through(n, &q, &q, |q, i| q.put(i).ok(), |q| q.get().ok())
        }),
        Contender::timed("crossbeam bounded(1024)", |n| {
            let (tx, rx) = crossbeam_channel::bounded(BOUND);
            through(n, tx, rx, |tx, i| tx.send(i).ok(), |rx| rx.recv().ok())
        }),
        Contender::timed("std sync_channel(1024)", |n| {
            let (tx, rx) = std::sync::mpsc::sync_channel(BOUND);
            through(n, tx, rx, |tx, i| tx.send(i).ok(), |rx| rx.recv().ok())
        }),
        Contender::timed("SimpleQueue", |n| {
            let q = SimpleQueue::new();
            through(
                n,
                &q,
                &q,
                |q, i| {
                    q.put(i);
                    Some(())
                },
                |q| Some(q.get()),
            )
        }),
    ];
    let t = per_op(n, plan.runs, &mut contenders);
    let name = |i: usize| contenders[i].name;
    let mut rows = vec![
        Row::compare(
            EXPERIMENT,
            name(0),
            name(1),
            &t[0],
            &t[1],
            Some(BAR_VS_CROSSBEAM),
        ),
        Row::compare(EXPERIMENT, name(0), name(2), &t[0], &t[2], None),
        Row::compare(
            EXPERIMENT,
            name(3),
            name(4),
            &t[3],
            &t[4],
            Some(BAR_VS_CROSSBEAM),
        ),
        Row::compare(EXPERIMENT, name(3), name(5), &t[3], &t[5], None),
        Row::compare(EXPERIMENT, name(6), name(1), &t[6], &t[1], None),
    ];
    if plan.python {
        let py_n = plan.size(200_000, 20_000);
        let args = [py_n.to_string(), plan.runs.to_string()];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let py = json["ns_per_item"]
                    .as_f64()
                    .ok_or_else(|| anyhow::anyhow!("python peer gave no ns_per_item: {json}"))?;
                let version = json["python"].as_str().unwrap_or("?");
                rows.push(Row::compare(
                    EXPERIMENT,
                    name(0),
                    format!("Python {version} queue.Queue"),
                    &t[0],
                    py,
                    None,
                ));
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                name(0),
                "Python queue.Queue",
                &t[0],
                why,
            )),
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("ns/item")).collect())
}

/// Moves `0..n` from a producer thread (owning `producer`) to this thread
/// (reading `consumer`), and checks every item arrived, in order.
fn through<P: Send, C>(
    n: usize,
    producer: P,
    consumer: C,
    put: impl Fn(&P, usize) -> Option<()> + Send,
    get: impl Fn(&C) -> Option<usize>,
) {
    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n {
                put(&producer, i).expect("put failed");
            }
        });
        for expected in 0..n {
            assert_eq!(get(&consumer), Some(expected), "item lost or reordered");
        }
    });
}

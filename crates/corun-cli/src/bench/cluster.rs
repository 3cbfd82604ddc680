//! The `cluster` experiment: a local `nats-server` with JetStream and three
//! workers (this binary, `corun cluster worker URL --processes 1`) on
//! 127.0.0.1. It measures the cost per task through the cluster (submit
//! all, then collect) against the 200 µs bar, beside a 2-worker
//! `ProcessPoolExecutor` and Python's, and the cpu workload's sums on the
//! cluster against the process pool (bar: within 1.2 × its time).
//!
//! The server is found as the tests find it (`CORUN_NATS_SERVER`, the
//! `PATH`, or `target/nats-server/bin/`; it runs on one thread of Go's
//! runtime, sharing the two cores); without one the experiment
//! measures the process pool alone and says why.

use std::process::{Child, Command, Stdio};

use anyhow::Context;
use corun::cluster::ClusterExecutor;
use corun::concurrent::{Executor, Submit};
use corun::multiprocessing::ProcessPoolExecutor;
use corun_test_support::nats::NatsServer;

use super::Plan;
use super::measure::{Contender, per_op, per_run_ms};
use super::processes::{PYTHON_SCRIPT, number};
use super::progress;
use super::python::run_script;
use super::report::Row;
use crate::workload::{noop, numbers, sum_of_squares};

const EXPERIMENT: &str = "cluster";
/// Three workers, as the machine of two cores runs them.
const WORKERS: usize = 3;
/// At most 200 µs per task through a local server.
const BUDGET_US: f64 = 200.0;
/// The cpu workload on the cluster within 1.2 × the process pool's time.
const BAR_VS_POOL: f64 = 1.2;

/// The worker processes, killed when dropped.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(5_000, 500);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let pool = ProcessPoolExecutor::builder()
        .max_workers(cpus)
        .build()
        .context("starting the process pool")?;
    let pipelined = |executor: &dyn Fn(u64) -> corun::concurrent::Task<u64>, n: usize| {
        let tasks: Vec<_> = (0..n as u64).map(executor).collect();
        for (i, task) in (0..).zip(tasks) {
            assert_eq!(task.result().expect("a no-op succeeds"), i);
        }
    };
    let pooled = format!("ProcessPoolExecutor({cpus}) submit all, then collect");
    let Some(server) = NatsServer::start() else {
        let mut only = [Contender::timed("ProcessPoolExecutor", |n| {
            pipelined(&|i| pool.submit(noop, i).expect("the pool is open"), n);
        })];
        let t = per_op(n, plan.runs, &mut only).remove(0) / 1e3;
        return Ok(vec![
            Row::peer_missing(
                EXPERIMENT,
                &pooled,
                "ClusterExecutor",
                &t,
                "no nats-server (CORUN_NATS_SERVER, PATH, target/nats-server): the cluster \
                 was not measured"
                    .to_owned(),
            )
            .unit("µs/task"),
        ]);
    };
    let url = server.url();
    let exe = std::env::current_exe().context("finding this binary")?;
    let _workers = Workers(
        (0..WORKERS)
            .map(|_| {
                Command::new(&exe)
                    .args(["cluster", "worker", &url, "--processes", "1"])
                    .stderr(Stdio::null())
                    .spawn()
            })
            .collect::<Result<_, _>>()
            .context("starting the cluster workers")?,
    );
    let cluster = ClusterExecutor::connect(&url).context("connecting to the local server")?;

    progress::step("per-task cost");
    let mut contenders = [
        Contender::timed("ClusterExecutor", |n| {
            pipelined(
                &|i| cluster.submit(noop, i).expect("the cluster is open"),
                n,
            );
        }),
        Contender::timed("ProcessPoolExecutor", |n| {
            pipelined(&|i| pool.submit(noop, i).expect("the pool is open"), n);
        }),
    ];
    let t: Vec<_> = per_op(n, plan.runs, &mut contenders)
        .into_iter()
        .map(|ns| ns / 1e3)
        .collect();
    drop(contenders);
    let clustered = format!("ClusterExecutor ({WORKERS} workers) submit all, then collect");
    let mut rows = vec![
        Row::target(EXPERIMENT, &clustered, &t[0], BUDGET_US, "200 µs per task")
            .note(format!("{n} no-op tasks through a local nats-server")),
        Row::compare(EXPERIMENT, &clustered, &pooled, &t[0], &t[1], None),
    ];
    if plan.python {
        let py_n = plan.size(20_000, 2_000);
        progress::step(format!("Python ProcessPoolExecutor ({py_n} tasks)"));
        let args = [
            "overhead".to_owned(),
            py_n.to_string(),
            plan.runs.to_string(),
        ];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => rows.push(
                Row::compare(
                    EXPERIMENT,
                    &clustered,
                    "Python ProcessPoolExecutor(2).submit",
                    &t[0],
                    number(&json, "ppe_us_per_task")?,
                    None,
                )
                .note("for scale: Python's pool on this machine, not a cluster"),
            ),
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                &clustered,
                "Python ProcessPoolExecutor",
                &t[0],
                why,
            )),
        }
    }
    let rows: Vec<Row> = rows.into_iter().map(|r| r.unit("µs/task")).collect();

    progress::step("the cpu workload");
    let numbers = numbers(plan.size(5_000_000, 200_000) as u64);
    let (mut on_cluster, mut on_pool) = (Vec::new(), Vec::new());
    let sums = sum_of_squares as fn(u64) -> u128;
    let mut contenders = [
        Contender::timed("ClusterExecutor", |_| {
            on_cluster = cluster
                .map(sums, numbers.iter().copied())
                .collect::<Result<Vec<_>, _>>()
                .expect("no task fails");
        }),
        Contender::timed("ProcessPoolExecutor", |_| {
            on_pool = pool
                .map(sums, numbers.iter().copied())
                .collect::<Result<Vec<_>, _>>()
                .expect("no task fails");
        }),
    ];
    let ms = per_run_ms(plan.runs, &mut contenders);
    drop(contenders);
    anyhow::ensure!(
        on_cluster == on_pool,
        "cluster: the cluster computed other sums than the process pool"
    );
    let mut rows = rows;
    rows.push(
        Row::compare(
            EXPERIMENT,
            format!("cpu sums on the cluster ({WORKERS} workers)"),
            format!("ProcessPoolExecutor({cpus})"),
            &ms[0],
            &ms[1],
            Some(BAR_VS_POOL),
        )
        .unit("ms/run")
        .note(format!(
            "{} sums of squares, as the cpu experiment",
            numbers.len()
        )),
    );
    cluster.shutdown(true, false);
    pool.shutdown(true, false);
    drop(server);
    Ok(rows)
}

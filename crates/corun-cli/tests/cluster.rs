//! `corun cluster worker` and `corun cluster status` against a real
//! `nats-server` (see `corun_test_support::nats`): a worker of another
//! binary (this command) receives nothing of this test binary's tasks.

use std::process::{Child, Command, Output, Stdio};

use corun::cluster::ClusterExecutor;
use corun::concurrent::Submit;
use corun_test_support::nats::NatsServer;

fn corun(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corun"))
        .args(args)
        .output()
        .expect("the corun binary runs")
}

fn square(x: u64) -> u64 {
    x * x
}

/// A `corun cluster worker`, killed when dropped.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Worker {
    /// `corun cluster worker URL --processes 1`.
    fn start(url: &str) -> Self {
        Worker(
            Command::new(env!("CARGO_BIN_EXE_corun"))
                .args(["cluster", "worker", url, "--processes", "1"])
                .stderr(Stdio::null())
                .spawn()
                .expect("corun cluster worker starts"),
        )
    }
}

#[test]
fn a_worker_of_another_binary_receives_nothing() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let url = server.url();
    let _worker = Worker::start(&url);
    let cluster = ClusterExecutor::connect(&url).unwrap();
    let task = cluster.submit(square, 3).unwrap();
    // Two queues: this binary's with the task queued and no worker to run
    // it, the command's with its one live worker and nothing queued.
    let mut last = String::new();
    corun_test_support::poll_until("the status shows both binaries", || {
        let out = corun(&["cluster", "status", &url]);
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        let rows: Vec<Vec<&str>> = last
            .lines()
            .filter(|l| l.starts_with("default "))
            .map(|l| l.split_whitespace().collect())
            .collect();
        rows.len() == 2
            && rows
                .iter()
                .any(|r| r[2] == "1" && r[3] == "1" && r[4] == "0")
            && rows
                .iter()
                .any(|r| r[2] == "0" && r[4] == "1" && r[5] == "0")
    });
    assert!(last.contains("workers"), "{last}");
    assert!(!task.done(), "no worker of this binary: the task waits");
    assert_eq!(cluster.pending(), 1);
}

#[test]
fn status_of_a_server_with_no_queue_says_so() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let out = corun(&["cluster", "status", &server.url()]);
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no stream `CORUN`"), "{err}");
}

#[test]
fn a_worker_with_no_server_fails_clearly() {
    let port = corun_test_support::nats::free_port();
    let out = corun(&["cluster", "worker", &format!("nats://127.0.0.1:{port}")]);
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the NATS server"), "{err}");
}

/// `bench -e cluster` in a smoke run: the per-task cost against its
/// 200 µs bar and the process pool, and the cpu sums against the pool;
/// without a nats-server, one row that says so.
#[test]
fn bench_quick_cluster() {
    let out = corun(&[
        "bench",
        "--quick",
        "--no-python",
        "-e",
        "cluster",
        "--json",
        "-",
    ]);
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    if corun_test_support::nats::binary().is_none() {
        assert_eq!(rows.len(), 1, "{json}");
        assert!(rows[0]["note"].as_str().unwrap().contains("no nats-server"));
        return;
    }
    assert_eq!(rows.len(), 3, "{json}");
    assert_eq!(rows[0]["bar"]["kind"], "target", "{json}");
    assert_eq!(rows[0]["bar"]["max"], 200.0, "{json}");
    assert!(rows[1]["ratio"]["median"].as_f64().unwrap() > 0.0, "{json}");
    assert_eq!(rows[2]["unit"], "ms/run", "{json}");
    assert_eq!(rows[2]["bar"]["max"], 1.2, "{json}");
    for row in rows {
        assert!(
            row["corun_value"]["median"].as_f64().unwrap() > 0.0,
            "{row}"
        );
    }
}

/// `bench -e cpu --cluster URL` against a local server with one worker:
/// the cpu experiment gains a ClusterExecutor mode, compared with
/// sequential and the process pool, in the table, the JSON and the
/// verdict's modes.
#[test]
fn bench_cpu_on_a_cluster() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let url = server.url();
    let _worker = Worker::start(&url);
    let out = corun(&[
        "bench",
        "-e",
        "cpu",
        "--quick",
        "--no-python",
        "--cluster",
        &url,
        "--json",
        "-",
    ]);
    assert!(out.status.success(), "{out:?}");
    let name = format!("ClusterExecutor ({url})");
    let table = String::from_utf8_lossy(&out.stderr);
    assert!(table.contains(&name), "{table}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows: Vec<&serde_json::Value> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["corun"] == name.as_str())
        .collect();
    let peers: Vec<&str> = rows.iter().map(|r| r["peer"].as_str().unwrap()).collect();
    assert_eq!(peers.len(), 2, "{json}");
    assert_eq!(peers[0], "sequential", "{json}");
    assert!(peers[1].starts_with("ProcessPoolExecutor("), "{json}");
    for row in &rows {
        assert_eq!(row["experiment"], "cpu", "{row}");
        assert_eq!(row["unit"], "ms/run", "{row}");
        assert!(
            row["corun_value"]["median"].as_f64().unwrap() > 0.0,
            "{row}"
        );
        assert!(row["ratio"]["median"].as_f64().unwrap() > 0.0, "{row}");
    }
    let modes = json["workloads"][0]["modes"].as_array().unwrap();
    assert!(
        modes
            .iter()
            .any(|m| m["name"] == name.as_str() && m["model"] == "cluster"),
        "{json}"
    );
}

/// `corun bench -e cpu --quick --no-python --cluster URL`.
fn quick_cpu_on(url: &str) -> std::process::Output {
    corun(&[
        "bench",
        "-e",
        "cpu",
        "--quick",
        "--no-python",
        "--cluster",
        url,
    ])
}

/// A `--cluster` URL that cannot be reached fails with the executor's
/// error before anything is measured.
#[test]
fn bench_cluster_that_cannot_be_reached_fails_first() {
    let url = format!("nats://127.0.0.1:{}", corun_test_support::nats::free_port());
    let out = quick_cpu_on(&url);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("--cluster {url}: cannot reach the NATS server")),
        "{err}"
    );
    assert!(!err.contains("running cpu"), "nothing ran: {err}");
    assert!(out.stdout.is_empty(), "nothing ran: {out:?}");
}

/// A server with no live worker of this binary: the bench says so before
/// anything is measured, instead of waiting forever.
#[test]
fn bench_cluster_without_a_worker_fails_first() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let url = server.url();
    let out = quick_cpu_on(&url);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no live worker of this binary serves")
            && err.contains(&format!("corun cluster worker {url}")),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing ran: {out:?}");
}

/// `--cluster` with experiments that do not include cpu is refused, naming
/// them, before anything runs.
#[test]
fn bench_cluster_refuses_experiments_without_cpu() {
    let out = corun(&[
        "bench",
        "-e",
        "io",
        "--quick",
        "--cluster",
        "nats://127.0.0.1:4222",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--cluster: only the cpu experiment uses it, and this run has io"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing ran: {out:?}");
}

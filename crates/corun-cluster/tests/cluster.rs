//! The cluster executor against a real `nats-server` (see `common`), with
//! worker processes started from this test binary.

use std::time::Duration;

use corun_cluster::{ClusterExecutor, WorkerBuilder};
use corun_concurrent::{ErrorKind, Executor, Submit};

mod common;
use common::{NatsServer, Workers};

corun_multiprocessing::enable_test_workers!();

/// Where the cluster worker processes the tests start begin; in a test
/// run (no `CORUN_CLUSTER_WORKER`), a test that passes at once.
#[test]
#[ignore = "the entry of the cluster workers the other tests start"]
fn cluster_worker_entry() {
    corun_multiprocessing::init();
    corun_cluster::worker_from_env();
}

const ENTRY: &str = "cluster_worker_entry";

fn square(x: u64) -> u64 {
    x * x
}

fn fails(x: u64) -> u64 {
    panic!("no good: {x}")
}

fn aborts(_: u64) -> u64 {
    std::process::abort()
}

/// Notes in the file `path` which cluster worker runs it (the parent of
/// the pool process it runs in), takes a while, and returns that pid.
fn slow(path: String) -> u32 {
    use std::io::Write;
    let worker = std::os::unix::process::parent_id();
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    writeln!(log, "{worker}").unwrap();
    drop(log);
    std::thread::sleep(Duration::from_millis(1500));
    worker
}

/// The workers that ran the task logging to `path`, in order.
fn runs(path: &std::path::Path) -> Vec<u32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("corun-cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn results_come_back_as_tasks_in_order() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let _workers = Workers::start(&server.url(), ENTRY, 2);
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let squares: Vec<u64> = cluster
        .map(square as fn(u64) -> u64, 0..40)
        .map(Result::unwrap)
        .collect();
    assert_eq!(squares, (0..40).map(square).collect::<Vec<_>>());
    assert_eq!(cluster.pending(), 0);
}

#[test]
fn a_failing_function_returns_its_error() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let _workers = Workers::start(&server.url(), ENTRY, 1);
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let error = cluster.submit(fails, 3).unwrap().result().unwrap_err();
    assert!(error.is_panic(), "{error:?}");
    assert_eq!(error.panic_message(), Some("no good: 3"));
    // The worker goes on.
    assert_eq!(cluster.submit(square, 5).unwrap().result().unwrap(), 25);
}

#[test]
fn a_task_that_kills_its_process_fails_alone() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let _workers = Workers::start(&server.url(), ENTRY, 1);
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let error = cluster.submit(aborts, 1).unwrap().result().unwrap_err();
    assert!(error.is_worker_died(), "{error:?}");
    assert_eq!(cluster.submit(square, 6).unwrap().result().unwrap(), 36);
}

#[test]
fn tasks_wait_for_a_worker_that_comes_later() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let mut task = cluster.submit(square, 9).unwrap();
    assert!(
        task.result_timeout(Duration::from_millis(200))
            .unwrap_err()
            .is_timeout()
    );
    let _workers = Workers::start(&server.url(), ENTRY, 1);
    assert_eq!(task.result().unwrap(), 81);
}

#[test]
fn shutdown_refuses_new_tasks_and_can_cancel_the_pending() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let task = cluster.submit(square, 2).unwrap();
    cluster.shutdown(false, true);
    assert!(task.result().unwrap_err().is_cancelled());
    assert!(cluster.submit(square, 3).unwrap_err().is_shutdown());
}

/// A worker SIGKILLed while it runs a task: that task alone is delivered
/// again, to another worker, about one acknowledgement wait later; every
/// result reaches the caller once.
#[test]
fn a_killed_worker_has_only_its_own_task_run_again() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let dir = scratch("killed");
    let mut workers = Workers::start_with(&server.url(), ENTRY, 3, Some(1));
    let ack_wait = Duration::from_secs(2);
    let cluster = ClusterExecutor::builder(&server.url())
        .ack_wait(ack_wait)
        .build()
        .unwrap();
    let paths: Vec<_> = (0..3).map(|k| dir.join(format!("task-{k}"))).collect();
    let tasks: Vec<_> = paths
        .iter()
        .map(|p| cluster.submit(slow, p.display().to_string()).unwrap())
        .collect();
    corun_test_support::poll_until("a worker runs task 0", || !runs(&paths[0]).is_empty());
    let victim = runs(&paths[0])[0];
    assert!(workers.pids().contains(&victim));
    let killed = std::time::Instant::now();
    workers.kill(victim);
    let results: Vec<u32> = tasks.into_iter().map(|t| t.result().unwrap()).collect();
    let redone = killed.elapsed();
    assert_ne!(results[0], victim, "task 0 ran again elsewhere");
    let again = runs(&paths[0]);
    assert_eq!(again.len(), 2, "task 0 was delivered twice: {again:?}");
    for path in &paths[1..] {
        assert_eq!(runs(path).len(), 1, "the others once: {path:?}");
    }
    // One wait for the claim to lapse, then the task's own 1.5 s, and
    // a worker to be free: well under three waits.
    assert!(redone < 3 * ack_wait + Duration::from_secs(2), "{redone:?}");
    assert_eq!(cluster.pending(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With no retries left, a task whose worker is lost fails alone, as
/// "worker lost"; the next task runs.
#[test]
fn a_task_out_of_deliveries_fails_as_worker_lost() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let dir = scratch("lost");
    let mut workers = Workers::start_with(&server.url(), ENTRY, 1, Some(1));
    let cluster = ClusterExecutor::builder(&server.url())
        .ack_wait(Duration::from_secs(1))
        .retries(0)
        .build()
        .unwrap();
    let path = dir.join("task");
    let task = cluster.submit(slow, path.display().to_string()).unwrap();
    corun_test_support::poll_until("the worker runs it", || !runs(&path).is_empty());
    workers.kill(runs(&path)[0]);
    let error = task.result().unwrap_err();
    assert!(error.is_worker_died(), "{error:?}");
    assert!(error.to_string().contains("worker lost"), "{error}");
    assert_eq!(runs(&path).len(), 1, "never delivered again");
    let _more = Workers::start_with(&server.url(), ENTRY, 1, Some(1));
    assert_eq!(cluster.submit(square, 4).unwrap().result().unwrap(), 16);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The server stops and comes back (its store on disk) while tasks are
/// queued: no task is lost, each result arrives once.
#[test]
fn a_server_restart_loses_no_task() {
    let Some(mut server) = NatsServer::start() else {
        return;
    };
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let before: Vec<_> = (0..20)
        .map(|n| cluster.submit(square, n).unwrap())
        .collect();
    // Stored before the restart: published and acknowledged.
    corun_test_support::poll_until("the tasks are stored", || cluster.stored() == 20);
    server.restart();
    let after: Vec<_> = (20..30)
        .map(|n| cluster.submit(square, n).unwrap())
        .collect();
    let _workers = Workers::start(&server.url(), ENTRY, 2);
    let squares: Vec<u64> = before
        .into_iter()
        .chain(after)
        .map(|t| t.result().unwrap())
        .collect();
    assert_eq!(squares, (0..30).map(square).collect::<Vec<_>>());
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let port = common::free_port();
    let error = ClusterExecutor::builder(&format!("nats://127.0.0.1:{port}"))
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io, "{error}");
    assert!(
        error.to_string().contains("cannot reach the NATS server"),
        "{error}"
    );
}

#[test]
fn a_wrong_url_is_a_clear_error() {
    let error = ClusterExecutor::connect("nats://exa mple:notaport").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{error}");
    assert!(error.to_string().contains("cluster URL"), "{error}");
    let error = ClusterExecutor::builder("nats://127.0.0.1:1")
        .queue("a.b")
        .build()
        .unwrap_err();
    assert!(error.is_invalid_argument(), "{error}");
    let error = WorkerBuilder::new("nats://127.0.0.1:1")
        .stream("")
        .run()
        .unwrap_err();
    assert!(error.is_invalid_argument(), "{error}");
}

#[test]
fn a_server_without_jetstream_is_a_clear_error() {
    let Some(server) = NatsServer::without_jetstream() else {
        return;
    };
    let error = ClusterExecutor::connect(&server.url()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidState, "{error}");
    assert!(error.to_string().contains("no JetStream"), "{error}");
}

//! The cluster executor against a real `nats-server` (see `common`), with
//! worker processes started from this test binary.

use std::time::Duration;

use corun_cluster::{ClusterExecutor, WorkerBuilder, status};
use corun_concurrent::{ErrorKind, Executor, Submit};
use corun_test_support::poll_until;

mod common;
use common::{NatsServer, Workers, signal};

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

/// Notes its worker in the file `path`, as `slow`, and returns at once.
fn mark(path: String) -> u32 {
    let worker = std::os::unix::process::parent_id();
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut log| std::io::Write::write_all(&mut log, format!("{worker}\n").as_bytes()))
        .unwrap();
    worker
}

/// Appends `n` to the file `path`.
fn note((path, n): (String, u64)) -> u64 {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut log| std::io::Write::write_all(&mut log, format!("{n}\n").as_bytes()))
        .unwrap();
    n
}

/// Waits until the file `gate` exists, then returns its worker.
fn gated(gate: String) -> u32 {
    while !std::path::Path::new(&gate).exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::os::unix::process::parent_id()
}

fn sleeps(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn reversed(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.reverse();
    bytes
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

/// One worker of one process runs the tasks in the order they were
/// submitted, as a process pool does.
#[test]
fn one_worker_runs_tasks_in_submission_order() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let dir = scratch("order");
    let path = dir.join("order").display().to_string();
    let _workers = Workers::start_with(&server.url(), ENTRY, 1, Some(1));
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let tasks: Vec<_> = (0..30)
        .map(|n| cluster.submit(note, (path.clone(), n)).unwrap())
        .collect();
    for task in tasks {
        task.result().unwrap();
    }
    let order: Vec<u64> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(order, (0..30).collect::<Vec<_>>());
    std::fs::remove_dir_all(&dir).unwrap();
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
    poll_until("a worker runs task 0", || !runs(&paths[0]).is_empty());
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
    poll_until("the worker runs it", || !runs(&path).is_empty());
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
    poll_until("the tasks are stored", || cluster.stored() == 20);
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

/// Python's rule: `cancel` succeeds only before a worker claims the task.
/// One worker of one process holds two tasks (one running, one queued
/// behind it, both claimed, as a process pool's call queue); the two
/// after them are unclaimed, are taken back, and never run.
#[test]
fn cancel_succeeds_only_before_a_worker_claims() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let dir = scratch("cancel");
    let _workers = Workers::start_with(&server.url(), ENTRY, 1, Some(1));
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let path = |k: usize| dir.join(format!("task-{k}")).display().to_string();
    // Neither ends before the gate opens: no third task can be claimed.
    let gate = path(9);
    let running = cluster.submit(gated, gate.clone()).unwrap();
    let behind = cluster.submit(gated, gate.clone()).unwrap();
    let unclaimed: Vec<_> = (2..4)
        .map(|k| cluster.submit(mark, path(k)).unwrap())
        .collect();
    poll_until("both first tasks are claimed", || {
        running.running() && behind.running()
    });
    assert!(!running.cancel() && !behind.cancel());
    for task in &unclaimed {
        assert!(!task.running());
        assert!(task.cancel());
        assert!(task.cancelled() && task.done());
    }
    std::fs::write(&gate, b"").unwrap();
    assert!(running.result().is_ok() && behind.result().is_ok());
    // Queued after the cancelled ones, and run after them had they run.
    let last = cluster.submit(mark, path(4)).unwrap();
    assert!(last.result().is_ok());
    for (k, task) in (2..).zip(unclaimed) {
        assert!(task.result().unwrap_err().is_cancelled());
        assert!(
            runs(std::path::Path::new(&path(k))).is_empty(),
            "task {k} ran"
        );
    }
    assert_eq!(cluster.pending(), 0);
    poll_until("the queue is empty", || {
        status(&server.url(), "CORUN").unwrap()[0].queued == 0
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `shutdown(wait, cancel_pending)`: the unclaimed are cancelled, the
/// claimed run to their results, which `wait` waits for.
#[test]
fn shutdown_cancels_the_unclaimed_and_waits_for_the_claimed() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let _workers = Workers::start_with(&server.url(), ENTRY, 1, Some(1));
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let dir = scratch("shutdown");
    let gate = dir.join("gate").display().to_string();
    // Neither ends before the gate opens: no third task can be claimed.
    let claimed = cluster.submit(gated, gate.clone()).unwrap();
    let behind = cluster.submit(gated, gate.clone()).unwrap();
    let unclaimed: Vec<_> = (0..5).map(|n| cluster.submit(square, n).unwrap()).collect();
    poll_until("two tasks are claimed", || {
        claimed.running() && behind.running()
    });
    cluster.shutdown(false, true);
    for task in &unclaimed {
        assert!(task.cancelled());
    }
    assert_eq!(cluster.pending(), 2);
    std::fs::write(&gate, b"").unwrap();
    cluster.shutdown(true, false);
    assert_eq!(cluster.pending(), 0);
    assert!(claimed.result().is_ok() && behind.result().is_ok());
    for task in unclaimed {
        assert!(task.result().unwrap_err().is_cancelled());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(cluster.submit(square, 1).unwrap_err().is_shutdown());
}

/// A worker stalls (SIGSTOP) while its task runs, past the acknowledgement
/// wait: the task goes to another worker. The stalled one comes back and
/// publishes its result too: the caller gets one result, the first, and
/// the task ran twice.
#[test]
fn a_duplicate_result_is_dropped() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let dir = scratch("duplicate");
    let workers = Workers::start_with(&server.url(), ENTRY, 2, Some(1));
    let cluster = ClusterExecutor::builder(&server.url())
        .ack_wait(Duration::from_secs(1))
        .build()
        .unwrap();
    let path = dir.join("task");
    let task = cluster.submit(slow, path.display().to_string()).unwrap();
    poll_until("a worker runs it", || !runs(&path).is_empty());
    let stalled = runs(&path)[0];
    signal(stalled, "STOP");
    poll_until("another worker runs it again", || runs(&path).len() == 2);
    signal(stalled, "CONT");
    let first = task.result().unwrap();
    assert!(workers.pids().contains(&first));
    let again = runs(&path);
    assert_ne!(again[0], again[1], "{again:?}");
    // The later result, whichever it is, does not come back as another.
    assert_eq!(cluster.submit(square, 7).unwrap().result().unwrap(), 49);
    assert_eq!(cluster.pending(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `wait_for_worker`: fails at once with none alive, with a clear error;
/// succeeds once one is; `status` counts the live workers.
#[test]
fn connect_can_wait_for_or_fail_without_a_live_worker() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let error = ClusterExecutor::builder(&server.url())
        .wait_for_worker(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    assert!(error.to_string().contains("no live worker"), "{error}");
    assert!(
        error.to_string().contains("corun cluster worker"),
        "{error}"
    );
    let _workers = Workers::start_with(&server.url(), ENTRY, 2, Some(1));
    let cluster = ClusterExecutor::builder(&server.url())
        .wait_for_worker(Duration::from_secs(60))
        .build()
        .unwrap();
    assert_eq!(cluster.submit(square, 3).unwrap().result().unwrap(), 9);
    poll_until("both workers are counted", || {
        status(&server.url(), "CORUN").unwrap()[0].workers == 2
    });
    let queue = &status(&server.url(), "CORUN").unwrap()[0];
    assert_eq!((queue.queue.as_str(), queue.processes), ("default", 2));
}

/// A task past its `task_timeout` fails with a time-out, once; its
/// worker's process is replaced and the next task runs.
#[test]
fn a_task_past_its_deadline_fails_alone() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let _workers = Workers::start_with(&server.url(), ENTRY, 1, Some(1));
    let cluster = ClusterExecutor::builder(&server.url())
        .task_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = cluster
        .submit(sleeps, 60_000)
        .unwrap()
        .result()
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(error.to_string().contains("300ms"), "{error}");
    assert_eq!(cluster.submit(sleeps, 5).unwrap().result().unwrap(), 5);
    let error = ClusterExecutor::builder(&server.url())
        .task_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(error.is_invalid_argument(), "{error}");
}

/// Arguments and results over the server's payload limit (1 MiB) travel
/// through the object store.
#[test]
fn large_arguments_and_results_go_through_the_object_store() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let _workers = Workers::start_with(&server.url(), ENTRY, 1, Some(1));
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let big: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
    let back = cluster
        .submit(reversed, big.clone())
        .unwrap()
        .result()
        .unwrap();
    assert_eq!(back.len(), big.len());
    assert!(back.iter().rev().eq(big.iter()));
    // A large argument with a small result, and the other way round.
    assert_eq!(
        cluster
            .submit(reversed, vec![1, 2, 3])
            .unwrap()
            .result()
            .unwrap(),
        [3, 2, 1]
    );
}

/// Tasks cancelled as soon as they are submitted, with no worker yet,
/// some before the server has said where it stored them: all leave the
/// queue, and a worker that comes later never runs them.
#[test]
fn tasks_cancelled_at_once_leave_the_queue() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let dir = scratch("withdrawn");
    let cluster = ClusterExecutor::connect(&server.url()).unwrap();
    let path = dir.join("ran").display().to_string();
    let tasks: Vec<_> = (0..10)
        .map(|_| cluster.submit(mark, path.clone()).unwrap())
        .collect();
    for task in &tasks {
        assert!(task.cancel());
    }
    poll_until("the cancelled tasks leave the queue", || {
        cluster.pending() == 0 && status(&server.url(), "CORUN").unwrap()[0].queued == 0
    });
    let _workers = Workers::start_with(&server.url(), ENTRY, 1, Some(1));
    assert_eq!(cluster.submit(square, 8).unwrap().result().unwrap(), 64);
    assert!(runs(std::path::Path::new(&path)).is_empty());
    for task in tasks {
        assert!(task.result().unwrap_err().is_cancelled());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

//! The internal `Worker` API a process pool is built on: pipelined calls,
//! time-outs told apart from a dead worker, failures that fail one call,
//! initializers, shutdown, and each way a worker can die.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{Gate, isolated, make_refuses, wait_at_gate};
use corun_multiprocessing::test_hooks::{
    Call, RecvError, Reply, Worker, WorkerOptions, describe_exit, exitcode,
};
use corun_multiprocessing::{current_process, parent_process};
use serde::Serialize;

corun_multiprocessing::enable_test_workers!();

static GREETING: OnceLock<String> = OnceLock::new();

fn set_greeting(greeting: String) {
    GREETING.set(greeting).unwrap();
}

fn greet(name: String) -> String {
    format!("{} {name}", GREETING.get().map_or("(none)", String::as_str))
}

fn failing_initializer(_: ()) {
    panic!("no database here")
}

fn square(x: u64) -> u64 {
    x * x
}

fn echo(bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

fn boom(_: ()) -> u64 {
    panic!("boom in the worker")
}

fn abort(_: ()) {
    std::process::abort()
}

fn gated(gate: String) -> u32 {
    wait_at_gate(&gate);
    7
}

fn who(_: ()) -> (String, Option<u32>) {
    (
        current_process().name().to_owned(),
        parent_process().map(|p| p.pid()),
    )
}

fn allocate(bytes: usize) -> usize {
    std::hint::black_box(vec![1_u8; bytes]).len()
}

fn spawn() -> Worker {
    Worker::spawn(&WorkerOptions::default()).unwrap()
}

fn call<A, R>(worker: &Worker, f: fn(A) -> R, arg: &A) -> Result<R, corun_multiprocessing::Error>
where
    A: Serialize + serde::de::DeserializeOwned + 'static,
    R: Serialize + serde::de::DeserializeOwned + 'static,
{
    worker.send_call(&Call::new(f, arg).unwrap()).unwrap();
    worker.recv_reply(None).unwrap().decode()
}

// Checks that many calls written before any reply is read are answered in
// order, each with its id.
#[test]
fn pipelined_calls_are_answered_in_order() {
    isolated(|| {
        let worker = spawn();
        for i in 0..200 {
            worker
                .send_call(&Call::new(square, &i).unwrap().with_id(1000 + i))
                .unwrap();
        }
        for i in 0..200 {
            let reply = worker.recv_reply(None).unwrap();
            assert_eq!(reply.id(), 1000 + i);
            assert_eq!(reply.decode::<u64>().unwrap(), i * i);
        }
    });
}

// Checks that a reader thread and a writer thread can share a worker, so
// large calls and replies in flight never deadlock on full socket buffers.
#[test]
fn one_thread_writes_while_another_reads() {
    isolated(|| {
        let worker = spawn();
        let payload = vec![5_u8; 128 << 10];
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..20 {
                    let call = Call::new(echo, &payload).unwrap().with_id(i);
                    worker.send_call(&call).unwrap();
                }
            });
            for i in 0..20 {
                let reply = worker.recv_reply(None).unwrap();
                assert_eq!(reply.id(), i);
                assert_eq!(reply.decode::<Vec<u8>>().unwrap(), payload);
            }
        });
    });
}

// Checks that a time-out is not an end: the reply arrives later, and the
// worker's death is told apart (`Disconnected`).
#[test]
fn timeout_is_told_apart_from_death() {
    isolated(|| {
        let worker = spawn();
        let gate = Gate::new();
        worker
            .send_call(&Call::new(gated, &gate.path()).unwrap())
            .unwrap();
        let t = Instant::now();
        assert_eq!(
            worker.recv_reply(Some(Duration::from_millis(20))),
            Err(RecvError::Timeout)
        );
        corun_test_support::assert_timeout(t.elapsed(), Duration::from_millis(20));
        assert_eq!(
            worker.recv_reply(Some(Duration::ZERO)),
            Err(RecvError::Timeout)
        );
        gate.open();
        assert_eq!(worker.recv_reply(None).unwrap().decode::<u32>().unwrap(), 7);

        worker.kill();
        assert_eq!(worker.recv_reply(None), Err(RecvError::Disconnected));
        let status = worker.wait();
        assert_eq!(describe_exit(status), "killed by signal 9 (SIGKILL)");
        assert_eq!(exitcode(status), -9);
    });
}

// Checks that a panic fails its call only: the worker answers the next.
#[test]
fn a_panic_fails_only_its_call() {
    isolated(|| {
        let worker = spawn();
        let err = call(&worker, boom, &()).unwrap_err();
        assert!(err.is_panic(), "{err}");
        assert_eq!(err.panic_message(), Some("boom in the worker"));
        assert_eq!(call(&worker, square, &9).unwrap(), 81);
    });
}

// Checks that a result that cannot be serialised fails its call only.
#[test]
fn a_serialization_failure_fails_only_its_call() {
    isolated(|| {
        let worker = spawn();
        worker
            .send_call(&Call::new(make_refuses, &()).unwrap().with_id(4))
            .unwrap();
        match worker.recv_reply(None).unwrap() {
            Reply::Serialization { id, message } => {
                assert_eq!(id, 4);
                assert!(message.contains("cannot encode the result"), "{message}");
            }
            other => panic!("expected a serialisation failure, got {other:?}"),
        }
        assert_eq!(call(&worker, square, &3).unwrap(), 9);
    });
}

// Checks that a worker that aborts in a call is seen as gone, with how.
#[test]
fn an_abort_is_reported() {
    isolated(|| {
        let worker = spawn();
        worker.send_call(&Call::new(abort, &()).unwrap()).unwrap();
        assert_eq!(worker.recv_reply(None), Err(RecvError::Disconnected));
        assert_eq!(describe_exit(worker.wait()), "aborted (SIGABRT)");
        assert!(!worker.is_alive());
        assert!(worker.send_call(&Call::new(square, &1).unwrap()).is_err());
    });
}

// Checks that the initializer runs before any call, in the worker.
#[test]
fn initializer_runs_first() {
    isolated(|| {
        let worker = Worker::spawn(&WorkerOptions {
            initializer: Some(Call::new(set_greeting, &"hello".to_owned()).unwrap()),
            ..WorkerOptions::default()
        })
        .unwrap();
        assert_eq!(
            call(&worker, greet, &"corun".to_owned()).unwrap(),
            "hello corun"
        );
        // Not in this process.
        assert_eq!(greet("here".to_owned()), "(none) here");
    });
}

// Checks that a failing initializer makes spawning fail with its message,
// and leaves no process behind (no respawn loop: Python's pool bug).
#[test]
fn failing_initializer_fails_spawn() {
    isolated(|| {
        let err = Worker::spawn(&WorkerOptions {
            initializer: Some(Call::new(failing_initializer, &()).unwrap()),
            ..WorkerOptions::default()
        })
        .unwrap_err();
        assert_eq!(err.kind(), corun::ErrorKind::ProcessStart, "{err}");
        assert!(err.to_string().contains("the initializer failed"), "{err}");
        assert!(err.to_string().contains("no database here"), "{err}");
    });
}

// Checks that a shutdown lets the calls before it finish, then the worker
// exits 0; and that closing the socket does the same.
#[test]
fn shutdown_and_close_end_the_worker() {
    isolated(|| {
        let worker = spawn();
        worker.send_call(&Call::new(square, &5).unwrap()).unwrap();
        worker.send_shutdown().unwrap();
        assert_eq!(
            worker.recv_reply(None).unwrap().decode::<u64>().unwrap(),
            25
        );
        assert_eq!(worker.recv_reply(None), Err(RecvError::Disconnected));
        assert_eq!(exitcode(worker.wait()), 0);

        let worker = spawn();
        worker.close();
        assert_eq!(exitcode(worker.wait()), 0);
    });
}

// Checks the worker's name and parent as it sees them.
#[test]
fn worker_knows_its_name_and_parent() {
    isolated(|| {
        let worker = Worker::spawn(&WorkerOptions {
            name: "pool-worker-3".to_owned(),
            ..WorkerOptions::default()
        })
        .unwrap();
        let (name, parent) = call(&worker, who, &()).unwrap();
        assert_eq!(name, "pool-worker-3");
        assert_eq!(parent, Some(std::process::id()));
    });
}

// Checks a memory limit set through the options: an allocation past it
// aborts the worker, which is reported as such.
#[test]
fn memory_limit_is_applied() {
    isolated(|| {
        let worker = Worker::spawn(&WorkerOptions {
            memory_limit: Some(512 << 20),
            ..WorkerOptions::default()
        })
        .unwrap();
        assert_eq!(call(&worker, allocate, &(1 << 20)).unwrap(), 1 << 20);
        worker
            .send_call(&Call::new(allocate, &(2 << 30)).unwrap())
            .unwrap();
        assert_eq!(worker.recv_reply(None), Err(RecvError::Disconnected));
        assert_eq!(describe_exit(worker.wait()), "aborted (SIGABRT)");
    });
}

// Checks the two-step start a pool uses: start several, then finish each.
#[test]
fn start_many_then_finish() {
    isolated(|| {
        let starting: Vec<_> = (0..3)
            .map(|_| Worker::start(&WorkerOptions::default()).unwrap())
            .collect();
        let workers: Vec<_> = starting.into_iter().map(|s| s.finish().unwrap()).collect();
        for (i, w) in workers.iter().enumerate() {
            assert_eq!(call(w, square, &(i as u64)).unwrap(), (i * i) as u64);
        }
    });
}

// Checks that dropping a worker kills and reaps it.
#[test]
fn dropping_a_worker_kills_it() {
    isolated(|| {
        let worker = spawn();
        let gate = Gate::new();
        worker
            .send_call(&Call::new(gated, &gate.path()).unwrap())
            .unwrap();
        let _held = gate.hold();
        let pid = worker.pid();
        drop(worker);
        assert!(common::is_gone(pid));
    });
}

//! Calls that travel as bytes (`corun::multiprocessing::remote`): a call
//! encoded here, read back from its bytes and run by a pool with
//! `submit_call`, its raw reply carried back as bytes and decoded — the
//! path a cluster executor takes between machines, run on one. Faults are
//! really injected (a panic, an abort, a task past its deadline); bytes
//! that are not a call or reply are refused. No CPython counterpart:
//! Python carries pickles, which this replaces.

mod common;

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Gate, is_gone, isolated, wait_at_gate, watch_segment};
use corun_concurrent::{Executor, Observer, Outcome, TaskId};
use corun_multiprocessing::remote::{Call, Reply, binary_fingerprint};
use corun_multiprocessing::{Connection, Pipe, ProcessPoolExecutor, SharedMemory, current_process};

corun_multiprocessing::enable_test_workers!();

fn square(x: u64) -> u64 {
    x * x
}

fn pid(_: ()) -> u32 {
    current_process().pid()
}

fn boom(message: String) -> u64 {
    panic!("{message}")
}

fn abort(_: ()) -> u64 {
    std::process::abort()
}

fn gated(gate: String) -> u32 {
    wait_at_gate(&gate);
    current_process().pid()
}

fn fingerprint(_: ()) -> u64 {
    binary_fingerprint()
}

fn greet(conn: Connection) -> u32 {
    conn.send("hello from the worker").unwrap();
    current_process().pid()
}

fn size(shm: SharedMemory) -> usize {
    shm.size()
}

fn build(workers: usize) -> ProcessPoolExecutor {
    ProcessPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .unwrap()
}

/// The whole trip: the call to bytes and back, run with `submit_call`, its
/// reply to bytes and back.
fn travel(pool: &ProcessPoolExecutor, call: Call) -> Reply {
    let call = Call::from_bytes(call.to_bytes().unwrap()).unwrap();
    let reply = pool.submit_call(call).unwrap().result().unwrap();
    Reply::from_bytes(&reply.to_bytes()).unwrap()
}

// Checks the path a cluster takes: `Call::new(square, &7)` as bytes, run
// by the pool, the reply as bytes, decoded to 49, with the call's own id.
#[test]
fn a_call_travels_as_bytes_and_back() {
    isolated(|| {
        let pool = build(2);
        let reply = travel(&pool, Call::new(square, &7).unwrap().with_id(1234));
        assert_eq!(reply.id(), 1234);
        assert!(matches!(reply, Reply::Returned { .. }), "{reply:?}");
        assert_eq!(reply.decode::<u64>().unwrap(), 49);
        // Many at once, each with its own id back, mixed with `submit`.
        let tasks: Vec<_> = (0..50_u64)
            .map(|i| {
                let bytes = Call::new(square, &i).unwrap().with_id(i).to_bytes();
                pool.submit_call(Call::from_bytes(bytes.unwrap()).unwrap())
                    .unwrap()
            })
            .collect();
        for (i, task) in (0..50_u64).zip(tasks) {
            let reply = task.result().unwrap();
            assert_eq!(reply.id(), i);
            assert_eq!(reply.decode::<u64>().unwrap(), i * i);
        }
        pool.shutdown(true, false);
    });
}

// Checks that a panic comes back as `Reply::Panicked` with its message (a
// value of the task, not its error), and decodes to a panic error.
#[test]
fn a_panic_is_a_panicked_reply() {
    isolated(|| {
        let pool = build(1);
        let call = Call::new(boom, &"no luck".to_owned()).unwrap().with_id(5);
        let reply = travel(&pool, call);
        assert_eq!(
            reply,
            Reply::Panicked {
                id: 5,
                message: "no luck".to_owned()
            }
        );
        let err = reply.decode::<u64>().unwrap_err();
        assert_eq!(err.panic_message(), Some("no luck"));
        // The worker goes on.
        assert_eq!(
            travel(&pool, Call::new(square, &3).unwrap())
                .decode::<u64>()
                .unwrap(),
            9
        );
    });
}

// Checks that a call that aborts its worker fails its task as `submit`
// does (worker died, saying how), and that the pool replaces the worker
// and serves the next call.
#[test]
fn an_abort_fails_the_task_and_the_pool_goes_on() {
    isolated(|| {
        let pool = build(1);
        let first = pool.pids();
        let call = Call::from_bytes(Call::new(abort, &()).unwrap().to_bytes().unwrap()).unwrap();
        let err = pool.submit_call(call).unwrap().result().unwrap_err();
        assert!(err.is_worker_died(), "{err}");
        assert!(err.to_string().contains("SIGABRT"), "{err}");
        assert!(is_gone(first[0]));
        let reply = travel(&pool, Call::new(pid, &()).unwrap());
        let next = reply.decode::<u32>().unwrap();
        assert_ne!(next, first[0]);
        assert_eq!(pool.pids(), [next]);
    });
}

// Checks the pool's other ways to fail a task, as for `submit`: past its
// `task_timeout` (the worker is killed), cancelled while queued, refused
// after shutdown.
#[test]
fn deadline_cancel_and_shutdown_as_for_submit() {
    isolated(|| {
        let pool = ProcessPoolExecutor::builder()
            .max_workers(1)
            .task_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let gate = Gate::new();
        let slow = pool
            .submit_call(Call::new(gated, &gate.path()).unwrap())
            .unwrap();
        let _held = gate.hold(); // never let through
        let queued = pool.submit_call(Call::new(square, &2).unwrap()).unwrap();
        assert!(queued.cancel());
        let err = slow.result().unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(err.to_string().contains("killed"), "{err}");
        assert!(queued.result().unwrap_err().is_cancelled());
        assert_eq!(
            travel(&pool, Call::new(square, &4).unwrap())
                .decode::<u64>()
                .unwrap(),
            16
        );
        pool.shutdown(true, false);
        let err = pool
            .submit_call(Call::new(square, &2).unwrap())
            .unwrap_err();
        assert!(err.is_shutdown(), "{err}");
    });
}

// Checks a call's own deadline (what a cluster task carries): in a pool
// with no `task_timeout`, the held call fails with a time-out after its
// 300 ms and its worker is killed; a call with a longer deadline of its
// own, and one with none, then run on the replacement.
#[test]
fn a_call_has_a_deadline_of_its_own() {
    isolated(|| {
        let pool = build(1);
        let gate = Gate::new();
        let limit = Duration::from_millis(300);
        let slow = pool
            .submit_call(Call::new(gated, &gate.path()).unwrap().with_timeout(limit))
            .unwrap();
        let _held = gate.hold(); // never let through
        let roomy = Call::new(square, &3)
            .unwrap()
            .with_timeout(Duration::from_secs(60));
        let after = pool.submit_call(roomy).unwrap();
        let plain = pool.submit_call(Call::new(square, &5).unwrap()).unwrap();
        let err = slow.result().unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(err.to_string().contains("300ms"), "{err}");
        assert_eq!(after.result().unwrap().decode::<u64>().unwrap(), 9);
        assert_eq!(plain.result().unwrap().decode::<u64>().unwrap(), 25);
    });
}

// Checks that a call holding a `Connection` or naming shared memory does
// not become bytes (neither can leave this machine), and that the same
// call still runs locally with `submit_call`, descriptor and all.
#[test]
fn descriptors_and_shared_memory_do_not_travel() {
    isolated(|| {
        let (ours, theirs) = Pipe::duplex().unwrap();
        let call = Call::new(greet, &theirs).unwrap();
        drop(theirs);
        let err = call.to_bytes().unwrap_err();
        assert!(err.is_serialization(), "{err}");
        assert!(err.to_string().contains("Connection"), "{err}");

        let shm = SharedMemory::create(4096).unwrap();
        watch_segment(shm.name());
        let shm_call = Call::new(size, &shm).unwrap();
        let err = shm_call.to_bytes().unwrap_err();
        assert!(err.is_serialization(), "{err}");
        assert!(err.to_string().contains("shared-memory"), "{err}");

        let pool = build(1);
        let reply = pool.submit_call(call).unwrap().result().unwrap();
        assert_eq!(reply.decode::<u32>().unwrap(), pool.pids()[0]);
        assert_eq!(ours.recv::<String>().unwrap(), "hello from the worker");
        let reply = pool.submit_call(shm_call).unwrap().result().unwrap();
        assert_eq!(reply.decode::<usize>().unwrap(), 4096);
        pool.shutdown(true, false);
    });
}

// Checks that garbage, truncated and damaged bytes are refused with a
// serialisation error, never a panic, and that a call's bytes are not a
// reply's.
#[test]
fn bad_bytes_are_refused() {
    let call = Call::new(square, &7).unwrap().to_bytes().unwrap();
    let reply = Reply::Returned {
        id: 1,
        bytes: vec![49],
    }
    .to_bytes();
    let mut garbage: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"hello, world".to_vec(),
        vec![0xff; 64],
        reply.clone(),
    ];
    garbage.extend((0..call.len()).map(|cut| call[..cut].to_vec()));
    garbage.extend((0..call.len()).map(|at| {
        let mut flipped = call.clone();
        flipped[at] ^= 0x01;
        flipped
    }));
    for bytes in garbage {
        let err = Call::from_bytes(bytes.clone()).unwrap_err();
        assert!(err.is_serialization(), "{err}");
        if bytes != reply {
            let err = Reply::from_bytes(&bytes).unwrap_err();
            assert!(err.is_serialization(), "{err}");
        }
    }
    for cut in 0..reply.len() {
        let err = Reply::from_bytes(&reply[..cut]).unwrap_err();
        assert!(err.is_serialization(), "{err}");
    }
    let err = Reply::from_bytes(&call).unwrap_err();
    assert!(err.to_string().contains("not a corun reply"), "{err}");
}

// Checks that a worker process of the pool — the same binary, started
// anew — computes the same non-zero fingerprint.
#[test]
fn a_worker_has_the_same_binary_fingerprint() {
    isolated(|| {
        let ours = binary_fingerprint();
        assert_ne!(ours, 0);
        let pool = build(1);
        let theirs = travel(&pool, Call::new(fingerprint, &()).unwrap());
        assert_eq!(theirs.decode::<u64>().unwrap(), ours);
        pool.shutdown(true, false);
    });
}

/// The labels and outcomes an executor reports.
#[derive(Debug, Default)]
struct Log(Mutex<Vec<String>>);

impl Observer for Log {
    fn submitted(&self, label: Cow<'static, str>) -> TaskId {
        let mut log = self.0.lock().unwrap();
        log.push(format!("submitted {label}"));
        TaskId::from_u64(log.len() as u64)
    }

    fn started(&self, _: TaskId, _: Option<Cow<'static, str>>) {}

    fn finished(&self, _: TaskId, outcome: Outcome) {
        self.0.lock().unwrap().push(format!("finished {outcome}"));
    }
}

// Checks the timeline: calls are labelled `call`, and a panicked reply is
// recorded as a panic though the task's value is the reply.
#[test]
fn the_timeline_labels_calls() {
    isolated(|| {
        let log = Arc::new(Log::default());
        let pool = ProcessPoolExecutor::builder()
            .max_workers(1)
            .recorder(Arc::clone(&log))
            .build()
            .unwrap();
        let ok = pool.submit_call(Call::new(square, &2).unwrap()).unwrap();
        ok.result().unwrap();
        let panicked = pool
            .submit_call(Call::new(boom, &"x".to_owned()).unwrap())
            .unwrap();
        assert!(matches!(panicked.result().unwrap(), Reply::Panicked { .. }));
        pool.shutdown(true, false);
        assert_eq!(
            *log.0.lock().unwrap(),
            [
                "submitted call",
                "finished ok",
                "submitted call",
                "finished panicked"
            ]
        );
    });
}

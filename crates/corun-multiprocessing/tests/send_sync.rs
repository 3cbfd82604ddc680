//! Compile-time checks of the auto traits and `Debug` of every public
//! type: a `Process` handle can be shared between threads (one joins while
//! another kills), and so can the internal `Worker` (one thread writes
//! calls while another reads replies). A failure here is a compile error.

use std::cell::Cell;
use std::fmt::Debug;

use corun_multiprocessing::queue::{GetError, PutError, QueueBuilder};
use corun_multiprocessing::test_hooks::{Call, RecvError, Reply, Starting, Worker, WorkerOptions};
use corun_multiprocessing::{
    Connection, Error, JoinableQueue, Pipe, Process, ProcessBuilder, ProcessInfo, Queue,
    SimpleQueue,
};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_debug<T: Debug>() {}

// Checks that handles, builders and errors can be shared between threads.
#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<Process<u64>>();
    assert_send_sync::<Process<String>>();
    // A result that is Send but not Sync still leaves the handle Sync: the
    // value only moves out through `join`.
    assert_send_sync::<Process<Cell<u8>>>();
    assert_send_sync::<ProcessBuilder>();
    assert_send_sync::<ProcessInfo>();
    assert_send_sync::<Error>();
    // Two threads may send and receive on one end at once.
    assert_send_sync::<Connection>();
}

// Checks that queue handles can be shared between threads whatever the
// item type (items only cross as bytes), and their errors too.
#[test]
fn queue_types_are_send_and_sync() {
    assert_send_sync::<Queue<u64>>();
    assert_send_sync::<Queue<Cell<u8>>>();
    assert_send_sync::<JoinableQueue<Cell<u8>>>();
    assert_send_sync::<SimpleQueue<Cell<u8>>>();
    assert_send_sync::<QueueBuilder<Queue<Cell<u8>>>>();
    assert_send_sync::<PutError<u64>>();
    assert_send_sync::<GetError>();
}

// Checks the internal worker API a pool shares between its threads.
#[test]
fn worker_types_are_send_and_sync() {
    assert_send_sync::<Worker>();
    assert_send_sync::<Starting>();
    assert_send_sync::<WorkerOptions>();
    assert_send_sync::<Call>();
    assert_send_sync::<Reply>();
    assert_send_sync::<RecvError>();
}

// Checks that every public type implements Debug, with a result type that
// is not Debug.
#[test]
fn every_public_type_is_debug() {
    struct Opaque;
    assert_debug::<Process<Opaque>>();
    assert_debug::<ProcessBuilder>();
    assert_debug::<ProcessInfo>();
    assert_debug::<Error>();
    assert_debug::<Pipe>();
    assert_debug::<Connection>();
    assert_debug::<Worker>();
    assert_debug::<Starting>();
    assert_debug::<WorkerOptions>();
    assert_debug::<Call>();
    assert_debug::<Reply>();
    assert_debug::<RecvError>();
    assert_debug::<Queue<Opaque>>();
    assert_debug::<JoinableQueue<Opaque>>();
    assert_debug::<SimpleQueue<Opaque>>();
    assert_debug::<QueueBuilder<Queue<Opaque>>>();
    assert_debug::<PutError<Opaque>>();
    assert_debug::<GetError>();
}

// Checks that errors are std errors, for `?` into boxed errors.
#[test]
fn errors_are_std_errors() {
    fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> Box<dyn std::error::Error> {
        Box::new(e)
    }
    assert_eq!(
        boxed(RecvError::Disconnected).to_string(),
        "the worker closed its socket"
    );
    let (a, b) = Pipe::duplex().unwrap();
    drop(b);
    assert_eq!(
        boxed(a.recv::<u8>().unwrap_err()).to_string(),
        "the other end of the connection is closed"
    );
    assert!(
        boxed(Error::worker_died("x"))
            .to_string()
            .contains("worker died")
    );
}

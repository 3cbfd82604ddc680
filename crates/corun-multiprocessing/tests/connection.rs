//! `Pipe` and `Connection`: messages and bytes both ways, one-way pipes,
//! `poll`, large messages, the other end closing (in this process, or a
//! worker that exits or is killed), and `Connection`s passed to a
//! `Process`, a `Pool` and a `ProcessPoolExecutor` — ported from CPython's
//! `Lib/test/_test_multiprocessing.py` (`_TestConnection`: test_connection,
//! test_duplex_false, test_spawn_close, test_sendbytes, test_fd_transfer)
//! where it has the same test. Each test checks that it leaves no process
//! or descriptor behind.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::{Refuses, isolated};
use corun_concurrent::Submit;
use corun_multiprocessing::{
    Connection, ErrorKind, Pipe, Pool, Process, ProcessPoolExecutor, current_process,
};
use corun_test_support::assert_timeout;
use serde::{Deserialize, Serialize};

corun_multiprocessing::enable_test_workers!();

/// What tells [`echo`] to stop (CPython's `SENTINEL`, an empty message).
const SENTINEL: &[u8] = b"";

/// CPython's `_echo`: sends back every message until the sentinel.
fn echo(conn: Connection) {
    loop {
        let msg = conn.recv_bytes().unwrap();
        if msg == SENTINEL {
            break;
        }
        conn.send_bytes(&msg).unwrap();
    }
}

/// Says who it is, then doubles numbers until the other end closes; how
/// many it doubled.
fn doubler(conn: Connection) -> usize {
    conn.send(&std::process::id()).unwrap();
    let mut n = 0;
    while let Ok(x) = conn.recv::<u64>() {
        conn.send(&(2 * x)).unwrap();
        n += 1;
    }
    n
}

/// Says who it is, then waits to be killed.
fn announce_then_wait(conn: Connection) {
    conn.send(&std::process::id()).unwrap();
    loop {
        std::thread::park();
    }
}

/// Answers the question waiting on `conn`; its pid.
fn answer(conn: Connection) -> u32 {
    let question: String = conn.recv().unwrap();
    conn.send(&format!("{question}!")).unwrap();
    current_process().pid()
}

/// A task whose result holds a `Connection`, which cannot cross.
fn make_connection(_: ()) -> Connection {
    Pipe::duplex().unwrap().0
}

fn pid(_: ()) -> u32 {
    current_process().pid()
}

fn plain(i: u64) -> u64 {
    i
}

/// Sends `i` on the connection; returns it.
fn through((i, conn): (u64, Connection)) -> u64 {
    conn.send(&i).unwrap();
    i
}

/// Sends each connection its index; how many there were.
fn number_each(conns: Vec<Connection>) -> usize {
    for (i, conn) in conns.iter().enumerate() {
        conn.send(&i).unwrap();
    }
    conns.len()
}

fn report_pid(conn: Connection) {
    conn.send(&std::process::id()).unwrap();
}

/// The worker's open descriptors.
fn open_fds(_: ()) -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A struct with connections among other fields.
#[derive(Serialize, Deserialize)]
struct Request {
    label: String,
    reply: Connection,
    copies: Vec<Connection>,
}

fn handle(request: Request) -> usize {
    request.reply.send(&request.label).unwrap();
    for copy in &request.copies {
        copy.send(&request.label.len()).unwrap();
    }
    request.copies.len()
}

fn recv_closed<T: for<'de> Deserialize<'de>>(conn: &Connection) -> bool {
    conn.recv::<T>()
        .is_err_and(|e| e.kind() == ErrorKind::Closed)
}

// Port of `_TestConnection.test_connection`: values and bytes through an
// echoing process, recv_bytes_into (and a buffer too short), poll with and
// without a time-out, a 16 MiB message, then end of stream once the child
// is done.
#[test]
fn test_connection() {
    isolated(|| {
        let (conn, child_conn) = Pipe::duplex().unwrap();
        let p = Process::builder()
            .daemon(true)
            .start(echo, child_conn)
            .unwrap();

        let seq = (1_i32, 2.25_f64, None::<u8>);
        conn.send_bytes(&postcard::to_stdvec(&seq).unwrap())
            .unwrap();
        assert_eq!(
            postcard::from_bytes::<(i32, f64, Option<u8>)>(&conn.recv_bytes().unwrap()).unwrap(),
            seq
        );
        let msg = b"hello world";
        conn.send_bytes(msg).unwrap();
        assert_eq!(conn.recv_bytes().unwrap(), msg);

        let arr: Vec<u8> = (0..4_i32).flat_map(i32::to_ne_bytes).collect();
        let mut buffer = [0_u8; 40];
        conn.send_bytes(&arr).unwrap();
        assert_eq!(conn.recv_bytes_into(&mut buffer).unwrap(), arr.len());
        assert_eq!(&buffer[..16], &arr[..]);
        assert!(buffer[16..].iter().all(|&b| b == 0));

        let longmsg = msg.repeat(10);
        conn.send_bytes(&longmsg).unwrap();
        match conn.recv_bytes_into(&mut buffer) {
            Err(e) if e.is_invalid_argument() => {
                let needs = format!("needs {} bytes", longmsg.len());
                assert!(e.to_string().contains(&needs), "{e}");
            }
            other => panic!("expected TooShort, got {other:?}"),
        }
        // Unlike Python, the message is still there.
        assert_eq!(conn.recv_bytes().unwrap(), longmsg);

        let t = Instant::now();
        assert!(!conn.poll(Some(Duration::ZERO)).unwrap());
        assert!(t.elapsed() < Duration::from_secs(1));
        let t = Instant::now();
        assert!(!conn.poll(Some(Duration::from_millis(100))).unwrap());
        assert_timeout(t.elapsed(), Duration::from_millis(100));
        conn.send_bytes(b"x").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        assert!(conn.poll(Some(Duration::from_millis(100))).unwrap());
        assert!(t.elapsed() < Duration::from_millis(100));
        assert_eq!(conn.recv_bytes().unwrap(), b"x");

        let really_big_msg = vec![b'X'; 16 << 20];
        conn.send_bytes(&really_big_msg).unwrap();
        assert_eq!(conn.recv_bytes().unwrap(), really_big_msg);

        conn.send_bytes(SENTINEL).unwrap(); // tell the child to quit
        assert!(conn.readable() && conn.writable());
        p.join().unwrap();
        assert!(recv_closed::<u8>(&conn));
        assert!(
            conn.recv_bytes()
                .is_err_and(|e| e.kind() == ErrorKind::Closed)
        );
    });
}

// Port of `_TestConnection.test_duplex_false`: a one-way pipe's ends, and
// the errors for the wrong direction (Python: OSError).
#[test]
fn test_duplex_false() {
    isolated(|| {
        let (reader, writer) = Pipe::one_way().unwrap();
        writer.send(&1).unwrap();
        assert_eq!(reader.recv::<i32>().unwrap(), 1);
        assert!(reader.readable() && !reader.writable());
        assert!(!writer.readable() && writer.writable());
        let wrong = |r: Result<_, corun::Error>| r.is_err_and(|e| e.is_invalid_argument());
        assert!(wrong(reader.send(&2)));
        assert!(wrong(reader.send_bytes(b"2")));
        assert!(wrong(writer.recv::<i32>().map(drop)));
        assert!(wrong(writer.recv_bytes().map(drop)));
        assert!(wrong(writer.poll(Some(Duration::ZERO)).map(drop)));
        assert!(wrong(writer.recv_bytes_into(&mut [0; 4]).map(drop)));
        // The reader closed: the writer's sends fail.
        drop(reader);
        assert!(
            writer
                .send(&3)
                .is_err_and(|e| e.kind() == ErrorKind::Closed)
        );
    });
}

// Port of `_TestConnection.test_spawn_close`: the parent's copy of the
// child's end is closed as soon as the child starts (here: moved into the
// call and dropped by `start`), and the two still talk.
#[test]
fn test_spawn_close() {
    isolated(|| {
        let (conn, child_conn) = Pipe::duplex().unwrap();
        let p = Process::start(echo, child_conn).unwrap();
        conn.send_bytes(b"hello").unwrap();
        assert_eq!(conn.recv_bytes().unwrap(), b"hello");
        conn.send_bytes(SENTINEL).unwrap();
        conn.close();
        p.join().unwrap();
    });
}

// Port of `_TestConnection.test_sendbytes`: slices of a message (Python's
// offset and size arguments), down to the empty one.
#[test]
fn test_sendbytes() {
    let msg = b"abcdefghijklmnopqrstuvwxyz";
    let (a, b) = Pipe::duplex().unwrap();
    for part in [&msg[..], &msg[5..], &msg[7..15], &msg[26..], &msg[26..26]] {
        a.send_bytes(part).unwrap();
        assert_eq!(b.recv_bytes().unwrap(), part);
    }
}

// Port of `_TestConnection.test_fd_transfer`, for what corun transfers: a
// Connection given to a process, which talks both ways through it and
// says its pid.
#[test]
fn test_fd_transfer() {
    isolated(|| {
        let (ours, theirs) = Pipe::duplex().unwrap();
        let p = Process::start(doubler, theirs).unwrap();
        assert_eq!(ours.recv::<u32>().unwrap(), p.pid());
        for x in 0..100_u64 {
            ours.send(&x).unwrap();
            assert_eq!(ours.recv::<u64>().unwrap(), 2 * x);
        }
        ours.close();
        assert_eq!(p.join().unwrap(), 100);
    });
}

// Checks typed values and bytes both ways within this process, and a
// value that is not the type asked for.
#[test]
fn round_trips_in_process() {
    let (a, b) = Pipe::duplex().unwrap();
    a.send(&("text", vec![1_u64, 2, 3], Some(-4_i8))).unwrap();
    b.send(&[1.5_f32; 3]).unwrap();
    b.send_bytes(&[0, 255]).unwrap();
    assert_eq!(
        b.recv::<(String, Vec<u64>, Option<i8>)>().unwrap(),
        ("text".to_owned(), vec![1, 2, 3], Some(-4))
    );
    assert_eq!(a.recv::<[f32; 3]>().unwrap(), [1.5; 3]);
    assert_eq!(a.recv_bytes().unwrap(), [0, 255]);
    a.send("not a number").unwrap();
    assert!(b.recv::<u64>().is_err_and(|e| e.is_serialization()));
}

// Checks poll: without a time-out it waits for the message; with one it
// gives up after it; a whole message only counts once all of it is here.
#[test]
fn poll_waits_for_a_whole_message() {
    let (a, b) = Pipe::duplex().unwrap();
    let t = Instant::now();
    assert!(!b.poll(Some(Duration::from_millis(50))).unwrap());
    assert_timeout(t.elapsed(), Duration::from_millis(50));
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        a.send(&"late").unwrap();
        a
    });
    assert!(b.poll(None).unwrap());
    assert_eq!(b.recv::<String>().unwrap(), "late");
    let a = sender.join().unwrap();
    // Half a message: poll says no; the rest: yes. The message is framed
    // by hand (length, kind 0x10, postcard) and written in two pieces
    // through the socket under `a`.
    let body = postcard::to_stdvec(&vec![7_u8; 100]).unwrap();
    let mut framed = (body.len() as u32).to_le_bytes().to_vec();
    framed.push(0x10);
    framed.extend_from_slice(&body);
    let mut raw = UnixStream::from(a.as_fd().try_clone_to_owned().unwrap());
    raw.write_all(&framed[..50]).unwrap();
    assert!(!b.poll(Some(Duration::from_millis(20))).unwrap());
    raw.write_all(&framed[50..]).unwrap();
    assert!(b.poll(Some(Duration::ZERO)).unwrap());
    assert_eq!(b.recv::<Vec<u8>>().unwrap(), vec![7_u8; 100]);
}

// Checks an 8 MiB message each way, typed and as bytes, within this process.
#[test]
fn large_messages() {
    let (a, b) = Pipe::duplex().unwrap();
    let big: Vec<u8> = (0..2 << 20).map(|i: u32| (i % 251) as u8).collect();
    let expected = big.clone();
    let sender = std::thread::spawn(move || {
        a.send(&big).unwrap();
        a.send_bytes(&big).unwrap();
        a.recv_bytes().unwrap()
    });
    assert_eq!(b.recv::<Vec<u8>>().unwrap(), expected);
    let bytes = b.recv_bytes().unwrap();
    assert_eq!(bytes, expected);
    b.send_bytes(&bytes).unwrap();
    assert_eq!(sender.join().unwrap(), expected);
}

// Checks that the other end dropped in this process is end of stream once
// the messages sent before are read, for every kind of receive, and an
// error (not a SIGPIPE) for sends.
#[test]
fn other_end_dropped() {
    isolated(|| {
        let (a, b) = Pipe::duplex().unwrap();
        a.send(&1_u8).unwrap();
        a.send_bytes(b"last").unwrap();
        a.close();
        assert_eq!(b.recv::<u8>().unwrap(), 1);
        assert!(b.poll(Some(Duration::ZERO)).unwrap());
        assert_eq!(b.recv_bytes().unwrap(), b"last");
        assert!(
            b.poll(Some(Duration::ZERO)).unwrap(),
            "end of stream is ready"
        );
        assert!(recv_closed::<u8>(&b));
        assert!(b.recv_bytes().is_err_and(|e| e.kind() == ErrorKind::Closed));
        assert!(
            b.recv_timeout::<u8>(Duration::from_secs(5))
                .is_err_and(|e| e.kind() == ErrorKind::Closed)
        );
        let closed = |e: corun::Error| e.kind() == ErrorKind::Closed;
        assert!(b.recv_bytes_into(&mut [0; 8]).is_err_and(closed));
        assert!(b.send(&2_u8).is_err_and(|e| e.kind() == ErrorKind::Closed));
        assert!(b.send_bytes(&[0; 100_000]).is_err_and(closed));
    });
}

// Checks that when the worker holding the other end returns (and exits),
// this end reads end of stream and cannot send.
#[test]
fn other_end_in_a_worker_that_exits() {
    isolated(|| {
        let (ours, theirs) = Pipe::duplex().unwrap();
        let p = Process::start(answer, theirs).unwrap();
        let pid = p.pid();
        ours.send("done").unwrap();
        assert_eq!(p.join().unwrap(), pid);
        assert_eq!(ours.recv::<String>().unwrap(), "done!");
        assert!(recv_closed::<String>(&ours));
        assert!(ours.send(&0).is_err_and(|e| e.kind() == ErrorKind::Closed));
    });
}

// Checks that when the worker holding the other end is killed (SIGKILL),
// a receive blocked on this end returns end of stream, and sends fail.
#[test]
fn other_end_in_a_killed_worker() {
    isolated(|| {
        let (ours, theirs) = Pipe::duplex().unwrap();
        let p = Process::start(announce_then_wait, theirs).unwrap();
        assert_eq!(ours.recv::<u32>().unwrap(), p.pid());
        std::thread::scope(|s| {
            let blocked = s.spawn(|| recv_closed::<u32>(&ours));
            std::thread::sleep(Duration::from_millis(50));
            p.kill();
            assert!(blocked.join().unwrap());
        });
        assert!(ours.send(&0).is_err_and(|e| e.kind() == ErrorKind::Closed));
        assert!(p.join().unwrap_err().is_worker_died());
    });
}

// Checks that a value that does not serialise is an error from send, and
// that nothing is written; also a Connection inside a message.
#[test]
fn send_serialization_errors() {
    let (a, b) = Pipe::duplex().unwrap();
    assert!(a.send(&Refuses).is_err_and(|e| e.is_serialization()));
    let (c, _d) = Pipe::duplex().unwrap();
    let err = a.send(&(1, c)).unwrap_err();
    assert!(
        err.to_string()
            .contains("a Connection can only be passed to a worker as an argument"),
        "{err}"
    );
    assert!(
        !b.poll(Some(Duration::ZERO)).unwrap(),
        "nothing was written"
    );
    a.send(&5_u8).unwrap();
    assert_eq!(b.recv::<u8>().unwrap(), 5);
    let err = postcard::to_stdvec(&a).unwrap_err();
    assert!(!err.to_string().is_empty());
}

// Checks that two threads sending on one end at once never interleave
// their messages: large ones (written in several pieces), typed and raw.
#[test]
fn concurrent_senders_do_not_interleave() {
    const EACH: usize = 20;
    const SIZE: usize = 100_000;
    let (a, b) = Pipe::duplex().unwrap();
    std::thread::scope(|s| {
        for id in [1_u8, 2] {
            let a = &a;
            s.spawn(move || {
                for _ in 0..EACH {
                    a.send(&(id, vec![id; SIZE])).unwrap();
                    a.send_bytes(&vec![id; SIZE]).unwrap();
                }
            });
        }
        let mut counts = [0; 3];
        for _ in 0..2 * EACH {
            // Typed and raw messages alternate per thread, not overall:
            // read raw, and tell them apart by length.
            let msg = b.recv_bytes().unwrap();
            if msg.len() == SIZE {
                assert!(msg.iter().all(|&x| x == msg[0]), "interleaved bytes");
                counts[usize::from(msg[0])] += 1;
            } else {
                let (id, body): (u8, Vec<u8>) = postcard::from_bytes(&msg).unwrap();
                assert!(body.iter().all(|&x| x == id), "interleaved message");
                counts[usize::from(id)] += 1;
            }
        }
        for _ in 0..2 * EACH {
            let msg = b.recv_bytes().unwrap();
            let id = if msg.len() == SIZE {
                msg[0]
            } else {
                postcard::from_bytes::<(u8, Vec<u8>)>(&msg).unwrap().0
            };
            counts[usize::from(id)] += 1;
        }
        assert_eq!(counts, [0, 2 * EACH, 2 * EACH]);
    });
}

// Checks a Connection passed to `Pool::apply`, alone and inside a struct
// with others; and that the pool's copy closes when the task is done.
#[test]
fn connection_to_pool_apply() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let (ours, theirs) = Pipe::duplex().unwrap();
        ours.send("question").unwrap();
        let pid = pool.apply(answer, theirs).unwrap();
        assert!(pool.pids().contains(&pid));
        assert_eq!(ours.recv::<String>().unwrap(), "question!");
        assert!(
            recv_closed::<String>(&ours),
            "the worker and the pool closed theirs"
        );

        let (reply_ours, reply) = Pipe::duplex().unwrap();
        let (copy_ours, copies): (Vec<_>, Vec<_>) =
            (0..3).map(|_| Pipe::one_way().unwrap()).unzip();
        let request = Request {
            label: "four".to_owned(),
            reply,
            copies,
        };
        assert_eq!(pool.apply(handle, request).unwrap(), 3);
        assert_eq!(reply_ours.recv::<String>().unwrap(), "four");
        for reader in &copy_ours {
            assert_eq!(reader.recv::<usize>().unwrap(), 4);
            assert!(recv_closed::<usize>(reader));
        }
        pool.close();
        pool.join().unwrap();
    });
}

// Checks a Connection passed to `ProcessPoolExecutor::submit`.
#[test]
fn connection_to_process_pool_executor() {
    isolated(|| {
        let pool = ProcessPoolExecutor::builder()
            .max_workers(1)
            .build()
            .unwrap();
        let (ours, theirs) = Pipe::duplex().unwrap();
        ours.send("submitted").unwrap();
        let f: fn(Connection) -> u32 = answer;
        let pid = pool.submit(f, theirs).unwrap().result().unwrap();
        assert_eq!(pool.pids(), [pid]);
        assert_eq!(ours.recv::<String>().unwrap(), "submitted!");
        assert!(recv_closed::<String>(&ours));
    });
}

// Checks that a Connection in a worker's result fails that task only, with
// a serialisation error saying why; the worker goes on.
#[test]
fn connection_in_a_result_fails_only_that_task() {
    isolated(|| {
        let pool = Pool::builder().processes(1).build().unwrap();
        let before = pool.apply(pid, ()).unwrap();
        let err = pool.apply(make_connection, ()).unwrap_err();
        assert!(err.is_serialization(), "{err}");
        assert!(
            err.to_string()
                .contains("a Connection can only be passed to a worker as an argument"),
            "{err}"
        );
        assert_eq!(pool.apply(pid, ()).unwrap(), before);
    });
}

// Checks calls with descriptors among pipelined calls without (which a
// pool batches into one write): each Connection reaches its own call, in
// `apply_async` and in `map` chunks; and the worker keeps no descriptor.
#[test]
fn connections_among_batched_calls() {
    isolated(|| {
        let pool = Pool::builder().processes(1).build().unwrap();
        let fds_before = pool.apply(open_fds, ()).unwrap();
        let mut readers = Vec::new();
        let mut tasks = Vec::new();
        for i in 0..60_u64 {
            if i % 3 == 0 {
                let (reader, writer) = Pipe::one_way().unwrap();
                readers.push((i, reader));
                tasks.push(pool.apply_async(through, (i, writer)).unwrap());
            } else {
                tasks.push(pool.apply_async(plain, i).unwrap());
            }
        }
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.result().unwrap(), i as u64);
        }
        for (i, reader) in &readers {
            assert_eq!(reader.recv::<u64>().unwrap(), *i);
            assert!(recv_closed::<u64>(reader));
        }

        let (readers, items): (Vec<_>, Vec<_>) = (0..20_u64)
            .map(|i| {
                let (reader, writer) = Pipe::one_way().unwrap();
                (reader, (i, writer))
            })
            .unzip();
        let results = pool.map_chunked(through, items, 6).unwrap();
        assert_eq!(results, (0..20).collect::<Vec<_>>());
        for (i, reader) in readers.iter().enumerate() {
            assert_eq!(reader.recv::<u64>().unwrap(), i as u64);
        }
        assert_eq!(pool.apply(open_fds, ()).unwrap(), fds_before);
    });
}

// Checks many Connections in one call (up to Linux's 253 per message),
// and a clear error past that, before anything is started.
#[test]
fn many_connections_in_one_call() {
    isolated(|| {
        let (readers, writers): (Vec<_>, Vec<_>) =
            (0..253).map(|_| Pipe::one_way().unwrap()).unzip();
        let p = Process::start(number_each, writers).unwrap();
        assert_eq!(p.join().unwrap(), 253);
        for (i, reader) in readers.iter().enumerate() {
            assert_eq!(reader.recv::<usize>().unwrap(), i);
        }
        drop(readers);

        let too_many: Vec<Connection> = (0..127)
            .flat_map(|_| {
                let (a, b) = Pipe::duplex().unwrap();
                [a, b]
            })
            .collect();
        let err = Process::start(number_each, too_many).unwrap_err();
        assert!(err.is_serialization(), "{err}");
        assert!(err.to_string().contains("at most 253"), "{err}");
    });
}

// Checks a Connection given to a pool's initializer: every worker gets its
// own copy of the same end.
#[test]
fn connection_to_an_initializer() {
    isolated(|| {
        let (ours, theirs) = Pipe::duplex().unwrap();
        let pool = Pool::builder()
            .processes(2)
            .initializer(report_pid, theirs)
            .build()
            .unwrap();
        let reported: BTreeSet<u32> = (0..2).map(|_| ours.recv::<u32>().unwrap()).collect();
        assert_eq!(reported, pool.pids().into_iter().collect());
        drop(pool);
        assert!(recv_closed::<u32>(&ours));
    });
}

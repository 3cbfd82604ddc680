//! How fast a worker answers: the round trip of a no-op call (encode the
//! call, send it, run it in the worker, send the result back, decode it),
//! unpipelined and with 64 calls in flight, next to the round trip of a bare
//! Unix socket between two threads; and how long a worker takes to start.
//!
//! ```text
//! cargo run --release -p corun-multiprocessing --example roundtrip [CALLS]
//! ```

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use corun_multiprocessing::test_hooks::{Call, Worker, WorkerOptions};

fn noop(x: u64) -> u64 {
    x
}

fn nap(us: u64) {
    std::thread::sleep(Duration::from_micros(us));
}

/// CPU time this thread has used (Linux schedstat, nanoseconds).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        stat.split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
    )
}

fn per_call(elapsed: Duration, calls: u64) -> f64 {
    elapsed.as_secs_f64() * 1e6 / calls as f64
}

/// Set in the child that echoes bytes for the cross-process baseline.
const ECHO: &str = "ROUNDTRIP_ECHO";

fn main() {
    corun_multiprocessing::init();
    if std::env::var_os(ECHO).is_some() {
        // The baseline's far end: echo stdin (a socket) back to itself.
        use std::os::fd::AsFd;
        let stdin = std::io::stdin().as_fd().try_clone_to_owned().unwrap();
        let mut stream = UnixStream::from(stdin);
        let mut byte = [0];
        while stream.read_exact(&mut byte).is_ok() {
            stream.write_all(&byte).unwrap();
        }
        return;
    }
    let calls: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let options = WorkerOptions::default();

    // Start-up: exec, handshake, setup, ready.
    let starts = 20;
    let t = Instant::now();
    let workers: Vec<_> = (0..starts)
        .map(|_| Worker::spawn(&options).unwrap())
        .collect();
    let start_up = t.elapsed() / starts;
    drop(workers);

    let worker = Worker::spawn(&options).unwrap();
    let round_trip = |i: u64| {
        worker
            .send_call(&Call::new(noop, &i).unwrap().with_id(i))
            .unwrap();
        let reply = worker.recv_reply(None).unwrap();
        assert_eq!(reply.decode::<u64>().unwrap(), i);
    };
    for i in 0..1000 {
        round_trip(i);
    }

    let t = Instant::now();
    for i in 0..calls {
        round_trip(i);
    }
    let unpipelined = per_call(t.elapsed(), calls);

    let window = 64;
    let t = Instant::now();
    let (mut sent, mut received) = (0, 0);
    while received < calls {
        while sent < calls && sent - received < window {
            worker
                .send_call(&Call::new(noop, &sent).unwrap().with_id(sent))
                .unwrap();
            sent += 1;
        }
        let reply = worker.recv_reply(None).unwrap();
        assert_eq!(reply.id(), received);
        assert_eq!(reply.decode::<u64>().unwrap(), received);
        received += 1;
    }
    let pipelined = per_call(t.elapsed(), calls);

    // Long calls: the parent stops polling after the first long wait, so
    // waiting costs it next to no CPU.
    let long_calls = 300;
    let cpu = thread_cpu();
    for _ in 0..long_calls {
        worker.send_call(&Call::new(nap, &1000).unwrap()).unwrap();
        worker.recv_reply(None).unwrap().decode::<()>().unwrap();
    }
    let cpu_per_long_call = per_call(thread_cpu() - cpu, long_calls);

    // The floor: one byte each way through a socket pair, thread to thread.
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let echo = std::thread::spawn(move || {
        let mut byte = [0];
        while b.read_exact(&mut byte).is_ok() {
            b.write_all(&byte).unwrap();
        }
    });
    let mut byte = [0];
    let t = Instant::now();
    for _ in 0..calls {
        a.write_all(&[1]).unwrap();
        a.read_exact(&mut byte).unwrap();
    }
    let raw = per_call(t.elapsed(), calls);
    drop(a);
    echo.join().unwrap();

    // The same to another process: this program again, echoing.
    let (mut a, b) = UnixStream::pair().unwrap();
    let mut child = std::process::Command::new("/proc/self/exe")
        .env(ECHO, "1")
        .stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(b)))
        .spawn()
        .unwrap();
    for _ in 0..1000 {
        a.write_all(&[1]).unwrap();
        a.read_exact(&mut byte).unwrap();
    }
    let t = Instant::now();
    for _ in 0..calls {
        a.write_all(&[1]).unwrap();
        a.read_exact(&mut byte).unwrap();
    }
    let raw_process = per_call(t.elapsed(), calls);
    drop(a);
    child.wait().unwrap();

    println!("calls:                      {calls}");
    println!(
        "worker start-up:            {:.2} ms",
        start_up.as_secs_f64() * 1e3
    );
    println!("round trip, unpipelined:    {unpipelined:.2} µs/call");
    println!("round trip, {window} in flight:   {pipelined:.2} µs/call");
    println!("1 ms calls, parent CPU:     {cpu_per_long_call:.2} µs/call");
    println!("bare socket, two threads:   {raw:.2} µs");
    println!("bare socket, two processes: {raw_process:.2} µs");
}

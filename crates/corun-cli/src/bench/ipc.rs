//! The inter-process experiments, each against Python's `multiprocessing`
//! run in the same invocation:
//!
//! - `bulk`: a 64 MiB buffer handed to a worker process, which sends back
//!   its checksum — through a pipe and through `SharedMemory` (Python:
//!   pickled through a `Pipe`, and `shared_memory`);
//! - `queue-processes`: small items from a producer process to a consumer
//!   through a cross-process `Queue`;
//! - `lock-processes`: a process-shared `Lock`, alone and contended by two
//!   processes updating a shared value.

use std::time::Instant;

use anyhow::Context;
use corun::multiprocessing::{
    Array, Connection, Lock, Pipe, Process, Queue, RawValue, SharedMemory,
};

use super::Plan;
use super::measure::median;
use super::progress;
use super::python::run_script;
use super::report::Row;

const PYTHON_SCRIPT: &str = include_str!("../../python/ipc_bench.py");
/// BENCHMARKS.md: shared memory ≥ 3 GB/s effective.
const BULK_GB_PER_S: f64 = 3.0;
/// BENCHMARKS.md / issue: a cross-process queue ≥ 10× Python's.
const QUEUE_VS_PYTHON: f64 = 0.1;
/// How much a worker reads from a segment at a time.
const CHUNK: usize = 1 << 20;

/// Runs `python/ipc_bench.py experiment n runs` (saying so on the
/// progress line, as running `what` on `n`); or why it cannot: not
/// installed, or `--no-python`.
fn python_peer(
    plan: &Plan,
    experiment: &str,
    n: usize,
    what: &str,
) -> anyhow::Result<Result<serde_json::Value, String>> {
    if !plan.python {
        return Ok(Err("--no-python".to_owned()));
    }
    progress::step(format!("Python {what} ({experiment}, n = {n})"));
    let args = [experiment.to_owned(), n.to_string(), plan.runs.to_string()];
    run_script(PYTHON_SCRIPT, &args)
}

/// A worker's end of the `bulk` pipe: checksums each message of bytes.
fn checksum_bytes(conn: Connection) {
    while let Ok(bytes) = conn.recv_bytes() {
        if conn.send(&checksum(&bytes)).is_err() {
            return;
        }
    }
}

/// A worker's end of the `bulk` experiment through shared memory: attaches
/// to each segment it is sent and checksums its first `len` bytes.
fn checksum_segments(conn: Connection) {
    let mut chunk = vec![0; CHUNK];
    while let Ok((block, len)) = conn.recv::<(SharedMemory, usize)>() {
        let mut sum = Checksum::default();
        let mut offset = 0;
        while offset < len {
            let n = CHUNK.min(len - offset);
            block
                .read_at(offset, &mut chunk[..n])
                .expect("inside the segment");
            sum.add(&chunk[..n]);
            offset += n;
        }
        drop(block);
        if conn.send(&sum.finish()).is_err() {
            return;
        }
    }
}

/// The checksum both ends agree on: the wrapping sum of the bytes as
/// little-endian u64 words (a short tail zero-padded). Not a CRC: cheap
/// enough that the experiment measures moving the bytes, not summing them.
fn checksum(bytes: &[u8]) -> u64 {
    let mut sum = Checksum::default();
    sum.add(bytes);
    sum.finish()
}

/// A running [`checksum`], fed in chunks whose lengths are multiples of 8
/// (but the last).
#[derive(Default)]
struct Checksum(u64);

impl Checksum {
    fn add(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let word: [u8; 8] = word.try_into().expect("eight bytes");
            self.0 = self.0.wrapping_add(u64::from_le_bytes(word));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.0 = self.0.wrapping_add(u64::from_le_bytes(last));
        }
    }

    fn finish(self) -> u64 {
        self.0
    }
}

/// A worker's end of the `bulk` experiment through an `Array<u8>`: locks
/// each array it is sent and checksums its items in place.
fn checksum_arrays(conn: Connection) {
    while let Ok(array) = conn.recv::<Array<u8>>() {
        let sum = match array.lock() {
            Ok(items) => checksum(&items),
            Err(died) => checksum(&died.into_guard()),
        };
        drop(array);
        if conn.send(&sum).is_err() {
            return;
        }
    }
}

/// A worker process serving one kind of `bulk` request over a pipe.
struct Server {
    conn: Connection,
    process: Process<()>,
}

impl Server {
    fn start(serve: fn(Connection)) -> anyhow::Result<Self> {
        let (conn, theirs) = Pipe::duplex().context("making a pipe")?;
        let process = Process::start(serve, theirs).context("starting a worker")?;
        Ok(Self { conn, process })
    }

    /// Sends `request`, returns the checksum the worker answers.
    fn ask(&self, request: &impl serde::Serialize) -> anyhow::Result<u64> {
        self.conn.send(request)?;
        Ok(self.conn.recv()?)
    }

    fn stop(self) -> anyhow::Result<()> {
        drop(self.conn);
        self.process.join().context("a bulk worker failed")
    }
}

/// `bulk`: 64 MiB to a worker and its checksum back, four ways.
pub(crate) fn bulk(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    const EXPERIMENT: &str = "bulk";
    let n = plan.size(64 << 20, 4 << 20);
    let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    let expected = checksum(&data);
    let check = |sum: u64, how: &str| {
        anyhow::ensure!(sum == expected, "wrong checksum {how}");
        Ok(())
    };

    let pipe = Server::start(checksum_bytes)?;
    let segments = Server::start(checksum_segments)?;
    let arrays = Server::start(checksum_arrays)?;

    // The bytes through the pipe: written, read into a new buffer, summed.
    let through_pipe = || -> anyhow::Result<f64> {
        let start = Instant::now();
        pipe.conn.send_bytes(&data)?;
        let sum: u64 = pipe.conn.recv()?;
        let elapsed = start.elapsed().as_secs_f64();
        check(sum, "through the pipe")?;
        Ok(elapsed)
    };
    // The data made in an array in shared memory, as a program sharing it
    // from the start does; timed: the hand-over, the worker attaching and
    // summing the items in place (zero copies), the answer.
    let array_in_place = || -> anyhow::Result<f64> {
        let array = Array::<u8>::from_slice(&data)?;
        let start = Instant::now();
        let sum = arrays.ask(&array)?;
        let elapsed = start.elapsed().as_secs_f64();
        check(sum, "through an Array")?;
        Ok(elapsed)
    };
    // The same with a bare segment, which the worker copies out in
    // chunks (`read_at`) to sum.
    let segment_in_place = || -> anyhow::Result<f64> {
        let block = SharedMemory::create(n)?;
        block.write_at(0, &data)?;
        let start = Instant::now();
        let sum = segments.ask(&(&block, n))?;
        let elapsed = start.elapsed().as_secs_f64();
        check(sum, "through shared memory")?;
        Ok(elapsed)
    };
    // The buffer copied into a new segment, then handed over: timed from
    // creating the segment to its removal.
    let copied_in = || -> anyhow::Result<f64> {
        let start = Instant::now();
        let block = SharedMemory::create(n)?;
        block.write_at(0, &data)?;
        let sum = segments.ask(&(&block, n))?;
        drop(block);
        let elapsed = start.elapsed().as_secs_f64();
        check(sum, "through a new segment")?;
        Ok(elapsed)
    };

    progress::step("bulk warm-up");
    through_pipe()?;
    array_in_place()?;
    copied_in()?;
    let mut samples = [const { Vec::new() }; 4];
    for run in 0..plan.runs {
        progress::step(format!("bulk ({}/{})", run + 1, plan.runs));
        samples[0].push(array_in_place()?);
        samples[1].push(segment_in_place()?);
        samples[2].push(copied_in()?);
        samples[3].push(through_pipe()?);
    }
    for server in [pipe, segments, arrays] {
        server.stop()?;
    }
    let [array_t, segment_t, copied_t, pipe_t] = samples.map(median);

    let gb_per_s = |seconds: f64| n as f64 / seconds / 1e9;
    let ms = |seconds: f64| seconds * 1e3;
    let mib = n >> 20;
    let bar_ms = ms(n as f64 / (BULK_GB_PER_S * 1e9));
    const ARRAY: &str = "Array<u8> made in place, handed over";
    const SEGMENT: &str = "SharedMemory made in place, handed over";
    const COPIED: &str = "SharedMemory: new, copied in, handed over";
    const PIPE: &str = "Connection.send_bytes (a socket pair)";
    let mut rows = vec![
        Row::target(
            EXPERIMENT,
            ARRAY,
            ms(array_t),
            bar_ms,
            format!("{BULK_GB_PER_S} GB/s"),
        )
        .note(format!(
            "{mib} MiB: {:.2} GB/s effective; the worker sums in place",
            gb_per_s(array_t)
        )),
        Row::figure(EXPERIMENT, SEGMENT, ms(segment_t)).note(format!(
            "{:.2} GB/s effective; the worker copies out with read_at",
            gb_per_s(segment_t)
        )),
        Row::compare(EXPERIMENT, COPIED, PIPE, ms(copied_t), ms(pipe_t), None).note(format!(
            "{:.2} GB/s vs pipe {:.2} GB/s; both touch {mib} MiB of new memory",
            gb_per_s(copied_t),
            gb_per_s(pipe_t)
        )),
    ];
    if plan.python {
        match python_peer(plan, "bulk", n, "Pipe and shared_memory")? {
            Ok(json) => {
                let version = json["python"].as_str().unwrap_or("?");
                for (key, ours, t, peer) in [
                    (
                        "shared_memory_in_place_ms",
                        ARRAY,
                        array_t,
                        "shared_memory made in place, handed over",
                    ),
                    (
                        "shared_memory_ms",
                        COPIED,
                        copied_t,
                        "shared_memory: new, copied in, handed over",
                    ),
                    ("pipe_ms", PIPE, pipe_t, "Pipe.send (pickled)"),
                ] {
                    let py = json[key]
                        .as_f64()
                        .with_context(|| format!("python peer gave no {key}"))?;
                    rows.push(
                        Row::compare(
                            EXPERIMENT,
                            ours,
                            format!("Python {version} {peer}"),
                            ms(t),
                            py,
                            None,
                        )
                        .note(format!(
                            "Python: {:.2} GB/s effective (its checksum: zlib.crc32)",
                            n as f64 / (py / 1e3) / 1e9
                        )),
                    );
                }
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                ARRAY,
                "Python Pipe and shared_memory",
                ms(array_t),
                why,
            )),
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("ms")).collect())
}

/// The producer of `queue-processes`: puts `0..n`.
fn produce((queue, n): (Queue<u64>, u64)) {
    for i in 0..n {
        queue.put(i).expect("the queue is open");
    }
}

/// `queue-processes`: one producer process, the parent consuming.
pub(crate) fn queue(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    const EXPERIMENT: &str = "queue-processes";
    let n = plan.size(200_000, 20_000) as u64;
    let once = || -> anyhow::Result<f64> {
        let queue = Queue::new()?;
        let producer = Process::start(produce, (queue.clone(), n))?;
        // The producer is running once its first item is in: time from here.
        let mut total = queue.get()?;
        let start = Instant::now();
        for _ in 1..n {
            total += queue.get()?;
        }
        let elapsed = start.elapsed().as_secs_f64();
        producer.join()?;
        anyhow::ensure!(total == n * (n - 1) / 2, "items were lost");
        Ok(elapsed / (n - 1) as f64 * 1e6)
    };
    progress::step("queue-processes warm-up");
    once()?;
    let mut samples = Vec::new();
    for run in 0..plan.runs {
        progress::step(format!("queue-processes ({}/{})", run + 1, plan.runs));
        samples.push(once()?);
    }
    let t = median(samples);
    let ours = "Queue, 1 producer process → 1 consumer";
    let py_n = plan.size(50_000, 5_000);
    let row = match python_peer(plan, "queue", py_n, "multiprocessing.Queue")? {
        Ok(json) => {
            let version = json["python"].as_str().unwrap_or("?");
            let py = json["us_per_item"]
                .as_f64()
                .context("python peer gave no us_per_item")?;
            Row::compare(
                EXPERIMENT,
                ours,
                format!("Python {version} multiprocessing.Queue"),
                t,
                py,
                Some(QUEUE_VS_PYTHON),
            )
            .note(format!(
                "{:.0}× Python's throughput; bar ≥ 10×; {n} items (Python {py_n})",
                py / t
            ))
        }
        Err(why) => Row::peer_missing(EXPERIMENT, ours, "Python multiprocessing.Queue", t, why),
    };
    Ok(vec![row.unit("µs/item")])
}

/// A contender of `lock-processes`: `n` times, take the lock and add 1.
fn add_under_lock((lock, value, n): (Lock, RawValue<u64>, u64)) {
    for _ in 0..n {
        let _held = lock.acquire().expect("no holder dies here");
        value.store(value.load() + 1);
    }
}

/// `lock-processes`: acquire + release alone, and two processes
/// contending while they update a shared value.
pub(crate) fn lock(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    const EXPERIMENT: &str = "lock-processes";
    let n = plan.size(1_000_000, 100_000) as u64;
    let lock = Lock::new()?;
    let uncontended = || {
        let start = Instant::now();
        for _ in 0..n {
            drop(lock.acquire().expect("no holder dies here"));
        }
        start.elapsed().as_secs_f64() / n as f64 * 1e9
    };
    let contended = || -> anyhow::Result<f64> {
        let value = RawValue::new(0_u64)?;
        let half = n / 2;
        let start = Instant::now();
        let workers =
            [0, 1].map(|_| Process::start(add_under_lock, (lock.clone(), value.clone(), half)));
        for worker in workers {
            worker?.join()?;
        }
        let elapsed = start.elapsed().as_secs_f64();
        anyhow::ensure!(value.load() == 2 * half, "lost updates under the lock");
        Ok(elapsed / (2 * half) as f64 * 1e9)
    };
    progress::step("lock-processes warm-up");
    uncontended();
    let (mut free, mut busy) = (Vec::new(), Vec::new());
    for run in 0..plan.runs {
        progress::step(format!("lock-processes ({}/{})", run + 1, plan.runs));
        free.push(uncontended());
        busy.push(contended()?);
    }
    let (free, busy) = (median(free), median(busy));
    let alone = "Lock acquire + release, one process";
    let shared = "Lock, 2 processes: acquire, value += 1, release";
    let py_n = plan.size(200_000, 20_000);
    let mut rows = Vec::new();
    match python_peer(plan, "lock", py_n, "multiprocessing.Lock")? {
        Ok(json) => {
            let version = json["python"].as_str().unwrap_or("?");
            for (key, ours, t, peer) in [
                ("uncontended_ns", alone, free, "multiprocessing.Lock"),
                (
                    "contended_ns",
                    shared,
                    busy,
                    "multiprocessing.Lock + RawValue",
                ),
            ] {
                let py = json[key]
                    .as_f64()
                    .with_context(|| format!("python peer gave no {key}"))?;
                rows.push(
                    Row::compare(
                        EXPERIMENT,
                        ours,
                        format!("Python {version} {peer}"),
                        t,
                        py,
                        None,
                    )
                    .note(format!(
                        "{n} operations (Python {py_n}), process start included"
                    )),
                );
            }
        }
        Err(why) => {
            for (ours, t) in [(alone, free), (shared, busy)] {
                rows.push(Row::peer_missing(
                    EXPERIMENT,
                    ours,
                    "Python multiprocessing.Lock",
                    t,
                    why.clone(),
                ));
            }
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("ns/op")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_in_chunks_equals_checksum_at_once() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 256) as u8).collect();
        let mut sum = Checksum::default();
        for chunk in bytes[..992].chunks(64) {
            sum.add(chunk);
        }
        sum.add(&bytes[992..]);
        assert_eq!(sum.finish(), checksum(&bytes));
        assert_eq!(checksum(&[1, 0, 0, 0, 0, 0, 0, 0, 2]), 3);
    }
}

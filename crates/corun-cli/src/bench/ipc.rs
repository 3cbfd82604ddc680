//! The inter-process experiments: `bulk` (a 64 MiB buffer handed to a
//! worker process, which sends back its checksum), against Python's
//! pickling through a `Pipe` and its `shared_memory`, run in the same
//! invocation.

use std::time::Instant;

use anyhow::Context;
use corun::multiprocessing::{Connection, Pipe, Process, SharedMemory};

use super::Plan;
use super::measure::median;
use super::progress;
use super::python::run_script;
use super::report::Row;

const PYTHON_SCRIPT: &str = include_str!("../../python/ipc_bench.py");
/// BENCHMARKS.md: shared memory ≥ 3 GB/s effective.
const BULK_GB_PER_S: f64 = 3.0;
/// How much a worker reads from a segment at a time.
const CHUNK: usize = 1 << 20;

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

/// `bulk`: 64 MiB to a worker and its checksum back, three ways.
pub(crate) fn bulk(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    const EXPERIMENT: &str = "bulk";
    let n = plan.size(64 << 20, 4 << 20);
    let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    let expected = checksum(&data);

    let (pipe, theirs) = Pipe::duplex().context("making a pipe")?;
    let pipe_worker = Process::start(checksum_bytes, theirs).context("starting a worker")?;
    let (shm, theirs) = Pipe::duplex().context("making a pipe")?;
    let shm_worker = Process::start(checksum_segments, theirs).context("starting a worker")?;

    let through_pipe = || -> anyhow::Result<f64> {
        let start = Instant::now();
        pipe.send_bytes(&data)?;
        let sum: u64 = pipe.recv()?;
        let elapsed = start.elapsed().as_secs_f64();
        anyhow::ensure!(sum == expected, "wrong checksum through the pipe");
        Ok(elapsed)
    };
    let hand_over = |block: &SharedMemory| -> anyhow::Result<()> {
        shm.send(&(block, n))?;
        let sum: u64 = shm.recv()?;
        anyhow::ensure!(sum == expected, "wrong checksum through shared memory");
        Ok(())
    };
    // The buffer is copied into a new segment, then handed over.
    let copied_in = || -> anyhow::Result<f64> {
        let start = Instant::now();
        let block = SharedMemory::create(n)?;
        block.write_at(0, &data)?;
        hand_over(&block)?;
        drop(block);
        Ok(start.elapsed().as_secs_f64())
    };
    // The data was made in the segment (as a program that shares it from
    // the start does): only the hand-over is timed.
    let in_place = || -> anyhow::Result<f64> {
        let block = SharedMemory::create(n)?;
        block.write_at(0, &data)?;
        let start = Instant::now();
        hand_over(&block)?;
        Ok(start.elapsed().as_secs_f64())
    };

    progress::step("bulk warm-up");
    through_pipe()?;
    copied_in()?;
    let (mut pipe_s, mut copied_s, mut in_place_s) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..plan.runs {
        progress::step(format!("bulk ({}/{})", run + 1, plan.runs));
        pipe_s.push(through_pipe()?);
        copied_s.push(copied_in()?);
        in_place_s.push(in_place()?);
    }
    drop((pipe, shm));
    pipe_worker.join().context("the pipe worker failed")?;
    shm_worker
        .join()
        .context("the shared-memory worker failed")?;

    let gb_per_s = |seconds: f64| n as f64 / seconds / 1e9;
    let ms = |seconds: f64| seconds * 1e3;
    let (pipe_t, copied_t, in_place_t) = (median(pipe_s), median(copied_s), median(in_place_s));
    let mib = n >> 20;
    let bar_ms = ms(n as f64 / (BULK_GB_PER_S * 1e9));
    let mut rows = vec![
        Row::compare(
            EXPERIMENT,
            "SharedMemory, copied in + handed over",
            format!("{BULK_GB_PER_S} GB/s"),
            ms(copied_t),
            bar_ms,
            Some(1.0),
        )
        .note(format!(
            "{mib} MiB: {:.2} GB/s effective",
            gb_per_s(copied_t)
        )),
        Row::compare(
            EXPERIMENT,
            "SharedMemory, made in place + handed over",
            format!("{BULK_GB_PER_S} GB/s"),
            ms(in_place_t),
            bar_ms,
            None,
        )
        .note(format!("{:.2} GB/s effective", gb_per_s(in_place_t))),
        Row::compare(
            EXPERIMENT,
            "SharedMemory, copied in + handed over",
            "Connection.send_bytes (a socket pair)",
            ms(copied_t),
            ms(pipe_t),
            None,
        )
        .note(format!("pipe: {:.2} GB/s effective", gb_per_s(pipe_t))),
    ];
    if plan.python {
        progress::step(format!("Python Pipe and shared_memory ({mib} MiB)"));
        let args = ["bulk".to_owned(), n.to_string(), plan.runs.to_string()];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let version = json["python"].as_str().unwrap_or("?");
                for (key, ours, t, peer) in [
                    (
                        "pipe_ms",
                        "Connection.send_bytes (a socket pair)",
                        pipe_t,
                        "Pipe.send (pickled)",
                    ),
                    (
                        "shared_memory_ms",
                        "SharedMemory, copied in + handed over",
                        copied_t,
                        "shared_memory, copied in + handed over",
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
                            ms(t),
                            py,
                            None,
                        )
                        .note(format!(
                            "Python: {:.2} GB/s effective, crc32",
                            n as f64 / (py / 1e3) / 1e9
                        )),
                    );
                }
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                "SharedMemory, copied in + handed over",
                "Python Pipe and shared_memory",
                ms(copied_t),
                why,
            )),
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("ms")).collect())
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

"""Python's peer for corun's inter-process experiments.

Measures how multiprocessing moves data between processes and prints one
JSON object. Usage: python3 ipc_bench.py EXPERIMENT N RUNS

  bulk   hand a buffer of N bytes to a worker process and get its checksum
         back (zlib.crc32, the fastest checksum in the standard library):
         through a Pipe (the bytes are pickled, written, read and
         unpickled); through multiprocessing.shared_memory, copied into a
         new SharedMemory block which the worker attaches to by name; and
         through a block filled before timing (only the hand-over and the
         checksum are timed). The worker is started before timing; median
         of RUNS.
  queue  one producer process puts N small ints on a multiprocessing.Queue
         and the parent gets them all; median time per item over RUNS.
  lock   a multiprocessing.Lock: acquire + release, uncontended, N times in
         one process; then two processes each doing N/2 times
         `with lock: value.value += 1` on a shared RawValue, checking the
         total; median time per operation over RUNS.

The script is normally fed on stdin (`python3 - EXPERIMENT N RUNS`), so the
children cannot re-import it: the worker functions live in a small module
written to a temporary directory on sys.path, which the children import by
name (the start method is the platform default). The temporary directory is
removed before exit.
"""

import importlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import zlib

WORKERS = "ipc_bench_workers"

WORKERS_SOURCE = '''\
"""Worker functions for ipc_bench; importable by every start method."""

import zlib
from multiprocessing import resource_tracker, shared_memory


def checksum_from_pipe(conn):
    while True:
        message = conn.recv()
        if message is None:
            return
        if isinstance(message, str):
            block = shared_memory.SharedMemory(name=message)
            # Attaching registers the block with the resource tracker, which
            # would warn about (and try to unlink) it at exit: gh-82300.
            resource_tracker.unregister(block._name, "shared_memory")
            try:
                conn.send(zlib.crc32(block.buf))
            finally:
                block.close()
        else:
            conn.send(zlib.crc32(message))


def produce(queue, n):
    for i in range(n):
        queue.put(i)


def add_under_lock(lock, value, n):
    for _ in range(n):
        with lock:
            value.value += 1
'''


def load_workers(directory):
    with open(os.path.join(directory, WORKERS + ".py"), "w") as f:
        f.write(WORKERS_SOURCE)
    sys.path.insert(0, directory)
    return importlib.import_module(WORKERS)


def hide_unimportable_main():
    # Run from stdin, __main__.__file__ is "<stdin>", which spawn and
    # forkserver children would try (and fail) to run as a path.
    main = sys.modules["__main__"]
    path = getattr(main, "__file__", None)
    if path is not None and not os.path.isfile(path):
        del main.__file__


def bulk(workers, n, runs):
    from multiprocessing import shared_memory

    data = bytes(range(256)) * (n // 256) + bytes(n % 256)
    expected = zlib.crc32(data)
    parent, child = multiprocessing.Pipe()
    worker = multiprocessing.Process(target=workers.checksum_from_pipe, args=(child,))
    worker.start()
    child.close()

    def through_pipe():
        start = time.perf_counter()
        parent.send(data)
        got = parent.recv()
        elapsed = time.perf_counter() - start
        assert got == expected, "wrong checksum through the pipe"
        return elapsed

    def through_shared_memory():
        start = time.perf_counter()
        block = shared_memory.SharedMemory(create=True, size=n)
        try:
            block.buf[:n] = data
            parent.send(block.name)
            got = parent.recv()
            elapsed = time.perf_counter() - start
        finally:
            block.close()
            block.unlink()
        assert got == expected, "wrong checksum through shared memory"
        return elapsed

    def in_place():
        block = shared_memory.SharedMemory(create=True, size=n)
        try:
            block.buf[:n] = data
            start = time.perf_counter()
            parent.send(block.name)
            got = parent.recv()
            elapsed = time.perf_counter() - start
        finally:
            block.close()
            block.unlink()
        assert got == expected, "wrong checksum through shared memory"
        return elapsed

    through_pipe()  # warm-up
    pipe = [through_pipe() for _ in range(runs)]
    shm = [through_shared_memory() for _ in range(runs)]
    placed = [in_place() for _ in range(runs)]
    parent.send(None)
    worker.join()
    return {
        "pipe_ms": statistics.median(pipe) * 1e3,
        "shared_memory_ms": statistics.median(shm) * 1e3,
        "shared_memory_in_place_ms": statistics.median(placed) * 1e3,
        "bytes": n,
        "runs": runs,
    }


def queue_throughput(workers, n, runs):
    def once():
        queue = multiprocessing.Queue()
        producer = multiprocessing.Process(target=workers.produce, args=(queue, n))
        producer.start()
        first = queue.get()  # the producer is running: time from here
        start = time.perf_counter()
        total = first
        for _ in range(n - 1):
            total += queue.get()
        elapsed = time.perf_counter() - start
        producer.join()
        assert total == n * (n - 1) // 2, "items were lost"
        return elapsed / (n - 1)

    times = [once() for _ in range(runs)]
    return {"us_per_item": statistics.median(times) * 1e6, "items": n, "runs": runs}


def lock_round_trips(workers, n, runs):
    lock = multiprocessing.Lock()

    def uncontended():
        start = time.perf_counter()
        for _ in range(n):
            lock.acquire()
            lock.release()
        return (time.perf_counter() - start) / n

    def contended():
        value = multiprocessing.RawValue("q", 0)
        half = n // 2
        procs = [
            multiprocessing.Process(target=workers.add_under_lock, args=(lock, value, half))
            for _ in range(2)
        ]
        start = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - start
        assert value.value == 2 * half, "lost updates under the lock"
        return elapsed / (2 * half)

    free = [uncontended() for _ in range(runs)]
    busy = [contended() for _ in range(runs)]
    return {
        "uncontended_ns": statistics.median(free) * 1e9,
        "contended_ns": statistics.median(busy) * 1e9,
        "ops": n,
        "runs": runs,
    }


def main():
    experiment, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    hide_unimportable_main()
    with tempfile.TemporaryDirectory(prefix="corun-ipc-bench-") as directory:
        workers = load_workers(directory)
        if experiment == "bulk":
            out = bulk(workers, n, runs)
        elif experiment == "queue":
            out = queue_throughput(workers, n, runs)
        elif experiment == "lock":
            out = lock_round_trips(workers, n, runs)
        else:
            raise SystemExit(f"unknown experiment {experiment!r}")
    out["python"] = sys.version.split()[0]
    out["start_method"] = multiprocessing.get_start_method()
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Python's peer for corun's `cpu` experiment.

Computes sum(i * i for i in range(n)) for each N with a
multiprocessing.Pool(cpu_count) and with a ThreadPoolExecutor(cpu_count),
RUNS times each, timing the whole of each run (pool start included, as in
the classic `with Pool() as pool: pool.map(...)`), and prints one JSON
object with the median seconds per mode and the results as strings.
Usage: python3 cpu_bench.py RUNS N [N ...]
"""

import json
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def sum_of_squares(n):
    return sum(i * i for i in range(n))


def with_pool(numbers, workers):
    # Fork explicitly: the script arrives on stdin, so a spawned or
    # forkserver child could not re-import it (3.14 defaults to forkserver).
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        return pool.map(sum_of_squares, numbers)


def with_threads(numbers, workers):
    with ThreadPoolExecutor(max_workers=workers) as executor:
        return list(executor.map(sum_of_squares, numbers))


def timed(mode, numbers, workers, runs):
    times, results = [], None
    for _ in range(runs):
        start = time.perf_counter()
        results = mode(numbers, workers)
        times.append(time.perf_counter() - start)
    return statistics.median(times), [str(r) for r in results]


def main():
    runs = int(sys.argv[1])
    numbers = [int(a) for a in sys.argv[2:]]
    workers = os.cpu_count() or 1
    seconds, results = {}, {}
    for name, mode in [("pool", with_pool), ("threads", with_threads)]:
        seconds[name], results[name] = timed(mode, numbers, workers, runs)
    print(json.dumps({
        "python": sys.version.split()[0],
        "workers": workers,
        "runs": runs,
        "seconds": seconds,
        "results": results,
    }))


if __name__ == "__main__":
    main()

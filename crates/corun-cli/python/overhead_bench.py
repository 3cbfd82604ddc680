"""Python's peer for corun's `overhead-threads` experiment.

Submits N no-op tasks to a ThreadPoolExecutor(cpu_count), then collects
every result, RUNS times, and prints one JSON object with the median time
per task. Usage: python3 overhead_bench.py N RUNS
"""

import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def noop(i):
    return i


def one_run(executor, n):
    start = time.perf_counter()
    futures = [executor.submit(noop, i) for i in range(n)]
    total = 0
    for f in futures:
        total += f.result()
    elapsed = time.perf_counter() - start
    assert total == n * (n - 1) // 2, "results were lost"
    return elapsed


def main():
    n = int(sys.argv[1])
    runs = int(sys.argv[2])
    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as executor:
        one_run(executor, min(n, 1000))  # start the workers
        times = [one_run(executor, n) for _ in range(runs)]
    print(json.dumps({
        "tasks": n,
        "runs": runs,
        "workers": workers,
        "ns_per_task": statistics.median(times) / n * 1e9,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()

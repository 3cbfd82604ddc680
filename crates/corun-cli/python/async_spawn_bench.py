"""Python's peer for corun's `async-spawn` experiment.

Creates N no-op tasks on the running loop with asyncio.create_task, then
gathers them, RUNS times, and prints one JSON object with the median time
per task. Usage: python3 async_spawn_bench.py N RUNS
"""

import asyncio
import json
import statistics
import sys
import time


async def noop(i):
    return i


async def one_run(n):
    start = time.perf_counter()
    tasks = [asyncio.create_task(noop(i)) for i in range(n)]
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    assert results == list(range(n)), "results were lost"
    return elapsed


async def main(n, runs):
    await one_run(min(n, 1000))  # warm up
    return [await one_run(n) for _ in range(runs)]


if __name__ == "__main__":
    n = int(sys.argv[1])
    runs = int(sys.argv[2])
    times = asyncio.run(main(n, runs))
    print(json.dumps({
        "tasks": n,
        "runs": runs,
        "ns_per_task": statistics.median(times) / n * 1e9,
        "python": sys.version.split()[0],
    }))

"""Python's peer for corun's `sleep-precision` experiment.

Sleeps asyncio.sleep(0.001) N times in a row in one task, and prints one
JSON object with the median and p99 overshoot (time slept beyond 1 ms) in
microseconds. Usage: python3 sleep_precision_bench.py N
"""

import asyncio
import json
import math
import sys
import time

DELAY = 0.001


async def main(n):
    await asyncio.sleep(DELAY)  # warm up
    slept = []
    for _ in range(n):
        start = time.perf_counter()
        await asyncio.sleep(DELAY)
        slept.append(time.perf_counter() - start)
    return slept


def percentile(sorted_values, p):
    rank = min(max(math.ceil(p / 100 * len(sorted_values)), 1), len(sorted_values))
    return sorted_values[rank - 1]


if __name__ == "__main__":
    n = int(sys.argv[1])
    over = sorted(max(s - DELAY, 0.0) * 1e6 for s in asyncio.run(main(n)))
    print(json.dumps({
        "sleeps": n,
        "median_us": percentile(over, 50),
        "p99_us": percentile(over, 99),
        "python": sys.version.split()[0],
    }))

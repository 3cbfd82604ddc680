"""Python's peer for corun's `async-queue` experiment.

Moves N integers from a producer task to a consumer task through
asyncio.Queue(MAXSIZE) on one event loop, RUNS times, and prints one JSON
object with the median time per item. Usage:
python3 async_queue_bench.py N RUNS MAXSIZE
"""

import asyncio
import json
import statistics
import sys
import time


async def one_run(n, maxsize):
    q = asyncio.Queue(maxsize)

    async def produce():
        put = q.put
        for i in range(n):
            await put(i)

    async def consume():
        get = q.get
        for expected in range(n):
            item = await get()
            assert item == expected, "item lost or reordered"

    start = time.perf_counter()
    producer = asyncio.create_task(produce())
    consumer = asyncio.create_task(consume())
    await producer
    await consumer
    return time.perf_counter() - start


def main():
    n = int(sys.argv[1])
    runs = int(sys.argv[2])
    maxsize = int(sys.argv[3])
    times = [asyncio.run(one_run(n, maxsize)) for _ in range(runs)]
    print(json.dumps({
        "items": n,
        "runs": runs,
        "maxsize": maxsize,
        "ns_per_item": statistics.median(times) / n * 1e9,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()

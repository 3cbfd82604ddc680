"""Python's peer for corun's `queue` experiment.

Moves N integers from a producer thread to the consumer (main) thread through
queue.Queue, RUNS times, and prints one JSON object with the median time per
item. Usage: python3 queue_bench.py N RUNS [MAXSIZE]
"""

import json
import queue
import statistics
import sys
import threading
import time


def one_run(n, maxsize):
    q = queue.Queue(maxsize)

    def produce():
        put = q.put
        for i in range(n):
            put(i)

    start = time.perf_counter()
    producer = threading.Thread(target=produce)
    producer.start()
    get = q.get
    total = 0
    for _ in range(n):
        total += get()
    producer.join()
    elapsed = time.perf_counter() - start
    assert total == n * (n - 1) // 2, "items were lost"
    return elapsed


def main():
    n = int(sys.argv[1])
    runs = int(sys.argv[2])
    maxsize = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    times = [one_run(n, maxsize) for _ in range(runs)]
    print(json.dumps({
        "items": n,
        "runs": runs,
        "maxsize": maxsize,
        "ns_per_item": statistics.median(times) / n * 1e9,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()

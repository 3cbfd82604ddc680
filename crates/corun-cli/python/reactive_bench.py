"""Python's peer for corun's `reactive` experiment, with RxPY (`reactivex`).

Times N items through range -> map -> filter -> scan, and N items into a
Subject with 10 observers, RUNS times each, and prints one JSON object
with the median time per item. Without reactivex importable it prints
{"skipped": reason} instead. Usage: python3 reactive_bench.py N RUNS
"""

import json
import statistics
import sys
import time

try:
    import reactivex
    from reactivex import operators as ops
    from reactivex.subject import Subject

    VERSION = getattr(reactivex, "__version__", "")
except ImportError as e:
    reactivex = None
    SKIPPED = "RxPY (reactivex) not installed: %s" % e

OBSERVERS = 10


class Sink:
    last = 0
    total = 0


def pipeline(n):
    sink = Sink()

    def on_next(v):
        sink.last = v

    source = reactivex.range(0, n).pipe(
        ops.map(lambda x: x * 3),
        ops.filter(lambda x: x % 2 == 0),
        ops.scan(lambda acc, x: acc + x, 0),
    )
    start = time.perf_counter()
    source.subscribe(on_next)
    elapsed = time.perf_counter() - start
    evens = (n + 1) // 2
    assert sink.last == 3 * (evens - 1) * evens, "items were lost"
    return elapsed


def fan_out(n):
    subject = Subject()
    sink = Sink()

    def observer(x):
        sink.total += x

    for _ in range(OBSERVERS):
        subject.subscribe(observer)
    on_next = subject.on_next
    start = time.perf_counter()
    for i in range(n):
        on_next(i)
    elapsed = time.perf_counter() - start
    assert sink.total == OBSERVERS * n * (n - 1) // 2, "items were lost"
    return elapsed


def median_ns(one_run, n, runs):
    one_run(min(n, 1000))  # warm up
    return statistics.median(one_run(n) for _ in range(runs)) / n * 1e9


if __name__ == "__main__":
    n = int(sys.argv[1])
    runs = int(sys.argv[2])
    if reactivex is None:
        print(json.dumps({"skipped": SKIPPED}))
        sys.exit(0)
    print(json.dumps({
        "items": n,
        "runs": runs,
        "ns_per_item_pipeline": median_ns(pipeline, n, runs),
        "ns_per_item_fan_out": median_ns(fan_out, n, runs),
        "observers": OBSERVERS,
        "peer": ("RxPY " + VERSION).strip(),
        "python": sys.version.split()[0],
    }))

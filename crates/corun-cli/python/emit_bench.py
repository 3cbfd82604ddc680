"""Python's peer for corun's `emit` experiment.

Emits one event N times to 1 and to 10 listeners, RUNS times each, and
prints one JSON object with the median time per emit. With pyee importable
it times pyee's EventEmitter; else a stdlib callback list (a dict of
lists, each emit looping over a copy, as pyee and Node do).
Usage: python3 emit_bench.py N RUNS
"""

import json
import statistics
import sys
import time

try:
    from pyee import EventEmitter

    try:
        from importlib.metadata import version

        PEER = "pyee " + version("pyee")
    except Exception:  # metadata missing: the name alone
        PEER = "pyee"
except ImportError:
    EventEmitter = None
    PEER = "stdlib callback list"


class CallbackList:
    """The stdlib fallback: Node's emitter reduced to a dict of lists."""

    def __init__(self):
        self._events = {}

    def on(self, name, f):
        self._events.setdefault(name, []).append(f)

    def emit(self, name, *args):
        listeners = self._events.get(name)
        if not listeners:
            return False
        for f in list(listeners):
            f(*args)
        return True


class Sink:
    total = 0


def make(listeners):
    ee = EventEmitter() if EventEmitter is not None else CallbackList()
    sink = Sink()

    def make_listener():
        def listener(x):
            sink.total += x

        return listener

    # A function object of its own for each: pyee keys its listeners by
    # function, so adding one function ten times would add it once.
    for _ in range(listeners):
        ee.on("data", make_listener())
    before = sink.total
    ee.emit("data", 1)
    assert sink.total - before == listeners, "not every listener ran"
    return ee, sink


def one_run(ee, n):
    emit = ee.emit
    start = time.perf_counter()
    for i in range(n):
        emit("data", i)
    return time.perf_counter() - start


def median_ns(listeners, n, runs):
    ee, sink = make(listeners)
    one_run(ee, min(n, 1000))  # warm up
    times = [one_run(ee, n) for _ in range(runs)]
    assert sink.total > 0, "listeners never ran"
    return statistics.median(times) / n * 1e9


if __name__ == "__main__":
    n = int(sys.argv[1])
    runs = int(sys.argv[2])
    print(json.dumps({
        "emits": n,
        "runs": runs,
        "ns_per_emit_1": median_ns(1, n, runs),
        "ns_per_emit_10": median_ns(10, n, runs),
        "peer": PEER,
        "python": sys.version.split()[0],
    }))

"""Python's peer for corun's `schedule` experiment.

Runs one part of the experiment with concurrent.futures and multiprocessing
and prints one JSON object. Usage: python3 schedule_bench.py PART RUNS WORKERS ...

  heavy COUNT SEED UNIT   COUNT CPU tasks of heavy-tailed sizes (the same
                          generator as corun's, sizes in units of UNIT loop
                          iterations): sequential, ProcessPoolExecutor.map,
                          ProcessPoolExecutor submit-all, Pool.map and
                          Pool.imap_unordered; median seconds of each.
  tiny N                  ThreadPoolExecutor(WORKERS).map of N no-op tasks;
                          median ns per task.
  nested SUB CAP OUTER... for each OUTER, OUTER tasks on a
                          ThreadPoolExecutor(max(WORKERS, OUTER)) that each
                          submit 10 tasks of SUB iterations to the same pool
                          and wait for them; a shape that misses its deadline
                          (5 times its work in one thread and a second, at
                          most CAP seconds) is reported as deadlocked.
  long LONG SHORT SHORTS  a warm Pool(WORKERS): two tasks of LONG iterations,
                          then SHORTS of SHORT; median milliseconds from the
                          submission to each long task's and the last short
                          task's completion.

A task is sum(i * i for i in range(n)) modulo 2**64, corun's wrapping sum
of squares. Pools fork (the script arrives on stdin, so a spawned child
could not re-import it). The script ends with os._exit, as a deadlocked
ThreadPoolExecutor would otherwise hang the interpreter's exit.
"""

import json
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout

MASK = (1 << 64) - 1
LCG_A = 6364136223846793005
LCG_C = 1442695040888963407
ALPHA = 1.2
CAP = 100.0
INNER = 10


def spin(n):
    return sum(i * i for i in range(n)) & MASK


def noop(i):
    return i


def pareto_units(count, seed):
    """corun's generator: a 64-bit LCG, a uniform in (0, 1) from its top 52
    bits, a Pareto(ALPHA) draw capped at CAP."""
    state, units = seed, []
    for _ in range(count):
        state = (state * LCG_A + LCG_C) & MASK
        u = ((state >> 12) + 0.5) / 4503599627370496.0
        units.append(min(u ** (-1.0 / ALPHA), CAP))
    return units


def rotated(modes, repetition):
    k = repetition % len(modes)
    return modes[k:] + modes[:k]


def heavy(runs, workers, count, seed, unit):
    sizes = [int(x * unit) for x in pareto_units(count, seed)]
    context = multiprocessing.get_context("fork")
    expected = [spin(n) for n in sizes]
    with ProcessPoolExecutor(workers, mp_context=context) as executor, \
            context.Pool(workers) as pool:
        # Start every worker before timing.
        list(executor.map(noop, range(4 * workers)))
        pool.map(noop, range(4 * workers))

        def sequential():
            return [spin(n) for n in sizes]

        def ppe_map():
            return list(executor.map(spin, sizes))

        def ppe_submit():
            futures = [executor.submit(spin, n) for n in sizes]
            return [f.result() for f in futures]

        def pool_map():
            return pool.map(spin, sizes)

        def pool_imap_unordered():
            return sorted(pool.imap_unordered(spin, sizes))

        modes = [sequential, ppe_map, ppe_submit, pool_map, pool_imap_unordered]
        times = {mode.__name__: [] for mode in modes}
        for repetition in range(runs):
            for mode in rotated(modes, repetition):
                start = time.perf_counter()
                results = mode()
                times[mode.__name__].append(time.perf_counter() - start)
                want = sorted(expected) if mode is pool_imap_unordered else expected
                assert results == want, mode.__name__ + " computed other sums"
        pool.close()
        pool.join()
    return {
        "size_sum": sum(sizes),
        "seconds": {k: statistics.median(v) for k, v in times.items()},
    }


def tiny(runs, workers, n):
    with ThreadPoolExecutor(workers) as executor:
        list(executor.map(noop, range(min(n, 1000))))  # start the workers
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            total = sum(executor.map(noop, range(n)))
            times.append(time.perf_counter() - start)
            assert total == n * (n - 1) // 2, "results were lost"
    return {"tasks": n, "ns_per_task": statistics.median(times) / n * 1e9}


def nested_once(executor, outer, sub, deadline):
    """One run of the shape: seconds, or None when it missed the deadline."""

    def outer_task():
        inner = [executor.submit(spin, sub) for _ in range(INNER)]
        return sum(f.result() for f in inner) & MASK

    start = time.perf_counter()
    futures = [executor.submit(outer_task) for _ in range(outer)]
    for f in futures:
        try:
            f.result(timeout=max(0.0, start + deadline - time.perf_counter()))
        except FuturesTimeout:
            return None
    return time.perf_counter() - start


def nested(runs, workers, sub, cap, shapes):
    out = []
    for outer in shapes:
        pool_size = max(workers, outer)
        start = time.perf_counter()
        for _ in range(outer * INNER):
            spin(sub)
        sequential = time.perf_counter() - start
        # As corun's: 5 times the time of the work done in one thread (the
        # GIL keeps Python's threads from doing better), and a second.
        deadline = min(5 * sequential + 1.0, cap)
        executor = ThreadPoolExecutor(pool_size)
        times = []
        for _ in range(runs):
            elapsed = nested_once(executor, outer, sub, deadline)
            if elapsed is None:
                break
            times.append(elapsed)
        deadlocked = len(times) < runs
        if not deadlocked:
            executor.shutdown(wait=True)
        # A deadlocked pool is left as it is: its threads never end.
        out.append({
            "outer": outer,
            "workers": pool_size,
            "deadlocked": deadlocked,
            "deadline_ms": deadline * 1e3,
            "ms": None if deadlocked else statistics.median(times) * 1e3,
            "sequential_ms": sequential * 1e3,
        })
    return {"shapes": out}


def long_then_short(runs, workers, long, short, shorts):
    context = multiprocessing.get_context("fork")
    firsts, seconds, lasts = [], [], []
    with context.Pool(workers) as pool:
        for _ in range(runs):
            pool.map(noop, range(5000), 1)  # warm: thousands of tiny calls
            done = {}
            start = time.perf_counter()

            def finished(key):
                return lambda _: done.setdefault(key, time.perf_counter())

            long_tasks = [
                pool.apply_async(spin, (long,), callback=finished(k)) for k in range(2)
            ]
            short_tasks = [
                pool.apply_async(spin, (short,), callback=finished(2 + k))
                for k in range(shorts)
            ]
            for r in long_tasks + short_tasks:
                r.get()
            # The callbacks ran before get() returned.
            ends = sorted(done[k] - start for k in range(2))
            firsts.append(ends[0] * 1e3)
            seconds.append(ends[1] * 1e3)
            lasts.append(max(done[k] for k in range(2, 2 + shorts)) - start)
        pool.close()
        pool.join()
    return {
        "first_ms": statistics.median(firsts),
        "second_ms": statistics.median(seconds),
        "last_short_ms": statistics.median(lasts) * 1e3,
    }


def main():
    part, runs, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    args = [int(a) for a in sys.argv[4:]]
    if part == "heavy":
        out = heavy(runs, workers, *args)
    elif part == "tiny":
        out = tiny(runs, workers, *args)
    elif part == "nested":
        out = nested(runs, workers, args[0], args[1], args[2:])
    elif part == "long":
        out = long_then_short(runs, workers, *args)
    else:
        sys.exit("unknown part: " + part)
    out["python"] = sys.version.split()[0]
    out["runs"] = runs
    out["workers"] = workers
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

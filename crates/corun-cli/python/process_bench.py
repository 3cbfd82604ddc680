"""Python's peer for corun's process experiments.

Measures multiprocessing's process pools and prints one JSON object.
Usage: python3 process_bench.py EXPERIMENT N RUNS [BUDGET_S]

  overhead  submit N no-op tasks to ProcessPoolExecutor(2), then collect every
            result; the same with Pool(2).apply_async; median time per task
            over RUNS (`overhead-processes`).
  map       Pool(2).map of a trivial function over range(N) with the default
            chunksize; median time per item over RUNS (`map-processes`).
  spawn     from nothing to a Pool(2) that has run one task, for each start
            method available (fork, forkserver, spawn); teardown is not timed;
            median of RUNS (N is ignored). forkserver_ms includes starting the
            fork server; forkserver_warm_ms reuses a running one.
  crash     N tasks of which every 10th calls os.abort() in its worker, run
            once (RUNS is ignored): ProcessPoolExecutor(2) breaks, failing
            every pending task; Pool(2) replaces the dead worker but never
            answers for its task, so each result is awaited against an overall
            deadline of BUDGET_S seconds (default 1 + 0.005 * N), then the
            pool is terminated.

The script is normally fed on stdin (`python3 - EXPERIMENT N RUNS`), so the
children cannot re-import it: the worker functions live in a small module
written to a temporary directory on sys.path, which spawn and forkserver
children import by name, and a main module that is not a file is hidden from
them. The temporary directory is removed before exit.
"""

import importlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

WORKERS = "process_bench_workers"

WORKERS_SOURCE = '''\
"""Task functions for process_bench; importable by every start method."""

import os


def noop(i):
    return i


def inc(i):
    return i + 1


def abort_every_tenth(i):
    if i % 10 == 9:
        os.abort()
    return i
'''

START_METHODS = ("fork", "forkserver", "spawn")
PRELOADED = (
    "multiprocessing.pool",
    "multiprocessing.popen_fork",
    "multiprocessing.popen_forkserver",
    "multiprocessing.popen_spawn_posix",
)


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


def median_ms(times):
    return statistics.median(times) * 1e3


def ppe_overhead(workers, executor, n):
    start = time.perf_counter()
    futures = [executor.submit(workers.noop, i) for i in range(n)]
    total = 0
    for f in futures:
        total += f.result()
    elapsed = time.perf_counter() - start
    assert total == n * (n - 1) // 2, "results were lost"
    return elapsed


def apply_async_overhead(workers, pool, n):
    start = time.perf_counter()
    results = [pool.apply_async(workers.noop, (i,)) for i in range(n)]
    total = 0
    for r in results:
        total += r.get()
    elapsed = time.perf_counter() - start
    assert total == n * (n - 1) // 2, "results were lost"
    return elapsed


def overhead(workers, n, runs):
    warm_up = min(n, 100)
    with ProcessPoolExecutor(max_workers=2) as executor:
        ppe_overhead(workers, executor, warm_up)  # start the workers
        ppe = [ppe_overhead(workers, executor, n) for _ in range(runs)]
    with multiprocessing.Pool(2) as pool:
        apply_async_overhead(workers, pool, warm_up)
        applied = [apply_async_overhead(workers, pool, n) for _ in range(runs)]
        pool.close()
        pool.join()
    return {
        "ppe_us_per_task": statistics.median(ppe) / n * 1e6,
        "apply_async_us_per_task": statistics.median(applied) / n * 1e6,
        "tasks": n,
        "runs": runs,
    }


def map_once(workers, pool, n):
    start = time.perf_counter()
    total = sum(pool.map(workers.inc, range(n)))
    elapsed = time.perf_counter() - start
    assert total == n * (n + 1) // 2, "results were lost"
    return elapsed


def map_items(workers, n, runs):
    with multiprocessing.Pool(2) as pool:
        map_once(workers, pool, min(n, 1000))  # start the workers
        times = [map_once(workers, pool, n) for _ in range(runs)]
        pool.close()
        pool.join()
    return {
        "us_per_item": statistics.median(times) / n * 1e6,
        "items": n,
        "runs": runs,
    }


def stop_forkserver():
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


def start_pool(workers, context):
    start = time.perf_counter()
    pool = context.Pool(2)
    try:
        result = pool.apply(workers.noop, (1,))
        elapsed = time.perf_counter() - start
    finally:
        pool.terminate()
        pool.join()
    assert result == 1, "wrong result"
    return elapsed


def spawn(workers, runs):
    from multiprocessing import resource_tracker

    # Paid once per program, whatever the number of pools: not timed.
    for module in PRELOADED:
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    resource_tracker.ensure_running()
    available = multiprocessing.get_all_start_methods()
    out = {}
    for method in START_METHODS:
        out[method + "_ms"] = None
        if method not in available:
            continue
        context = multiprocessing.get_context(method)
        times, warm = [], []
        for _ in range(runs):
            if method == "forkserver":
                stop_forkserver()
                times.append(start_pool(workers, context))
                warm.append(start_pool(workers, context))
            else:
                times.append(start_pool(workers, context))
        out[method + "_ms"] = median_ms(times)
        if warm:
            out["forkserver_warm_ms"] = median_ms(warm)
    stop_forkserver()
    out["runs"] = runs
    return out


def no_core_dumps():
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ImportError, ValueError, OSError):
        pass


def is_bad(i):
    return i % 10 == 9


def crash_ppe(workers, n):
    good_ok = good_failed = bad_failed = 0
    with ProcessPoolExecutor(max_workers=2) as executor:
        start = time.perf_counter()
        futures = []
        for i in range(n):
            try:
                futures.append(executor.submit(workers.abort_every_tenth, i))
            except BrokenProcessPool:
                futures.append(None)  # broken before this one was submitted
        for i, f in enumerate(futures):
            try:
                ok = f is not None and f.result() == i
            except BrokenProcessPool:
                ok = False
            if is_bad(i):
                bad_failed += not ok
            elif ok:
                good_ok += 1
            else:
                good_failed += 1
        elapsed = time.perf_counter() - start
    return {
        "ppe_good_ok": good_ok,
        "ppe_good_failed": good_failed,
        "ppe_bad_failed": bad_failed,
        "ppe_ms": elapsed * 1e3,
    }


def crash_pool(workers, n, budget):
    good_ok = hung = 0
    finished = []  # completion time of each result that came back
    pool = multiprocessing.Pool(2)
    try:
        start = time.perf_counter()
        results = [
            pool.apply_async(
                workers.abort_every_tenth,
                (i,),
                callback=lambda _: finished.append(time.perf_counter()),
            )
            for i in range(n)
        ]
        deadline = start + budget
        for i, r in enumerate(results):
            try:
                value = r.get(timeout=max(0.0, deadline - time.perf_counter()))
            except multiprocessing.TimeoutError:
                hung += 1
            else:
                good_ok += value == i and not is_bad(i)
        elapsed = time.perf_counter() - start
    finally:
        pool.terminate()  # also ends the workers waiting on the hung tasks
        pool.join()
    last = (max(finished) - start) * 1e3 if finished else None
    return {
        "pool_good_ok": good_ok,
        "pool_hung": hung,
        "pool_ms": elapsed * 1e3,
        "pool_last_result_ms": last,
        "pool_budget_ms": budget * 1e3,
    }


def crash(workers, n, budget):
    no_core_dumps()
    out = {"tasks": n, "crashes": sum(is_bad(i) for i in range(n))}
    out.update(crash_ppe(workers, n))
    out.update(crash_pool(workers, n, budget))
    return out


def main():
    experiment = sys.argv[1]
    n = int(sys.argv[2])
    runs = int(sys.argv[3])
    budget = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0 + 0.005 * n
    hide_unimportable_main()
    with tempfile.TemporaryDirectory(prefix="process_bench_") as directory:
        workers = load_workers(directory)
        if experiment == "overhead":
            out = overhead(workers, n, runs)
        elif experiment == "map":
            out = map_items(workers, n, runs)
        elif experiment == "spawn":
            out = spawn(workers, runs)
        elif experiment == "crash":
            out = crash(workers, n, budget)
        else:
            sys.exit("unknown experiment: " + experiment)
    out["python"] = sys.version.split()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()

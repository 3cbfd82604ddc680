"""Python's peer for corun's `io` experiment.

Fetches pages 0 .. PAGES-1 from corun's local HTTP server on 127.0.0.1:PORT
(each answered after 50 ms, with `Connection: close`), RUNS times in each
mode, and prints one JSON object with the median milliseconds per run
(`ms`) and every run's time (`runs_ms`):

- threads: a ThreadPoolExecutor(32) mapping urllib.request.urlopen;
- asyncio: one task per page, gathered, each opening a connection with
  asyncio.open_connection and sending a minimal HTTP/1.1 GET.

Standard library only. Usage: python3 io_bench.py PORT PAGES RUNS
"""

import asyncio
import json
import platform
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

THREADS = 32


def page_body(n):
    """The page the server sends for /page/n (as corun's page_body)."""
    return f"<html><body><h1>page {n}</h1>{'lorem ipsum ' * 80}</body></html>\n".encode()


def fetch_urllib(port, n):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/page/{n}") as response:
        body = response.read()
    assert body == page_body(n), f"page {n} came back wrong"
    return len(body)


def threads(port, pages):
    with ThreadPoolExecutor(THREADS) as executor:
        return sum(executor.map(lambda n: fetch_urllib(port, n), range(pages)))


async def fetch_asyncio(port, n):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /page/{n} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    await writer.drain()
    response = await reader.read()  # the server closes after the page
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert body == page_body(n), f"page {n} came back wrong"
    return len(body)


async def gather_pages(port, pages):
    return sum(await asyncio.gather(*(fetch_asyncio(port, n) for n in range(pages))))


def timed(run):
    start = time.perf_counter()
    got = run()
    return (time.perf_counter() - start) * 1e3, got


def main():
    port, pages, runs = (int(a) for a in sys.argv[1:4])
    modes = {
        "threads": lambda: threads(port, pages),
        "asyncio": lambda: asyncio.run(gather_pages(port, pages)),
    }
    samples = {mode: [] for mode in modes}
    fetched = {}
    for mode, run in modes.items():
        run()  # warm-up, as corun's side
    for _ in range(runs):
        for mode, run in modes.items():
            ms, fetched[mode] = timed(run)
            samples[mode].append(ms)
    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "pages": pages,
                "ms": {mode: statistics.median(s) for mode, s in samples.items()},
                "runs_ms": samples,
                "bytes": fetched,
            }
        )
    )


if __name__ == "__main__":
    main()

"""What the benchmarks share: the data set they run against, timing, and Markdown tables.

Not a benchmark itself (it has no `benchmark` function); bench/run.py imports it after Django is set up.
"""

import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from console.localapi import dispatch

ORIGIN = "http://bench.local"


@dataclass
class Target:
    """The app the benchmarks read, and a token of its owner."""

    user_id: str
    app_id: str
    inputs: int
    secret: str
    runs: int
    http_url: str | None = None  # a real HTTP server over the same database, if one was started

    @property
    def authorization(self) -> str:
        return f"Key {self.secret}"

    def get(self, path: str, query: list[tuple[str, str]]) -> dispatch.Reply:
        """A GET through the local API's dispatcher, in this process (what the HTTP view calls)."""
        return dispatch.handle("GET", path, query, self.authorization, b"", ORIGIN)


@dataclass
class Timing:
    median: float
    p90: float
    runs: int


def measure(call: Callable[[], Any], runs: int, warmup: int = 3) -> Timing:
    """Median and 90th percentile of `runs` calls in seconds, after `warmup` calls that are not counted."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    times.sort()
    return Timing(statistics.median(times), times[min(len(times) - 1, round(0.9 * (len(times) - 1)))], runs)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(headers: list[str], rows: list[list[Any]], right: set[int] | None = None) -> str:
    """A Markdown table; columns in `right` (by index) are right-aligned."""
    right = right or set()
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
            )
            + " |"
        )

    rule = "| " + " | ".join(("-" * (w - 1) + ":") if i in right else "-" * w for i, w in enumerate(widths)) + " |"
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def http_server() -> Iterator[str]:
    """Serve the Django project on a free local port in a thread (wsgiref: one request at a time)."""
    from django.core.wsgi import get_wsgi_application

    # WhiteNoise warns that collectstatic has not run; the benchmarks need no static files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    server: WSGIServer = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=_QuietHandler)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()

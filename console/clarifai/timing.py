"""Time spent waiting on the Clarifai API during one console request, for a Server-Timing header.

The Server-Timing middleware wraps each request in `with recording() as calls:`; every client call then
records its start and end into that list, from whatever thread runs it (`concurrently` copies the
context, so worker threads append to the same list). Outside a request nothing is recorded.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple


class UpstreamCall(NamedTuple):
    rpc: str
    start: float  # time.perf_counter()
    end: float


_calls: ContextVar[list[UpstreamCall] | None] = ContextVar("clarifai_upstream_calls", default=None)


@contextmanager
def recording() -> Iterator[list[UpstreamCall]]:
    """Record upstream calls inside the block only; the list stays readable after it."""
    calls: list[UpstreamCall] = []
    reset = _calls.set(calls)
    try:
        yield calls
    finally:
        _calls.reset(reset)


def current_calls() -> list[UpstreamCall] | None:
    return _calls.get()


def record(rpc: str, start: float, end: float) -> None:
    calls = _calls.get()
    if calls is not None:
        calls.append(UpstreamCall(rpc, start, end))


def upstream_seconds(calls: Iterable[tuple[str, float, float]]) -> float:
    """Wall-clock seconds during which at least one call was in flight (the union of their intervals).

    Calls made at the same time overlap, so summing their durations would overstate the wait.
    """
    total = 0.0
    covered_until = float("-inf")
    for _, start, end in sorted(calls, key=lambda call: call[1]):
        if end <= covered_until:
            continue
        total += end - max(start, covered_until)
        covered_until = end
    return total

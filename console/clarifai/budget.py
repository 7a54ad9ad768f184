"""A time budget for all the Clarifai calls made while serving one console request.

The deadline middleware wraps each request in `with within(seconds):`; every client call then ends by
that moment at the latest, whatever thread runs it (`concurrently` copies the context). So a page that
makes two calls one after the other, or a save that fails and then re-reads, never waits more than the
budget in all. Outside a request (jobs, the shell) there is no budget and each call has its own deadline.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ends_at: ContextVar[float | None] = ContextVar("clarifai_budget_ends_at", default=None)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Calls inside the block end at most `seconds` from now, all together (a nested budget cannot extend it)."""
    ends_at = time.monotonic() + seconds
    outer = _ends_at.get()
    reset = _ends_at.set(ends_at if outer is None else min(outer, ends_at))
    try:
        yield
    finally:
        _ends_at.reset(reset)


def ends_at() -> float | None:
    """The time.monotonic() at which the current budget runs out, or None outside any budget."""
    return _ends_at.get()

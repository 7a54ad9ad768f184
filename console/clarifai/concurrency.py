"""Run independent Clarifai calls at the same time, so a page waits for the slowest, not for the sum;
and keep the calls to one API from taking every thread (`CallSlots`).

The threads come from one pool shared by the process. Each callable runs in a copy of the caller's
context, so the timing list of `console.clarifai.timing` and the request's time budget (ContextVars)
are shared with the caller.
"""

import contextvars
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

MAX_WORKERS = 16


class SlotsTaken(Exception):
    """Every slot is held by a call that has run for longer than a healthy call takes."""


class CallSlots:
    """At most `size` calls in flight at once to one API, per process.

    A call waits for a slot while the calls holding them are young (a busy but healthy API frees slots
    within milliseconds). When every slot is held by a call older than `stuck_after` seconds, the API is
    hanging: waiting would only tie up one more thread, so `taken` raises SlotsTaken at once. One
    hanging API therefore holds at most `size` threads, and the pages of other connections (and the
    health check) keep the rest.
    """

    def __init__(self, size: int, stuck_after: float) -> None:
        if size < 1:
            raise ValueError("A connection needs at least one call slot.")
        self.size = size
        self.stuck_after = stuck_after
        self._started: dict[int, float] = {}
        self._changed = threading.Condition()
        self._keys = itertools.count()

    @contextmanager
    def taken(self, until: float) -> Iterator[None]:
        """Hold a slot for the block; raises SlotsTaken when all are stuck or `until` (monotonic) passes first."""
        with self._changed:
            while len(self._started) >= self.size:
                now = time.monotonic()
                stuck_at = max(self._started.values()) + self.stuck_after
                if now >= stuck_at or now >= until:
                    raise SlotsTaken
                self._changed.wait(min(stuck_at, until) - now)
            key = next(self._keys)
            self._started[key] = time.monotonic()
        try:
            yield
        finally:
            with self._changed:
                del self._started[key]
                self._changed.notify()


_pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="clarifai-call")
_in_pool = threading.local()


def _run_in_pool(func: Callable[[], Any]) -> Any:
    _in_pool.active = True
    try:
        return func()
    finally:
        _in_pool.active = False


def concurrently(*funcs: Callable[[], Any]) -> list[Any]:
    """Call each zero-argument callable at the same time; return their results in the order given.

    Waits for every callable to finish, even when one fails, then raises the exception of the first
    callable (in argument order) that raised; so no call is left running behind a page that already
    answered. Called from inside one of these callables, it runs them one after another instead: a
    nested wait on the same bounded pool could otherwise deadlock.

    Code in the callables that touches the database opens a connection in a pool thread; close it
    there (Django does not close connections of threads it did not start).
    """
    if len(funcs) <= 1 or getattr(_in_pool, "active", False):
        return _one_after_another(funcs)
    futures = [_pool.submit(contextvars.copy_context().run, _run_in_pool, func) for func in funcs]
    wait(futures)
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return [future.result() for future in futures]


def _one_after_another(funcs: tuple[Callable[[], Any], ...]) -> list[Any]:
    results = []
    first_error: BaseException | None = None
    for func in funcs:
        try:
            results.append(func())
        except Exception as e:
            first_error = first_error or e
            results.append(None)
    if first_error is not None:
        raise first_error
    return results

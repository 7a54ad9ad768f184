"""Run independent Clarifai calls at the same time, so a page waits for the slowest, not for the sum.

The threads come from one pool shared by the process. Each callable runs in a copy of the caller's
context, so the timing list of `console.clarifai.timing` (a ContextVar) is shared with the caller.
"""

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

MAX_WORKERS = 16

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

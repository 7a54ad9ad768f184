"""Handlers of the local API: one function per RPC, registered by name with the scope it needs.

A handler takes the caller's Context and the RPC's request message and returns its response message
(the status may be left unset: success). It raises ApiError to answer with a failure status.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from console.localapi.context import Context

# Each handler takes its own RPC's request message; the dispatcher builds that from the route.
type HandlerFunc = Callable[[Context, Any], Message]


@dataclass(frozen=True)
class Handler:
    func: HandlerFunc
    scope: str | None  # None: any valid token may call it


HANDLERS: dict[str, Handler] = {}


def rpc[F: HandlerFunc](name: str, scope: str | None = None) -> Callable[[F], F]:
    """Register the decorated function as the handler of `name`; it keeps its own signature."""

    def register(func: F) -> F:
        if name in HANDLERS:
            raise RuntimeError(f"two handlers for {name}")
        HANDLERS[name] = Handler(func, scope)
        return func

    return register


def load_all() -> None:
    """Import every handler module so that it registers itself."""
    from console.localapi.handlers import (  # noqa: F401
        annotations,
        apps,
        bulk,
        collaborators,
        concepts,
        dataset_versions,
        datasets,
        inputs,
        inputs_uploads,
        keys,
        searches,
        tasks,
        users,
    )

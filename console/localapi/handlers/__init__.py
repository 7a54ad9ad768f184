"""Handlers of the local API: one function per RPC, registered by name with the scope it needs.

A handler takes the caller's Context and the RPC's request message and returns its response message
(the status may be left unset: success). It raises ApiError to answer with a failure status.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from console.localapi.context import Context


@dataclass(frozen=True)
class Handler:
    func: Callable[[Context, Any], Message]
    scope: str | None  # None: any valid token may call it


HANDLERS: dict[str, Handler] = {}


def rpc(
    name: str, scope: str | None = None
) -> Callable[[Callable[[Context, Any], Message]], Callable[[Context, Any], Message]]:
    def register(func: Callable[[Context, Any], Message]) -> Callable[[Context, Any], Message]:
        if name in HANDLERS:
            raise RuntimeError(f"two handlers for {name}")
        HANDLERS[name] = Handler(func, scope)
        return func

    return register


def load_all() -> None:
    """Import every handler module so that it registers itself."""
    from console.localapi.handlers import apps, bulk, concepts, datasets, inputs, searches, users  # noqa: F401

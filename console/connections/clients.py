"""One long-lived Clarifai client per connection, kept for the life of the process.

Every call of a job takes a turn of its token's request-rate limit (console.clarifai.ratelimit), shared
by every process, and waits for it. With the shared Redis cache (CACHE_URL), a page's calls take their
turns too, at once (a person does not wait behind a job; the jobs' later turns make room). Without it
the bucket is a database table, where each turn is a write: a page's calls, several at once from its
threads, would queue behind every other writer of a SQLite file, so there only jobs count.

The built-in connection reaches the local API through the in-process transport named by
CONSOLE_BUILTIN_TRANSPORT, so a server with one worker thread never waits on itself.
"""

import threading
from collections.abc import Callable
from datetime import datetime

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.conf import settings
from django.utils.module_loading import import_string

from console.audit import recorder
from console.clarifai import ClarifaiClient, ratelimit
from console.clarifai.client import STUCK_AFTER
from console.connections.models import BUILTIN_BASE_URL, Connection

_clients: dict[tuple[int, bool], tuple[datetime, ClarifaiClient]] = {}
_lock = threading.Lock()


def ids(connection: Connection, app_id: str) -> resources_pb2.UserAppIDSet:
    """The user and app an API call of this connection is about."""
    return resources_pb2.UserAppIDSet(user_id=connection.user_id, app_id=app_id)


def client_for(connection: Connection, *, waits: bool = False) -> ClarifaiClient:
    """The client of this connection, made anew when the connection was changed since; with `waits` (a
    job's), each call waits for its turn under the rate limit, else it takes its turn and goes at once."""
    with _lock:
        cached = _clients.get((connection.pk, waits))
        if cached is not None and cached[0] == connection.updated_at:
            return cached[1]
        # A replaced client is left to the garbage collector: another thread may still be using it.
        token = connection.token()
        client = make_client(
            connection.base_url,
            token,
            connection.user_id,
            builtin=connection.builtin,
            audit=connection.pk,
            before_call=_turns(token, connection.requests_per_second, waits),
        )
        _clients[(connection.pk, waits)] = (connection.updated_at, client)
        return client


def _turns(token: str, rate: float, waits: bool) -> Callable[[], object] | None:
    """What takes a call's turn under the token's rate limit (None: no limit)."""
    if not rate or not (waits or settings.CONSOLE_RATE_LIMIT_CACHE == "shared"):
        return None
    key = ratelimit.key_for(token)
    return lambda: ratelimit.acquire(key, rate, wait=waits)


def make_client(
    base_url: str,
    token: str,
    user_id: str,
    *,
    builtin: bool = False,
    audit: int | None = None,
    before_call: Callable[[], object] | None = None,
) -> ClarifaiClient:
    """A client whose writes go to the audit trail, as made on connection `audit` (None: the connection
    the console request or job is about), by whoever acts now (console.audit.context)."""
    deadline = settings.CONSOLE_CLARIFAI_DEADLINE
    # A call counts as stuck well before the deadline ends it, so a hanging API is noticed early.
    stuck_after = min(STUCK_AFTER, deadline / 3)
    on_call = recorder.hook(audit, recorder.Secrets([token]))
    if builtin:
        transport = import_string(settings.CONSOLE_BUILTIN_TRANSPORT)()
        return ClarifaiClient(
            BUILTIN_BASE_URL,
            token,
            user_id,
            transport=transport,
            deadline=deadline,
            stuck_after=stuck_after,
            on_call=on_call,
            before_call=before_call,
        )
    return ClarifaiClient(
        base_url,
        token,
        user_id,
        deadline=deadline,
        stuck_after=stuck_after,
        on_call=on_call,
        before_call=before_call,
    )


def probe(base_url: str, token: str, user_id: str, *, builtin: bool = False) -> None:
    """Check that the API answers and accepts the token for this user; raises ClarifaiError if not."""
    with make_client(base_url, token, user_id, builtin=builtin) as client:
        client.call("ListApps", service_pb2.ListAppsRequest(per_page=1), deadline=15)

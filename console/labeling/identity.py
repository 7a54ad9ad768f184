"""Acting as a member on a connection: the client that labels and reviews with the member's own token.

Calls are still about the connection's account (`connection.user_id` owns the apps and tasks); only the
token, and so the user the API records as labeler or reviewer, is the member's. One long-lived client per
member, made anew when their token or the connection changes, as console.connections.clients does for
connections.
"""

import threading
from datetime import datetime

from django.contrib.auth.models import User

from console.clarifai import ClarifaiClient
from console.connections.clients import make_client
from console.connections.models import Connection
from console.labeling.models import ConnectionMember

_clients: dict[int, tuple[tuple[datetime, datetime], ClarifaiClient]] = {}
_lock = threading.Lock()


def member_of(user: User, connection: Connection) -> ConnectionMember | None:
    """The console user's own identity on this connection, if they attached one."""
    return ConnectionMember.objects.select_related("connection").filter(user=user, connection=connection).first()


def client_as(member: ConnectionMember) -> ClarifaiClient:
    """A client of the member's connection that calls with the member's token."""
    connection = member.connection
    version = (member.updated_at, connection.updated_at)
    with _lock:
        cached = _clients.get(member.pk)
        if cached is not None and cached[0] == version:
            return cached[1]
        client = make_client(
            connection.base_url, member.token(), connection.user_id, builtin=connection.builtin, audit=connection.pk
        )
        _clients[member.pk] = (version, client)
        return client

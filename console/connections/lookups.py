"""Finding the connection a console URL names."""

from django.http import Http404

from console.connections.models import Connection
from console.teams.policy import READ, AnyUser, may


def get_connection(conn_id: int, user: AnyUser | None = None) -> Connection:
    """The connection; Http404 when there is none, or when `user` is given and is not of its team (the
    policy middleware has refused them already; this keeps a view that looks one up itself as safe)."""
    connection = Connection.objects.select_related("team").filter(pk=conn_id).first()
    if connection is None or (user is not None and not may(user, READ, connection)):
        raise Http404("There is no such connection.")
    return connection

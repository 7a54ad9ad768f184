"""Finding the connection a console URL names."""

from django.http import Http404

from console.connections.models import Connection


def get_connection(conn_id: int) -> Connection:
    connection = Connection.objects.filter(pk=conn_id).first()
    if connection is None:
        raise Http404("There is no such connection.")
    return connection

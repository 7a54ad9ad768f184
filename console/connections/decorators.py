"""The decorator every page over the Clarifai API uses: find the connection (of the person's team), show API
failures in place. What the person may do there is checked before, by console.teams.policy.PolicyMiddleware."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from console.clarifai import ClarifaiError
from console.connections.crypto import TokenUnreadable
from console.connections.lookups import get_connection
from console.connections.models import Connection
from console.core.rendering import upstream_error
from console.teams.policy import checked_target, was_allowed


def connection_page(what: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Turn the URL's `conn_id` into a Connection argument; a ClarifaiError becomes an error shown
    in place, saying that `what` failed (e.g. "Loading the inputs")."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, conn_id: int, **kwargs: Any) -> HttpResponseBase:
            # The policy middleware has looked it up and checked the person's role on it (console.teams.policy);
            # without that check (a URL conf served without the middleware) nothing is shown.
            if not was_allowed(request):
                raise PermissionDenied("This page was not checked against the roles.")
            connection = checked_target(request)
            if not isinstance(connection, Connection) or connection.pk != conn_id:
                connection = get_connection(conn_id, request.user)
            try:
                return view(request, connection, **kwargs)
            except ClarifaiError as e:
                return upstream_error(request, e, what, {"connection": connection, **kwargs})
            except TokenUnreadable as e:
                return upstream_error(request, ClarifaiError(str(e)), what, {"connection": connection, **kwargs})

        return wrapped

    return decorate

"""The decorator every page over the Clarifai API uses: find the connection, show API failures in place."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from console.clarifai import ClarifaiError
from console.connections.crypto import TokenUnreadable
from console.connections.lookups import get_connection
from console.core.rendering import upstream_error


def connection_page(what: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Turn the URL's `conn_id` into a Connection argument; a ClarifaiError becomes an error shown
    in place, saying that `what` failed (e.g. "Loading the inputs")."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, conn_id: int, **kwargs: Any) -> HttpResponseBase:
            connection = get_connection(conn_id)
            try:
                return view(request, connection, **kwargs)
            except ClarifaiError as e:
                return upstream_error(request, e, what, {"connection": connection, **kwargs})
            except TokenUnreadable as e:
                return upstream_error(request, ClarifaiError(str(e)), what, {"connection": connection, **kwargs})

        return wrapped

    return decorate

"""An httpx transport that hands requests to the local API in the same process.

The console reaches the built-in local API through this instead of a socket, so a server with a single
worker never waits on itself. Requests still go through the same dispatcher as HTTP ones.
"""

import httpx
from django.conf import settings
from django.db import connections

from console.localapi import dispatch


class LocalAPITransport(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        prefix = request.headers.get("X-Clarifai-Request-ID-Prefix", "")[:64]
        try:
            if len(body) > settings.LOCALAPI_MAX_REQUEST_BYTES:  # the same limit as over HTTP
                reply = dispatch.too_large(settings.LOCALAPI_MAX_REQUEST_BYTES, prefix)
            else:
                reply = dispatch.handle(
                    verb=request.method,
                    path=request.url.path,
                    query=list(request.url.params.multi_items()),
                    authorization=request.headers.get("Authorization"),
                    body=body,
                    origin=f"{request.url.scheme}://{request.url.netloc.decode()}",
                    request_id_prefix=prefix,
                )
        finally:
            # What Django does at the end of a request, for calls made from threads no request runs in
            # (the console's pool for concurrent calls): close the connection when CONN_MAX_AGE says so.
            connection = connections["default"]
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
        headers = {"Content-Type": reply.content_type, **reply.headers}
        return httpx.Response(reply.status, headers=headers, content=reply.body, request=request)

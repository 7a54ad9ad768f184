"""An httpx transport that hands requests to the local API in the same process.

The console reaches the built-in local API through this instead of a socket, so a server with a single
worker never waits on itself. Requests still go through the same dispatcher as HTTP ones.
"""

import httpx
from django.db import connections

from console.localapi import dispatch


class LocalAPITransport(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        connection = connections["default"]
        was_open = connection.connection is not None
        try:
            reply = dispatch.handle(
                verb=request.method,
                path=request.url.path,
                query=list(request.url.params.multi_items()),
                authorization=request.headers.get("Authorization"),
                body=body,
                origin=f"{request.url.scheme}://{request.url.netloc.decode()}",
                request_id_prefix=request.headers.get("X-Clarifai-Request-ID-Prefix", ""),
            )
        finally:
            # A thread of the caller's pool opened a connection only for this call: close it, or every
            # such thread would keep one open. The caller's own connection is left as it was.
            if not was_open and not connection.in_atomic_block:
                connection.close()
        headers = {"Content-Type": reply.content_type, **reply.headers}
        return httpx.Response(reply.status, headers=headers, content=reply.body, request=request)

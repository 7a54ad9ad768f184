"""Server-Timing: how long a request took, and how much of that was spent waiting on the Clarifai API."""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from console.clarifai import timing


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        with timing.recording() as calls:
            response = self.get_response(request)
        total = (time.perf_counter() - start) * 1000
        upstream = timing.upstream_seconds(calls) * 1000
        response["Server-Timing"] = (
            f'total;dur={total:.2f}, upstream;dur={upstream:.2f};desc="{len(calls)} calls", '
            f"app;dur={total - upstream:.2f}"
        )
        return response

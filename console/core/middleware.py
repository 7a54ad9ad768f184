"""Server-Timing: how long a request took, and how much of that was spent waiting on the Clarifai API;
and the one time budget that all of a request's Clarifai calls share."""

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from console.clarifai import budget, timing


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


class UpstreamDeadlineMiddleware:
    """All the Clarifai calls of one request end within CONSOLE_CLARIFAI_DEADLINE in all, not each.

    A page that makes calls one after the other (a failed save, then the re-read to show the form
    again) then waits at most the deadline, and a thread of the web server is never held longer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with budget.within(settings.CONSOLE_CLARIFAI_DEADLINE):
            return self.get_response(request)

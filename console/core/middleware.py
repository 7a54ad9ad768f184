"""Middleware of the console's own: Server-Timing and the one time budget all of a request's Clarifai calls
share, no caching of signed-in pages, a sign-in that leaves HTMX as a full page, and a styled page for a
method a view does not allow, and compression of text answers."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from console.clarifai import budget, timing
from console.core.views import not_allowed

Handler = Callable[[HttpRequest], HttpResponse]


class ServerTimingMiddleware:
    def __init__(self, get_response: Handler) -> None:
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


class CompressedTextMiddleware(GZipMiddleware):
    """Django's gzip (with its BREACH mitigation: random bytes in each answer's gzip header) for text:
    pages, partials, JSON, scripts. Pictures are compressed already; gzip would only cost time."""

    COMPRESSED_TYPES = ("text/", "application/json", "application/javascript", "image/svg+xml")

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith(self.COMPRESSED_TYPES):
            return response
        return super().process_response(request, response)


class PrivatePagesMiddleware:
    """A signed-in person's pages stay out of every cache, the browser's included (ASVS 8.2.1), unless the
    view said otherwise (pictures, which never change at their address)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


class HtmxSignInMiddleware:
    """An HTMX request without a session would follow the redirect to the sign-in page and swap that page
    into the one on screen; the browser goes to the sign-in page instead, as a full page, and comes back
    to the page it was on (HX-Current-URL, only when it is one of ours)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if not htmx or request.user.is_authenticated or response.status_code not in (301, 302):
            return response
        login_url = resolve_url(settings.LOGIN_URL)
        if response["Location"].split("?")[0] != login_url:
            return response
        back = htmx.current_url_abs_path or request.get_full_path()
        lost = " What was being saved was not: send it again once back." if request.method == "POST" else ""
        messages.info(request, f"Your session has ended. Sign in again to go on where you were.{lost}")
        return HttpResponseClientRedirect(redirect_to_login(back, login_url)["Location"])


class StyledNotAllowedMiddleware:
    """`require_http_methods` answers 405 with an empty body: the console's page says it in its layout.
    (The local API answers with its own JSON statuses and is left alone.)"""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not response.content:
            styled = not_allowed(request, response["Allow"])
            styled["Allow"] = response["Allow"]
            return styled
        return response


class UpstreamDeadlineMiddleware:
    """All the Clarifai calls of one request end within CONSOLE_CLARIFAI_DEADLINE in all, not each.

    A page that makes calls one after the other (a failed save, then the re-read to show the form
    again) then waits at most the deadline, and a thread of the web server is never held longer.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with budget.within(settings.CONSOLE_CLARIFAI_DEADLINE):
            return self.get_response(request)

"""Pages that belong to no one area: the home page, the health check, and the console's own pages for
what went wrong (403, 404, 405, 500 and a failed CSRF check), in its layout, saying where to go."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET
from django_htmx.http import retarget

from console.audit.recorder import record_refused
from console.teams.policy import visible_connections


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Straight to the apps of the first connection of the person's teams (the built-in one sorts first)."""
    first = visible_connections(request.user).first()
    if first is None:
        return render(request, "core/home.html")
    return redirect("apps:list", first.pk)


@require_GET
@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """The database answers. Never calls a Clarifai API, so a hanging one cannot make it wait; and since
    each connection holds at most a few web threads (console.clarifai.client.MAX_CALLS), it finds one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def problem(request: HttpRequest, status: int, title: str, message: str, *, reload_url: str = "") -> HttpResponse:
    """The page for something that went wrong. Inside HTMX it is a notice at the top of the page, so that
    what is on screen (a form being edited) stays as it is."""
    context = {"status": status, "title": title, "message": message, "reload_url": reload_url}
    if getattr(request, "htmx", False):
        response = render(request, "core/problem.html#problem", {**context, "in_place": True}, status=status)
        response = retarget(response, "#alerts")
        response["HX-Reswap"] = "innerHTML show:window:top"  # reswap() takes no modifiers
        return response
    return render(request, "core/problem.html", context, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if isinstance(exception, PermissionDenied) and str(exception) else ""
    record_refused(request, reason)
    return problem(request, 403, "Not allowed", reason or "Your account may not open this page.")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Django's own Http404 messages name URL patterns and models: they are not for people.
    del exception
    return problem(request, 404, "Page not found", "There is no page at this address; it may have been moved.")


def not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    return problem(
        request,
        405,
        "Not something this page does",
        f"This address does not answer a {request.method} request (it answers {allowed}). "
        "A form may have been sent twice or from an old page.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request's context: whatever broke (the database?) must not break this too."""
    context = {
        "status": 500,
        "title": "Something went wrong",
        "message": "The console failed to answer this request. It has been logged; try again in a moment.",
    }
    return HttpResponseServerError(render_to_string("core/problem.html", context))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    del reason  # Django's reasons are for developers; the advice is the same whatever it was
    return problem(
        request,
        403,
        "This page is out of date",
        "The form was sent from a page that is too old (the security token it carries has expired, "
        "for example after signing in again in another tab). Nothing was changed. "
        "Copy what you typed if you need it, reload the page, and send it again.",
        reload_url=_page_on_screen(request),
    )


def _page_on_screen(request: HttpRequest) -> str:
    """The page the person was on (HTMX says; else the Referer), when it is one of ours; else home."""
    htmx = getattr(request, "htmx", None)
    url = (htmx.current_url_abs_path if htmx else None) or request.headers.get("Referer", "")
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return url
    return reverse("home")

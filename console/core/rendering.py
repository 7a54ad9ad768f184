"""Rendering pages and their HTMX partials, and showing upstream errors in place.

One template per page; an HTMX request gets only the named `{% partialdef %}` of it, every other
request (a link opened directly, a history restore) the full page.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import SafeString
from django_htmx.http import reswap

from console.clarifai import ClarifaiError, ClarifaiStatusError, ClarifaiTimeout

NOT_FOUND_CODES = {11101, 30102, 54102}  # a thing, an input, a task that does not exist


def wants_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, partial: str | None = None, status: int = 200
) -> HttpResponse:
    name = f"{template}#{partial}" if partial and wants_partial(request) else template
    response = render(request, name, context, status=status)
    # The same URL answers a page or a partial: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-History-Restore-Request"))
    return response


def http_status_for(error: ClarifaiError) -> int:
    """The console's answer to a failed API call: not found, a gateway timeout, or a bad gateway."""
    if isinstance(error, ClarifaiStatusError) and error.code in NOT_FOUND_CODES:
        return 404
    return 504 if isinstance(error, ClarifaiTimeout) else 502


def upstream_error(request: HttpRequest, error: ClarifaiError, what: str, context: dict[str, Any]) -> HttpResponse:
    """What failed, the Clarifai status, and a way to try again; never a stack trace."""
    status = http_status_for(error)
    context = {
        **context,
        "what": what,
        "error": error,
        # Trying again will not bring back what does not exist: the way back to its list instead.
        "retry_url": request.get_full_path() if request.method == "GET" and status != 404 else "",
        "list_link": _list_link(context) if status == 404 else None,
        "in_place": wants_partial(request),
    }
    response = render_page(request, "core/error.html", context, partial="error", status=status)
    # An error is never kept: by the browser (a picture that failed once must load next time) nor by a cache.
    patch_cache_control(response, no_store=True)
    if wants_partial(request):
        # Inside whatever the request was going to replace, so that trying again still has its target.
        reswap(response, "innerHTML")
    return response


def _list_link(context: dict[str, Any]) -> tuple[str, str] | None:
    """(label, url) of the list that held what was not found: the app's inputs, or the apps."""
    connection = context.get("connection")
    if connection is None:
        return None
    if context.get("input_id") and context.get("app_id"):
        return "Back to the inputs", reverse("inputs:grid", args=[connection.pk, context["app_id"]])
    if context.get("task_id") and context.get("app_id"):
        return "Back to the app", reverse("apps:overview", args=[connection.pk, context["app_id"]])
    return "Back to the apps", reverse("apps:list", args=[connection.pk])


def write_failed(
    error: ClarifaiError, check_url: str, check_label: str, *, refused: str = "Nothing was saved: "
) -> SafeString:
    """What to tell the person whose change (a save, a create) failed, as safe HTML for a form error.

    When the API answered with a failure, nothing was applied: `refused` and the reason. When the
    outcome is unknown (no answer in time, the connection broke after sending, a garbled answer), the
    change may have been applied: say so, and link to `check_url`, where the object as the API has it now
    can be seen (opened beside the form, so what was typed stays).
    """
    context = {"error": error, "refused": refused, "check_url": check_url, "check_label": check_label}
    return SafeString(render_to_string("core/error.html#write-failed", context).strip())

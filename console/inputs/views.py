"""The inputs of an app: the grid, one input's detail, editing and deleting it, and its pictures."""

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from console.apps.views import ids
from console.clarifai import ClarifaiError, concurrently
from console.concepts.catalog import Catalog
from console.connections.clients import client_for
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.paging import Page, int_param, page_params
from console.core.rendering import http_status_for, render_page, wants_partial, write_failed
from console.inputs.display import FAILED, IN_PROGRESS, PENDING, PROCESSED, Urls, media_signer, poll_url, present
from console.inputs.forms import InputEditForm, initial_rows

logger = logging.getLogger(__name__)
PER_PAGE_CHOICES = (32, 64, 128, 256)
DEFAULT_PER_PAGE = 128
FILTERS = {"all": None, "processed": PROCESSED, "pending": PENDING, "processing": IN_PROGRESS, "failed": FAILED}


@dataclass(frozen=True)
class StatusFilter:
    key: str
    label: str
    count: int
    href: str
    current: bool


def status_filters(grid: QueryDict, counts: resources_pb2.InputCount) -> list[StatusFilter]:
    """The status filters of a grid page (its query `grid`), with how many inputs each has."""
    current = grid.get("status", "all") if grid.get("status") in FILTERS else "all"
    filters = []
    for key, code in FILTERS.items():
        query = grid.copy()
        query.pop("page", None)
        query["status"] = key
        href = "?" + urlencode([(k, v) for k, v in query.items() if k in GRID_PARAMS])
        filters.append(StatusFilter(key, key.title(), _filter_total(counts, code), href, key == current))
    return filters


GRID_PARAMS = ("page", "per_page", "status")
MAX_POLLED = 256  # the largest page of inputs
POLL_FOR_SECONDS = 600  # how long a page keeps asking about inputs still being processed


def _filter_total(counts: resources_pb2.InputCount, code: int | None) -> int:
    by_code: dict[int, int]
    by_code = {
        PROCESSED: counts.processed,
        PENDING: counts.to_process,
        IN_PROGRESS: counts.processing,
        FAILED: counts.errors,
    }
    return by_code[code] if code else sum(by_code.values())


def grid_query(query: str) -> str:
    """Only the grid's own parameters of a query string: where to come back to from an input."""
    return urlencode([(k, v) for k, v in QueryDict(query).items() if k in GRID_PARAMS])


def _grid_url(connection: Connection, app_id: str, back: str) -> str:
    url = reverse("inputs:grid", args=[connection.pk, app_id])
    return f"{url}?{back}" if back else url


@require_GET
@connection_page("Loading the inputs")
def input_grid(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    number, per_page = page_params(request, DEFAULT_PER_PAGE, PER_PAGE_CHOICES)
    status_key = request.GET.get("status", "all")
    if status_key not in FILTERS:
        status_key = "all"
    code = FILTERS[status_key]
    client, app_ids = client_for(connection), ids(connection, app_id)
    listing = service_pb2.ListInputsRequest(user_app_id=app_ids, page=number, per_page=per_page)
    if code:
        listing.status.code = code
    inputs, counts = concurrently(
        lambda: client.call("ListInputs", listing).inputs,
        lambda: client.call("GetInputCount", service_pb2.GetInputCountRequest(user_app_id=app_ids)).counts,
    )
    back = grid_query(request.GET.urlencode())
    urls = Urls.of(connection, app_id, back)
    views = [present(connection, item, urls) for item in inputs]
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "inputs",
        "inputs": views,
        "poll_url": poll_url(connection, app_id, views, back, with_counts=True),
        "page": Page(number, per_page, len(inputs), _filter_total(counts, code)),
        "counts": counts,
        "status_key": status_key,
        "status_filters": status_filters(QueryDict(back), counts),
        "per_page_choices": PER_PAGE_CHOICES,
    }
    return render_page(request, "inputs/grid.html", context, partial="grid")


@require_GET
@connection_page("Checking the inputs being processed")
def input_poll(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """One poll for every tile of a page still being processed: the tiles that have finished come back
    out of band, and the poller comes back only while some are still waiting (else the polling stops)."""
    if not wants_partial(request):
        return redirect(reverse("inputs:grid", args=[connection.pk, app_id]))
    wanted = request.GET.getlist("ids")[:MAX_POLLED]
    back = grid_query(request.GET.get("back", ""))
    now = int(time.time())
    since = int_param(request, "since", now, 0, now)
    if now - since > POLL_FOR_SECONDS:
        # An input can stay in processing for ever (a worker that never comes back): stop asking, say so,
        # and let the person ask again (from now: a new span of polling).
        context = {
            "connection": connection,
            "check_again_url": _poll_again(request, now),
            "minutes": POLL_FOR_SECONDS // 60,
        }
        return render_page(request, "inputs/grid.html", context, partial="poll-stopped")
    client, app_ids = client_for(connection), ids(connection, app_id)
    with_counts = request.GET.get("counts") == "1"
    listing = service_pb2.ListInputsRequest(user_app_id=app_ids, ids=wanted, per_page=max(len(wanted), 1))
    found, counts = concurrently(
        lambda: client.call("ListInputs", listing).inputs if wanted else [],
        lambda: (
            client.call("GetInputCount", service_pb2.GetInputCountRequest(user_app_id=app_ids)).counts
            if with_counts
            else None
        ),
    )
    urls = Urls.of(connection, app_id, back)
    views = [present(connection, item, urls) for item in found]
    context = {
        "connection": connection,
        "finished": [view for view in views if not view.waiting],
        "poll_url": poll_url(connection, app_id, views, back, with_counts=with_counts, since=since),
        # The filters' counts change as inputs finish: they come back out of band too.
        "status_filters": status_filters(QueryDict(back), counts) if counts is not None else None,
    }
    return render_page(request, "inputs/grid.html", context, partial="poll")


def _poll_again(request: HttpRequest, now: int) -> str:
    query = request.GET.copy()
    query["since"] = str(now)
    return f"{request.path}?{query.urlencode()}"


def _detail(
    request: HttpRequest,
    connection: Connection,
    app_id: str,
    item: resources_pb2.Input,
    form: InputEditForm | None = None,
    status: int = 200,
    choices: list[resources_pb2.Concept] | None = None,
) -> HttpResponse:
    back = grid_query(request.GET.get("back", ""))
    view = present(connection, item, Urls.of(connection, app_id, back), full=True)
    if form is None:
        form = InputEditForm(initial={"metadata": view.metadata_json}, rows=initial_rows(view.concepts))
    else:
        form.name_rows({c.id: c.name for c in view.concepts})
    if choices is None:
        choices = _offered(connection, app_id)
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "inputs",
        "input": view,
        "form": form,
        "concept_choices": choices,
        "grid_url": _grid_url(connection, app_id, back),
        "back": back,
    }
    return render_page(request, "inputs/detail.html", context, partial="detail", status=status)


def _get_input(connection: Connection, app_id: str, input_id: str) -> resources_pb2.Input:
    request = service_pb2.GetInputRequest(user_app_id=ids(connection, app_id), input_id=input_id)
    response: service_pb2.SingleInputResponse = client_for(connection).call("GetInput", request)
    return response.input


@require_GET
@connection_page("Loading the input")
def input_detail(request: HttpRequest, connection: Connection, app_id: str, input_id: str) -> HttpResponse:
    item, choices = concurrently(lambda: _get_input(connection, app_id, input_id), lambda: _offered(connection, app_id))
    return _detail(request, connection, app_id, item, choices=choices)


def _catalog(connection: Connection, app_id: str) -> Catalog:
    return Catalog(client_for(connection), ids(connection, app_id))


def _offered(connection: Connection, app_id: str) -> list[resources_pb2.Concept]:
    """The concepts the add field offers; without them (the call failed) it still takes a name or an id."""
    try:
        return _catalog(connection, app_id).choices()
    except ClarifaiError as e:
        logger.warning("Concepts to offer could not be listed: %s", e)
        return []


@require_POST
@connection_page("Saving the input")
def input_edit(request: HttpRequest, connection: Connection, app_id: str, input_id: str) -> HttpResponse:
    form = InputEditForm.posted(request.POST, _catalog(connection, app_id))
    status = 400
    if form.is_valid():
        patch = resources_pb2.Input(id=input_id)
        for concept_id, value in form.cleaned_data["concepts"].items():
            patch.data.concepts.append(resources_pb2.Concept(id=concept_id, value=value))
        patch.data.metadata.SetInParent()  # sent even when empty: overwrite clears it then
        patch.data.metadata.update(form.cleaned_data["metadata"])
        request_ = service_pb2.PatchInputsRequest(
            user_app_id=ids(connection, app_id), inputs=[patch], action="overwrite"
        )
        try:
            response = client_for(connection).call("PatchInputs", request_)
        except ClarifaiError as e:
            check_url = reverse("inputs:detail", args=[connection.pk, app_id, input_id])
            if wants_partial(request):
                # The form stays as it is in the page, with what was typed; only its error slot changes.
                return _save_failed(request, e, check_url)
            form.add_error(None, write_failed(e, check_url, "Check the input as the API has it now"))
            try:
                current = _get_input(connection, app_id, input_id)
            except ClarifaiError:
                # No time or no answer left to show the input as it is: the form with what was typed still shows.
                current = resources_pb2.Input(id=input_id)
            return _detail(request, connection, app_id, current, form, status=http_status_for(e))
        else:
            messages.success(request, f"Saved. {form.created}".strip())
            return _detail(request, connection, app_id, response.inputs[0])
    return _detail(request, connection, app_id, _get_input(connection, app_id, input_id), form, status=status)


def _save_failed(request: HttpRequest, error: ClarifaiError, check_url: str) -> HttpResponse:
    context = {"save_error": write_failed(error, check_url, "Check the input as the API has it now")}
    response = render(request, "inputs/detail.html#save-error", context, status=http_status_for(error))
    return reswap(retarget(response, "#edit-errors"), "innerHTML")


@require_http_methods(["GET", "POST"])
@connection_page("Deleting the input")
def input_delete(request: HttpRequest, connection: Connection, app_id: str, input_id: str) -> HttpResponse:
    item = _get_input(connection, app_id, input_id)
    if request.method == "POST":
        client_for(connection).call(
            "DeleteInput", service_pb2.DeleteInputRequest(user_app_id=ids(connection, app_id), input_id=input_id)
        )
        messages.success(request, f"Input {input_id} deleted.")
        return redirect(_grid_url(connection, app_id, grid_query(request.POST.get("back", ""))))
    back = grid_query(request.GET.get("back", ""))
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "inputs",
        "input": present(connection, item, Urls.of(connection, app_id, back)),
        "back": back,
    }
    return render_page(request, "inputs/delete.html", context)


@require_GET
@connection_page("Loading the picture")
def media(request: HttpRequest, connection: Connection) -> HttpResponse:
    """A hosted picture, fetched with the connection's token (which never reaches the browser)."""
    try:
        url = media_signer(connection).unsign(request.GET.get("u", ""))
    except signing.BadSignature:
        return HttpResponseBadRequest("This picture address is not one the console made.")
    key = f"media:{connection.pk}:{connection.updated_at.timestamp()}:{url}"
    cached = cache.get(key)
    if cached is None:
        # Only a complete picture comes back (its type read from its bytes, never SVG, which can carry
        # script); anything else raises, and the decorator answers an error marked no-store: nothing is kept.
        fetched = client_for(connection).get_bytes(url, settings.CONSOLE_MEDIA_MAX_BYTES)
        cached = (fetched.content, fetched.content_type)
        if len(fetched.content) <= settings.CONSOLE_MEDIA_CACHE_ITEM_BYTES:
            cache.set(key, cached, settings.CONSOLE_MEDIA_CACHE_SECONDS)
    content, content_type = cached
    response = HttpResponse(content, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Hosted pictures never change at a given address; the browser may keep them, shared caches may not.
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response

"""The inputs of an app: the grid, one input's detail, editing and deleting it, and its pictures."""

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from console.audit import context as audit
from console.audit.queries import history
from console.clarifai import ClarifaiError, concurrently
from console.concepts.catalog import Catalog
from console.connections.clients import client_for, ids
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.paging import Page, int_param, page_params
from console.core.permissions import signed_in_or_401
from console.core.rendering import http_status_for, render_page, wants_partial, write_failed
from console.datasets.links import versions_url
from console.datasets.services import create_dataset
from console.inputs.display import FAILED, IN_PROGRESS, PENDING, PROCESSED, Urls, media_signer, poll_url, present
from console.inputs.filters import GRID_PARAMS, STATUSES, GridFilters, find_page, grid_query
from console.inputs.forms import InputEditForm, initial_rows
from console.inputs.selection import BULK_KINDS, BulkError, Snapshot, bulk_action
from console.jobs.models import Job
from console.jobs.services import start_job

logger = logging.getLogger(__name__)
PER_PAGE_CHOICES = (32, 64, 128, 256)
DEFAULT_PER_PAGE = 128
FILTERS = STATUSES


@dataclass(frozen=True)
class StatusFilter:
    key: str
    label: str
    count: int
    href: str
    current: bool


def status_filters(grid: QueryDict, counts: resources_pb2.InputCount) -> list[StatusFilter]:
    """The status filters of a grid page (its query `grid`, whose other filters they keep), with how many
    inputs of the whole app each has."""
    current = grid.get("status", "all") if grid.get("status") in FILTERS else "all"
    filters = []
    for key, code in FILTERS.items():
        query = grid.copy()
        query.pop("page", None)
        query["status"] = key
        href = "?" + urlencode([(k, v) for k, v in query.items() if k in GRID_PARAMS])
        filters.append(StatusFilter(key, key.title(), _filter_total(counts, code), href, key == current))
    return filters


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


def _grid_url(connection: Connection, app_id: str, back: str) -> str:
    url = reverse("inputs:grid", args=[connection.pk, app_id])
    return f"{url}?{back}" if back else url


def _datasets(connection: Connection, app_id: str) -> list[str]:
    """The app's dataset ids the filter offers; none when the call fails (a dataset id still works)."""
    try:
        request = service_pb2.ListDatasetsRequest(user_app_id=ids(connection, app_id), per_page=200)
        response: service_pb2.MultiDatasetResponse = client_for(connection).call("ListDatasets", request)
    except ClarifaiError as e:
        logger.warning("Datasets to offer could not be listed: %s", e)
        return []
    return [d.id for d in response.datasets]


@require_GET
@connection_page("Loading the inputs")
def input_grid(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    number, per_page = page_params(request, DEFAULT_PER_PAGE, PER_PAGE_CHOICES)
    filters = GridFilters.of(request.GET)
    client, app_ids = client_for(connection), ids(connection, app_id)
    found, counts = concurrently(
        lambda: find_page(client, app_ids, filters, number, per_page),
        lambda: client.call("GetInputCount", service_pb2.GetInputCountRequest(user_app_id=app_ids)).counts,
    )
    inputs = found.inputs
    back = grid_query(request.GET.urlencode())
    urls = Urls.of(connection, app_id, back)
    views = [present(connection, item, urls) for item in inputs]
    # A search has no total on the real API: only a list (all, or one status) knows how many there are.
    total = None if filters.searching else _filter_total(counts, filters.status_code)
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "inputs",
        "inputs": views,
        "poll_url": poll_url(connection, app_id, views, back, with_counts=True),
        "page": Page(number, per_page, len(inputs), total),
        "counts": counts,
        "status_key": filters.status,
        "status_filters": status_filters(QueryDict(back), counts),
        "per_page_choices": PER_PAGE_CHOICES,
        "filters": filters,
        "filter_message": found.message,
        "dataset_url": versions_url(connection, app_id, filters.dataset) if not found.message else "",
        "back": back,
        "bulk_kinds": BULK_KINDS,
    }
    return render_page(request, "inputs/grid.html", context, partial="grid")


@require_GET
@connection_page("Loading the concepts and datasets to offer")
def input_choices(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """The concepts and datasets the filter and bulk fields offer, asked for once a field is used (so that
    showing the grid costs no more calls than it needs)."""
    if not wants_partial(request):
        return redirect(reverse("inputs:grid", args=[connection.pk, app_id]))
    concepts, datasets = concurrently(lambda: _offered(connection, app_id), lambda: _datasets(connection, app_id))
    context = {"concept_choices": concepts, "dataset_choices": datasets}
    return render(request, "inputs/grid.html#choices", context)


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
    neighbours: tuple[str, str] | None = None,
) -> HttpResponse:
    back = grid_query(request.GET.get("back", ""))
    view = present(connection, item, Urls.of(connection, app_id, back), full=True)
    if form is None:
        form = InputEditForm(initial={"metadata": view.metadata_json}, rows=initial_rows(view.concepts))
    else:
        form.name_rows({c.id: c.name for c in view.concepts})
    if choices is None:
        choices = _offered(connection, app_id)
    if neighbours is None:
        neighbours = _neighbours(connection, app_id, back, item.id)
    previous_id, next_id = neighbours
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "inputs",
        "input": view,
        "form": form,
        "concept_choices": choices,
        "grid_url": _grid_url(connection, app_id, back),
        "back": back,
        "previous_url": _input_url(connection, app_id, previous_id, back),
        "next_url": _input_url(connection, app_id, next_id, back),
        "grid_filter_urls": _filter_urls(connection, app_id),
        "history": history(request.user, connection, app_id, "input", item.id),
        "was": audit.sign_before(audit.edited_input(item)),  # the edit's "before" in the audit trail
    }
    return render_page(request, "inputs/detail.html", context, partial="detail", status=status)


def _input_url(connection: Connection, app_id: str, input_id: str, back: str) -> str:
    if not input_id:
        return ""
    url = reverse("inputs:detail", args=[connection.pk, app_id, input_id])
    return f"{url}?back={quote(back, safe='')}" if back else url


def _filter_urls(connection: Connection, app_id: str) -> str:
    """The grid's URL with `?` ready for one filter (a chip's link adds e.g. `concept=cat`)."""
    return reverse("inputs:grid", args=[connection.pk, app_id]) + "?"


def _page_of(query: QueryDict) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        try:
            return max(int(query.get(name, default)), 1)
        except (TypeError, ValueError):
            return default

    per_page = number("per_page", DEFAULT_PER_PAGE)
    return number("page", 1), per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


def _neighbours(connection: Connection, app_id: str, back: str, input_id: str) -> tuple[str, str]:
    """The ids before and after this input in the grid page it was opened from ("" at an end, or when the
    page cannot be read or no longer holds it)."""
    query = QueryDict(back)
    number, per_page = _page_of(query)
    try:
        found = find_page(client_for(connection), ids(connection, app_id), GridFilters.of(query), number, per_page)
    except ClarifaiError as e:
        logger.warning("The grid page around an input could not be listed: %s", e)
        return "", ""
    page_ids = [item.id for item in found.inputs]
    if input_id not in page_ids:
        return "", ""
    at = page_ids.index(input_id)
    return (page_ids[at - 1] if at > 0 else ""), (page_ids[at + 1] if at + 1 < len(page_ids) else "")


def _get_input(connection: Connection, app_id: str, input_id: str) -> resources_pb2.Input:
    request = service_pb2.GetInputRequest(user_app_id=ids(connection, app_id), input_id=input_id)
    response: service_pb2.SingleInputResponse = client_for(connection).call("GetInput", request)
    return response.input


@require_GET
@connection_page("Loading the input")
def input_detail(request: HttpRequest, connection: Connection, app_id: str, input_id: str) -> HttpResponse:
    back = grid_query(request.GET.get("back", ""))
    item, choices, neighbours = concurrently(
        lambda: _get_input(connection, app_id, input_id),
        lambda: _offered(connection, app_id),
        lambda: _neighbours(connection, app_id, back, input_id),
    )
    return _detail(request, connection, app_id, item, choices=choices, neighbours=neighbours)


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
        audit.before_posted(request, "PatchInputs")
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


@require_POST
@connection_page("Counting the inputs that match")
def input_snapshot(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """One step of "select all that match": the next 1,000 matching ids, and the count so far."""
    if not wants_partial(request):
        # The count grows through HTMX steps; without JavaScript, the page's own selection still works.
        messages.error(request, "Selecting all that match needs JavaScript; tick tiles or choose this page instead.")
        return redirect(_grid_url(connection, app_id, grid_query(request.POST.get("back", ""))))
    user_id = request.user.pk
    snapshot = Snapshot.load(request.GET.get("token", ""), connection.pk, app_id, user_id)
    if snapshot is None:
        snapshot = Snapshot.start(connection.pk, app_id, grid_query(request.POST.get("back", "")), user_id)
    snapshot.step(client_for(connection), ids(connection, app_id))
    step_url = reverse("inputs:snapshot", args=[connection.pk, app_id]) + f"?token={snapshot.token}"
    return render(request, "inputs/grid.html#snapshot", {"snapshot": snapshot, "step_url": step_url})


def _selection(request: HttpRequest, connection: Connection, app_id: str) -> tuple[list[str] | None, str]:
    """The input ids a bulk form chose, and how it chose them; None when a snapshot has expired."""
    scope = request.POST.get("scope", "selected")
    if scope == "all":
        snapshot = Snapshot.load(request.POST.get("snapshot", ""), connection.pk, app_id, request.user.pk)
        if snapshot is None or not snapshot.done:
            return None, "all that match"
        return snapshot.ids(), "all that match"
    if scope == "page":
        return request.POST.getlist("page_ids"), "this page"
    return request.POST.getlist("ids"), "selected"


def _confirm_delete(
    request: HttpRequest, connection: Connection, app_id: str, count: int, scope: str, grid_url: str
) -> HttpResponse:
    """Ask before deleting, with the count; the form sends back what was posted, confirmed."""
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "inputs",
        "count": count,
        "scope": scope,
        "posted": [(k, v) for k, values in request.POST.lists() for v in values if k != "csrfmiddlewaretoken"],
        "grid_url": grid_url,
    }
    return render_page(request, "inputs/bulk_confirm.html", context)


@require_POST
@connection_page("Changing the selected inputs")
def input_bulk(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """Start a bulk action over the selection as a job, and go to the job's page (its progress is live)."""
    back = grid_query(request.POST.get("back", ""))
    grid_url = _grid_url(connection, app_id, back)
    selected, scope = _selection(request, connection, app_id)
    if selected is None:
        messages.error(request, "The count of all that match is no longer kept (after an hour): count again.")
        return redirect(grid_url)
    selected = list(dict.fromkeys(i for i in selected if i))
    if not selected:
        messages.error(
            request,
            "No input is selected, so nothing was started: tick some tiles, choose this page, or select all "
            "that match.",
        )
        return redirect(grid_url)
    try:
        action = bulk_action(request.POST, client_for(connection), ids(connection, app_id))
    except BulkError as e:
        messages.error(request, f"{e} Nothing was started.")
        return redirect(grid_url)
    if action.kind == Job.DELETE_INPUTS and request.POST.get("confirmed") != "yes":
        return _confirm_delete(request, connection, app_id, len(selected), scope, grid_url)
    if action.kind == Job.ADD_TO_DATASET and request.POST.get("new_dataset") == "yes":
        dataset_id = action.params["dataset_id"]
        problem = create_dataset(client_for(connection), ids(connection, app_id), dataset_id)
        if problem:
            messages.error(request, f"{problem} Nothing was started.")
            return redirect(grid_url)
        messages.success(request, f"Dataset {dataset_id} created.")
    user = request.user if isinstance(request.user, User) else None
    job = start_job(user, connection, app_id, action.kind, action.params, selected)
    messages.success(request, f"{action.label}: a job over {len(selected)} input{'s' if len(selected) != 1 else ''}.")
    return redirect(reverse("jobs:detail", args=[connection.pk, job.pk]))


@signed_in_or_401
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

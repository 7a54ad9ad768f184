"""The audit log: a connection's (or, at /audit/, the whole console's), filtered by its URL, and as CSV."""

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from console.audit.access import may_read_audit
from console.audit.queries import LogFilters, choices, events_of
from console.connections.lookups import get_connection
from console.connections.models import Connection
from console.core.paging import Page, int_param
from console.core.rendering import render_page

PER_PAGE = 50
CSV_COLUMNS = (
    "when",
    "who",
    "action",
    "connection",
    "app",
    "target",
    "summary",
    "api status",
    "request id",
    "address",
    "job",
    "before",
    "after",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _readable(request: HttpRequest, conn_id: int | None) -> Connection | None:
    connection = get_connection(conn_id) if conn_id is not None else None
    if not may_read_audit(request.user, connection):
        raise PermissionDenied("Only administrators can read the audit log.")
    return connection


@require_GET
def audit_log(request: HttpRequest, conn_id: int | None = None) -> HttpResponse:
    connection = _readable(request, conn_id)
    filters = LogFilters.of(request.GET)
    events = events_of(connection)
    number = int_param(request, "page", 1)
    filtered = filters.apply(events)
    found = list(filtered[(number - 1) * PER_PAGE : number * PER_PAGE])
    log_url = reverse("audit:log", args=[connection.pk]) if connection else reverse("audit:all")
    csv_url = reverse("audit:csv", args=[connection.pk]) if connection else reverse("audit:all_csv")
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "connection": connection,
        "section": "audit",
        "events": found,
        "page": Page(number, PER_PAGE, len(found), filtered.count()),
        "filters": filters,
        "log_url": log_url,
        "csv_url": f"{csv_url}?{query.urlencode()}" if query else csv_url,
        **choices(events),
    }
    return render_page(request, "audit/log.html", context, partial="results")


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: text that starts like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(events: Any) -> Iterator[list[str]]:
    yield list(CSV_COLUMNS)
    for event in events.iterator(chunk_size=500):
        target = f"{event.target_kind}:{event.target_id}" if event.target_kind else ""
        yield [
            safe_cell(v)
            for v in (
                event.at.isoformat(),
                event.username,
                event.action,
                event.connection_name,
                event.app_id,
                target,
                event.summary,
                event.api_status,
                event.req_id,
                event.address,
                event.job_id,
                "" if event.before is None else _json(event.before),
                "" if event.after is None else _json(event.after),
            )
        ]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@require_GET
def audit_csv(request: HttpRequest, conn_id: int | None = None) -> StreamingHttpResponse:
    """The log with the page's filters, every row, streamed (a long log never sits in memory)."""
    connection = _readable(request, conn_id)
    events = LogFilters.of(request.GET).apply(events_of(connection))
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in _rows(events)), content_type="text/csv")
    name = f"audit-{connection.pk}.csv" if connection else "audit.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

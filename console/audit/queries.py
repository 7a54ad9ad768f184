"""Reading the trail: the filters of the log page (from its URL), and the history of one thing."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from console.audit.access import may_read_audit
from console.audit.models import AuditEvent
from console.connections.models import Connection

FILTERS = ("person", "action", "app", "since", "until", "target")
HISTORY_LINES = 5


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class LogFilters:
    person: str = ""
    action: str = ""
    app: str = ""
    since: date | None = None
    until: date | None = None
    target: str = ""  # "kind:id", e.g. "input:image-001"

    @classmethod
    def of(cls, query: QueryDict) -> "LogFilters":
        """From a URL's query; a value that cannot be read (a date that is not one) is no filter."""
        text = {name: query.get(name, "").strip()[:255] for name in FILTERS}
        return cls(
            person=text["person"],
            action=text["action"],
            app=text["app"],
            since=_day(text["since"]),
            until=_day(text["until"]),
            target=text["target"] if ":" in text["target"] else "",
        )

    @property
    def active(self) -> bool:
        return any((self.person, self.action, self.app, self.since, self.until, self.target))

    def apply(self, events: "QuerySet[AuditEvent]") -> "QuerySet[AuditEvent]":
        if self.person:
            events = events.filter(username=self.person)
        if self.action:
            events = events.filter(action=self.action)
        if self.app:
            events = events.filter(app_id=self.app)
        zone = timezone.get_current_timezone()
        if self.since:
            events = events.filter(at__gte=datetime.combine(self.since, time.min, zone))
        if self.until:
            events = events.filter(at__lt=datetime.combine(self.until + timedelta(days=1), time.min, zone))
        if self.target:
            kind, key = self.target.split(":", 1)
            events = events.filter(targets__kind=kind, targets__key=key)
        return events


def events_of(connection: Connection | None) -> "QuerySet[AuditEvent]":
    events = AuditEvent.objects.all()
    return events if connection is None else events.filter(connection=connection)


def choices(events: "QuerySet[AuditEvent]") -> dict[str, list[str]]:
    """The people, actions and apps the filters offer: those the log has."""
    return {
        name: sorted(v for v in events.order_by().values_list(column, flat=True).distinct() if v)
        for name, column in (("people", "username"), ("actions", "action"), ("apps", "app_id"))
    }


@dataclass(frozen=True)
class History:
    events: list[AuditEvent]
    log_url: str


def history(user: Any, connection: Connection, app_id: str, kind: str, key: str) -> History | None:
    """The latest events about one thing (an input), for its page; None for who may not read the log."""
    if not may_read_audit(user, connection):
        return None
    query = QueryDict(mutable=True)
    query.update({"app": app_id, "target": f"{kind}:{key}"})
    found = LogFilters.of(query).apply(events_of(connection))
    return History(list(found[:HISTORY_LINES]), f"{reverse('audit:log', args=[connection.pk])}?{query.urlencode()}")

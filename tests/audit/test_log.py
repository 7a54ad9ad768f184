"""Reading the trail: the log page of a connection with its filters in the URL, its pages and its HTMX
partial; the CSV export (same filters, safe from spreadsheet formulas); and who may read it."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from console.audit.models import AuditEvent
from console.audit.recorder import record
from console.connections.models import Connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(db: None) -> Connection:
    connection = Connection(name="Other", base_url="https://api.example.com", user_id="x")
    connection.set_token("other-token-0000")
    connection.save()
    return connection


@pytest.fixture
def events(local: Connection, other: Connection, staff: User, member: User) -> None:
    AuditEvent.objects.all().delete()
    record(
        "PatchInputs",
        connection=local,
        app_id="shapes",
        targets=[("input", "a")],
        user=staff,
        req_id="r1",
        summary="input a",
    )
    record(
        "PatchConcepts",
        connection=local,
        app_id="shapes",
        targets=[("concept", "red")],
        user=member,
        summary="concept red",
    )
    record("PatchInputs", connection=local, app_id="notes", targets=[("input", "b")], user=member, summary="input b")
    record("PatchInputs", connection=other, app_id="shapes", targets=[("input", "a")], user=staff)
    old = record("DeleteInputs", connection=local, app_id="shapes", user=staff)
    assert old is not None
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))


def summaries(content: bytes) -> list[str]:
    return [line.strip() for line in content.decode().split('<div class="summary">')[1:]]


def test_the_log_lists_the_connections_events_newest_first(console: Client, local: Connection, events: None) -> None:
    page = console.get(f"/c/{local.pk}/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('<div class="summary">') == 4  # not the other connection's
    assert text.index("input b") < text.index("concept red") < text.index("input a")
    assert "<code>r1</code>" in text
    assert f'href="/c/{local.pk}/audit/export.csv"' in text


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("person=bob", 2),
        ("action=PatchInputs", 2),
        ("app=notes", 1),
        ("person=ada&app=shapes", 2),
        ("target=input:a", 1),
        (f"since={(timezone.localdate() - timedelta(days=1)).isoformat()}", 3),
        (f"until={(timezone.localdate() - timedelta(days=5)).isoformat()}", 1),
        ("since=not-a-date", 4),
    ],
)
def test_the_filters_are_in_the_url(console: Client, local: Connection, events: None, query: str, count: int) -> None:
    page = console.get(f"/c/{local.pk}/audit/?{query}").content
    assert len(summaries(page)) == count


def test_htmx_gets_only_the_results(console: Client, local: Connection, events: None) -> None:
    partial = console.get(f"/c/{local.pk}/audit/?person=bob", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith("<title>") and '<div id="results">' in partial
    assert "<form" not in partial and "<html" not in partial


def test_the_log_is_paged(console: Client, local: Connection, staff: User) -> None:
    for n in range(55):
        record("PatchInputs", connection=local, app_id="big", targets=[("input", f"in-{n:02}")], user=staff)
    first = console.get(f"/c/{local.pk}/audit/?app=big").content.decode()
    assert len(summaries(first.encode())) == 50 and "1–50 of 55" in first
    assert 'href="?app=big&amp;page=2"' in first
    second = console.get(f"/c/{local.pk}/audit/?app=big&page=2").content
    assert len(summaries(second)) == 5


def test_the_csv_has_every_filtered_row_and_no_formula(console: Client, local: Connection, staff: User) -> None:
    AuditEvent.objects.all().delete()
    record("PatchInputs", connection=local, app_id="shapes", summary='=HYPERLINK("http://evil")', user=staff)
    record("PatchInputs", connection=local, app_id="other", summary="+1", user=staff)
    record("PatchInputs", connection=local, app_id="shapes", summary="-2 and @3", user=staff, after={"a": "=1"})
    response = console.get(f"/c/{local.pk}/audit/export.csv?app=shapes")
    assert response.streaming and response["Content-Type"] == "text/csv"
    assert 'filename="audit-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert [r["summary"] for r in rows] == ["'-2 and @3", '\'=HYPERLINK("http://evil")']
    assert rows[0]["who"] == "ada" and rows[0]["app"] == "shapes" and rows[0]["after"] == '{"a": "=1"}'


def test_user_text_with_markup_comes_out_escaped(console: Client, local: Connection, staff: User) -> None:
    record(
        "PatchConcepts",
        connection=local,
        app_id="<i>app</i>",
        summary="renamed to <script>alert(1)</script>",
        after={"name": "<img src=x onerror=alert(1)>"},
        username="<b>mallory</b>",
    )
    text = console.get(f"/c/{local.pk}/audit/").content.decode()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text and "&lt;img src=x" in text
    assert "<b>mallory</b>" not in text and "&lt;b&gt;mallory&lt;/b&gt;" in text
    assert "<i>app</i>" not in text


def test_only_the_teams_admins_may_read_its_log(client: Client, member: User, local: Connection) -> None:
    """bob is an editor of the connection's team: he may change its data, not read who did what."""
    client.force_login(member)
    assert client.get(f"/c/{local.pk}/audit/").status_code == 403
    assert client.get(f"/c/{local.pk}/audit/export.csv").status_code == 403
    assert client.get("/audit/").status_code == 403
    assert AuditEvent.objects.filter(action="refused", username="bob").count() == 3


def test_the_whole_consoles_log_has_the_sign_ins_for_the_consoles_administrators(
    client: Client, staff: User, local: Connection
) -> None:
    client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    client.force_login(staff)
    assert client.get(f"/c/{local.pk}/audit/").status_code == 200, "ada is an admin of the connection's team"
    assert client.get("/audit/").status_code == 403, "the whole console's log is not a team admin's"
    staff.is_superuser = True
    staff.save()
    text = client.get("/audit/").content.decode()
    assert "Sign-in failed" in text and "nobody" in text and "Signed in" in text


def test_an_unknown_connection_is_not_found(console: Client) -> None:
    assert console.get("/c/999/audit/").status_code == 404

"""Console pages over a connection whose API fails, over real HTTP (tests/faults.py): for each fault,
the page's HTTP status, the message shown, that it answered within the deadline, and, for writes,
whether the change reached the API and what the person is told about it."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from console.connections.models import Connection
from console.inputs.display import media_signer
from tests.faults import FaultServer, fault_server
from tests.images import png

DEADLINE = 1  # CONSOLE_CLARIFAI_DEADLINE in these tests, seconds
MARGIN = 1.5  # for rendering and a loaded machine
UNKNOWN = "The API did not confirm this change; it may have been saved."


@pytest.fixture
def server(settings: Any) -> Iterator[FaultServer]:
    settings.CONSOLE_CLARIFAI_DEADLINE = DEADLINE
    with fault_server() as server:
        yield server


@pytest.fixture
def remote(server: FaultServer, db: None) -> Connection:
    connection = Connection(name="Faulty", user_id="u", base_url=server.url)
    connection.set_token("fault-test-token")
    connection.save()
    return connection


def timed(call: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.monotonic()
    response = call(*args, **kwargs)
    assert time.monotonic() - started < DEADLINE + MARGIN, "the page waited past the deadline"
    return response


def host(server: FaultServer) -> str:
    return server.url.removeprefix("http://")


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("hang", 504, "{host} did not answer ListApps in time."),
        ("delay", 504, "{host} did not answer ListApps in time."),
        ("truncate", 502, "Could not reach {host}: the connection was closed in the middle of the answer."),
        ("reset", 502, "Could not reach {host}: the connection was reset."),
        ("close", 502, "Could not reach {host}: the connection was closed before an answer came."),
        ("500", 502, "{url} did not answer like a Clarifai API (HTTP 500, text/html)."),
        ("502", 502, "{host} is unavailable (HTTP 502, text/html); try again in a moment."),
        ("429", 502, "{host} is receiving too many requests (HTTP 429, text/plain); try again in 30 seconds."),
        ("html", 502, "{url} did not answer like a Clarifai API (HTTP 200, text/html)."),
    ],
)
def test_a_page_over_a_failing_api_says_what_happened_within_the_deadline(
    console: Client, server: FaultServer, remote: Connection, kind: str, status: int, message: str
) -> None:
    server.fault("GET", kind)
    response = timed(console.get, f"/c/{remote.pk}/apps/")
    assert response.status_code == status
    html = response.content.decode()
    assert "Loading the apps failed" in html
    assert message.format(host=host(server), url=server.url) in html
    assert "Errno" not in html
    assert "no-store" in response["Cache-Control"]


def test_the_request_id_from_the_header_is_shown(console: Client, server: FaultServer, remote: Connection) -> None:
    server.fault("GET", "429")
    assert "<code>r429</code>" in console.get(f"/c/{remote.pk}/apps/").content.decode()


def test_reads_are_retried_on_500(console: Client, server: FaultServer, remote: Connection) -> None:
    server.fault("GET", "500")
    timed(console.get, f"/c/{remote.pk}/apps/")
    assert len(server.received) > 1


def test_an_unknown_host_reads_in_words(console: Client, settings: Any) -> None:
    settings.CONSOLE_CLARIFAI_DEADLINE = 10
    nowhere = Connection(name="Nowhere", user_id="u", base_url="http://nosuch.invalid")
    nowhere.set_token("abcdef")
    nowhere.save()
    html = console.get(f"/c/{nowhere.pk}/apps/").content.decode()
    assert "Could not reach nosuch.invalid: the host name could not be found." in html
    assert "Errno" not in html


# --- Writes ----------------------------------------------------------------------------------------

EDIT = "/c/{pk}/apps/a/inputs/in-1/edit"
TYPED = {"concept": ["cat", "dog"], "value": ["yes", "no"], "metadata": '{"typed": "by hand"}'}


@pytest.mark.parametrize(
    ("kind", "status", "applied"),
    [
        ("hang", 504, True),
        ("truncate", 502, True),
        ("reset", 502, True),
        ("close", 502, True),
        ("500", 502, True),
        ("502", 502, True),
        ("html", 502, True),
        ("429", 502, False),
        ("refuse", 502, False),
    ],
)
def test_a_save_that_may_have_been_applied_is_not_reported_as_nothing_saved(
    console: Client, server: FaultServer, remote: Connection, kind: str, status: int, applied: bool
) -> None:
    """The fault server applies a write it received unless it answered with a refusal (429, a failure status)."""
    server.fault("PATCH", kind)
    response = timed(console.post, EDIT.format(pk=remote.pk), TYPED, headers={"HX-Request": "true"})
    assert response.status_code == status
    assert response["HX-Retarget"] == "#edit-errors"  # the form with what was typed stays in the page
    html = response.content.decode()
    patches = [r for r in server.received if r[0] == "PATCH"]
    assert len(patches) == 1
    assert patches[0][2]["inputs"][0]["data"]["metadata"] == {"typed": "by hand"}
    if applied:
        assert UNKNOWN in html
        assert "Nothing was saved" not in html
        assert f'href="/c/{remote.pk}/apps/a/inputs/in-1/"' in html  # check the input as the API has it
    else:
        assert "Nothing was saved: " in html
        assert UNKNOWN not in html
    if kind == "429":
        assert "try again in 30 seconds" in html


def test_a_save_to_a_host_that_refuses_connections_saved_nothing(console: Client, settings: Any) -> None:
    settings.CONSOLE_CLARIFAI_DEADLINE = DEADLINE
    with fault_server() as server:
        closed = server.url
    gone = Connection(name="Gone", user_id="u", base_url=closed)
    gone.set_token("abcdef")
    gone.save()
    response = timed(console.post, EDIT.format(pk=gone.pk), TYPED, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert f"Nothing was saved: Could not reach {closed.removeprefix('http://')}: the connection was refused." in html


def test_a_full_page_save_without_an_answer_keeps_what_was_typed_within_one_deadline(
    console: Client, server: FaultServer, remote: Connection
) -> None:
    server.fault("PATCH", "hang")
    response = timed(console.post, EDIT.format(pk=remote.pk), TYPED)
    assert response.status_code == 504
    html = response.content.decode()
    assert UNKNOWN in html
    assert "Check the input as the API has it now" in html
    assert "{&quot;typed&quot;: &quot;by hand&quot;}" in html
    assert '<input type="hidden" name="concept" value="dog">' in html
    assert '<option value="no" selected>no</option>' in html
    # After the save failed the page only read (the input, the concepts to offer), within the same deadline.
    verbs = [r[0] for r in server.received]
    assert verbs[0] == "PATCH"
    assert set(verbs[1:]) == {"GET"}


def test_a_concept_create_without_an_answer_offers_a_search_for_it(
    console: Client, server: FaultServer, remote: Connection
) -> None:
    server.fault("POST", "hang")
    response = timed(console.post, f"/c/{remote.pk}/apps/a/concepts/new", {"id": "zebra", "name": ""})
    html = response.content.decode()
    assert UNKNOWN in html
    assert f'href="/c/{remote.pk}/apps/a/concepts/?q=zebra"' in html
    assert 'value="zebra"' in html
    # Nothing sent again: after the POST the page only read (the concepts, and their counts).
    verbs = [r[0] for r in server.received]
    assert verbs[0] == "POST" and set(verbs[1:]) == {"GET"}


def test_an_app_create_without_an_answer_links_to_the_app(
    console: Client, server: FaultServer, remote: Connection
) -> None:
    server.fault("POST", "truncate")
    response = timed(console.post, f"/c/{remote.pk}/apps/new", {"id": "zoo", "name": "Zoo"})
    html = response.content.decode()
    assert UNKNOWN in html
    assert f'href="/c/{remote.pk}/apps/zoo/"' in html
    assert 'value="Zoo"' in html


def test_an_app_create_the_api_refused_saved_nothing(console: Client, server: FaultServer, remote: Connection) -> None:
    server.fault("POST", "refuse")
    html = console.post(f"/c/{remote.pk}/apps/new", {"id": "zoo"}).content.decode()
    assert "Invalid request: refused" in html
    assert UNKNOWN not in html


def test_a_delete_without_an_answer_says_it_may_have_been_done(
    console: Client, server: FaultServer, remote: Connection
) -> None:
    server.fault("DELETE", "hang")
    response = timed(console.post, f"/c/{remote.pk}/apps/a/inputs/in-1/delete")
    assert response.status_code == 504
    assert "it may have been done anyway" in response.content.decode()


# --- Pictures --------------------------------------------------------------------------------------

PICTURE = png(30, 20)


def media_url(connection: Connection, server: FaultServer) -> str:
    return f"/c/{connection.pk}/media?u={media_signer(connection).sign(server.url + '/media/1/small/abc')}"


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        (PICTURE[:-30], ""),  # a truncated picture
        (b"", "html"),  # an HTML page with 200
        (b"", "refuse"),  # a Clarifai failure status
        (b"", "500"),
    ],
)
def test_a_bad_answer_for_a_picture_is_an_error_that_nothing_keeps(
    console: Client, server: FaultServer, remote: Connection, body: bytes, fault: str
) -> None:
    cache.clear()
    server.picture = body
    if fault:
        server.fault("GET", fault)
    url = media_url(remote, server)
    for _ in range(2):
        response = timed(console.get, url)
        assert response.status_code != 200
        assert "no-store" in response["Cache-Control"]
    server.picture, server.faults = PICTURE, {}
    assert console.get(url).status_code == 200  # the next try fetches again: the failure was not kept


def test_a_complete_picture_is_served_as_what_its_bytes_are_and_kept(
    console: Client, server: FaultServer, remote: Connection
) -> None:
    cache.clear()
    server.picture = PICTURE
    url = media_url(remote, server)
    response = console.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "max-age" in response["Cache-Control"]
    assert console.get(url).content == PICTURE
    assert len(server.received) == 1  # the second came from the cache

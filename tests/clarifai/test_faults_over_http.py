"""The client against real servers that fail: what each failure reads like, whether a write's outcome is
known, retries of reads on 500, the request's time budget, per-connection call slots, and media redirects."""

import io
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from google.protobuf.message import Message

from console.clarifai import (
    ClarifaiClient,
    ClarifaiError,
    ClarifaiProtocolError,
    ClarifaiStatusError,
    ClarifaiTimeout,
    RetryPolicy,
    budget,
)
from tests.faults import FaultServer, fault_server
from tests.images import png
from tests.servers import QuietHandler, serving

APP = resources_pb2.UserAppIDSet(user_id="u", app_id="a")
WRITE: tuple[str, Message] = (
    "PostConcepts",
    service_pb2.PostConceptsRequest(user_app_id=APP, concepts=[resources_pb2.Concept(id="c")]),
)
READ: tuple[str, Message] = ("ListConcepts", service_pb2.ListConceptsRequest(user_app_id=APP))
QUICK = RetryPolicy(base_wait=0.01, max_wait=0.02)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with fault_server() as server:
        yield server


def client(url: str, **kwargs: Any) -> ClarifaiClient:
    kwargs.setdefault("deadline", 1.0)
    kwargs.setdefault("retry", QUICK)
    return ClarifaiClient(url, "fault-test-token-123", "u", **kwargs)


def fails(api: ClarifaiClient, deadline: float | None = None) -> None:
    with pytest.raises(ClarifaiError):
        api.call(*READ, deadline=deadline)


def fail(client: ClarifaiClient, call: tuple[str, Message]) -> ClarifaiError:
    with pytest.raises(ClarifaiError) as raised:
        client.call(*call)
    return raised.value


@pytest.mark.parametrize(
    ("kind", "unknown", "words"),
    [
        ("hang", True, "did not answer PostConcepts in time"),
        ("truncate", True, "Could not reach 127.0.0.1:{port}: the connection was closed in the middle of the answer."),
        ("reset", True, "Could not reach 127.0.0.1:{port}: the connection was reset."),
        ("close", True, "Could not reach 127.0.0.1:{port}: the connection was closed before an answer came."),
        ("500", True, "did not answer like a Clarifai API (HTTP 500, text/html)."),
        ("502", True, "is unavailable (HTTP 502, text/html); try again in a moment."),
        ("html", True, "did not answer like a Clarifai API (HTTP 200, text/html)."),
        ("429", False, "is receiving too many requests (HTTP 429, text/plain); try again in 30 seconds."),
        ("refuse", False, "Invalid request: refused ("),
    ],
)
def test_a_write_says_whether_its_outcome_is_unknown(server: FaultServer, kind: str, unknown: bool, words: str) -> None:
    server.fault("POST", kind)
    error = fail(client(server.url), WRITE)
    assert words.format(port=server.url.rsplit(":", 1)[1]) in error.message
    assert error.outcome_unknown is unknown
    assert len(server.writes()) == 1  # a write is never sent twice


@pytest.mark.parametrize("kind", ["hang", "truncate", "reset", "500", "html"])
def test_a_failed_read_never_has_an_unknown_outcome(server: FaultServer, kind: str) -> None:
    server.fault("GET", kind)
    assert fail(client(server.url), READ).outcome_unknown is False


def test_a_write_to_a_host_that_refuses_connections_is_known_not_to_be_saved() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the call: nothing listens there
    error = fail(client(f"http://127.0.0.1:{port}"), WRITE)
    assert error.message == f"Could not reach 127.0.0.1:{port}: the connection was refused."
    assert error.outcome_unknown is False


def test_a_host_name_that_does_not_exist_reads_in_words() -> None:
    error = fail(client("http://nosuch.invalid", deadline=10), READ)
    assert error.message == "Could not reach nosuch.invalid: the host name could not be found."


def test_a_connect_timeout_reads_in_words() -> None:
    # A listener with a full backlog and no accept: on Linux, further SYNs go unanswered.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            error = fail(client(f"http://127.0.0.1:{port}", timeout=0.3, retry=RetryPolicy(attempts=1)), WRITE)
        finally:
            for filler in fillers:
                filler.close()
    if "connection timed out" in error.message:
        assert error.message == f"Could not reach 127.0.0.1:{port}: the connection timed out."
        assert error.outcome_unknown is False
    else:  # the kernel accepted into the backlog after all: the request went out and got no answer
        assert "did not answer PostConcepts in time" in error.message


def test_reads_are_retried_on_500(server: FaultServer) -> None:
    server.fault("GET", "500")
    error = fail(client(server.url, deadline=5), READ)
    assert "did not answer like a Clarifai API (HTTP 500" in error.message
    assert len(server.received) == 3


def test_a_request_id_in_the_header_is_kept_when_the_body_has_none(server: FaultServer) -> None:
    server.fault("POST", "429")
    assert fail(client(server.url), WRITE).req_id == "r429"


def test_calls_inside_one_budget_share_it(server: FaultServer) -> None:
    server.fault("GET", "hang")
    api = client(server.url, deadline=10)
    started = time.monotonic()
    with budget.within(0.6):
        for _ in range(3):
            with pytest.raises(ClarifaiTimeout):
                api.call(*READ)
    assert time.monotonic() - started < 0.6 + 0.5
    assert len(server.received) == 1  # the later calls had no time left to go out


def test_a_write_leaves_part_of_the_budget_for_the_page(server: FaultServer) -> None:
    server.fault("POST", "hang")
    api = client(server.url, deadline=10)
    with budget.within(1.0):
        with pytest.raises(ClarifaiTimeout):
            api.call(*WRITE)
        api.call(*READ)  # the re-read still has time


def test_when_a_connections_calls_are_all_stuck_another_fails_fast(server: FaultServer) -> None:
    server.fault("GET", "hang")
    api = client(server.url, deadline=5, max_calls=2, stuck_after=0.2)
    stuck = [threading.Thread(target=fails, args=(api,)) for _ in range(2)]
    for thread in stuck:
        thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    error = fail(api, READ)
    assert time.monotonic() - started < 1
    assert (
        error.message
        == f"2 calls to {server.url.removeprefix('http://')} are already waiting for an answer; try again shortly."
    )
    server.release.set()
    for thread in stuck:
        thread.join()


def test_a_call_waits_for_a_slot_while_the_others_are_young(server: FaultServer) -> None:
    server.fault("GET", "hang")
    api = client(server.url, deadline=5, max_calls=1, stuck_after=5)
    thread = threading.Thread(target=fails, args=(api,), kwargs={"deadline": 0.5})
    thread.start()
    time.sleep(0.1)
    server.faults.clear()
    api.call(*READ)  # waited for the first call's slot, then went out
    thread.join()


# --- Media -------------------------------------------------------------------------------------------

PICTURE = png(20, 10)


def media_server(routes: dict[str, tuple[int, dict[str, str], bytes]], hits: list[str]) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            status, headers, body = routes.get(self.path, (404, {}, b""))
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def test_media_redirects_are_followed_on_the_apis_own_host() -> None:
    hits: list[str] = []
    routes = {
        "/media/a": (302, {"Location": "/media/b"}, b""),
        "/media/b": (307, {"Location": "b2"}, b""),
        "/media/b2": (200, {"Content-Type": "application/octet-stream"}, PICTURE),
    }
    with serving(media_server(routes, hits)) as url:
        media = client(url).get_bytes(f"{url}/media/a", 10_000)
    assert media == (PICTURE, "image/png")
    assert hits == ["/media/a", "/media/b", "/media/b2"]


@pytest.mark.parametrize("other_host", ["localhost", "127.0.0.2"])
def test_a_media_redirect_to_another_host_is_refused(other_host: str) -> None:
    """The API's host is 127.0.0.1; a redirect to another loopback name is another host."""
    elsewhere: list[str] = []
    with serving(media_server({"/secret": (200, {}, PICTURE)}, elsewhere)) as other:
        target = other.replace("127.0.0.1", other_host) + "/secret"
        hits: list[str] = []
        with (
            serving(media_server({"/media/a": (302, {"Location": target}, b"")}, hits)) as url,
            pytest.raises(ClarifaiProtocolError) as raised,
        ):
            client(url).get_bytes(f"{url}/media/a", 10_000)
    assert raised.value.message == (
        f"127.0.0.1 redirected the media to {other_host!r}; "
        f"the console fetches media with the connection's token only from {url.removeprefix('http://')}."
    )
    assert elsewhere == []


def test_media_redirects_stop_after_a_few_hops() -> None:
    hits: list[str] = []
    with (
        serving(media_server({"/media/loop": (302, {"Location": "/media/loop"}, b"")}, hits)) as url,
        pytest.raises(ClarifaiProtocolError, match="redirected the media more than 3 times"),
    ):
        client(url).get_bytes(f"{url}/media/loop", 10_000)
    assert len(hits) == 4


@pytest.mark.parametrize(
    ("status", "headers", "body", "error", "words"),
    [
        (200, {"Content-Type": "image/png"}, PICTURE[:-20], ClarifaiProtocolError, "an incomplete image/png picture"),
        (200, {"Content-Type": "text/html"}, b"<html>login</html>", ClarifaiProtocolError, "text/html, not a picture"),
        (
            200,
            {"Content-Type": "application/json"},
            b'{"status": {"code": 11101, "description": "Resource does not exist"}}',
            ClarifaiStatusError,
            "Resource does not exist",
        ),
    ],
)
def test_media_that_is_not_a_complete_picture_is_an_error(
    status: int, headers: dict[str, str], body: bytes, error: type[ClarifaiError], words: str
) -> None:
    hits: list[str] = []
    with serving(media_server({"/media/x": (status, headers, body)}, hits)) as url, pytest.raises(error, match=words):
        client(url).get_bytes(f"{url}/media/x", 10_000)


def test_pictures_are_told_by_their_bytes() -> None:
    from console.clarifai.pictures import picture_type

    assert picture_type(PICTURE) == "image/png"
    assert picture_type(PICTURE[:-1]) is None
    assert picture_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None


def test_an_archive_cut_off_mid_way_is_fetched_again_from_its_start_into_the_file() -> None:
    """The first answer promises the whole archive, sends half of it and closes the connection; the
    retry's answer is whole. The file then holds that archive once, not the first half and then it."""
    archive = b"PK\x03\x04" + bytes(range(256)) * 200
    hits: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(archive)))
            self.end_headers()
            if len(hits) == 1:
                self.wfile.write(archive[: len(archive) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(archive)

    into = io.BytesIO()
    with serving(Handler) as url:
        client(url).get_archive(f"{url}/exports/a.zip", len(archive), into)
    assert hits == ["/exports/a.zip", "/exports/a.zip"]
    assert into.getvalue() == archive


def test_an_answer_that_is_not_an_archive_leaves_an_error_not_a_file() -> None:
    hits: list[str] = []
    page = (200, {"Content-Type": "text/html"}, b"<html>sign in</html>")
    into = io.BytesIO()
    with (
        serving(media_server({"/exports/a.zip": page}, hits)) as url,
        pytest.raises(ClarifaiProtocolError, match="text/html, not a zip archive"),
    ):
        client(url).get_archive(f"{url}/exports/a.zip", 10_000, into)

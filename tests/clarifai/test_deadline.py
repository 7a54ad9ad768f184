"""The overall deadline, against a real slow server on 127.0.0.1, and a server that is not there."""

import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.clarifai import ClarifaiClient, ClarifaiTimeout, ClarifaiTransportError, RetryPolicy
from tests.clarifai.conftest import TOKEN

DEADLINE = 0.5
GENEROUS = 5 * DEADLINE
OK = b'{"status":{"code":10000,"description":"Ok"},"app":{"id":"fast"}}'


def get_app(app_id: str) -> service_pb2.GetAppRequest:
    return service_pb2.GetAppRequest(user_app_id=resources_pb2.UserAppIDSet(user_id="alice", app_id=app_id))


@pytest.fixture
def slow_server() -> Iterator[str]:
    """/…/apps/sleepy answers after 10 s; /…/apps/drip sends a 1000-byte body one byte every 50 ms."""
    stop = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                if self.path.startswith("/v2/users/alice/apps/sleepy"):
                    stop.wait(10)
                    self._answer(OK)
                elif self.path.startswith("/v2/users/alice/apps/drip"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    for _ in range(1000):
                        if stop.wait(0.05):
                            return
                        self.wfile.write(b" ")
                        self.wfile.flush()
                else:
                    self._answer(OK)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    stop.set()
    server.shutdown()
    server.server_close()


def client_for(base_url: str) -> ClarifaiClient:
    return ClarifaiClient(base_url, TOKEN, "alice", deadline=DEADLINE, retry=RetryPolicy(base_wait=0.01, max_wait=0.02))


def test_it_answers_from_a_real_server(slow_server: str) -> None:
    with client_for(slow_server) as client:
        assert client.call("GetApp", get_app("fast")).app.id == "fast"


def test_it_times_out_on_a_server_that_does_not_answer(slow_server: str) -> None:
    with client_for(slow_server) as client:
        started = time.monotonic()
        with pytest.raises(ClarifaiTimeout) as raised:
            client.call("GetApp", get_app("sleepy"))
        assert time.monotonic() - started < GENEROUS
    assert raised.value.message == f"{slow_server.removeprefix('http://')} did not answer GetApp in time."


def test_it_times_out_on_a_body_that_drips_in(slow_server: str) -> None:
    with client_for(slow_server) as client:
        started = time.monotonic()
        with pytest.raises(ClarifaiTimeout):
            client.call("GetApp", get_app("drip"))
        assert time.monotonic() - started < GENEROUS


def test_a_call_may_set_its_own_deadline(slow_server: str) -> None:
    with ClarifaiClient(slow_server, TOKEN, "alice", deadline=60) as client:
        started = time.monotonic()
        with pytest.raises(ClarifaiTimeout):
            client.call("GetApp", get_app("sleepy"), deadline=DEADLINE)
        assert time.monotonic() - started < GENEROUS


def test_it_raises_a_transport_error_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with client_for(f"http://127.0.0.1:{port}") as client, pytest.raises(ClarifaiTransportError) as raised:
        client.call("GetApp", get_app("fast"))
    assert raised.value.message.startswith(f"Could not reach 127.0.0.1:{port}: ")

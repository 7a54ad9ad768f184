"""The token never leaves the Authorization header: not in messages, reprs, tracebacks or log records."""

import logging
import socket
import traceback
from collections.abc import Callable

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.clarifai import ClarifaiClient, ClarifaiError, RetryPolicy
from tests.clarifai.conftest import TOKEN, Harness, html, ok, status

APP = resources_pb2.UserAppIDSet(user_id="alice", app_id="my-app")
LIST_INPUTS = service_pb2.ListInputsRequest(user_app_id=APP)


def echo_authorization(request: httpx.Request) -> httpx.Response:
    """A server that repeats the header it was sent, as a careless proxy or a hostile server might."""
    header = request.headers["Authorization"]
    return status(11008, 401, f"Bad key {header}", f"You sent {header}")


def assert_clean(error: ClarifaiError) -> None:
    for text in (error.message, str(error), repr(error), *map(str, error.args), *traceback.format_exception(error)):
        assert TOKEN not in text
    for value in vars(error).values():
        assert TOKEN not in str(value)


def test_repr_does_not_show_the_token(make_client: Callable[..., Harness]) -> None:
    h = make_client()
    assert TOKEN not in repr(h.client)
    assert TOKEN not in str(h.client)
    assert "api.example.com" in repr(h.client)


@pytest.mark.parametrize(
    "reply",
    [
        echo_authorization,
        html(404),
        html(503),
        httpx.ConnectError(f"refused by a proxy that saw Key {TOKEN}"),
        httpx.ReadTimeout("slow"),
    ],
)
def test_errors_and_logs_never_hold_the_token(
    make_client: Callable[..., Harness], caplog: pytest.LogCaptureFixture, reply: object
) -> None:
    h = make_client(reply)
    with caplog.at_level(logging.DEBUG), pytest.raises(ClarifaiError) as raised:
        h.client.call("ListInputs", LIST_INPUTS)
    assert_clean(raised.value)
    assert caplog.records, "the failing call should have been logged"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in str(record.args)


def test_a_redacted_status_error_still_says_what_happened(make_client: Callable[..., Harness]) -> None:
    h = make_client(echo_authorization)
    with pytest.raises(ClarifaiError) as raised:
        h.client.call("ListInputs", LIST_INPUTS)
    assert raised.value.message == "Bad key Key [token]: You sent Key [token] (CONN_KEY_INVALID, 11008)"


def test_a_real_connection_failure_never_holds_the_token(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ClarifaiClient(f"http://127.0.0.1:{port}", TOKEN, retry=RetryPolicy(base_wait=0.001, max_wait=0.001))
    with caplog.at_level(logging.DEBUG), pytest.raises(ClarifaiError) as raised:
        client.call("ListInputs", LIST_INPUTS)
    client.close()
    assert_clean(raised.value)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_a_successful_call_logs_no_token(make_client: Callable[..., Harness], caplog: pytest.LogCaptureFixture) -> None:
    h = make_client(ok())
    with caplog.at_level(logging.DEBUG):
        h.client.call("ListInputs", LIST_INPUTS)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_it_refuses_a_token_that_cannot_go_in_a_header_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="one word") as raised:
        ClarifaiClient("https://api.example.com", "two words-SECRET")
    assert "SECRET" not in str(raised.value)


def test_it_keeps_credentials_in_the_base_url_out_of_its_repr() -> None:
    client = ClarifaiClient("https://user:hunter2@api.example.com", TOKEN)
    assert "hunter2" not in repr(client)
    client.close()

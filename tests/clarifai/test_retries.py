"""Retries: only idempotent calls, only transient failures, bounded in attempts and by the deadline."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.clarifai import (
    ClarifaiProtocolError,
    ClarifaiStatusError,
    ClarifaiTimeout,
    ClarifaiTransportError,
    RetryPolicy,
)
from console.clarifai.client import retry_after_seconds
from tests.clarifai.conftest import Harness, html, ok, status

APP = resources_pb2.UserAppIDSet(user_id="alice", app_id="my-app")
LIST_INPUTS = service_pb2.ListInputsRequest(user_app_id=APP)
POST_INPUTS = service_pb2.PostInputsRequest(
    user_app_id=APP, inputs=[resources_pb2.Input(data=resources_pb2.Data(text=resources_pb2.Text(raw="hi")))]
)


def test_it_retries_a_get_on_503(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(503), ok(inputs=[{"id": "in1"}]))
    response = h.client.call("ListInputs", LIST_INPUTS)
    assert response.inputs[0].id == "in1"
    assert len(h.api.requests) == 2
    assert len(h.sleeps) == 1


@pytest.mark.parametrize("http_status", [429, 502, 503, 504])
def test_it_retries_a_get_on_transient_http_statuses(make_client: Callable[..., Harness], http_status: int) -> None:
    h = make_client(html(http_status), ok())
    h.client.call("ListInputs", LIST_INPUTS)
    assert len(h.api.requests) == 2


def test_it_stops_after_the_attempt_limit(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(503))
    with pytest.raises(ClarifaiTransportError) as raised:
        h.client.call("ListInputs", LIST_INPUTS)
    assert len(h.api.requests) == 3
    assert len(h.sleeps) == 2
    assert raised.value.message == "api.example.com is unavailable (HTTP 503, text/html); try again in a moment."
    assert raised.value.retryable


def test_it_follows_the_policys_attempt_count(make_client: Callable[..., Harness]) -> None:
    sleeps: list[float] = []
    h = make_client(html(503), retry=RetryPolicy(attempts=5, base_wait=0.01, max_wait=0.02, sleep=sleeps.append))
    with pytest.raises(ClarifaiTransportError):
        h.client.call("ListInputs", LIST_INPUTS)
    assert len(h.api.requests) == 5
    assert all(0 <= s <= 0.02 for s in sleeps)


def test_it_raises_the_last_status_when_retries_run_out(make_client: Callable[..., Harness]) -> None:
    h = make_client(status(10030, 503, "Try again"))
    with pytest.raises(ClarifaiStatusError) as raised:
        h.client.call("ListInputs", LIST_INPUTS)
    assert raised.value.http_status == 503
    assert len(h.api.requests) == 3


def test_it_never_retries_a_post_that_creates(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(503), ok())
    with pytest.raises(ClarifaiTransportError):
        h.client.call("PostInputs", POST_INPUTS)
    assert len(h.api.requests) == 1
    assert h.sleeps == []


def test_it_never_retries_a_delete(make_client: Callable[..., Harness]) -> None:
    h = make_client(status(11005, 429, "Throttled"), ok())
    with pytest.raises(ClarifaiStatusError) as raised:
        h.client.call("DeleteInputs", service_pb2.DeleteInputsRequest(user_app_id=APP, ids=["a"]))
    assert len(h.api.requests) == 1
    # The error still says the failure was transient, for a job that wants to try again later.
    assert raised.value.retryable


def test_it_never_retries_a_read_error_on_a_post(make_client: Callable[..., Harness]) -> None:
    h = make_client(httpx.ReadError("connection reset"), ok())
    with pytest.raises(ClarifaiTransportError):
        h.client.call("PostInputs", POST_INPUTS)
    assert len(h.api.requests) == 1


def test_it_retries_a_read_only_search_post(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(502), ok())
    h.client.call("PostInputsSearches", service_pb2.PostInputsSearchesRequest(user_app_id=APP))
    assert len(h.api.requests) == 2


def test_it_never_retries_a_401(make_client: Callable[..., Harness]) -> None:
    h = make_client(status(11009, 401, "API key not found"), ok())
    with pytest.raises(ClarifaiStatusError) as raised:
        h.client.call("ListInputs", LIST_INPUTS)
    assert raised.value.code_name == "CONN_KEY_NOT_FOUND"
    assert len(h.api.requests) == 1
    assert not raised.value.retryable


def test_it_never_retries_an_auth_code_even_with_a_retryable_http_status(make_client: Callable[..., Harness]) -> None:
    h = make_client(status(11008, 503, "Invalid key"), ok())
    with pytest.raises(ClarifaiStatusError):
        h.client.call("ListInputs", LIST_INPUTS)
    assert len(h.api.requests) == 1


def test_it_retries_throttling_in_a_200_body(make_client: Callable[..., Harness]) -> None:
    h = make_client(status(11005, 200, "Throttled"), ok(inputs=[{"id": "in1"}]))
    response = h.client.call("ListInputs", LIST_INPUTS)
    assert response.inputs[0].id == "in1"
    assert len(h.api.requests) == 2


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.RemoteProtocolError("eof")]
)
def test_it_retries_a_get_after_a_connection_failure(make_client: Callable[..., Harness], error: Exception) -> None:
    h = make_client(error, ok())
    h.client.call("ListInputs", LIST_INPUTS)
    assert len(h.api.requests) == 2


def test_it_does_not_retry_a_protocol_error(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(404), ok())
    with pytest.raises(ClarifaiProtocolError):
        h.client.call("ListInputs", LIST_INPUTS)
    assert len(h.api.requests) == 1


def test_it_honours_retry_after_in_seconds(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(503, **{"Retry-After": "2"}), ok())
    h.client.call("ListInputs", LIST_INPUTS)
    assert h.sleeps == [2.0]


def test_it_honours_retry_after_as_an_http_date(make_client: Callable[..., Harness]) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    h = make_client(status(11005, 429, "Throttled", **{"Retry-After": when}), ok())
    h.client.call("ListInputs", LIST_INPUTS)
    assert len(h.sleeps) == 1
    assert 15 < h.sleeps[0] <= 20


def test_it_never_sleeps_past_the_deadline(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(503, **{"Retry-After": "60"}), ok(), deadline=5.0)
    with pytest.raises(ClarifaiTransportError) as raised:
        h.client.call("ListInputs", LIST_INPUTS)
    assert h.sleeps == []
    assert len(h.api.requests) == 1
    assert raised.value.retry_after == 60.0


def test_it_gives_up_with_a_timeout_once_the_deadline_has_passed(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(), deadline=0.0)
    with pytest.raises(ClarifaiTimeout):
        h.client.call("ListInputs", LIST_INPUTS)
    assert h.api.requests == []


def test_it_reads_retry_after_values() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds("-4") == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None

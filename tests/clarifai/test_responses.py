"""How answers are read: lenient parsing, success and mixed status, error statuses, non-API answers."""

from collections.abc import Callable

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.clarifai import ClarifaiError, ClarifaiProtocolError, ClarifaiStatusError
from tests.clarifai.conftest import Harness, html, ok, status

APP = resources_pb2.UserAppIDSet(user_id="alice", app_id="my-app")
LIST_INPUTS = service_pb2.ListInputsRequest(user_app_id=APP)


def test_it_reads_a_snake_case_body(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(inputs=[{"id": "in1", "created_at": "2024-05-01T10:00:00Z", "dataset_ids": ["ds1"]}]))
    response = h.client.call("ListInputs", LIST_INPUTS)
    assert isinstance(response, service_pb2.MultiInputResponse)
    assert response.inputs[0].id == "in1"
    assert response.inputs[0].dataset_ids == ["ds1"]
    assert response.inputs[0].created_at.seconds > 0


def test_it_reads_a_camel_case_body(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(inputs=[{"id": "in1", "createdAt": "2024-05-01T10:00:00Z", "datasetIds": ["ds1"]}]))
    response = h.client.call("ListInputs", LIST_INPUTS)
    assert response.inputs[0].dataset_ids == ["ds1"]
    assert response.inputs[0].created_at.seconds > 0


def test_it_reads_enums_as_names_and_numbers(make_client: Callable[..., Harness]) -> None:
    h = make_client(
        httpx.Response(
            200,
            json={
                "status": {"code": "SUCCESS"},
                "inputs": [{"id": "a", "status": {"code": "INPUT_SUCCESS"}}, {"id": "b", "status": {"code": 30002}}],
            },
        )
    )
    response = h.client.call("ListInputs", LIST_INPUTS)
    assert [i.status.code for i in response.inputs] == [30000, 30002]


def test_it_ignores_unknown_fields(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(inputs=[{"id": "in1", "shiny_new_field": {"x": 1}}], next_page_token="abc"))
    response = h.client.call("ListInputs", LIST_INPUTS)
    assert response.inputs[0].id == "in1"


def test_it_returns_a_mixed_status_to_the_caller(make_client: Callable[..., Harness]) -> None:
    h = make_client(
        httpx.Response(
            200,
            json={
                "status": {"code": 10010, "description": "Mixed Success"},
                "inputs": [{"id": "a", "status": {"code": 30000}}, {"id": "b", "status": {"code": 30002}}],
            },
        )
    )
    response = h.client.call("ListInputs", LIST_INPUTS)
    assert response.status.code == 10010
    assert len(response.inputs) == 2


def test_it_raises_a_status_error_with_the_status_fields(make_client: Callable[..., Harness]) -> None:
    h = make_client(status(11101, 404, "Resource does not exist", "Input 'nope' was not found."))
    with pytest.raises(ClarifaiStatusError) as raised:
        h.client.call("GetInput", service_pb2.GetInputRequest(user_app_id=APP, input_id="nope"))
    error = raised.value
    assert error.code == 11101
    assert error.code_name == "CONN_DOES_NOT_EXIST"
    assert error.description == "Resource does not exist"
    assert error.details == "Input 'nope' was not found."
    assert error.req_id == "req-42"
    assert error.http_status == 404
    assert error.rpc == "GetInput"
    assert error.message == "Resource does not exist: Input 'nope' was not found. (CONN_DOES_NOT_EXIST, 11101)"
    assert str(error) == error.message


def test_it_raises_a_status_error_for_a_failure_in_a_200(make_client: Callable[..., Harness]) -> None:
    h = make_client(status(10020, 200, "Failure"))
    with pytest.raises(ClarifaiStatusError) as raised:
        h.client.call("ListInputs", LIST_INPUTS)
    assert raised.value.code == 10020
    assert raised.value.message == "Failure (FAILURE, 10020)"


def test_it_says_an_html_page_is_not_a_clarifai_api(make_client: Callable[..., Harness]) -> None:
    h = make_client(html(404))
    with pytest.raises(ClarifaiProtocolError) as raised:
        h.client.call("ListInputs", LIST_INPUTS)
    assert raised.value.message == "https://api.example.com did not answer like a Clarifai API (HTTP 404, text/html)."
    assert raised.value.http_status == 404
    assert isinstance(raised.value, ClarifaiError)


def test_it_says_json_without_a_status_is_not_a_clarifai_api(make_client: Callable[..., Harness]) -> None:
    h = make_client(httpx.Response(200, json={"items": []}), httpx.Response(200, json=[1, 2]))
    for _ in range(2):
        with pytest.raises(ClarifaiProtocolError, match="did not answer like a Clarifai API"):
            h.client.call("ListInputs", LIST_INPUTS)


def test_it_mentions_where_a_redirect_pointed(make_client: Callable[..., Harness]) -> None:
    h = make_client(httpx.Response(301, headers={"Location": "https://api.example.com/new/v2/inputs"}))
    with pytest.raises(
        ClarifaiProtocolError, match=r"HTTP 301, no content type, redirected to https://api\.example\.com/new"
    ):
        h.client.call("ListInputs", LIST_INPUTS)


def test_it_raises_a_protocol_error_for_a_body_of_the_wrong_shape(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(inputs="not a list"))
    with pytest.raises(ClarifaiProtocolError, match="does not fit its response"):
        h.client.call("ListInputs", LIST_INPUTS)

"""Data no client could read back is refused before it is written, and a stored row that cannot be
printed does not take a whole list down.

Metadata is a protobuf Struct: nested too deep, no client can decode it; NaN or Infinity, JSON cannot
carry it. The official client sends what it can; raw HTTP sends the bodies it cannot.
"""

import logging
from typing import Any

import pytest
from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from google.protobuf import struct_pb2

from console.localapi.models import App, Concept, Dataset, Input
from console.localapi.wire import MAX_METADATA_DEPTH
from tests.localapi.conftest import Caller
from tests.localapi.test_bad_input import INPUTS, assert_status, raw


def nested(levels: int) -> dict[str, Any]:
    """Metadata `levels` objects deep: nested(1) is {"leaf": 1}."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def struct(data: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(data)
    return message


def add_input(inputs: Any, input_id: str, metadata: dict[str, Any] | None = None) -> None:
    """Build in place: protobuf copies a message by decoding it, which fails past its depth limit."""
    item = inputs.add(id=input_id)
    item.data.text.raw = "t"
    if metadata is not None:
        item.data.metadata.update(metadata)


def post(alice: Caller, *inputs: tuple[str, dict[str, Any] | None]) -> service_pb2.MultiInputResponse:
    request = service_pb2.PostInputsRequest(user_app_id=alice.app_ids("main"))
    for input_id, metadata in inputs:
        add_input(request.inputs, input_id, metadata)
    response: service_pb2.MultiInputResponse = alice.call("PostInputs", request)
    return response


def test_metadata_nested_40_levels_deep_is_refused_and_nothing_is_written(alice: Caller, alice_app: App) -> None:
    response = post(alice, ("ok", None), ("deep", nested(40)))
    assert response.status.code == codes.CONN_INVALID_REQUEST
    assert f"inputs[1].data.metadata is nested deeper than {MAX_METADATA_DEPTH} levels" in response.status.details
    assert not Input.objects.exists()
    # The app still lists, and the client reads the answer.
    listed = alice.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main")))
    assert listed.status.code == codes.SUCCESS


def test_metadata_at_the_depth_limit_is_accepted_and_reads_back(alice: Caller, alice_app: App) -> None:
    assert post(alice, ("edge", nested(MAX_METADATA_DEPTH))).status.code == codes.SUCCESS
    got = alice.call("GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="edge"))
    assert got.status.code == codes.SUCCESS
    assert got.input.data.metadata == struct(nested(MAX_METADATA_DEPTH))


def test_patching_in_metadata_nested_too_deep_is_refused_and_changes_nothing(alice: Caller, alice_app: App) -> None:
    post(alice, ("x", {"keep": "me"}))
    request = service_pb2.PatchInputsRequest(user_app_id=alice.app_ids("main"), action="merge")
    add_input(request.inputs, "x", nested(40))
    response = alice.call("PatchInputs", request)
    assert response.status.code == codes.CONN_INVALID_REQUEST
    assert "inputs[0].data.metadata is nested deeper" in response.status.details
    assert Input.objects.get(input_id="x").metadata == {"keep": "me"}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_nan_or_infinity_in_metadata_is_refused(alice: Caller, alice_app: App, number: str, method: str) -> None:
    post(alice, ("x", {"keep": "me"}))
    body = f'{{"inputs": [{{"id": "{"y" if method == "POST" else "x"}", "data": {{"text": {{"raw": "t"}}, '
    body += f'"metadata": {{"score": {{"value": {number}}}}}}}}}]}}'
    response = raw(alice, method, INPUTS, content=body.encode(), headers={"Content-Type": "application/json"})
    assert_status(response, 400, codes.CONN_INVALID_REQUEST, "inputs[0].data.metadata holds NaN or Infinity")
    assert list(Input.objects.values_list("input_id", "metadata")) == [("x", {"keep": "me"})]


def test_a_body_of_100000_nested_brackets_is_refused(alice: Caller, alice_app: App) -> None:
    body = b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = raw(alice, "POST", INPUTS, content=body, headers={"Content-Type": "application/json"})
    assert_status(response, 400, codes.CONN_BAD_REQUEST_FORMAT, "nested deeper than")
    deep_object = b'{"inputs": [{"data": {"metadata": ' + b'{"a": ' * 900 + b"1" + b"}" * 900 + b"}}]}"
    response = raw(alice, "POST", INPUTS, content=deep_object, headers={"Content-Type": "application/json"})
    assert_status(response, 400, codes.CONN_BAD_REQUEST_FORMAT, "nested deeper than")
    assert not Input.objects.exists()


def test_apps_concepts_and_datasets_refuse_metadata_nested_too_deep(alice: Caller, alice_app: App) -> None:
    deep = nested(40)
    apps = service_pb2.PostAppsRequest()
    apps.apps.add(id="other").metadata.update(deep)
    concepts = service_pb2.PostConceptsRequest(user_app_id=alice.app_ids("main"))
    concepts.concepts.add(id="c").metadata.update(deep)
    datasets = service_pb2.PostDatasetsRequest(user_app_id=alice.app_ids("main"))
    datasets.datasets.add(id="d").metadata.update(deep)
    patch = service_pb2.PatchAppRequest(user_app_id=alice.app_ids("main"), action="merge")
    patch.app.id = "main"
    patch.app.metadata.update(deep)
    for rpc, request in [
        ("PostApps", apps),
        ("PostConcepts", concepts),
        ("PostDatasets", datasets),
        ("PatchApp", patch),
    ]:
        response = alice.call(rpc, request)
        assert response.status.code == codes.CONN_INVALID_REQUEST, response.status
        assert "metadata is nested deeper" in response.status.details
    assert list(App.objects.values_list("app_id", "metadata")) == [("main", {})]
    assert not Concept.objects.exists()
    assert not Dataset.objects.exists()


def test_a_stored_row_that_cannot_be_printed_does_not_take_the_list_down(
    alice: Caller, alice_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows written before the check existed, or by hand: their metadata is left out and logged."""
    post(alice, ("fine", {"a": 1}))
    Input.objects.create(app=alice_app, input_id="deep", kind=Input.TEXT, text="t", metadata=nested(60))
    Input.objects.create(app=alice_app, input_id="list", kind=Input.TEXT, text="t", metadata=["not", "an", "object"])
    Concept.objects.create(app=alice_app, concept_id="c", name="c", metadata=nested(60))

    with caplog.at_level(logging.WARNING, logger="console.localapi"):
        listed = alice.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main")))
        got = alice.call("GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="deep"))
        concepts = alice.call("ListConcepts", service_pb2.ListConceptsRequest(user_app_id=alice.app_ids("main")))

    assert listed.status.code == codes.SUCCESS
    metadata = {i.id: i.data.metadata for i in listed.inputs}
    assert metadata == {"fine": struct({"a": 1}), "deep": struct_pb2.Struct(), "list": struct_pb2.Struct()}
    assert got.status.code == codes.SUCCESS
    assert got.input.id == "deep"
    assert [c.id for c in concepts.concepts] == ["c"]
    assert "left out the stored metadata of input" in caplog.text
    assert "nested deeper than" in caplog.text
    assert "is not a JSON object" in caplog.text


@pytest.mark.parametrize("app", [str(2**63), str(2**64 + 5), "9" * 200])
def test_a_hosted_path_with_an_app_id_past_64_bits_is_not_found(alice: Caller, alice_app: App, app: str) -> None:
    path = f"/v2/hosted/orig/apps/{app}/inputs/image/{'a' * 32}"
    assert_status(raw(alice, "GET", path), 404, codes.CONN_DOES_NOT_EXIST, "no hosted picture")


def test_a_number_of_5000_digits_in_a_body_is_refused(alice: Caller, alice_app: App) -> None:
    body = b'{"inputs": [{"data": {"text": {"raw": "t"}, "metadata": {"n": ' + b"9" * 5000 + b"}}}]}"
    response = raw(alice, "POST", INPUTS, content=body, headers={"Content-Type": "application/json"})
    assert_status(response, 400, codes.CONN_BAD_REQUEST_FORMAT, "not valid JSON")
    assert not Input.objects.exists()

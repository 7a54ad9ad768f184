"""The client's direct JSON reader gives what protobuf's ParseDict gives, on real and on odd answers."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from clarifai_grpc.grpc.api import service_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

from console.clarifai import wire
from console.connections.models import Connection
from console.localapi import dispatch
from console.localapi.models import Input


def reference(data: dict[str, Any], response_class: type[Message]) -> Message:
    return json_format.ParseDict(data, response_class(), ignore_unknown_fields=True)


@pytest.mark.django_db(transaction=True)
def test_it_reads_every_answer_of_the_local_api_as_parsedict_does(
    local: Connection, make_app: Callable[..., str]
) -> None:
    make_app("shapes", texts=3, images=3)
    Input.objects.filter(input_id="text-000").update(status_code=30002, status_details="could not connect")
    key = f"Key {local.token()}"
    answers = {
        "/v2/users/me/apps": service_pb2.MultiAppResponse,
        "/v2/users/me/apps/shapes": service_pb2.SingleAppResponse,
        "/v2/users/me/apps/shapes/inputs": service_pb2.MultiInputResponse,
        "/v2/users/me/apps/shapes/inputs/image-001": service_pb2.SingleInputResponse,
        "/v2/users/me/apps/shapes/inputs/status": service_pb2.SingleInputCountResponse,
        "/v2/users/me/apps/shapes/concepts": service_pb2.MultiConceptResponse,
        "/v2/users/me/apps/shapes/datasets": service_pb2.MultiDatasetResponse,
        "/v2/status_codes": service_pb2.MultiStatusCodeResponse,
        "/v2/users/me/apps/missing/inputs": service_pb2.MultiInputResponse,  # an error answer
    }
    for path, response_class in answers.items():
        data = json.loads(dispatch.handle("GET", path, [], key, b"", "http://x").body)
        assert wire.parse_response(data, response_class) == reference(data, response_class), path


ODD = {
    "status": {"code": "CONN_KEY_INVALID", "description": "No", "reqId": "r1", "percentCompleted": "7"},
    "inputs": [
        {
            "id": "a",
            "createdAt": "2024-01-02T03:04:05.123456Z",
            "data": {
                "image": {"hosted": {"prefix": "p", "suffix": "s", "sizes": ["orig", "tiny"]}},
                "concepts": [{"id": "dog"}, {"id": "cat", "value": 0}, {"id": "x", "value": "0.5"}],
                "metadata": {"n": 3, "nested": {"k": [1, "x", True, None]}, "empty": {}},
                "regions": [{"regionInfo": {"boundingBox": {"topRow": 0.1, "left_col": "0.2"}}}],
                "int_value": "123",
                "bytes_value": "aGVsbG8=",
            },
            "status": {"code": 30000},
            "datasetIds": ["d1", "d2"],
            "unknown_field": {"whatever": 1},
            "settings": None,
        }
    ],
    "somethingNew": [1, 2, 3],
}


def test_it_reads_camel_case_enum_names_numbers_as_strings_nulls_and_unknown_fields_like_parsedict() -> None:
    assert wire.parse_response(ODD, service_pb2.MultiInputResponse) == reference(ODD, service_pb2.MultiInputResponse)


def test_it_reads_wrappers_and_values_like_parsedict() -> None:
    data = {"app": {"id": "a", "isTemplate": True, "metadata": {"x": None}}, "status": {"code": 10000}}
    assert wire.parse_response(data, service_pb2.SingleAppResponse) == reference(data, service_pb2.SingleAppResponse)


@pytest.mark.parametrize(
    "bad",
    [
        {"inputs": [{"id": 5}]},  # a number where a string belongs
        {"inputs": [{"data": {"int_value": "twelve"}}]},
        {"inputs": [{"createdAt": "yesterday"}]},
        {"inputs": "not a list"},
        {"status": {"description": 5}},
    ],
)
def test_a_value_of_the_wrong_kind_raises_protobufs_parse_error(bad: dict[str, Any]) -> None:
    with pytest.raises(json_format.ParseError):
        wire.parse_response(bad, service_pb2.MultiInputResponse)

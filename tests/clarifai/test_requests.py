"""How calls become HTTP requests: routes from the proto bindings, query strings, JSON bodies, headers."""

import json
from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx
import pytest
from clarifai_grpc.channel.custom_converters.custom_message_to_dict import protobuf_to_dict
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2, status_pb2
from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from console.clarifai import ClarifaiClient, wire
from tests.clarifai.conftest import TOKEN, Harness, ok

APP = resources_pb2.UserAppIDSet(user_id="alice", app_id="my-app")


def query(h: Harness) -> list[tuple[str, str]]:
    return parse_qsl(h.api.last.url.query.decode(), keep_blank_values=True)


def test_it_lists_apps_of_the_clients_user(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(apps=[]))
    h.client.call("ListApps", service_pb2.ListAppsRequest(page=1, per_page=20))
    assert h.api.last.method == "GET"
    assert h.api.last.url.path == "/v2/users/alice/apps"
    assert query(h) == [("page", "1"), ("per_page", "20")]


def test_it_lists_apps_of_me_when_the_client_has_no_user_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok()

    with ClarifaiClient("https://api.example.com", TOKEN, transport=httpx.MockTransport(handler)) as client:
        client.call("ListApps", service_pb2.ListAppsRequest())
    assert seen[0].url.path == "/v2/users/me/apps"


def test_it_gets_an_app_with_ids_only_in_the_path(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(app={"id": "my-app"}))
    h.client.call("GetApp", service_pb2.GetAppRequest(user_app_id=APP))
    assert h.api.last.method == "GET"
    assert h.api.last.url.path == "/v2/users/alice/apps/my-app"
    assert query(h) == []


def test_it_lists_inputs_with_dotted_and_repeated_keys_and_no_defaults(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok())
    h.client.call(
        "ListInputs",
        service_pb2.ListInputsRequest(
            user_app_id=APP,
            page=2,
            per_page=128,
            ids=["a", "b"],
            status=status_pb2.Status(code=status_code_pb2.INPUT_DOWNLOAD_SUCCESS),
        ),
    )
    assert h.api.last.url.path == "/v2/users/alice/apps/my-app/inputs"
    assert sorted(query(h)) == sorted(
        [("page", "2"), ("per_page", "128"), ("ids", "a"), ("ids", "b"), ("status.code", "30000")]
    )


def test_it_leaves_default_values_out_of_the_query(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok())
    h.client.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP, page=0, ids=[]))
    assert query(h) == []


def test_it_sends_booleans_as_true_and_false(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok())
    h.client.call("ListAnnotations", service_pb2.ListAnnotationsRequest(user_app_id=APP, list_all_annotations=True))
    assert ("list_all_annotations", "true") in query(h)


def test_it_escapes_an_input_id_in_the_path(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(input={"id": "a b/c?d"}))
    h.client.call("GetInput", service_pb2.GetInputRequest(user_app_id=APP, input_id="a b/c?d"))
    assert h.api.last.url.raw_path == b"/v2/users/alice/apps/my-app/inputs/a%20b%2Fc%3Fd"


def test_it_falls_back_to_the_short_route_without_an_app_id(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok())
    h.client.call("ListInputs", service_pb2.ListInputsRequest(per_page=3))
    assert h.api.last.url.path == "/v2/inputs"
    assert query(h) == [("per_page", "3")]


def test_it_posts_inputs_as_a_snake_case_json_body(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(inputs=[]))
    request = service_pb2.PostInputsRequest(
        user_app_id=APP,
        inputs=[
            resources_pb2.Input(
                id="in1",
                data=resources_pb2.Data(
                    image=resources_pb2.Image(url="https://x.test/a.jpg", allow_duplicate_url=True)
                ),
                dataset_ids=["ds1"],
            )
        ],
    )
    h.client.call("PostInputs", request)
    assert h.api.last.method == "POST"
    assert h.api.last.url.path == "/v2/users/alice/apps/my-app/inputs"
    assert h.api.last.headers["Content-Type"] == "application/json"
    assert h.api.body() == {
        "inputs": [
            {
                "id": "in1",
                "data": {"image": {"url": "https://x.test/a.jpg", "allow_duplicate_url": True}},
                "dataset_ids": ["ds1"],
            }
        ]
    }


def test_it_patches_inputs(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(inputs=[]))
    h.client.call(
        "PatchInputs",
        service_pb2.PatchInputsRequest(user_app_id=APP, inputs=[resources_pb2.Input(id="in1")], action="merge"),
    )
    assert h.api.last.method == "PATCH"
    assert h.api.last.url.path == "/v2/users/alice/apps/my-app/inputs"
    assert h.api.body() == {"inputs": [{"id": "in1"}], "action": "merge"}


def test_it_sends_a_json_body_on_delete(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok())
    h.client.call("DeleteInputs", service_pb2.DeleteInputsRequest(user_app_id=APP, ids=["in1", "in2"]))
    assert h.api.last.method == "DELETE"
    assert h.api.last.url.path == "/v2/users/alice/apps/my-app/inputs"
    assert h.api.body() == {"ids": ["in1", "in2"]}


def test_it_counts_inputs_at_inputs_status(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(counts={"processed": 3}))
    response = h.client.call("GetInputCount", service_pb2.GetInputCountRequest(user_app_id=APP))
    assert h.api.last.url.path == "/v2/users/alice/apps/my-app/inputs/status"
    assert response.counts.processed == 3


def test_it_lists_concepts(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(concepts=[]))
    h.client.call("ListConcepts", service_pb2.ListConceptsRequest(user_app_id=APP, per_page=50))
    assert h.api.last.method == "GET"
    assert h.api.last.url.path == "/v2/users/alice/apps/my-app/concepts"
    assert query(h) == [("per_page", "50")]


def test_it_posts_a_concept_search(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(concepts=[]))
    request = service_pb2.PostConceptsSearchesRequest(
        user_app_id=APP,
        concept_query=resources_pb2.ConceptQuery(name="do"),
        pagination=service_pb2.Pagination(page=1, per_page=10),
    )
    h.client.call("PostConceptsSearches", request)
    assert h.api.last.method == "POST"
    assert h.api.last.url.path == "/v2/users/alice/apps/my-app/concepts/searches"
    assert h.api.body() == {"concept_query": {"name": "do"}, "pagination": {"page": 1, "per_page": 10}}


def test_it_sends_a_concept_value_of_zero(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(inputs=[]))
    concepts = [resources_pb2.Concept(id="train", value=1.0), resources_pb2.Concept(id="dog", value=0.0)]
    request = service_pb2.PostInputsRequest(
        user_app_id=APP,
        inputs=[
            resources_pb2.Input(id="in1", data=resources_pb2.Data(text=resources_pb2.Text(raw="hi"), concepts=concepts))
        ],
    )
    h.client.call("PostInputs", request)
    assert h.api.body()["inputs"][0]["data"]["concepts"] == [{"id": "train", "value": 1.0}, {"id": "dog", "value": 0.0}]


def test_it_sends_the_token_in_the_authorization_header_only(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok())
    h.client.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP))
    request = h.api.last
    assert request.headers["Authorization"] == f"Key {TOKEN}"
    assert TOKEN not in str(request.url)
    assert [name for name, value in request.headers.items() if TOKEN in value] == ["authorization"]


def test_it_refuses_a_request_message_of_the_wrong_type(make_client: Callable[..., Harness]) -> None:
    h = make_client()
    with pytest.raises(TypeError, match="ListInputsRequest"):
        h.client.call("ListInputs", service_pb2.ListAppsRequest())
    assert h.api.requests == []


def test_it_refuses_an_unknown_rpc(make_client: Callable[..., Harness]) -> None:
    h = make_client()
    with pytest.raises(ValueError, match="PostDatasetVersionsExports"):
        h.client.call("PostDatasetVersionsExports", service_pb2.ListAppsRequest())


def test_it_refuses_a_route_it_cannot_fill(make_client: Callable[..., Harness]) -> None:
    h = make_client()
    with pytest.raises(ValueError, match="input_id"):
        h.client.call("GetInput", service_pb2.GetInputRequest(user_app_id=APP))


def test_it_refuses_a_list_of_messages_in_a_query_string(make_client: Callable[..., Harness]) -> None:
    h = make_client()
    with pytest.raises(ValueError, match="statuses"):
        h.client.call(
            "ListAnnotations",
            service_pb2.ListAnnotationsRequest(
                user_app_id=APP, statuses=[status_pb2.Status(code=status_code_pb2.ANNOTATION_SUCCESS)]
            ),
        )
    assert h.api.requests == []


@pytest.mark.parametrize("base_url", ["", "api.example.com", "ftp://api.example.com", "http://"])
def test_it_refuses_a_base_url_that_is_not_http(base_url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        ClarifaiClient(base_url, TOKEN)


def test_it_keeps_a_path_prefix_of_the_base_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok()

    with ClarifaiClient("http://gateway.test/clarifai/", TOKEN, transport=httpx.MockTransport(handler)) as client:
        client.call("GetApp", service_pb2.GetAppRequest(user_app_id=APP))
    assert seen[0].url.path == "/clarifai/v2/users/alice/apps/my-app"


@pytest.mark.parametrize("input_id", [".", ".."])
def test_it_keeps_a_dot_id_from_climbing_out_of_its_path(make_client: Callable[..., Harness], input_id: str) -> None:
    h = make_client(ok())
    h.client.call("DeleteInput", service_pb2.DeleteInputRequest(user_app_id=APP, input_id=input_id))
    assert h.api.last.url.raw_path == b"/v2/users/alice/apps/my-app/inputs/" + b"%2E" * len(input_id)


def _varied_messages() -> list[tuple[str, Message]]:
    """Requests with what the printer treats specially: a 0.0 concept value, empty and nested Structs,
    bytes, enums, timestamps, large integers, oneofs and repeated messages."""
    metadata = struct_pb2.Struct()
    metadata.update({"split": "test", "empty": {}, "nested": {"list": [1, "two", None, True], "deep": {"x": 0.5}}})
    created = timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=123_000_000)
    inputs = [
        resources_pb2.Input(
            id=f"in-{n}",
            data=resources_pb2.Data(
                image=resources_pb2.Image(base64=bytes(range(n, n + 40)), url="" if n else "https://x/y.png"),
                concepts=[resources_pb2.Concept(id="star", value=0.0), resources_pb2.Concept(id="moon", value=0.25)],
                metadata=metadata,
            ),
            created_at=created,
            dataset_ids=["a", "b"],
        )
        for n in range(3)
    ]
    return [
        ("PostInputs", service_pb2.PostInputsRequest(user_app_id=APP, inputs=inputs)),
        ("PatchInputs", service_pb2.PatchInputsRequest(user_app_id=APP, action="remove", inputs=inputs[:1])),
        (
            "PostBulkOperations",
            service_pb2.PostBulkOperationsRequest(
                user_app_id=APP,
                bulk_operations=[
                    resources_pb2.BulkOperation(
                        id="op",
                        input_ids=resources_pb2.InputIDs(input_ids=["a"]),
                        operation=resources_pb2.Operation(
                            delete_metadata=resources_pb2.DeleteMetadata(metadata=metadata)
                        ),
                    )
                ],
            ),
        ),
        (
            "PostAnnotationsSearches",
            service_pb2.PostAnnotationsSearchesRequest(
                user_app_id=APP,
                searches=[
                    resources_pb2.Search(
                        query=resources_pb2.Query(
                            filters=[
                                resources_pb2.Filter(
                                    annotation=resources_pb2.Annotation(
                                        data=resources_pb2.Data(concepts=[resources_pb2.Concept(name="x", value=0)]),
                                        status=status_pb2.Status(code=status_code_pb2.ANNOTATION_SUCCESS),
                                    ),
                                    negate=True,
                                )
                            ]
                        )
                    )
                ],
                pagination=service_pb2.Pagination(page=2, per_page=64),
            ),
        ),
        (
            "PostModelVersions",
            service_pb2.PostModelVersionsRequest(
                user_app_id=APP,
                model_id="m",
                model_versions=[
                    resources_pb2.ModelVersion(
                        id="v",
                        output_info=resources_pb2.OutputInfo(params=metadata),
                        train_info=resources_pb2.TrainInfo(params=metadata),
                        total_input_count=2**31,
                    )
                ],
            ),
        ),
    ]


def test_the_json_body_is_what_clarifai_grpcs_own_printer_makes() -> None:
    for name, request in _varied_messages():
        body = json.loads(wire.prepare(name, request).body or b"")
        rest = type(request)()
        rest.CopyFrom(request)
        for in_the_path in ("user_app_id", "model_id"):
            if in_the_path in rest.DESCRIPTOR.fields_by_name:
                rest.ClearField(in_the_path)
        assert body == protobuf_to_dict(rest, use_integers_for_enums=False, ignore_show_empty=True), name

"""Bulk operations through the official clarifai-grpc JSON client, against the live local API.

Tasks run eagerly here (after the request's transaction commits), so an operation has ended by the time
PostBulkOperations answers; tests/localapi/test_bulk_worker.py runs them in real worker processes.
"""

from typing import Any

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from google.protobuf.struct_pb2 import Struct

from console.localapi.models import App, BulkChunk, Input
from tests.localapi.conftest import Caller


def struct(values: dict[str, Any]) -> Struct:
    s = Struct()
    s.update(values)
    return s


@pytest.fixture
def inputs(alice: Caller, alice_app: App) -> None:
    alice.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(user_app_id=alice.app_ids("main"), datasets=[r.Dataset(id="train")]),
    )
    response = alice.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=alice.app_ids("main"),
            inputs=[
                r.Input(
                    id=name,
                    dataset_ids=["train"] if name in ("a", "b") else [],
                    data=r.Data(
                        text=r.Text(raw=name),
                        concepts=[r.Concept(id="star", value=1.0)] if name == "a" else [],
                        metadata=struct({"split": "train" if name in ("a", "b") else "test", "info": {"n": 1, "m": 2}}),
                    ),
                )
                for name in ("a", "b", "c")
            ],
        ),
    )
    assert response.status.code == codes.SUCCESS, response.status


def post(alice: Caller, **fields: Any) -> r.BulkOperation:
    response = alice.call(
        "PostBulkOperations",
        service_pb2.PostBulkOperationsRequest(
            user_app_id=alice.app_ids("main"), bulk_operations=[r.BulkOperation(**fields)]
        ),
    )
    assert response.status.code == codes.SUCCESS, response.status
    return get(alice, response.bulk_operation[0].id)


def get(alice: Caller, operation_id: str) -> r.BulkOperation:
    response = alice.call(
        "GetBulkOperation", service_pb2.GetBulkOperationRequest(user_app_id=alice.app_ids("main"), id=operation_id)
    )
    assert response.status.code == codes.SUCCESS, response.status
    operation: r.BulkOperation = response.bulk_operation
    return operation


def ids(*names: str) -> r.InputIDs:
    return r.InputIDs(input_ids=list(names))


def read(alice: Caller, input_id: str) -> r.Input:
    found: r.Input = alice.call(
        "GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id=input_id)
    ).input
    return found


def labels(alice: Caller, input_id: str) -> dict[str, float]:
    return {c.id: c.value for c in read(alice, input_id).data.concepts}


def test_it_adds_positive_and_negative_concepts_to_the_inputs_given(alice: Caller, inputs: None) -> None:
    operation = r.Operation(
        add_concepts=r.AddConcepts(concepts=[r.Concept(id="moon", value=1), r.Concept(id="star", value=0)])
    )
    done = post(alice, id="label", input_ids=ids("a", "b"), operation=operation)
    assert done.id == "label"
    assert done.status.code == codes.BULK_OPERATION_SUCCESS
    assert done.progress.processed == 2
    assert done.progress.last_processed_id == "b"
    assert done.created_by == "alice"
    assert list(done.input_ids.input_ids) == ["a", "b"]
    assert done.operation.add_concepts.concepts[0].id == "moon"
    assert labels(alice, "a") == {"moon": 1.0, "star": 0.0}
    assert labels(alice, "b") == {"moon": 1.0, "star": 0.0}
    assert labels(alice, "c") == {}


def test_it_deletes_concepts_from_the_inputs_a_search_finds(alice: Caller, inputs: None) -> None:
    search = r.Search(query=r.Query(filters=[r.Filter(input=r.Input(dataset_ids=["train"]))]))
    operation = r.Operation(delete_concepts=r.DeleteConcepts(concepts=[r.Concept(id="star")]))
    done = post(alice, search=search, operation=operation)
    assert done.status.code == codes.BULK_OPERATION_SUCCESS
    assert done.progress.processed == 2
    assert done.search.query.filters[0].input.dataset_ids == ["train"]
    assert labels(alice, "a") == {}


def test_it_merges_metadata_keys_and_deletes_them(alice: Caller, inputs: None) -> None:
    added = post(
        alice,
        input_ids=ids("a", "c"),
        operation=r.Operation(add_metadata=r.AddMetadata(metadata=struct({"split": "val", "info": {"n": 5}}))),
    )
    assert added.status.code == codes.BULK_OPERATION_SUCCESS
    assert read(alice, "a").data.metadata == struct({"split": "val", "info": {"n": 5, "m": 2}})
    assert read(alice, "b").data.metadata["split"] == "train"
    removed = post(
        alice,
        input_ids=ids("a"),
        operation=r.Operation(delete_metadata=r.DeleteMetadata(metadata=struct({"info": {"m": None}, "split": None}))),
    )
    assert removed.status.code == codes.BULK_OPERATION_SUCCESS
    assert read(alice, "a").data.metadata == struct({"info": {"n": 5}})


def test_it_adds_to_and_removes_from_a_dataset_given_as_the_source(alice: Caller, inputs: None) -> None:
    alice.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(user_app_id=alice.app_ids("main"), datasets=[r.Dataset(id="gold")]),
    )
    added = post(
        alice, dataset=r.Dataset(id="train"), operation=r.Operation(add_to_dataset=r.AddToDataset(dataset_id="gold"))
    )
    assert added.status.code == codes.BULK_OPERATION_SUCCESS
    assert added.dataset.id == "train"
    assert list(read(alice, "a").dataset_ids) == ["train", "gold"]
    removed = post(
        alice,
        input_ids=ids("a", "c"),
        operation=r.Operation(delete_from_dataset=r.DeleteFromDataset(dataset_id="train")),
    )
    assert removed.status.code == codes.BULK_OPERATION_SUCCESS
    assert list(read(alice, "a").dataset_ids) == ["gold"]
    assert list(read(alice, "b").dataset_ids) == ["train", "gold"]


def test_it_splits_inputs_into_datasets_by_percentage(alice: Caller, inputs: None, alice_app: App) -> None:
    Input.objects.bulk_create(Input(app=alice_app, input_id=f"n{n}", kind=Input.TEXT) for n in range(400))
    alice.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(
            user_app_id=alice.app_ids("main"), datasets=[r.Dataset(id="fit"), r.Dataset(id="check")]
        ),
    )
    split = r.SplitIntoDatasets(
        dataset_splits=[
            r.DatasetSplit(dataset=r.Dataset(id="fit"), percentage=75),
            r.DatasetSplit(dataset=r.Dataset(id="check"), percentage=25),
        ],
        method=r.SplitIntoDatasets.RANDOM_PERCENTAGE_SPLIT,
    )
    done = post(alice, search=r.Search(query=r.Query()), operation=r.Operation(split_into_datasets=split))
    assert done.status.code == codes.BULK_OPERATION_SUCCESS
    assert done.progress.processed == 403
    fit = Input.objects.filter(datasets__dataset_id="fit").count()
    check = Input.objects.filter(datasets__dataset_id="check").count()
    assert fit + check == 403
    assert 250 < fit < 350


def test_an_operation_on_zero_matches_succeeds_with_nothing_done(alice: Caller, inputs: None) -> None:
    search = r.Search(
        query=r.Query(
            filters=[r.Filter(annotation=r.Annotation(data=r.Data(concepts=[r.Concept(id="comet", value=1)])))]
        )
    )
    done = post(
        alice, search=search, operation=r.Operation(add_concepts=r.AddConcepts(concepts=[r.Concept(id="x", value=1)]))
    )
    assert done.status.code == codes.BULK_OPERATION_SUCCESS
    assert done.progress.processed == 0
    assert "No input matched" in done.status.details


def test_ids_that_no_input_has_are_reported_as_skipped(alice: Caller, inputs: None) -> None:
    done = post(
        alice,
        input_ids=ids("a", "gone"),
        operation=r.Operation(add_concepts=r.AddConcepts(concepts=[r.Concept(id="x", value=1)])),
    )
    assert done.status.code == codes.BULK_OPERATION_SUCCESS
    assert done.progress.processed == 1
    assert "1 inputs changed; 1 skipped" in done.status.details


def test_it_lists_newest_first_and_pages(alice: Caller, inputs: None) -> None:
    for name in ("one", "two", "three"):
        post(
            alice,
            id=name,
            input_ids=ids("a"),
            operation=r.Operation(add_concepts=r.AddConcepts(concepts=[r.Concept(id=name, value=1)])),
        )
    listed = alice.call(
        "ListBulkOperations", service_pb2.ListBulkOperationsRequest(user_app_id=alice.app_ids("main"), per_page=2)
    )
    assert [b.id for b in listed.bulk_operation] == ["three", "two"]
    assert all(b.status.code == codes.BULK_OPERATION_SUCCESS for b in listed.bulk_operation)
    page_2 = alice.call(
        "ListBulkOperations",
        service_pb2.ListBulkOperationsRequest(user_app_id=alice.app_ids("main"), page=2, per_page=2),
    )
    assert [b.id for b in page_2.bulk_operation] == ["one"]


def test_an_operation_that_ended_cannot_be_cancelled(alice: Caller, inputs: None) -> None:
    post(
        alice,
        id="quick",
        input_ids=ids("a"),
        operation=r.Operation(add_concepts=r.AddConcepts(concepts=[r.Concept(id="x", value=1)])),
    )
    ended = alice.call(
        "CancelBulkOperations", service_pb2.CancelBulkOperationRequest(user_app_id=alice.app_ids("main"), ids=["quick"])
    )
    assert ended.status.code == codes.BULK_OPERATION_INVALID_REQUEST
    assert "already ended" in ended.status.details
    assert get(alice, "quick").status.code == codes.BULK_OPERATION_SUCCESS


def test_ended_operations_can_be_deleted(alice: Caller, inputs: None) -> None:
    post(
        alice,
        id="old",
        input_ids=ids("a"),
        operation=r.Operation(add_concepts=r.AddConcepts(concepts=[r.Concept(id="x", value=1)])),
    )
    deleted = alice.call(
        "DeleteBulkOperations", service_pb2.DeleteBulkOperationRequest(user_app_id=alice.app_ids("main"), ids=["old"])
    )
    assert deleted.status.code == codes.SUCCESS
    missing = alice.call(
        "GetBulkOperation", service_pb2.GetBulkOperationRequest(user_app_id=alice.app_ids("main"), id="old")
    )
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST


def test_every_chunk_is_applied_once(alice: Caller, inputs: None, settings: Any) -> None:
    settings.LOCALAPI_BULK_CHUNK_SIZE = 1
    post(
        alice,
        id="chunked",
        input_ids=ids("a", "b", "c"),
        operation=r.Operation(add_concepts=r.AddConcepts(concepts=[r.Concept(id="x", value=1)])),
    )
    assert list(BulkChunk.objects.order_by("number").values_list("applied", "changed")) == [(1, 1)] * 3


def raw_post(alice: Caller, operation: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{alice.base_url}/v2/users/me/apps/main/bulk_operations",
        headers={"Authorization": f"Key {alice.token}"},
        json={"bulk_operations": [operation]},
    )


ADD = {"add_concepts": {"concepts": [{"id": "x", "value": 1}]}}


@pytest.mark.parametrize(
    ("operation", "code", "details"),
    [
        ({"operation": ADD}, codes.BULK_OPERATION_INVALID_REQUEST, "no input source"),
        ({"input_ids": {"input_ids": ["a"]}}, codes.BULK_OPERATION_INVALID_REQUEST, "no operation"),
        ({"input_ids": {"input_ids": []}, "operation": ADD}, codes.BULK_OPERATION_INVALID_REQUEST, "is empty"),
        (
            {"input_ids": {"input_ids": ["a"]}, "operation": {"delete_geo": {}}},
            codes.BULK_OPERATION_INVALID_REQUEST,
            "delete_geo is not supported",
        ),
        (
            {"input_ids": {"input_ids": ["a"]}, "operation": {"add_to_dataset": {"dataset_id": "nope"}}},
            codes.CONN_DOES_NOT_EXIST,
            "nope",
        ),
        ({"dataset": {"id": "nope"}, "operation": ADD}, codes.CONN_DOES_NOT_EXIST, "nope"),
        (
            {"input_ids": {"input_ids": ["a"]}, "operation": {"add_metadata": {"metadata": {}}}},
            codes.BULK_OPERATION_INVALID_REQUEST,
            "metadata is empty",
        ),
        (
            {
                "input_ids": {"input_ids": ["a"]},
                "operation": {"add_concepts": {"concepts": [{"id": "x", "value": 0.5}]}},
            },
            codes.BULK_OPERATION_INVALID_REQUEST,
            "value 0.5",
        ),
        (
            {"search": {"query": {"ranks": [{"annotation": {"data": {"text": {"raw": "x"}}}}]}}, "operation": ADD},
            codes.SEARCH_INVALID_REQUEST,
            "ranks",
        ),
        (
            {"input_ids": {"input_ids": ["a"]}, "operation": {"add_metadata": {"metadata": "split"}}},
            codes.CONN_BAD_REQUEST_FORMAT,
            "metadata",
        ),
        (
            {
                "input_ids": {"input_ids": ["a"]},
                "operation": {
                    "split_into_datasets": {
                        "dataset_splits": [
                            {"dataset": {"id": "train"}, "percentage": 60},
                            {"dataset": {"id": "other"}, "percentage": 30},
                        ],
                        "method": "RANDOM_PERCENTAGE_SPLIT",
                    }
                },
            },
            codes.BULK_OPERATION_INVALID_REQUEST,
            "add up to 100",
        ),
    ],
)
def test_an_operation_it_cannot_run_is_refused_and_nothing_is_queued(
    alice: Caller, inputs: None, operation: dict[str, Any], code: int, details: str
) -> None:
    response = raw_post(alice, operation)
    assert 400 <= response.status_code < 500, response.text
    status = response.json()["status"]
    assert status["code"] == code, status
    assert details in status["details"], status
    assert not Input.objects.filter(input_concepts__concept__concept_id="x").exists()


def test_an_id_used_twice_is_refused(alice: Caller, inputs: None) -> None:
    post(
        alice,
        id="same",
        input_ids=ids("a"),
        operation=r.Operation(add_concepts=r.AddConcepts(concepts=[r.Concept(id="x", value=1)])),
    )
    response = raw_post(alice, {"id": "same", "input_ids": {"input_ids": ["a"]}, "operation": ADD})
    assert response.status_code == 409

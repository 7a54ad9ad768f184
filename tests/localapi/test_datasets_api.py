"""Datasets and dataset inputs through the official clarifai-grpc JSON client, against the live local API."""

from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from google.protobuf.struct_pb2 import Struct

from console.localapi.models import App, DatasetInput, Input
from tests.localapi.conftest import Caller, MakeCaller


def struct(values: dict[str, Any]) -> Struct:
    s = Struct()
    s.update(values)
    return s


def make_datasets(alice: Caller, *datasets: r.Dataset) -> Any:
    return alice.call(
        "PostDatasets", service_pb2.PostDatasetsRequest(user_app_id=alice.app_ids("main"), datasets=list(datasets))
    )


@pytest.fixture
def texts(alice: Caller, alice_app: App) -> None:
    response = alice.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=alice.app_ids("main"),
            inputs=[r.Input(id=name, data=r.Data(text=r.Text(raw=name))) for name in ("a", "b", "c")],
        ),
    )
    assert response.status.code == codes.SUCCESS, response.status


def test_it_creates_gets_lists_and_searches_datasets(alice: Caller, alice_app: App) -> None:
    made = make_datasets(
        alice,
        r.Dataset(id="train", description="Training", notes="from the field", metadata=struct({"owner": "ops"})),
        r.Dataset(id="test"),
    )
    assert made.status.code == codes.SUCCESS, made.status
    assert [d.id for d in made.datasets] == ["train", "test"]
    got = alice.call("GetDataset", service_pb2.GetDatasetRequest(user_app_id=alice.app_ids("main"), dataset_id="train"))
    assert got.dataset.description == "Training"
    assert got.dataset.notes == "from the field"
    assert got.dataset.metadata == struct({"owner": "ops"})
    assert got.dataset.app_id == "main" and got.dataset.user_id == "alice"
    listed = alice.call("ListDatasets", service_pb2.ListDatasetsRequest(user_app_id=alice.app_ids("main")))
    assert [d.id for d in listed.datasets] == ["test", "train"]  # newest first
    by_id = alice.call(
        "ListDatasets",
        service_pb2.ListDatasetsRequest(user_app_id=alice.app_ids("main"), sort_by_id=True, sort_ascending=True),
    )
    assert [d.id for d in by_id.datasets] == ["test", "train"]
    found = alice.call("ListDatasets", service_pb2.ListDatasetsRequest(user_app_id=alice.app_ids("main"), search="rai"))
    assert [d.id for d in found.datasets] == ["train"]
    paged = alice.call(
        "ListDatasets", service_pb2.ListDatasetsRequest(user_app_id=alice.app_ids("main"), page=2, per_page=1)
    )
    assert [d.id for d in paged.datasets] == ["train"]


def test_it_refuses_a_taken_id_and_a_bad_one_adding_nothing(alice: Caller, alice_app: App) -> None:
    make_datasets(alice, r.Dataset(id="train"))
    again = make_datasets(alice, r.Dataset(id="fresh"), r.Dataset(id="train"))
    assert again.status.code == codes.DATABASE_DUPLICATE_KEY
    assert "train" in again.status.details
    bad = make_datasets(alice, r.Dataset(id="no spaces"))
    assert bad.status.code == codes.CONN_INVALID_REQUEST
    assert "not a valid id" in bad.status.details
    assert set(alice_app.datasets.values_list("dataset_id", flat=True)) == {"train"}


def test_a_missing_dataset_is_not_found(alice: Caller, alice_app: App) -> None:
    got = alice.call("GetDataset", service_pb2.GetDatasetRequest(user_app_id=alice.app_ids("main"), dataset_id="nope"))
    assert got.status.code == codes.CONN_DOES_NOT_EXIST
    assert "'nope' does not exist" in got.status.details


def test_it_patches_datasets_by_merge_overwrite_and_remove(alice: Caller, alice_app: App) -> None:
    make_datasets(alice, r.Dataset(id="train", description="Old", notes="n", metadata=struct({"a": 1, "b": {"c": 2}})))

    def patch(action: str, **fields: Any) -> r.Dataset:
        response = alice.call(
            "PatchDatasets",
            service_pb2.PatchDatasetsRequest(
                user_app_id=alice.app_ids("main"), action=action, datasets=[r.Dataset(id="train", **fields)]
            ),
        )
        assert response.status.code == codes.SUCCESS, response.status
        dataset: r.Dataset = response.datasets[0]
        return dataset

    merged = patch("merge", description="New", metadata=struct({"b": {"d": 3}}))
    assert (merged.description, merged.notes) == ("New", "n")
    assert merged.metadata == struct({"a": 1, "b": {"c": 2, "d": 3}})
    removed = patch("remove", metadata=struct({"b": {"c": None}}))
    assert removed.metadata == struct({"a": 1, "b": {"d": 3}})
    overwritten = patch("overwrite", description="Only this")
    assert (overwritten.description, overwritten.notes) == ("Only this", "")
    assert overwritten.metadata == struct({})


def test_patching_a_missing_dataset_changes_none(alice: Caller, alice_app: App) -> None:
    make_datasets(alice, r.Dataset(id="train", description="Old"))
    response = alice.call(
        "PatchDatasets",
        service_pb2.PatchDatasetsRequest(
            user_app_id=alice.app_ids("main"),
            action="merge",
            datasets=[r.Dataset(id="train", description="New"), r.Dataset(id="ghost", description="x")],
        ),
    )
    assert response.status.code == codes.CONN_DOES_NOT_EXIST
    assert "'ghost'" in response.status.details
    assert alice_app.datasets.get().description == "Old"
    bad_action = alice.call(
        "PatchDatasets",
        service_pb2.PatchDatasetsRequest(
            user_app_id=alice.app_ids("main"), action="replace", datasets=[r.Dataset(id="train")]
        ),
    )
    assert bad_action.status.code == codes.CONN_INVALID_REQUEST
    assert "merge, overwrite, remove" in bad_action.status.details


def test_it_deletes_datasets_and_keeps_their_inputs(alice: Caller, alice_app: App, texts: None) -> None:
    make_datasets(alice, r.Dataset(id="train"), r.Dataset(id="test"))
    alice.call(
        "PostDatasetInputs",
        service_pb2.PostDatasetInputsRequest(
            user_app_id=alice.app_ids("main"),
            dataset_id="train",
            dataset_inputs=[r.DatasetInput(input=r.Input(id="a"))],
        ),
    )
    missing = alice.call(
        "DeleteDatasets",
        service_pb2.DeleteDatasetsRequest(user_app_id=alice.app_ids("main"), dataset_ids=["train", "x"]),
    )
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST
    assert alice_app.datasets.count() == 2
    deleted = alice.call(
        "DeleteDatasets", service_pb2.DeleteDatasetsRequest(user_app_id=alice.app_ids("main"), dataset_ids=["train"])
    )
    assert deleted.status.code == codes.SUCCESS, deleted.status
    assert list(alice_app.datasets.values_list("dataset_id", flat=True)) == ["test"]
    assert Input.objects.filter(app=alice_app).count() == 3
    assert not DatasetInput.objects.exists()


def add(alice: Caller, dataset_id: str, *input_ids: str) -> Any:
    return alice.call(
        "PostDatasetInputs",
        service_pb2.PostDatasetInputsRequest(
            user_app_id=alice.app_ids("main"),
            dataset_id=dataset_id,
            dataset_inputs=[r.DatasetInput(input=r.Input(id=i)) for i in input_ids],
        ),
    )


def members(alice: Caller, dataset_id: str, **paging: int) -> list[str]:
    response = alice.call(
        "ListDatasetInputs",
        service_pb2.ListDatasetInputsRequest(user_app_id=alice.app_ids("main"), dataset_id=dataset_id, **paging),
    )
    assert response.status.code == codes.SUCCESS, response.status
    return [d.input.id for d in response.dataset_inputs]


def test_it_adds_lists_and_removes_dataset_inputs(alice: Caller, alice_app: App, texts: None) -> None:
    make_datasets(alice, r.Dataset(id="train"))
    added = add(alice, "train", "a", "b")
    assert added.status.code == codes.SUCCESS, added.status
    assert [d.input.status.code for d in added.dataset_inputs] == [codes.DATASET_INPUT_SUCCESS] * 2
    assert added.dataset_inputs[0].input.data.text.raw == "a"
    assert added.dataset_inputs[0].created_at.seconds > 0
    add(alice, "train", "c")
    assert members(alice, "train") == ["c", "b", "a"]  # the most recently added first
    assert members(alice, "train", page=2, per_page=2) == ["a"]
    got = alice.call("GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="a"))
    assert list(got.input.dataset_ids) == ["train"]
    one = alice.call(
        "GetDatasetInput",
        service_pb2.GetDatasetInputRequest(user_app_id=alice.app_ids("main"), dataset_id="train", input_id="a"),
    )
    assert one.dataset_input.input.data.text.raw == "a"
    outside = alice.call(
        "GetDatasetInput",
        service_pb2.GetDatasetInputRequest(user_app_id=alice.app_ids("main"), dataset_id="train", input_id="zzz"),
    )
    assert outside.status.code == codes.CONN_DOES_NOT_EXIST
    removed = alice.call(
        "DeleteDatasetInputs",
        service_pb2.DeleteDatasetInputsRequest(
            user_app_id=alice.app_ids("main"), dataset_id="train", input_ids=["a", "never-there"]
        ),
    )
    assert removed.status.code == codes.SUCCESS, removed.status
    assert members(alice, "train") == ["c", "b"]
    assert Input.objects.filter(app=alice_app, input_id="a").exists()


def test_adding_some_unknown_inputs_is_a_mixed_status_with_each_inputs_own(
    alice: Caller, alice_app: App, texts: None
) -> None:
    make_datasets(alice, r.Dataset(id="train"))
    add(alice, "train", "a")
    response = add(alice, "train", "a", "b", "ghost")
    assert response.status.code == codes.MIXED_STATUS
    assert "2 of 3 inputs are in dataset 'train' now" in response.status.details
    statuses = {d.input.id: d.input.status for d in response.dataset_inputs}
    assert statuses["a"].code == codes.DATASET_INPUT_DUPLICATE
    assert statuses["b"].code == codes.DATASET_INPUT_SUCCESS
    assert statuses["ghost"].code == codes.INPUT_DOES_NOT_EXIST
    assert "no input 'ghost'" in statuses["ghost"].details
    assert sorted(members(alice, "train")) == ["a", "b"]
    again = add(alice, "train", "a", "b")  # sent again, say after a lost answer: nothing to add, no failure
    assert again.status.code == codes.SUCCESS
    assert {d.input.status.code for d in again.dataset_inputs} == {codes.DATASET_INPUT_DUPLICATE}
    none = add(alice, "train", "ghost")
    assert none.status.code == codes.FAILURE
    assert none.dataset_inputs[0].input.status.code == codes.INPUT_DOES_NOT_EXIST


def test_it_adds_the_inputs_a_search_finds_by_a_bulk_operation(alice: Caller, alice_app: App, texts: None) -> None:
    make_datasets(alice, r.Dataset(id="train"))
    search = r.Search(query=r.Query(filters=[r.Filter(input=r.Input(id="b"))]))
    response = alice.call(
        "PostDatasetInputs",
        service_pb2.PostDatasetInputsRequest(user_app_id=alice.app_ids("main"), dataset_id="train", search=search),
    )
    assert response.status.code == codes.SUCCESS, response.status
    assert response.bulk_operation.operation.add_to_dataset.dataset_id == "train"
    operation = alice.call(
        "GetBulkOperation",
        service_pb2.GetBulkOperationRequest(user_app_id=alice.app_ids("main"), id=response.bulk_operation.id),
    ).bulk_operation
    assert operation.status.code == codes.BULK_OPERATION_SUCCESS
    assert members(alice, "train") == ["b"]


def test_dataset_inputs_of_a_missing_dataset_or_without_ids_are_refused(
    alice: Caller, alice_app: App, texts: None
) -> None:
    assert add(alice, "nope", "a").status.code == codes.CONN_DOES_NOT_EXIST
    make_datasets(alice, r.Dataset(id="train"))
    empty = alice.call(
        "PostDatasetInputs", service_pb2.PostDatasetInputsRequest(user_app_id=alice.app_ids("main"), dataset_id="train")
    )
    assert empty.status.code == codes.CONN_INVALID_REQUEST
    no_id = add(alice, "train", "")
    assert no_id.status.code == codes.CONN_INVALID_REQUEST
    assert "input.id" in no_id.status.details


def test_another_user_cannot_see_or_change_the_datasets(make_caller: MakeCaller, alice: Caller, alice_app: App) -> None:
    make_datasets(alice, r.Dataset(id="train"))
    bob = make_caller("bob")
    request = service_pb2.ListDatasetsRequest(user_app_id=r.UserAppIDSet(user_id="alice", app_id="main"))
    assert bob.call("ListDatasets", request).status.code == codes.CONN_DOES_NOT_EXIST
    reader = make_caller("alice", scopes=["Datasets:Get"])
    denied = reader.call(
        "DeleteDatasets", service_pb2.DeleteDatasetsRequest(user_app_id=reader.app_ids("main"), dataset_ids=["train"])
    )
    assert denied.status.code == codes.CONN_INSUFFICIENT_SCOPES
    assert alice_app.datasets.count() == 1

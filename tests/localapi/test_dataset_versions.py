"""Dataset versions and their exports through the official clarifai-grpc JSON client, against the live
local API. Tasks run eagerly here, so a version is built by the time PostDatasetVersions answers;
tests/localapi/test_datasets_worker.py builds them in real worker processes.

The official SDK (`clarifai`) is not installed, so its DatasetExportReader cannot run here; the archive is
downloaded and read the way that reader does (clarifai/datasets/export/inputs_annotations.py): the
response's content type must be application/zip, the `mimetype` entry must say
application/x.clarifai-data+protobuf, the length is the sum of the entries' `_n` suffixes, every other
entry is an InputBatch, and a picture is fetched from `{hosted.prefix}/orig/{hosted.suffix}` with the token.
"""

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
import requests
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct
from PIL import Image

from console.localapi import dataset_tasks, exports
from console.localapi.models import App, DatasetVersion, DatasetVersionExport, Input
from tests.images import png
from tests.localapi.conftest import Caller, MakeCaller

PROTOBUF = r.DatasetVersionExportFormat.CLARIFAI_DATA_PROTOBUF
JSON = r.DatasetVersionExportFormat.CLARIFAI_DATA_JSON


def struct(values: dict[str, Any]) -> Struct:
    s = Struct()
    s.update(values)
    return s


def picture(input_id: str, colour: str, concepts: dict[str, float], **metadata: Any) -> r.Input:
    return r.Input(
        id=input_id,
        dataset_ids=["train"],
        data=r.Data(
            image=r.Image(base64=png(40, 30, colour)),
            concepts=[r.Concept(id=c, value=v) for c, v in concepts.items()],
            metadata=struct(metadata),
        ),
    )


@pytest.fixture
def train(alice: Caller, alice_app: App) -> None:
    """A dataset of three pictures (labelled yes and no, one with none), a text, and a failed input."""
    alice.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(user_app_id=alice.app_ids("main"), datasets=[r.Dataset(id="train")]),
    )
    response = alice.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=alice.app_ids("main"),
            inputs=[
                picture("cat-1", "red", {"cat": 1, "dog": 0}, source="field"),
                picture("dog-1", "blue", {"dog": 1, "cat": 0}),
                picture("plain", "green", {}),
                r.Input(
                    id="note",
                    dataset_ids=["train"],
                    data=r.Data(text=r.Text(raw="a cat"), concepts=[r.Concept(id="cat", value=1)]),
                ),
            ],
        ),
    )
    assert response.status.code == codes.SUCCESS, response.status
    broken = Input.objects.create(
        app=alice_app, input_id="broken", kind=Input.IMAGE, status_code=codes.INPUT_DOWNLOAD_FAILED
    )
    broken.datasets.add(alice_app.datasets.get())


def post_version(alice: Caller, dataset_id: str = "train", **fields: Any) -> Any:
    return alice.call(
        "PostDatasetVersions",
        service_pb2.PostDatasetVersionsRequest(
            user_app_id=alice.app_ids("main"), dataset_id=dataset_id, dataset_versions=[r.DatasetVersion(**fields)]
        ),
    )


def get_version(alice: Caller, version_id: str) -> r.DatasetVersion:
    response = alice.call(
        "GetDatasetVersion",
        service_pb2.GetDatasetVersionRequest(
            user_app_id=alice.app_ids("main"), dataset_id="train", dataset_version_id=version_id
        ),
    )
    assert response.status.code == codes.SUCCESS, response.status
    version: r.DatasetVersion = response.dataset_version
    return version


def put_exports(alice: Caller, version_id: str, *formats: r.DatasetVersionExportFormat.ValueType) -> Any:
    return alice.call(
        "PutDatasetVersionExports",
        service_pb2.PutDatasetVersionExportsRequest(
            user_app_id=alice.app_ids("main"),
            dataset_id="train",
            dataset_version_id=version_id,
            exports=[r.DatasetVersionExport(format=f) for f in formats],
        ),
    )


def download(alice: Caller, url: str) -> bytes:
    """As the SDK's DatasetExportReader downloads it: the token in the header, and a zip or nothing."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Key {alice.token}"})
    answer = session.get(url, stream=True)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    return answer.content


def read_like_the_sdk(data: bytes) -> list[r.Input]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert "mimetype" in names
    assert archive.read("mimetype") == b"application/x.clarifai-data+protobuf"
    names.remove("mimetype")
    assert os.path.dirname(names[0]) == "all"  # the reader's split_dir
    length = sum(int(name.split("_n")[-1]) for name in names)
    inputs = [item for name in names for item in r.InputBatch().FromString(archive.read(name)).inputs]
    assert len(inputs) == length
    return inputs


def test_a_version_is_built_with_its_metrics_and_shown_on_its_dataset(alice: Caller, train: None) -> None:
    posted = post_version(alice, id="v1", description="First", metadata=struct({"for": "training"}))
    assert posted.status.code == codes.SUCCESS, posted.status
    assert posted.dataset_versions[0].id == "v1"
    version = get_version(alice, "v1")
    assert version.status.code == codes.DATASET_VERSION_READY
    assert "4 inputs; left out: 1 that failed" in version.status.details
    assert (version.dataset_id, version.app_id, version.user_id) == ("train", "main", "alice")
    assert version.description == "First"
    assert version.metadata == struct({"for": "training"})
    overall = version.metrics["/"]
    assert overall.inputs_count.value == 4
    assert overall.unlabeled_inputs_count.value == 1
    assert overall.inputs_with_metadata_count.value == 1
    assert overall.positive_input_tags_count.value == 3
    cat = version.metrics["/concepts/cat"]
    assert (cat.inputs_count.value, cat.positive_input_tags_count.value) == (3, 2)  # so 1 negative
    dog = version.metrics["/concepts/dog"]
    assert (dog.inputs_count.value, dog.positive_input_tags_count.value) == (2, 1)
    dataset = alice.call(
        "GetDataset", service_pb2.GetDatasetRequest(user_app_id=alice.app_ids("main"), dataset_id="train")
    ).dataset
    assert dataset.version.id == "v1"
    assert dataset.version.metrics["/"].inputs_count.value == 4
    listed = alice.call("ListDatasets", service_pb2.ListDatasetsRequest(user_app_id=alice.app_ids("main"))).datasets
    assert listed[0].version.metrics["/"].inputs_count.value == 4


def test_the_metrics_groups_are_what_the_sdk_reads(alice: Caller, train: None) -> None:
    post_version(alice, id="v1")
    response = alice.call(
        "ListDatasetVersionMetricsGroups",
        service_pb2.ListDatasetVersionMetricsGroupsRequest(
            user_app_id=alice.app_ids("main"), dataset_id="train", dataset_version_id="v1"
        ),
    )
    assert response.status.code == codes.SUCCESS, response.status
    groups = {(g.type, g.value.string_value): g.metrics for g in response.dataset_version_metrics_groups}
    assert groups[(r.DatasetVersionMetricsGroupType.INPUT_TYPE, "image")].inputs_count.value == 3
    assert groups[(r.DatasetVersionMetricsGroupType.INPUT_TYPE, "text")].inputs_count.value == 1
    assert groups[(r.DatasetVersionMetricsGroupType.CONCEPT_ID, "cat")].positive_input_tags_count.value == 2


def test_versions_are_listed_newest_first_patched_and_deleted(alice: Caller, train: None, media_root: Path) -> None:
    post_version(alice, id="v1")
    post_version(alice, id="v2", description="Second")
    listed = alice.call(
        "ListDatasetVersions",
        service_pb2.ListDatasetVersionsRequest(user_app_id=alice.app_ids("main"), dataset_id="train"),
    )
    assert [v.id for v in listed.dataset_versions] == ["v2", "v1"]
    patched = alice.call(
        "PatchDatasetVersions",
        service_pb2.PatchDatasetVersionsRequest(
            user_app_id=alice.app_ids("main"),
            dataset_id="train",
            action="merge",
            dataset_versions=[r.DatasetVersion(id="v2", description="Renamed", metadata=struct({"k": 1}))],
        ),
    )
    assert patched.status.code == codes.SUCCESS, patched.status
    assert get_version(alice, "v2").description == "Renamed"
    assert get_version(alice, "v2").metadata == struct({"k": 1})
    put_exports(alice, "v1", PROTOBUF)
    archive = media_root / exports.storage_name(App.objects.get().pk, DatasetVersionExport.objects.get().key)
    assert archive.exists()
    deleted = alice.call(
        "DeleteDatasetVersions",
        service_pb2.DeleteDatasetVersionsRequest(
            user_app_id=alice.app_ids("main"), dataset_id="train", dataset_version_ids=["v1"]
        ),
    )
    assert deleted.status.code == codes.SUCCESS, deleted.status
    assert list(DatasetVersion.objects.values_list("version_id", flat=True)) == ["v2"]
    assert not archive.exists()
    missing = alice.call(
        "DeleteDatasetVersions",
        service_pb2.DeleteDatasetVersionsRequest(
            user_app_id=alice.app_ids("main"), dataset_id="train", dataset_version_ids=["v2", "v9"]
        ),
    )
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST
    assert "'v9'" in missing.status.details
    assert DatasetVersion.objects.count() == 1


def test_bad_versions_are_refused(alice: Caller, train: None) -> None:
    post_version(alice, id="v1")
    assert post_version(alice, id="v1").status.code == codes.DATABASE_DUPLICATE_KEY
    assert post_version(alice, dataset_id="nope").status.code == codes.CONN_DOES_NOT_EXIST
    unsupported = post_version(alice, model_predict_config=r.ModelPredictConfig())
    assert unsupported.status.code == codes.CONN_INVALID_REQUEST
    assert "model_predict_config" in unsupported.status.details
    missing = alice.call(
        "GetDatasetVersion",
        service_pb2.GetDatasetVersionRequest(
            user_app_id=alice.app_ids("main"), dataset_id="train", dataset_version_id="v7"
        ),
    )
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST


def test_an_empty_dataset_makes_a_failed_version_which_cannot_be_exported(alice: Caller, train: None) -> None:
    alice.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(user_app_id=alice.app_ids("main"), datasets=[r.Dataset(id="empty")]),
    )
    post_version(alice, dataset_id="empty", id="v1")
    version = alice.call(
        "GetDatasetVersion",
        service_pb2.GetDatasetVersionRequest(
            user_app_id=alice.app_ids("main"), dataset_id="empty", dataset_version_id="v1"
        ),
    ).dataset_version
    assert version.status.code == codes.DATASET_VERSION_FAILURE
    assert "no processed inputs" in version.status.details
    refused = alice.call(
        "PutDatasetVersionExports",
        service_pb2.PutDatasetVersionExportsRequest(
            user_app_id=alice.app_ids("main"),
            dataset_id="empty",
            dataset_version_id="v1",
            exports=[r.DatasetVersionExport(format=PROTOBUF)],
        ),
    )
    assert refused.status.code == codes.DATASET_VERSION_FAILURE
    assert "a failed version cannot be exported" in refused.status.details
    assert not DatasetVersionExport.objects.exists()


def test_only_labelled_inputs_when_empty_ones_are_ignored(alice: Caller, train: None) -> None:
    post_version(alice, id="labelled", annotation_filter_config=r.AnnotationFilterConfig(ignore_empty_inputs=True))
    version = get_version(alice, "labelled")
    assert version.metrics["/"].inputs_count.value == 3
    assert "1 without labels" in version.status.details
    assert version.annotation_filter_config.ignore_empty_inputs


def test_it_exports_a_version_the_way_the_sdk_reads_it_with_labels_as_they_were(
    alice: Caller, train: None, make_caller: MakeCaller
) -> None:
    post_version(alice, id="v1")
    # Changed after the version was made: the version keeps what was there.
    alice.call(
        "PatchInputs",
        service_pb2.PatchInputsRequest(
            user_app_id=alice.app_ids("main"),
            action="overwrite",
            inputs=[r.Input(id="cat-1", data=r.Data(concepts=[r.Concept(id="fox", value=1)]))],
        ),
    )
    alice.call(
        "DeleteDatasetInputs",
        service_pb2.DeleteDatasetInputsRequest(
            user_app_id=alice.app_ids("main"), dataset_id="train", input_ids=["dog-1"]
        ),
    )
    response = put_exports(alice, "v1", PROTOBUF)
    assert response.status.code == codes.SUCCESS, response.status
    export = response.exports[0]
    assert export.format == PROTOBUF
    assert export.status.code == codes.DATASET_VERSION_EXPORT_SUCCESS
    assert export.size > 0
    again = put_exports(alice, "v1", PROTOBUF)  # the SDK polls by putting again
    assert again.exports[0].url == export.url
    assert get_version(alice, "v1").export_info.clarifai_data_protobuf.url == export.url

    inputs = {item.id: item for item in read_like_the_sdk(download(alice, export.url))}
    assert set(inputs) == {"cat-1", "dog-1", "plain", "note"}
    cat = inputs["cat-1"]
    assert {c.id: c.value for c in cat.data.concepts} == {"cat": 1.0, "dog": 0.0}
    assert cat.data.metadata == struct({"source": "field"})
    assert list(cat.dataset_ids) == ["train"]
    assert (cat.data.image.image_info.width, cat.data.image.image_info.height) == (40, 30)
    assert inputs["note"].data.text.raw == "a cat"
    hosted = cat.data.image.hosted
    assert "orig" in hosted.sizes
    picture_answer = requests.get(
        f"{hosted.prefix}/orig/{hosted.suffix}", headers={"Authorization": f"Key {alice.token}"}, timeout=30
    )
    with Image.open(io.BytesIO(picture_answer.content)) as image:
        assert image.size == (40, 30)


def test_the_json_export_holds_the_same_batches_as_json(alice: Caller, train: None) -> None:
    post_version(alice, id="v1")
    response = put_exports(alice, "v1", JSON, PROTOBUF)
    assert [e.format for e in response.exports] == [JSON, PROTOBUF]
    archive = zipfile.ZipFile(io.BytesIO(download(alice, response.exports[0].url)))
    assert archive.read("mimetype") == b"application/x.clarifai-data+json"
    names = [n for n in archive.namelist() if n != "mimetype"]
    batches = [json_format.ParseDict(json.loads(archive.read(n)), r.InputBatch()) for n in names]
    assert sorted(i.id for b in batches for i in b.inputs) == ["cat-1", "dog-1", "note", "plain"]
    assert response.exports[0].url != response.exports[1].url


def test_the_archive_needs_the_owners_token_that_may_read_datasets(
    alice: Caller, train: None, make_caller: MakeCaller
) -> None:
    post_version(alice, id="v1")
    url = put_exports(alice, "v1", PROTOBUF).exports[0].url
    nobody = requests.get(url, timeout=30)
    assert nobody.status_code == 401
    assert nobody.json()["status"]["code"] == codes.CONN_KEY_INVALID
    bob = make_caller("bob")
    other = requests.get(url, headers={"Authorization": f"Key {bob.token}"}, timeout=30)
    assert other.status_code == 403
    narrow = make_caller("alice", scopes=["Inputs:Get"])
    scoped = requests.get(url, headers={"Authorization": f"Key {narrow.token}"}, timeout=30)
    assert scoped.status_code == 403
    assert "Datasets:Get" in scoped.json()["status"]["details"]
    unknown = requests.get(
        url.replace(url[-36:-4], "0" * 32), headers={"Authorization": f"Key {alice.token}"}, timeout=30
    )
    assert unknown.status_code == 404


def test_formats_the_local_api_does_not_write_are_refused(alice: Caller, train: None) -> None:
    post_version(alice, id="v1")
    coco = put_exports(alice, "v1", r.DatasetVersionExportFormat.COCO)
    assert coco.status.code == codes.CONN_INVALID_REQUEST
    assert "not COCO" in coco.status.details
    none = put_exports(alice, "v1")
    assert none.status.code == codes.CONN_INVALID_REQUEST


def test_an_export_asked_for_before_its_version_is_ready_waits_for_it(alice: Caller, train: None) -> None:
    dataset = App.objects.get().datasets.get()
    version = DatasetVersion.objects.create(dataset=dataset, version_id="later")  # not built yet: a busy worker
    waiting = put_exports(alice, "later", PROTOBUF)
    assert waiting.status.code == codes.SUCCESS, waiting.status
    assert waiting.exports[0].status.code == codes.DATASET_VERSION_EXPORT_PENDING
    assert not waiting.exports[0].url
    dataset_tasks.build_dataset_version(version.pk)
    done = put_exports(alice, "later", PROTOBUF).exports[0]
    assert done.status.code == codes.DATASET_VERSION_EXPORT_SUCCESS
    assert len(read_like_the_sdk(download(alice, done.url))) == 4

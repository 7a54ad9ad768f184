"""Dataset versions, exports and archive uploads done by real Celery worker processes on the embedded broker
(see test_worker.py), through the official clarifai-grpc client against the live local API."""

import io
import signal
import subprocess
import zipfile
from collections.abc import Callable
from datetime import timedelta

import pytest
import requests
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.utils import timezone

from console.localapi.models import App, ArchiveEntry, DatasetVersion, DatasetVersionInput, Input
from tests.images import png
from tests.localapi.conftest import Caller
from tests.localapi.test_worker import broker, start_worker, wait_for  # noqa: F401 (fixtures used here)

pytestmark = pytest.mark.worker

Worker = Callable[..., subprocess.Popen[bytes]]


def processed_dataset(alice: Caller, alice_app: App, count: int) -> None:
    """`count` processed text inputs in dataset `train`, half labelled `cat`, written straight to the
    database: only the version and its export are under test."""
    dataset = alice_app.datasets.create(dataset_id="train")
    items = Input.objects.bulk_create(
        Input(
            app=alice_app, input_id=f"in-{n:04}", kind=Input.TEXT, text=str(n), status_code=codes.INPUT_DOWNLOAD_SUCCESS
        )
        for n in range(count)
    )
    dataset.inputs.add(*items)
    alice.call(
        "PatchInputs",
        service_pb2.PatchInputsRequest(
            user_app_id=alice.app_ids("main"),
            action="merge",
            inputs=[
                r.Input(id=f"in-{n:04}", data=r.Data(concepts=[r.Concept(id="cat", value=1)]))
                for n in range(0, count, 2)
            ],
        ),
    )


def version_status(alice: Caller, version_id: str) -> r.DatasetVersion:
    version: r.DatasetVersion = alice.call(
        "GetDatasetVersion",
        service_pb2.GetDatasetVersionRequest(
            user_app_id=alice.app_ids("main"), dataset_id="train", dataset_version_id=version_id
        ),
    ).dataset_version
    return version


def test_a_worker_builds_a_version_and_its_export_as_the_sdk_polls_for_it(
    alice: Caller,
    alice_app: App,
    start_worker: Worker,  # noqa: F811
) -> None:
    processed_dataset(alice, alice_app, 100)
    posted = alice.call(
        "PostDatasetVersions",
        service_pb2.PostDatasetVersionsRequest(
            user_app_id=alice.app_ids("main"), dataset_id="train", dataset_versions=[r.DatasetVersion(id="v1")]
        ),
    )
    assert posted.dataset_versions[0].status.code == codes.DATASET_VERSION_PENDING
    request = service_pb2.PutDatasetVersionExportsRequest(
        user_app_id=alice.app_ids("main"),
        dataset_id="train",
        dataset_version_id="v1",
        exports=[r.DatasetVersionExport(format=r.DatasetVersionExportFormat.CLARIFAI_DATA_PROTOBUF)],
    )
    waiting = alice.call("PutDatasetVersionExports", request)
    assert waiting.exports[0].status.code == codes.DATASET_VERSION_EXPORT_PENDING  # no worker yet

    start_worker()
    seen = []

    def ready() -> bool:
        seen.append(version_status(alice, "v1").status.code)
        return seen[-1] == codes.DATASET_VERSION_READY

    wait_for(ready)
    assert set(seen) <= {codes.DATASET_VERSION_PENDING, codes.DATASET_VERSION_IN_PROGRESS, codes.DATASET_VERSION_READY}
    version = version_status(alice, "v1")
    assert version.metrics["/"].inputs_count.value == 100
    assert version.metrics["/concepts/cat"].positive_input_tags_count.value == 50

    def exported() -> bool:  # as the SDK's Dataset.archive_zip waits: by putting the same request again
        code = alice.call("PutDatasetVersionExports", request).exports[0].status.code
        assert code in (
            codes.DATASET_VERSION_EXPORT_PENDING,
            codes.DATASET_VERSION_EXPORT_IN_PROGRESS,
            codes.DATASET_VERSION_EXPORT_SUCCESS,
        )
        return bool(code == codes.DATASET_VERSION_EXPORT_SUCCESS)

    wait_for(exported)
    url = alice.call("PutDatasetVersionExports", request).exports[0].url
    answer = requests.get(url, headers={"Authorization": f"Key {alice.token}"}, timeout=30)
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = [n for n in archive.namelist() if n != "mimetype"]
    assert sum(int(n.split("_n")[-1]) for n in names) == 100
    ids = [i.id for n in names for i in r.InputBatch.FromString(archive.read(n)).inputs]
    assert sorted(ids) == [f"in-{n:04}" for n in range(100)]


def test_a_version_left_in_progress_by_a_dead_worker_is_built_once_by_the_next(
    alice: Caller,
    alice_app: App,
    start_worker: Worker,  # noqa: F811
) -> None:
    """What a worker killed while taking the snapshot leaves: the version in progress, none of its rows
    (the snapshot's transaction rolled back). Set up as such, since the kill cannot be timed within one
    transaction; the next worker's look for unfinished work takes it up."""
    processed_dataset(alice, alice_app, 30)
    version = DatasetVersion.objects.create(
        dataset=alice_app.datasets.get(), version_id="v1", status_code=codes.DATASET_VERSION_IN_PROGRESS
    )
    DatasetVersion.objects.filter(pk=version.pk).update(modified_at=timezone.now() - timedelta(minutes=5))
    start_worker(LOCALAPI_REQUEUE_AFTER="60")
    wait_for(lambda: version_status(alice, "v1").status.code == codes.DATASET_VERSION_READY)
    assert version_status(alice, "v1").metrics["/"].inputs_count.value == 30
    assert DatasetVersionInput.objects.filter(version=version).count() == 30


PICTURES = 600


def test_a_worker_killed_while_adding_an_archive_leaves_the_rest_to_the_next_each_file_added_once(
    alice: Caller,
    alice_app: App,
    start_worker: Worker,  # noqa: F811
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(PICTURES):
            archive.writestr(f"pics/{n:04}.png", png(8 + n % 5, 8, "red"))
    data = buffer.getvalue()
    started = alice.call(
        "PostInputsUploads",
        service_pb2.PostInputsUploadsRequest(
            user_app_id=alice.app_ids("main"),
            inputs_uploads=[
                r.InputsUpload(
                    inputs_add_job_id="big",
                    upload=r.Upload(content_name="pics.zip", content_length=len(data)),
                    # A file added twice would show as a second input with a suffixed id.
                    input_id_conflict_resolution=r.InputIDConflictResolution.SUFFIX,
                )
            ],
        ),
    )
    upload_id = started.inputs_add_jobs[0].uploads[0].id
    sent = alice.call(
        "PutUploadContentParts",
        service_pb2.PutUploadContentPartsRequest(
            user_app_id=alice.app_ids("main"),
            upload_id=upload_id,
            content_parts=[r.UploadContentPart(part_number=1, range_start=0, data=data)],
        ),
    )
    assert sent.upload.status.code == codes.UPLOAD_DONE

    def job() -> r.InputsAddJob:
        found: r.InputsAddJob = alice.call(
            "GetInputsAddJob", service_pb2.GetInputsAddJobRequest(user_app_id=alice.app_ids("main"), id="big")
        ).inputs_add_job
        return found

    first = start_worker(LOCALAPI_ARCHIVE_CHUNK_SIZE="2")
    added = ArchiveEntry.objects.filter(job__job_id="big", state=ArchiveEntry.ADDED)
    wait_for(lambda: added.count() >= 40)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    stopped_at = added.count()
    assert 40 <= stopped_at < PICTURES
    assert job().status.code == codes.JOB_RUNNING
    assert job().progress.pending_count >= PICTURES - stopped_at

    start_worker(LOCALAPI_ARCHIVE_CHUNK_SIZE="2", LOCALAPI_REQUEUE_AFTER="0")
    wait_for(lambda: job().status.code == codes.JOB_COMPLETED, timeout=180)
    done = job()
    p = done.progress
    assert (p.pending_count, p.in_progress_count, p.success_count, p.failed_count) == (0, 0, PICTURES, 0)
    assert f"{PICTURES} of {PICTURES} files added" in done.status.details
    assert set(ArchiveEntry.objects.values_list("applied", flat=True)) == {1}
    ids = sorted(Input.objects.filter(app=alice_app).values_list("input_id", flat=True))
    assert ids == [f"pics-{n:04}" for n in range(PICTURES)]
    assert set(Input.objects.values_list("status_code", flat=True)) == {codes.INPUT_DOWNLOAD_SUCCESS}

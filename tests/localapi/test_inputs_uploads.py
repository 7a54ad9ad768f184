"""Archives of pictures (PostInputsUploads, PutUploadContentParts) and their inputs-add jobs, through the
official clarifai-grpc JSON client against the live local API. Tasks run eagerly here: the last part of
an archive starts its job, which has ended by the time that call answers;
tests/localapi/test_datasets_worker.py runs jobs in real worker processes, and kills one.
"""

import http.server
import io
import stat
import tarfile
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.test import override_settings
from django.utils import timezone
from google.protobuf.struct_pb2 import Struct

from console.localapi import tasks
from console.localapi.models import App, ArchiveEntry, ArchiveUpload, Input
from tests.images import jpeg, png
from tests.localapi.conftest import Caller
from tests.servers import QuietHandler, serving


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def start(alice: Caller, upload: r.Upload, **fields: Any) -> Any:
    return alice.call(
        "PostInputsUploads",
        service_pb2.PostInputsUploadsRequest(
            user_app_id=alice.app_ids("main"), inputs_uploads=[r.InputsUpload(upload=upload, **fields)]
        ),
    )


def send(alice: Caller, upload_id: str, *parts: tuple[int, int, bytes]) -> Any:
    return alice.call(
        "PutUploadContentParts",
        service_pb2.PutUploadContentPartsRequest(
            user_app_id=alice.app_ids("main"),
            upload_id=upload_id,
            content_parts=[r.UploadContentPart(part_number=n, range_start=s, data=d) for n, s, d in parts],
        ),
    )


def upload_archive(alice: Caller, data: bytes, name: str = "pictures.zip", **fields: Any) -> r.InputsAddJob:
    """Start a job and send its archive in two parts, the second first."""
    started = start(alice, r.Upload(content_name=name, content_length=len(data)), **fields)
    assert started.status.code == codes.SUCCESS, started.status
    job = started.inputs_add_jobs[0]
    assert job.status.code == codes.JOB_QUEUED
    upload_id = job.uploads[0].id
    half = len(data) // 2
    first = send(alice, upload_id, (2, half, data[half:]))
    assert first.status.code == codes.SUCCESS, first.status
    assert first.upload.status.code == codes.UPLOAD_IN_PROGRESS
    last = send(alice, upload_id, (1, 0, data[:half]))
    assert last.status.code == codes.SUCCESS, last.status
    assert last.upload.status.code == codes.UPLOAD_DONE
    return get_job(alice, job.id)


def get_job(alice: Caller, job_id: str) -> r.InputsAddJob:
    response = alice.call(
        "GetInputsAddJob", service_pb2.GetInputsAddJobRequest(user_app_id=alice.app_ids("main"), id=job_id)
    )
    assert response.status.code == codes.SUCCESS, response.status
    job: r.InputsAddJob = response.inputs_add_job
    return job


def counts(job: r.InputsAddJob) -> tuple[int, int, int, int]:
    p = job.progress
    return p.pending_count, p.in_progress_count, p.success_count, p.failed_count


def reasons(alice_app: App) -> dict[str, str]:
    return dict(ArchiveEntry.objects.filter(job__app=alice_app).values_list("name", "details"))


def test_an_archive_sent_in_parts_becomes_inputs_with_the_template(
    alice: Caller, alice_app: App, media_root: Path
) -> None:
    alice.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(user_app_id=alice.app_ids("main"), datasets=[r.Dataset(id="pets")]),
    )
    metadata = Struct()
    metadata.update({"batch": "b1"})
    template = r.Input(dataset_ids=["pets"], data=r.Data(concepts=[r.Concept(id="pet", value=1)], metadata=metadata))
    data = zipped(
        {"cats/tom.png": png(30, 20, "red"), "dogs/rex.jpg": jpeg(50, 40), "top.png": png(10, 10), "cats/": b""}
    )
    job = upload_archive(alice, data, input_template=template, inputs_add_job_id="first-batch")
    assert job.id == "first-batch"
    assert job.status.code == codes.JOB_COMPLETED, job.status
    assert "3 of 3 files added" in job.status.details
    assert counts(job) == (0, 0, 3, 0)
    assert job.uploads[0].content_name == "pictures.zip"
    assert job.uploads[0].content_length == len(data)
    assert job.extraction_jobs[0].progress.image_inputs_count == 3
    added = alice.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=alice.app_ids("main"))).inputs
    assert sorted(i.id for i in added) == ["cats-tom", "dogs-rex", "top"]
    tom = next(i for i in added if i.id == "cats-tom")
    assert tom.status.code == codes.INPUT_DOWNLOAD_SUCCESS
    assert (tom.data.image.image_info.width, tom.data.image.image_info.height) == (30, 20)
    assert list(tom.dataset_ids) == ["pets"]
    assert [(c.id, c.value) for c in tom.data.concepts] == [("pet", 1.0)]
    assert tom.data.metadata == metadata
    listed = alice.call(
        "ListInputsAddJobs", service_pb2.ListInputsAddJobsRequest(user_app_id=alice.app_ids("main"))
    ).inputs_add_jobs
    assert [j.id for j in listed] == ["first-batch"]
    upload = alice.call(
        "GetUpload", service_pb2.GetUploadRequest(user_app_id=alice.app_ids("main"), upload_id=job.uploads[0].id)
    ).upload
    assert upload.status.code == codes.UPLOAD_DONE
    uploads = alice.call("ListUploads", service_pb2.ListUploadsRequest(user_app_id=alice.app_ids("main"))).uploads
    assert [u.id for u in uploads] == [upload.id]
    assert not list((media_root / "localapi" / str(alice_app.pk) / "uploads").rglob("*.*"))  # archive and parts gone
    assert not [p for p in (media_root / "localapi" / str(alice_app.pk) / "uploads").rglob("*") if p.is_file()]


@override_settings(LOCALAPI_MAX_IMAGE_BYTES=20_000)
def test_bad_entries_are_refused_one_by_one_and_the_rest_added(alice: Caller, alice_app: App) -> None:
    big = png() + b"\0" * 25_000
    data = zipped(
        {
            "../escape.png": png(),
            "/etc/absolute.png": png(),
            "C:/windows.png": png(),
            "empty.png": b"",
            "notes.txt": b"not a picture at all",
            "huge.png": big,
            "__MACOSX/._good.png": b"apple clutter",
            "good.png": png(),
        }
    )
    job = upload_archive(alice, data)
    assert job.status.code == codes.JOB_COMPLETED
    assert "1 of 7 files added; 6 refused" in job.status.details
    assert counts(job) == (0, 0, 1, 6)
    assert list(Input.objects.values_list("input_id", flat=True)) == ["good"]
    why = reasons(alice_app)
    assert "leaves the archive" in why["../escape.png"]
    assert "leaves the archive" in why["/etc/absolute.png"]
    assert "leaves the archive" in why["C:/windows.png"]
    assert why["empty.png"] == "the file is empty"
    assert "not an image" in why["notes.txt"]
    assert "over the limit of 20,000 bytes" in why["huge.png"]
    assert "__MACOSX/._good.png" not in why


@override_settings(LOCALAPI_MAX_ARCHIVE_EXPANDED_BYTES=10_000)
def test_an_archive_expanding_past_the_limit_is_refused_whole(alice: Caller, alice_app: App) -> None:
    # Zeros compress to almost nothing: a small archive that would expand to 1 MB.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.png", png())
        archive.writestr("padding.bin", b"\0" * 1_000_000)
    assert len(buffer.getvalue()) < 10_000
    job = upload_archive(alice, buffer.getvalue())
    assert job.status.code == codes.JOB_FAILED
    assert "add up to more than 10,000 bytes" in job.status.details
    assert "Nothing was added" in job.status.details
    assert not Input.objects.exists()


def test_a_file_that_is_not_an_archive_fails_the_job(alice: Caller, alice_app: App) -> None:
    job = upload_archive(alice, b"name,url\nx,http://example.com/x.jpg\n" * 10, name="list.csv")
    assert job.status.code == codes.JOB_FAILED
    assert "not a zip or tar archive" in job.status.details


def test_a_compressed_tar_archive_works_too(alice: Caller, alice_app: App) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in {"a/one.png": png(), "two.jpg": jpeg()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        link = tarfile.TarInfo("link.png")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    job = upload_archive(alice, buffer.getvalue(), name="pictures.tar.gz")
    assert job.status.code == codes.JOB_COMPLETED
    assert counts(job) == (0, 0, 2, 1)
    assert sorted(Input.objects.values_list("input_id", flat=True)) == ["a-one", "two"]
    assert "link" in reasons(alice_app)["link.png"]


def test_ids_already_taken_are_refused_skipped_or_suffixed_as_asked(alice: Caller, alice_app: App) -> None:
    Input.objects.create(app=alice_app, input_id="tom", kind=Input.TEXT, text="taken")
    data = zipped({"tom.png": png()})
    refused = upload_archive(alice, data)
    assert counts(refused) == (0, 0, 0, 1)
    assert "already exists" in reasons(alice_app)["tom.png"]
    skipped = upload_archive(alice, data, input_id_conflict_resolution=r.InputIDConflictResolution.SKIP)
    assert counts(skipped) == (0, 0, 0, 0)
    assert "1 skipped" in skipped.status.details
    suffixed = upload_archive(alice, data, input_id_conflict_resolution=r.InputIDConflictResolution.SUFFIX)
    assert counts(suffixed) == (0, 0, 1, 0)
    assert sorted(Input.objects.values_list("input_id", flat=True)) == ["tom", "tom-1"]


class ArchiveHandler(QuietHandler):
    def do_GET(self) -> None:
        data = zipped({"from-url.png": png()})
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def archive_server() -> Any:
    handler: type[http.server.BaseHTTPRequestHandler] = ArchiveHandler
    with serving(handler) as url:
        yield url


@override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=True)
def test_an_archive_given_by_url_is_fetched_by_the_worker(alice: Caller, alice_app: App, archive_server: str) -> None:
    started = start(alice, r.Upload(content_url=f"{archive_server}/pictures.zip"))
    assert started.status.code == codes.SUCCESS, started.status
    job = get_job(alice, started.inputs_add_jobs[0].id)
    assert job.status.code == codes.JOB_COMPLETED, job.status
    assert counts(job) == (0, 0, 1, 0)
    assert job.uploads[0].status.code == codes.UPLOAD_DONE
    refused = send(alice, job.uploads[0].id, (1, 0, b"x"))
    assert refused.status.code == codes.CONN_INVALID_REQUEST
    assert "takes no parts" in refused.status.details


def test_a_private_url_is_refused_up_front(alice: Caller, alice_app: App) -> None:
    started = start(alice, r.Upload(content_url="http://127.0.0.1:9/pictures.zip"))
    assert started.status.code == codes.INPUT_INVALID_URL
    assert "private address" in started.status.details


def test_bad_uploads_and_parts_are_refused_with_the_reason(alice: Caller, alice_app: App) -> None:
    assert start(alice, r.Upload(content_name="x.zip")).status.code == codes.CONN_INVALID_REQUEST
    with override_settings(LOCALAPI_MAX_ARCHIVE_BYTES=1000):
        over = start(alice, r.Upload(content_name="x.zip", content_length=1001))
    assert over.status.code == codes.INPUT_OVER_LIMIT
    assert "over the limit of 1,000 bytes" in over.status.details
    no_dataset = start(
        alice, r.Upload(content_name="x.zip", content_length=10), input_template=r.Input(dataset_ids=["nope"])
    )
    assert no_dataset.status.code == codes.CONN_DOES_NOT_EXIST
    job = start(alice, r.Upload(content_name="x.zip", content_length=10)).inputs_add_jobs[0]
    upload_id = job.uploads[0].id
    past_end = send(alice, upload_id, (1, 5, b"123456"))
    assert past_end.status.code == codes.CONN_INVALID_REQUEST
    assert "past the end" in past_end.status.details
    assert send(alice, upload_id, (1, 0, b"12345")).status.code == codes.SUCCESS
    overlap = send(alice, upload_id, (2, 3, b"abc"))
    assert overlap.status.code == codes.CONN_INVALID_REQUEST
    assert "overlaps part 1" in overlap.status.details
    assert send(alice, "no-such-upload", (1, 0, b"1")).status.code == codes.CONN_DOES_NOT_EXIST
    taken = start(alice, r.Upload(content_name="x.zip", content_length=10), inputs_add_job_id=job.id)
    assert taken.status.code == codes.DATABASE_DUPLICATE_KEY


def test_a_job_is_cancelled_before_its_archive_arrives_and_takes_no_more_parts(alice: Caller, alice_app: App) -> None:
    job = start(alice, r.Upload(content_name="x.zip", content_length=10)).inputs_add_jobs[0]
    cancelled = alice.call(
        "CancelInputsAddJob", service_pb2.CancelInputsAddJobRequest(user_app_id=alice.app_ids("main"), id=job.id)
    )
    assert cancelled.status.code == codes.SUCCESS, cancelled.status
    assert cancelled.inputs_add_job.status.code == codes.JOB_CANCELLED
    assert cancelled.inputs_add_job.uploads[0].status.code == codes.UPLOAD_CANCELED
    late = send(alice, job.uploads[0].id, (1, 0, b"0123456789"))
    assert late.status.code == codes.UPLOAD_CONFLICT
    assert "takes no more parts" in late.status.details
    again = alice.call(
        "CancelInputsAddJob", service_pb2.CancelInputsAddJobRequest(user_app_id=alice.app_ids("main"), id=job.id)
    )
    assert again.status.code == codes.SUCCESS
    done = upload_archive(alice, zipped({"a.png": png()}))
    ended = alice.call(
        "CancelInputsAddJob", service_pb2.CancelInputsAddJobRequest(user_app_id=alice.app_ids("main"), id=done.id)
    )
    assert ended.status.code == codes.CONN_INVALID_REQUEST
    assert "already ended" in ended.status.details
    missing = alice.call(
        "GetInputsAddJob", service_pb2.GetInputsAddJobRequest(user_app_id=alice.app_ids("main"), id="nope")
    )
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST


def test_an_upload_left_unfinished_expires_and_its_job_fails(alice: Caller, alice_app: App) -> None:
    job = start(alice, r.Upload(content_name="x.zip", content_length=10)).inputs_add_jobs[0]
    assert send(alice, job.uploads[0].id, (1, 0, b"01234")).status.code == codes.SUCCESS
    ArchiveUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    late = send(alice, job.uploads[0].id, (2, 5, b"56789"))
    assert late.status.code == codes.UPLOAD_EXPIRED
    assert "start a new one" in late.status.details
    tasks.resume_unfinished_work(60)  # the look for unfinished work each worker makes
    ended = get_job(alice, job.id)
    assert ended.status.code == codes.JOB_FAILED
    assert "expired" in ended.status.details
    assert ended.uploads[0].status.code == codes.UPLOAD_EXPIRED


def test_a_zip_entry_that_is_a_link_is_refused(alice: Caller, alice_app: App) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("real.png", png())
    job = upload_archive(alice, buffer.getvalue())
    assert counts(job) == (0, 0, 1, 1)
    assert "link" in reasons(alice_app)["link.png"]


def test_the_reference_request_body_starts_a_job_over_plain_http(alice: Caller, alice_app: App) -> None:
    """The JSON body of the wire reference (clarifai-wire.md, PostInputsUploads), as any HTTP client sends it."""
    alice.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(user_app_id=alice.app_ids("main"), datasets=[r.Dataset(id="ds1")]),
    )
    body = {
        "user_app_id": {"user_id": "alice", "app_id": "main"},
        "inputs_uploads": [
            {
                "inputs_add_job_id": "job1",
                "upload": {"content_length": "123", "content_name": "a.csv"},
                "input_template": {"dataset_ids": ["ds1"]},
            }
        ],
    }
    answer = httpx.post(
        f"{alice.base_url}/v2/users/alice/apps/main/inputs/uploads",
        json=body,
        headers={"Authorization": f"Key {alice.token}"},
    )
    assert answer.status_code == 200, answer.text
    job = answer.json()["inputs_add_jobs"][0]
    assert job["id"] == "job1"
    assert job["status"]["code"] == codes.JOB_QUEUED
    assert job["uploads"][0]["content_length"] == "123"
    refused = httpx.post(
        f"{alice.base_url}/v2/users/alice/apps/main/inputs/uploads",
        json={
            "inputs_uploads": [
                {
                    "upload": {"content_url": "https://example.com/a.zip"},
                    "input_template": {"data": {"text": {"raw": "x"}}},
                }
            ]
        },
        headers={"Authorization": f"Key {alice.token}"},
    )
    assert refused.status_code == 400
    assert "a template gives concepts and metadata only" in refused.json()["status"]["details"]

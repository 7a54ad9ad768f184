"""Fixtures for uploads: a spool folder of the test's own, an app with a dataset on the built-in connection,
and posting the upload form as a browser without JavaScript would (the job then runs in the test process)."""

import io
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.jobs.models import Job
from console.uploads.models import Upload

APP = "gallery"


@pytest.fixture(autouse=True)
def spool_dir(tmp_path: Path, settings: Any) -> Path:
    settings.UPLOAD_SPOOL_DIR = tmp_path / "spool"
    # The URLs of the tests point at this machine (nothing answers there: those inputs fail processing).
    settings.LOCALAPI_ALLOW_PRIVATE_URLS = True
    return Path(settings.UPLOAD_SPOOL_DIR)


@pytest.fixture
def gallery(make_app: Callable[..., str], api: ClarifaiClient) -> str:
    """An empty app `gallery` with a dataset `train`."""
    make_app(APP)
    app = resources_pb2.UserAppIDSet(user_id="demo", app_id=APP)
    api.call(
        "PostDatasets", service_pb2.PostDatasetsRequest(user_app_id=app, datasets=[resources_pb2.Dataset(id="train")])
    )
    return APP


def zipped(entries: dict[str, bytes]) -> bytes:
    """A zip archive with these entries, names kept exactly as given (`..` and leading `/` included)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


Post = Callable[..., Any]  # answers the test client's response


@pytest.fixture
def post_upload(
    console: Client,
    local: Connection,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]],
) -> Post:
    """Post the upload form with these files ({name: bytes}) and fields; the job runs before it answers."""

    def post(app_id: str = APP, files: dict[str, bytes] | None = None, **fields: str) -> Any:
        data: dict[str, Any] = {"urls": "", "concepts": "", "metadata": "", "dataset_id": "", **fields}
        data["file"] = [SimpleUploadedFile(name, content) for name, content in (files or {}).items()]
        with django_capture_on_commit_callbacks(execute=True):  # the job is queued on commit; eager here
            return console.post(reverse("uploads:new", args=[local.pk, app_id]), data)

    return post


def last_upload() -> Upload:
    upload = Upload.objects.order_by("-pk").first()
    assert upload is not None, "no upload was made"
    return upload


def rejected(upload: Upload) -> dict[str, str]:
    return {r["name"]: r["reason"] for r in upload.rejected}


def job_of(upload: Upload) -> Job:
    assert upload.job_id is not None, "the upload started no job"
    return Job.objects.get(pk=upload.job_id)

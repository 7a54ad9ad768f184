"""The token never leaks (issue 11 §5): a connection is given a sentinel token, the console is driven
through its pages and actions (the grid, an input edit, a bulk job, an upload, a rename, tasks, access and
a new key, an upstream that
fails in several ways, error pages), and the sentinel is looked for in every response body and header,
every log line (at DEBUG), every audit row, and the arguments of every Celery task that ran."""

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.signals import task_prerun
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client

from console.audit.models import AuditEvent, AuditTarget
from console.connections import clients
from console.connections.models import Connection
from console.jobs.models import Job, JobFailure
from console.localapi.models import Token, hash_token
from console.uploads.models import Upload, UploadItem
from tests.faults import fault_server
from tests.images import png

pytestmark = pytest.mark.django_db(transaction=True)
SENTINEL = "SENTINEL-TOKEN-4f2c9a7e1b3d"


@pytest.fixture
def sentinel(local: Connection, settings: Any, tmp_path: Any) -> Connection:
    """The built-in connection, its local API token replaced by the sentinel."""
    settings.UPLOAD_SPOOL_DIR = tmp_path / "spool"
    Token.objects.filter(user_id="demo").update(key_hash=hash_token(SENTINEL))
    local.set_token(SENTINEL)
    local.save()
    clients._clients.clear()
    return local


@pytest.fixture
def task_args() -> Iterator[list[Any]]:
    """The name, arguments and keyword arguments of every Celery task that runs (eagerly, in this process)."""
    seen: list[Any] = []

    def keep(sender: Any = None, task: Any = None, args: Any = None, kwargs: Any = None, **extra: Any) -> None:
        seen.append((getattr(task, "name", sender), args, kwargs))

    task_prerun.connect(keep, weak=False)
    yield seen
    task_prerun.disconnect(keep)


def rows(*models: type[Model]) -> str:
    return repr([list(model._default_manager.values()) for model in models])


def test_the_sentinel_token_appears_nowhere(
    client: Client,
    console: Client,
    member: User,
    sentinel: Connection,
    make_app: Callable[..., str],
    django_capture_on_commit_callbacks: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    task_args: list[Any],
) -> None:
    make_app("shapes", texts=3, images=2)
    caplog.set_level(logging.DEBUG)
    c = sentinel.pk
    base = f"/c/{c}/apps/shapes"
    responses: list[Any] = []

    def get(path: str, **kwargs: Any) -> None:
        for headers in ({}, {"HX-Request": "true"}):
            responses.append(console.get(path, headers=headers, **kwargs))

    def post(path: str, data: dict[str, Any], **kwargs: Any) -> None:
        with django_capture_on_commit_callbacks(execute=True):  # jobs queued on commit run eagerly here
            responses.append(console.post(path, data, **kwargs))

    for path in (f"{base}/inputs/", f"{base}/inputs/?status=failed", f"{base}/inputs/image-000/", f"{base}/concepts/"):
        get(path)
    post(f"{base}/inputs/image-000/edit", {"concept": ["red"], "value": ["no"], "metadata": '{"note": "<b>x</b>"}'})
    post(f"{base}/inputs/image-001/edit", {"metadata": "{broken"})
    post(f"{base}/inputs/bulk", {"kind": "add_concepts", "concept": "red", "scope": "selected", "ids": ["text-000"]})
    post(f"{base}/inputs/bulk", {"kind": "set_metadata", "meta": 'k = "v"', "scope": "page", "page_ids": ["text-001"]})
    post(
        f"/c/{c}/apps/shapes/upload/",
        {
            "urls": "",
            "concepts": "",
            "metadata": "",
            "dataset_id": "",
            "file": [SimpleUploadedFile("a.png", png(20, 20, "blue"))],
        },
    )
    post(f"{base}/concepts/red/rename", {"name": "Rouge"})
    post(f"{base}/settings", {"name": "Formes", "description": ""})
    post(f"/connections/{c}/edit", {"name": "Local demo", "user_id": "demo", "token": ""})
    assert Job.objects.count() >= 3 and Job.objects.filter(state=Job.DONE).count() >= 3
    get(f"/c/{c}/jobs/")
    for job in Job.objects.all():
        get(f"/c/{c}/jobs/{job.pk}/")
    get(f"/c/{c}/audit/")
    get(f"{base}/inputs/image-000/")  # its history
    for page in ("tasks/", "tasks/new/", "access/", "access/collaborators", "access/keys"):
        get(f"{base}/{page}")
    post(f"{base}/access/keys", {"description": "Nightly", "preset": "read"})  # a key made: its own secret shown
    responses.append(console.get(f"/c/{c}/audit/export.csv"))
    # Error pages: not found, not allowed, refused.
    get(f"{base}/inputs/ghost/")
    get("/no/such/page/")
    responses.append(console.get(f"{base}/inputs/image-000/edit"))
    client.force_login(member)
    responses.append(client.get(f"/c/{c}/audit/"))
    responses.append(client.get("/connections/new"))
    # An upstream that fails, with the same token: errors on reads and on writes.
    with fault_server() as server:
        faulty = Connection(name="Faulty", user_id="u", base_url=server.url)
        faulty.set_token(SENTINEL)
        faulty.save()
        for kind in ("500", "refuse", "html", "429"):
            server.fault("GET", kind)
            get(f"/c/{faulty.pk}/apps/")
            server.fault("PATCH", kind)
            post(f"/c/{faulty.pk}/apps/shapes/inputs/x/edit", {"metadata": "{}"})
            post(f"/c/{faulty.pk}/apps/shapes/concepts/red/rename", {"name": "R"})
    # What it all left behind, read with the sentinel in mind.
    for response in responses:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert SENTINEL.encode() not in content, response.request["PATH_INFO"]
        for name, value in response.items():
            assert SENTINEL not in value, (name, response.request["PATH_INFO"])
    assert SENTINEL not in caplog.text
    assert len(caplog.records) > 20  # the run did log
    events = rows(AuditEvent, AuditTarget)
    assert SENTINEL not in events
    assert AuditEvent.objects.filter(action="PatchInputs", job_id__isnull=False).exists()
    assert AuditEvent.objects.filter(action="PostInputs", job_id__isnull=False).exists()  # the upload
    assert AuditEvent.objects.filter(connection=faulty, api_status=11102).exists()  # a refused write
    assert AuditEvent.objects.filter(action="refused").count() >= 2
    assert AuditEvent.objects.filter(action="PostKeys", api_status=10000).exists()  # the key was made
    assert SENTINEL not in rows(Job, JobFailure, Upload, UploadItem)
    assert any(name.endswith("run_job") for name, _, _ in task_args)
    assert SENTINEL not in repr(task_args)

"""The API's own jobs on the jobs page: bulk operations, inputs-add jobs, dataset versions and exports of one
app, read from the API, polled while one runs; a kind the API cannot list is said in its place and the rest
still shows."""

import json
import re
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from google.protobuf import struct_pb2

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.jobs import remote as remote_jobs
from console.jobs.models import Job
from console.jobs.services import start_job
from console.localapi import dataset_tasks, tasks
from console.localapi.models import DatasetVersion
from tests.jobs.conftest import concepts_of, ids
from tests.markup import find
from tests.servers import QuietHandler, serving

# The page reads the API's lists at the same time, in threads with connections of their own: they see
# only what is committed.
pytestmark = pytest.mark.django_db(transaction=True)

HX = {"HX-Request": "true"}


def _bulk_add_star(api: ClarifaiClient, app_id: str, input_ids: list[str]) -> None:
    api.call(
        "PostBulkOperations",
        service_pb2.PostBulkOperationsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="demo", app_id=app_id),
            bulk_operations=[
                resources_pb2.BulkOperation(
                    id="label-stars",
                    input_ids=resources_pb2.InputIDs(input_ids=input_ids),
                    operation=resources_pb2.Operation(
                        add_concepts=resources_pb2.AddConcepts(concepts=[resources_pb2.Concept(id="star", value=1)])
                    ),
                )
            ],
        ),
    )


def test_a_bulk_operation_of_the_local_api_shows_queued_then_done(
    console: Client, local: Connection, api: ClarifaiClient, notes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = reverse("jobs:remote", args=[local.pk]) + f"?app={notes}"
    with monkeypatch.context() as waiting:
        waiting.setattr(tasks, "enqueue", lambda *args: None)  # no worker takes it yet
        _bulk_add_star(api, notes, ids(3))
    partial = console.get(url, headers=HX).content.decode()
    assert partial.lstrip().startswith('<section id="remote-jobs"')
    row = find(r'<tr data-remote-job="label-stars">.*?</tr>', partial, flags=re.S).group(0)
    assert "Add concepts (star) on 3 inputs" in row and 'data-state="queued"' in row and "0 done" in row
    assert 'hx-trigger="every 3s"' in partial and "data-poll-failed" in partial

    api.call(  # the worker's task runs eagerly here
        "PostBulkOperations",
        service_pb2.PostBulkOperationsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="demo", app_id=notes),
            bulk_operations=[
                resources_pb2.BulkOperation(
                    id="unlabel",
                    input_ids=resources_pb2.InputIDs(input_ids=ids(2)),
                    operation=resources_pb2.Operation(
                        delete_metadata=resources_pb2.DeleteMetadata(metadata=_struct({"split": None}))
                    ),
                )
            ],
        ),
    )
    page = console.get(url).content.decode()
    assert "<html" in page
    done = find(r'<tr data-remote-job="unlabel">.*?</tr>', page, flags=re.S).group(0)
    assert "Remove metadata keys (split) on 2 inputs" in done and 'data-state="done"' in done and "2 done of 2" in done
    assert concepts_of(notes, "text-000") == {}, "the first operation was never run"


def _struct(value: dict[str, None]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def test_the_jobs_page_loads_the_api_jobs_of_the_app_of_the_newest_console_job(
    console: Client, local: Connection, notes: str, staff: User
) -> None:
    start_job(staff, local, notes, Job.ADD_CONCEPTS, {"concepts": ["star"], "value": 1}, ids(2))
    html = console.get(reverse("jobs:list", args=[local.pk])).content.decode()
    placeholder = find(r'<div id="remote-jobs"[^>]*>', html).group(0)
    assert f'hx-get="/c/{local.pk}/jobs/remote?app={notes}"' in placeholder and 'hx-trigger="load"' in placeholder
    # Without JavaScript, a link to the same list as a page of its own.
    assert f'href="/c/{local.pk}/jobs/remote?app={notes}"' in html


def test_an_app_picked_from_the_list_and_an_app_with_no_jobs(console: Client, local: Connection, notes: str) -> None:
    page = console.get(reverse("jobs:remote", args=[local.pk])).content.decode()
    find(r'<option value="notes" selected>', page)
    find(r"<h3>Bulk operations</h3>\s*<p class=\"muted\">None in this app.</p>", page)
    assert "hx-trigger" not in page, "nothing runs: no polling"


class _PartialApi(QuietHandler):
    """Lists one app and a running bulk operation whose details hold markup; fails the inputs-add jobs."""

    inputs_add_jobs = "not implemented"

    def do_GET(self) -> None:
        if self.path.startswith("/v2/users/me/apps/?") or self.path.startswith("/v2/users/me/apps?"):
            self._answer(200, {"apps": [{"id": "photos"}]})
        elif "/bulk_operations" in self.path:
            operation = {
                "id": "op-1",
                "dataset": {"id": "train"},
                "operation": {"delete_from_dataset": {"dataset_id": "<i>old</i>"}},
                "status": {"code": 25403, "details": "<b>half</b> way"},
                "progress": {"processed": 40},
                "created_at": "2026-11-30T10:00:00Z",
            }
            self._answer(200, {"bulk_operation": [operation]})
        elif "/inputs/jobs/add" in self.path and self.inputs_add_jobs == "not implemented":
            self._answer(501, {}, code=10040, description="Not implemented")  # as the local API answers
        else:
            self.send_response(500)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>boom</html>")

    def _answer(self, http: int, body: dict[str, object], code: int = 10000, description: str = "Ok") -> None:
        content = json.dumps({"status": {"code": code, "description": description}, **body}).encode()
        self.send_response(http)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def test_a_kind_the_api_cannot_list_is_said_and_the_other_still_shows_escaped(
    console: Client, remote: Callable[..., Connection]
) -> None:
    with serving(_PartialApi) as url:
        connection = remote(url)
        page = console.get(reverse("jobs:remote", args=[connection.pk])).content.decode()
    row = find(r'<tr data-remote-job="op-1">.*?</tr>', page, flags=re.S).group(0)
    assert "Remove from a dataset (&lt;i&gt;old&lt;/i&gt;) on the inputs of dataset train" in row
    assert 'data-state="running"' in row
    assert "&lt;b&gt;half&lt;/b&gt; way" in row and "<b>half" not in row
    assert "40 done" in row and "<progress" not in row, "no total is known for a dataset's inputs"
    assert "This API does not list its inputs-add jobs." in page
    assert 'hx-trigger="every 3s"' in page


def test_a_failing_list_says_why_in_its_place(console: Client, remote: Callable[..., Connection]) -> None:
    class Failing(_PartialApi):
        inputs_add_jobs = "500"

    with serving(Failing) as url:
        connection = remote(url)
        page = console.get(reverse("jobs:remote", args=[connection.pk])).content.decode()
    find(r"Could not list the inputs-add jobs: [^<]*500", page)
    assert 'data-remote-job="op-1"' in page


def _dataset_with_version(api: ClarifaiClient, app_id: str, dataset_id: str, input_ids: list[str]) -> None:
    app = resources_pb2.UserAppIDSet(user_id="demo", app_id=app_id)
    api.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(user_app_id=app, datasets=[resources_pb2.Dataset(id=dataset_id)]),
    )
    if input_ids:
        api.call(
            "PostDatasetInputs",
            service_pb2.PostDatasetInputsRequest(
                user_app_id=app,
                dataset_id=dataset_id,
                dataset_inputs=[resources_pb2.DatasetInput(input=resources_pb2.Input(id=i)) for i in input_ids],
            ),
        )
    api.call(
        "PostDatasetVersions",
        service_pb2.PostDatasetVersionsRequest(
            user_app_id=app,
            dataset_id=dataset_id,
            dataset_versions=[resources_pb2.DatasetVersion(id=f"{dataset_id}-v1")],
        ),
    )


def test_dataset_versions_and_exports_show_beside_the_other_kinds_and_link_to_their_dataset(
    console: Client, local: Connection, api: ClarifaiClient, notes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = reverse("jobs:remote", args=[local.pk]) + f"?app={notes}"
    with monkeypatch.context() as waiting:
        waiting.setattr(tasks, "enqueue", lambda *args: None)  # no worker builds it yet
        _dataset_with_version(api, notes, "train", ids(3))
    partial = console.get(url, headers=HX).content.decode()
    row = find(r'<tr data-remote-job="train-v1">.*?</tr>', partial, flags=re.S).group(0)
    assert "Version of dataset train" in row and 'data-state="queued"' in row
    assert f'href="/c/{local.pk}/apps/{notes}/datasets/train/versions/"' in row
    assert 'hx-trigger="every 3s"' in partial, "a version being built keeps the list polling"

    dataset_tasks.build_dataset_version(DatasetVersion.objects.get(version_id="train-v1").pk)
    api.call(
        "PutDatasetVersionExports",
        service_pb2.PutDatasetVersionExportsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="demo", app_id=notes),
            dataset_id="train",
            dataset_version_id="train-v1",
            exports=[
                resources_pb2.DatasetVersionExport(format=resources_pb2.DatasetVersionExportFormat.CLARIFAI_DATA_JSON)
            ],
        ),
    )
    page = console.get(url).content.decode()
    row = find(r'<tr data-remote-job="train-v1">.*?</tr>', page, flags=re.S).group(0)
    assert 'data-state="done"' in row and "3 inputs" in row and "done" not in row.replace('"done"', "")
    export = find(r'<tr data-remote-job="train-v1/json">.*?</tr>', page, flags=re.S).group(0)
    assert "Export of version train-v1 of dataset train (Clarifai JSON)" in export and 'data-state="done"' in export
    assert "hx-trigger" not in page


def test_only_the_most_recently_changed_datasets_are_read(
    console: Client, local: Connection, api: ClarifaiClient, notes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_jobs, "DATASETS_LISTED", 2)
    for name in ("first", "second", "third"):
        _dataset_with_version(api, notes, name, ids(2))
    page = console.get(reverse("jobs:remote", args=[local.pk]) + f"?app={notes}").content.decode()
    assert 'data-remote-job="third-v1"' in page and 'data-remote-job="second-v1"' in page
    assert 'data-remote-job="first-v1"' not in page
    newest = find(r'<tr data-remote-job="third-v1">.*?</tr>', page, flags=re.S).group(0)
    assert 'data-state="done"' in newest


def test_datasets_the_api_cannot_list_are_said_in_their_place(
    console: Client, remote: Callable[..., Connection]
) -> None:
    with serving(_PartialApi) as url:
        connection = remote(url)
        page = console.get(reverse("jobs:remote", args=[connection.pk])).content.decode()
    find(r"Could not list the dataset versions and exports: [^<]*500", page)
    assert 'data-remote-job="op-1"' in page

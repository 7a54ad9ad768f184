"""A dataset's versions: their status polled while they are built, their metrics, new versions, exports
with their status, and downloading a finished archive through the console; what the API refuses or
fails at is said in place."""

import io
import json
import re
import time
import zipfile

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.datasets import views
from console.localapi import dataset_tasks, tasks
from console.localapi.models import DatasetVersion, DatasetVersionExport
from tests.datasets.conftest import app_ids, base, make_version
from tests.faults import FaultServer
from tests.markup import find
from tests.servers import QuietHandler, serving

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}


def versions_url(local: Connection, dataset_id: str = "train") -> str:
    return base(local) + f"{dataset_id}/versions/"


def version_card(html: str, version_id: str) -> str:
    return find(rf'<article class="card version" id="version-{version_id}".*?</article>', html, flags=re.S).group(0)


def test_a_version_is_polled_while_it_is_built_and_shows_its_metrics_when_ready(
    console: Client, local: Connection, train: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as waiting:
        waiting.setattr(tasks, "enqueue", lambda *args: None)  # no worker takes it yet
        response = console.post(versions_url(local) + "new", {"id": "v1", "description": "First <cut>"})
    assert response.status_code == 302
    page = console.get(versions_url(local)).content.decode()
    card = version_card(page, "v1")
    assert 'data-state="queued"' in card and "Pending" in card and "First &lt;cut&gt;" in card
    section = find(r'<section id="versions"[^>]*>', page).group(0)
    assert 'hx-trigger="every 2s"' in section and "data-poll-failed" in section

    partial = console.get(versions_url(local), headers=HX).content.decode()
    assert partial.lstrip().startswith('<section id="versions"') and "<html" not in partial
    assert 'hx-trigger="every 2s"' in partial

    dataset_tasks.build_dataset_version(DatasetVersion.objects.get(version_id="v1").pk)  # the worker's turn
    partial = console.get(versions_url(local), headers=HX).content.decode()
    assert "hx-trigger" not in partial, "a finished list stops polling"
    card = version_card(partial, "v1")
    assert 'data-state="done"' in card and "Ready" in card
    assert '<dd data-metric="inputs">4</dd>' in card
    assert '<dd data-metric="unlabeled">0</dd>' in card
    round_row = find(r'<tr data-concept="round">.*?</tr>', card).group(0)
    assert "<td>1</td><td>1</td>" in round_row, "one yes, one no"
    red_row = find(r'<tr data-concept="red">.*?</tr>', card).group(0)
    assert "<td>4</td><td>0</td>" in red_row


def test_a_bad_or_taken_version_id_is_refused_in_place(
    console: Client, local: Connection, api: ClarifaiClient, train: str
) -> None:
    bad = console.post(versions_url(local) + "new", {"id": "no way"})
    assert bad.status_code == 400 and "Use letters, digits" in bad.content.decode()
    make_version(api, "v1")
    taken = console.post(versions_url(local) + "new", {"id": "v1", "description": "again"})
    assert taken.status_code == 400
    html = taken.content.decode()
    assert "Nothing was saved: " in html and "already exists" in html
    assert 'value="again"' in html, "what was typed is kept"
    assert DatasetVersion.objects.count() == 1


def test_an_export_is_built_and_downloaded_through_the_console(
    console: Client, local: Connection, api: ClarifaiClient, train: str
) -> None:
    make_version(api, "v1")
    response = console.post(versions_url(local) + "v1/export", {"format": "protobuf"})
    assert response.status_code == 302 and response["Location"].endswith("/versions/#version-v1")
    page = console.get(versions_url(local)).content.decode()
    assert "Exporting version v1 (Clarifai protobuf)" in page
    export = find(r'<li data-export="protobuf">.*?</li>', version_card(page, "v1"), flags=re.S).group(0)
    download = f"/c/{local.pk}/apps/shapes/datasets/train/versions/v1/exports/protobuf.zip"
    assert 'data-state="done"' in export and f'href="{download}"' in export
    key = DatasetVersionExport.objects.get().key
    assert key not in page, "the API's own URL of the archive is not in the page"

    archive = console.get(download)
    assert archive.status_code == 200
    assert archive["Content-Type"] == "application/zip"
    assert archive["Content-Disposition"] == 'attachment; filename="train-v1-protobuf.zip"'
    assert "no-store" in archive["Cache-Control"]
    token = local.token()
    content = archive.getvalue()  # handed on in chunks, never whole in memory
    assert token.encode() not in content and token not in str(archive.headers)
    with zipfile.ZipFile(io.BytesIO(content)) as opened:
        assert opened.namelist() == ["mimetype", "all/batch-00000_n4"]
        assert opened.read("mimetype") == b"application/x.clarifai-data+protobuf"
        batch = resources_pb2.InputBatch.FromString(opened.read("all/batch-00000_n4"))
    assert sorted(i.id for i in batch.inputs) == [f"image-{n:03}" for n in range(4)]


def test_a_json_export_downloads_too_through_a_temporary_file_past_the_memory_share(
    console: Client, local: Connection, api: ClarifaiClient, train: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_version(api, "v1")
    console.post(versions_url(local) + "v1/export", {"format": "json"})
    monkeypatch.setattr(views, "EXPORT_IN_MEMORY_BYTES", 64)  # this archive then goes to a file on disk
    archive = console.get(versions_url(local) + "v1/exports/json.zip")
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    content = archive.getvalue()
    assert int(archive["Content-Length"]) == len(content) > 64
    with zipfile.ZipFile(io.BytesIO(content)) as opened:
        assert opened.read("mimetype") == b"application/x.clarifai-data+json"
        assert len(json.loads(opened.read("all/batch-00000_n4"))["inputs"]) == 4


def test_an_export_of_a_failed_version_is_refused_with_the_api_message(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str
) -> None:
    api.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(user_app_id=app_ids(), datasets=[resources_pb2.Dataset(id="empty")]),
    )
    make_version(api, "v1", "empty")
    page = console.get(versions_url(local, "empty")).content.decode()
    card = version_card(page, "v1")
    assert 'data-state="failed"' in card and "data-reason" in card
    assert "A failed version cannot be exported" in card and "<form" not in card, "no export is offered"

    response = console.post(versions_url(local, "empty") + "v1/export", {"format": "protobuf"})
    assert response.status_code == 302
    page = console.get(versions_url(local, "empty")).content.decode()
    assert "Nothing was exported: " in page and "a failed version cannot be exported" in page
    assert not DatasetVersionExport.objects.exists()


def test_a_download_before_the_export_is_done_says_so(
    console: Client, local: Connection, api: ClarifaiClient, train: str
) -> None:
    make_version(api, "v1")
    response = console.get(versions_url(local) + "v1/exports/protobuf.zip")
    assert response.status_code == 409
    html = response.content.decode()
    assert "The Clarifai protobuf export of version v1 is not ready" in html and "Back to the versions" in html
    assert console.get(versions_url(local) + "v1/exports/coco.zip").status_code == 404
    assert console.get(versions_url(local) + "nosuch/exports/json.zip").status_code == 404


def test_an_archive_over_the_size_limit_is_refused_clearly(
    console: Client, local: Connection, api: ClarifaiClient, train: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_version(api, "v1")
    console.post(versions_url(local) + "v1/export", {"format": "protobuf"})
    monkeypatch.setattr(views, "EXPORT_MAX_BYTES", 100)
    response = console.get(versions_url(local) + "v1/exports/protobuf.zip")
    assert response.status_code == 502
    html = response.content.decode()
    assert "Downloading the export failed" in html and "100" in html
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(("kind", "status", "words"), [("500", 502, "HTTP 500"), ("hang", 504, "in time")])
def test_a_failing_or_slow_api_is_shown_in_place_of_the_versions(
    console: Client, faulty: tuple[FaultServer, Connection], kind: str, status: int, words: str
) -> None:
    server, connection = faulty
    server.fault("GET", kind)
    started = time.monotonic()
    response = console.get(f"/c/{connection.pk}/apps/shapes/datasets/train/versions/", headers=HX)
    assert time.monotonic() - started < 3, "the page answered within the deadline"
    assert response.status_code == status
    html = response.content.decode()
    assert "Loading the dataset&#x27;s versions failed" in html or "Loading the dataset's versions failed" in html
    assert words in html and "<html" not in html, "in place of the list, not a page"
    assert "fault-test-token" not in html


class _ExportApi(QuietHandler):
    """An API whose version `v1` has a finished export at `export_url`; the archive itself is `archive`."""

    export_url = ""
    archive = b""
    seen_tokens: list[str] = []

    def do_GET(self) -> None:
        _ExportApi.seen_tokens.append(self.headers.get("Authorization", ""))
        if self.path.startswith("/archive.zip"):
            self._send(200, self.archive, "application/zip")
            return
        version = {
            "id": "v1",
            "status": {"code": 64015},
            "export_info": {
                "clarifai_data_protobuf": {"status": {"code": 64200}, "url": self.export_url, "size": 10},
            },
        }
        body = {"status": {"code": 10000, "description": "Ok"}, "dataset_version": version}
        self._send(200, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, content: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def _remote(url: str) -> Connection:
    connection = Connection(name="Remote", user_id="u", base_url=url)
    connection.set_token("remote-secret-token")
    connection.save()
    return connection


def test_an_export_on_another_host_is_not_fetched_with_the_token(console: Client, db: None) -> None:
    class Elsewhere(_ExportApi):
        export_url = "http://127.0.0.2:9/archive.zip"

    with serving(Elsewhere) as url:
        connection = _remote(url)
        response = console.get(f"/c/{connection.pk}/apps/a/datasets/d/versions/v1/exports/protobuf.zip")
    assert response.status_code == 502
    html = response.content.decode()
    assert "Will not fetch" in html and "exports must come from" in html
    assert "remote-secret-token" not in html


def test_an_answer_that_is_not_a_zip_is_refused(console: Client, db: None) -> None:
    class NotZip(_ExportApi):
        archive = b"<html>login</html>"

    with serving(NotZip) as url:
        NotZip.export_url = f"{url}/archive.zip"
        connection = _remote(url)
        response = console.get(f"/c/{connection.pk}/apps/a/datasets/d/versions/v1/exports/protobuf.zip")
    assert response.status_code == 502
    assert "application/zip, not a zip archive" in response.content.decode()
    assert "Key remote-secret-token" in _ExportApi.seen_tokens, "the API's own host gets the token"

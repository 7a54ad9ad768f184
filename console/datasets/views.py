"""The datasets of an app: list (with the inputs of each one's latest version), create, edit, delete;
a dataset's versions with their live status and metrics, new versions, exports, and downloading a
finished export through the console (the connection's token never reaches the browser).

A dataset's inputs are the inputs grid filtered by it (`inputs:grid?dataset=<id>`), with its filters,
selection and bulk actions.
"""

import json
import tempfile
from typing import Any
from urllib.parse import urlencode

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from google.protobuf import json_format

from console.audit import context as audit
from console.clarifai import ClarifaiError, concurrently
from console.connections.clients import client_for, ids
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.paging import Page, page_params
from console.core.rendering import http_status_for, render_page, write_failed
from console.datasets.forms import DatasetEditForm, DatasetForm, ExportForm, VersionForm
from console.datasets.links import versions_url
from console.datasets.status import FORMATS, export_of, present_version

DATASETS_PER_PAGE = 50
VERSIONS_LISTED = 50  # newest first
# The largest export the console fetches and hands on (held in memory while it passes through).
EXPORT_MAX_BYTES = 256 * 1024 * 1024
EXPORT_IN_MEMORY_BYTES = 4 * 1024 * 1024


def _grid_url(connection: Connection, app_id: str, dataset_id: str) -> str:
    return reverse("inputs:grid", args=[connection.pk, app_id]) + "?" + urlencode({"dataset": dataset_id})


def _get_dataset(connection: Connection, app_id: str, dataset_id: str) -> resources_pb2.Dataset:
    request = service_pb2.GetDatasetRequest(user_app_id=ids(connection, app_id), dataset_id=dataset_id)
    dataset: resources_pb2.Dataset = client_for(connection).call("GetDataset", request).dataset
    return dataset


def _base(connection: Connection, app_id: str) -> dict[str, object]:
    return {"connection": connection, "app_id": app_id, "section": "datasets"}


@require_GET
@connection_page("Loading the datasets")
def dataset_list(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    number, per_page = page_params(request, DATASETS_PER_PAGE, (DATASETS_PER_PAGE,))
    response = client_for(connection).call(
        "ListDatasets",
        service_pb2.ListDatasetsRequest(
            user_app_id=ids(connection, app_id), page=number, per_page=per_page, sort_by_id=True, sort_ascending=True
        ),
    )
    rows = [
        (d, present_version(d.version) if d.HasField("version") else None, _grid_url(connection, app_id, d.id))
        for d in response.datasets
    ]
    context = {**_base(connection, app_id), "rows": rows, "page": Page(number, per_page, len(rows))}
    return render_page(request, "datasets/list.html", context, partial="results")


def _dataset_message(dataset_id: str, data: dict[str, Any]) -> resources_pb2.Dataset:
    dataset = resources_pb2.Dataset(id=dataset_id, description=str(data["description"]), notes=str(data["notes"]))
    dataset.metadata.SetInParent()  # sent even when empty: overwrite clears it then
    dataset.metadata.update(data["metadata"])
    return dataset


@require_http_methods(["GET", "POST"])
@connection_page("Creating the dataset")
def dataset_new(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    form = DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        dataset_id = form.cleaned_data["id"]
        post = service_pb2.PostDatasetsRequest(
            user_app_id=ids(connection, app_id), datasets=[_dataset_message(dataset_id, form.cleaned_data)]
        )
        try:
            client_for(connection).call("PostDatasets", post)
        except ClarifaiError as e:
            check_url = reverse("datasets:list", args=[connection.pk, app_id])
            form.add_error(None, write_failed(e, check_url, "See the datasets", refused="Nothing was created: "))
        else:
            messages.success(request, f"Dataset {dataset_id} created.")
            return redirect("datasets:list", connection.pk, app_id)
    context = {**_base(connection, app_id), "form": form}
    return render(request, "datasets/new.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@connection_page("Saving the dataset")
def dataset_edit(request: HttpRequest, connection: Connection, app_id: str, dataset_id: str) -> HttpResponse:
    """Description, notes and metadata (PatchDatasets, `overwrite`: what the form shows is what is kept)."""
    dataset = _get_dataset(connection, app_id, dataset_id)
    metadata = json_format.MessageToDict(dataset.metadata)
    initial = {
        "description": dataset.description,
        "notes": dataset.notes,
        "metadata": _pretty(metadata) if metadata else "",
    }
    form = DatasetEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        patch = service_pb2.PatchDatasetsRequest(
            user_app_id=ids(connection, app_id),
            datasets=[_dataset_message(dataset_id, form.cleaned_data)],
            action="overwrite",
        )
        audit.before("PatchDatasets", {**initial, "metadata": metadata})
        try:
            client_for(connection).call("PatchDatasets", patch)
        except ClarifaiError as e:
            check_url = versions_url(connection, app_id, dataset_id)
            form.add_error(None, write_failed(e, check_url, "See the dataset as the API has it now"))
        else:
            messages.success(request, f"Dataset {dataset_id} saved.")
            return redirect("datasets:list", connection.pk, app_id)
    context = {**_base(connection, app_id), "dataset": dataset, "form": form}
    return render(request, "datasets/edit.html", context, status=400 if form.errors else 200)


def _pretty(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@require_http_methods(["GET", "POST"])
@connection_page("Deleting the dataset")
def dataset_delete(request: HttpRequest, connection: Connection, app_id: str, dataset_id: str) -> HttpResponse:
    """Ask first; then delete the dataset with its versions and exports (its inputs stay in the app)."""
    dataset = _get_dataset(connection, app_id, dataset_id)
    problem = None
    status = 200
    if request.method == "POST":
        delete = service_pb2.DeleteDatasetsRequest(user_app_id=ids(connection, app_id), dataset_ids=[dataset_id])
        try:
            client_for(connection).call("DeleteDatasets", delete)
        except ClarifaiError as e:
            check_url = reverse("datasets:list", args=[connection.pk, app_id])
            problem = write_failed(e, check_url, "See the datasets", refused="Nothing was deleted: ")
            status = http_status_for(e)
        else:
            messages.success(request, f"Dataset {dataset_id} deleted; its inputs are still in the app.")
            return redirect("datasets:list", connection.pk, app_id)
    context = {**_base(connection, app_id), "dataset": dataset, "problem": problem}
    return render(request, "datasets/delete.html", context, status=status)


def _versions_page(
    request: HttpRequest,
    connection: Connection,
    app_id: str,
    dataset_id: str,
    version_form: VersionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    client, app_ids = client_for(connection), ids(connection, app_id)
    dataset, versions = concurrently(
        lambda: _get_dataset(connection, app_id, dataset_id),
        lambda: (
            client.call(
                "ListDatasetVersions",
                service_pb2.ListDatasetVersionsRequest(
                    user_app_id=app_ids, dataset_id=dataset_id, per_page=VERSIONS_LISTED
                ),
            ).dataset_versions
        ),
    )
    views = [present_version(v) for v in versions]
    context = {
        **_base(connection, app_id),
        "dataset": dataset,
        "versions": views,
        "polling": any(v.is_active for v in views),
        "grid_url": _grid_url(connection, app_id, dataset_id),
        "version_form": version_form or VersionForm(),
        "export_form": ExportForm(),
    }
    return render_page(request, "datasets/versions.html", context, partial="versions", status=status)


@require_GET
@connection_page("Loading the dataset's versions")
def dataset_versions(request: HttpRequest, connection: Connection, app_id: str, dataset_id: str) -> HttpResponse:
    return _versions_page(request, connection, app_id, dataset_id)


@require_POST
@connection_page("Making a version of the dataset")
def version_new(request: HttpRequest, connection: Connection, app_id: str, dataset_id: str) -> HttpResponse:
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _versions_page(request, connection, app_id, dataset_id, form, status=400)
    version = resources_pb2.DatasetVersion(id=form.cleaned_data["id"], description=form.cleaned_data["description"])
    post = service_pb2.PostDatasetVersionsRequest(
        user_app_id=ids(connection, app_id), dataset_id=dataset_id, dataset_versions=[version]
    )
    try:
        made = client_for(connection).call("PostDatasetVersions", post).dataset_versions
    except ClarifaiError as e:
        check_url = versions_url(connection, app_id, dataset_id)
        form.add_error(None, write_failed(e, check_url, "See the versions as the API has them now"))
        return _versions_page(request, connection, app_id, dataset_id, form, status=400)
    messages.success(request, f"Version {made[0].id if made else ''} is being built; its status follows below.")
    return redirect(versions_url(connection, app_id, dataset_id))


@require_POST
@connection_page("Exporting the version")
def version_export(
    request: HttpRequest, connection: Connection, app_id: str, dataset_id: str, version_id: str
) -> HttpResponse:
    form = ExportForm(request.POST)
    back = versions_url(connection, app_id, dataset_id) + f"#version-{version_id}"
    if not form.is_valid():
        messages.error(request, "Choose the format of the export; nothing was exported.")
        return redirect(back)
    fmt, _, label = FORMATS[form.cleaned_data["format"]]
    put = service_pb2.PutDatasetVersionExportsRequest(
        user_app_id=ids(connection, app_id),
        dataset_id=dataset_id,
        dataset_version_id=version_id,
        exports=[resources_pb2.DatasetVersionExport(format=fmt)],
    )
    try:
        client_for(connection).call("PutDatasetVersionExports", put)
    except ClarifaiError as e:
        if e.outcome_unknown:
            messages.error(request, f"The API did not confirm the export; it may have started: {e.message}")
        else:
            messages.error(request, f"Nothing was exported: {e.message}")
        return redirect(back)
    messages.success(request, f"Exporting version {version_id} ({label}); its status follows below.")
    return redirect(back)


@require_GET
@connection_page("Downloading the export")
def export_download(
    request: HttpRequest, connection: Connection, app_id: str, dataset_id: str, version_id: str, fmt: str
) -> HttpResponseBase:
    """The finished archive, fetched from the API with the connection's token and handed on as a download."""
    if fmt not in FORMATS:
        return _not_ready(request, connection, app_id, dataset_id, "There is no such export format.", 404)
    label = FORMATS[fmt][2]
    request_ = service_pb2.GetDatasetVersionRequest(
        user_app_id=ids(connection, app_id), dataset_id=dataset_id, dataset_version_id=version_id
    )
    version = client_for(connection).call("GetDatasetVersion", request_).dataset_version
    export = export_of(version, fmt)
    if export is None or not export.url:
        message = f"The {label} export of version {version_id} is not ready: export it first, or wait until it is."
        return _not_ready(request, connection, app_id, dataset_id, message, 409)
    # Up to EXPORT_MAX_BYTES: kept in memory while small, in a temporary file past that, handed on in
    # chunks and removed once sent (or at once, when the fetch fails).
    archive = tempfile.SpooledTemporaryFile(max_size=EXPORT_IN_MEMORY_BYTES)  # noqa: SIM115 (FileResponse closes it)
    try:
        client_for(connection).get_archive(export.url, EXPORT_MAX_BYTES, into=archive)
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    response = FileResponse(
        archive, content_type="application/zip", as_attachment=True, filename=_file_name(dataset_id, version_id, fmt)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _file_name(*parts: str) -> str:
    # Ids are letters, digits, '_', '-' and '.'; anything else is left out of the header.
    return "-".join("".join(c for c in part if c.isalnum() or c in "_-.") for part in parts) + ".zip"


def _not_ready(
    request: HttpRequest, connection: Connection, app_id: str, dataset_id: str, message: str, status: int
) -> HttpResponse:
    back_url = versions_url(connection, app_id, dataset_id)
    context = {**_base(connection, app_id), "message": message, "back_url": back_url}
    return render(request, "datasets/not_ready.html", context, status=status)

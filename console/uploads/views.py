"""Uploading into an app: the form (files by drag and drop or a picker, URLs, CSV, zip archives) and the
upload's page (what was refused before its job started, and the job that posts the rest)."""

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from console.clarifai import ClarifaiError
from console.connections.clients import client_for
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.uploads import services
from console.uploads.forms import UploadForm
from console.uploads.models import Upload

LISTED_DATASETS = 1000
FAILURES_SHOWN = 200


def _datasets(connection: Connection, app_id: str) -> list[str]:
    app = resources_pb2.UserAppIDSet(user_id=connection.user_id, app_id=app_id)
    try:
        response = client_for(connection).call(
            "ListDatasets", service_pb2.ListDatasetsRequest(user_app_id=app, per_page=LISTED_DATASETS)
        )
    except ClarifaiError:
        return []  # the upload still works, without a dataset to choose
    return sorted(d.id for d in response.datasets)


@require_http_methods(["GET", "POST"])
@connection_page("Uploading")
def upload_new(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, datasets=_datasets(connection, app_id))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        shared = services.Shared(data["concepts"], data["metadata"], data["dataset_id"])
        upload = services.create_upload(request.user, connection, app_id, shared, data["file"], data["urls"])
        return redirect("uploads:detail", connection.pk, upload.pk)
    context = {
        "connection": connection,
        "app_id": app_id,
        "form": form,
        "max_bytes": settings.UPLOAD_MAX_FILE_BYTES,
        "max_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
        "max_total": settings.UPLOAD_MAX_REQUEST_BYTES,
    }
    return render(request, "uploads/new.html", context, status=400 if form.is_bound else 200)


@require_GET
@connection_page("Loading the upload")
def upload_detail(request: HttpRequest, connection: Connection, upload_id: int) -> HttpResponse:
    upload = get_object_or_404(Upload.objects.select_related("job", "started_by"), pk=upload_id, connection=connection)
    context = {
        "connection": connection,
        "app_id": upload.app_id,
        "upload": upload,
        "queued": upload.items.count(),
    }
    if upload.job is not None:
        # The job's live status, as its own page shows it (and polls it, from the same partial).
        job = upload.job
        failures = list(job.failures.order_by("skipped", "chunk__index", "pk")[:FAILURES_SHOWN])
        more = job.failures.count() - len(failures) if len(failures) == FAILURES_SHOWN else 0
        context |= {"job": job, "progress": job.progress(), "failures": failures, "more_failures": more}
        context["retries"] = list(job.retries.all())
    return render(request, "uploads/detail.html", context)

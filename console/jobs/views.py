"""The jobs of a connection: the list (newest first, live), a job's page (progress, failures, cancel,
retry failed only, resume), and a form to start one by hand."""

from clarifai_grpc.grpc.api import service_pb2
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.connections.clients import client_for, ids
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.rendering import render_page
from console.jobs import remote, services
from console.jobs.forms import StartJobForm
from console.jobs.models import Job

PER_PAGE = 50
FAILURES_SHOWN = 200


def _list_page(request: HttpRequest, connection: Connection, form: StartJobForm, status: int = 200) -> HttpResponse:
    jobs = list(
        Job.with_progress()
        .filter(connection=connection)
        .select_related("started_by")
        .order_by("-created_at", "-pk")[:PER_PAGE]
    )
    rows = [(job, job.progress()) for job in jobs]
    context = {
        "connection": connection,
        "rows": rows,
        "polling": any(job.is_active for job in jobs),
        "form": form,
        "remote_app": request.GET.get("app", "") or (jobs[0].app_id if jobs else ""),
    }
    return render_page(request, "jobs/list.html", context, partial="jobs", status=status)


@require_GET
@connection_page("Loading the jobs")
def job_list(request: HttpRequest, connection: Connection) -> HttpResponse:
    return _list_page(request, connection, StartJobForm(initial={"app_id": request.GET.get("app", "")}))


APPS_OFFERED = 100  # in the app picker of the API's own jobs, by name


@require_GET
@connection_page("Loading the API's jobs")
def remote_jobs(request: HttpRequest, connection: Connection) -> HttpResponse:
    """The jobs the API runs by itself in one app (bulk operations, inputs-add jobs), with a picker of apps."""
    client = client_for(connection)
    apps = client.call(
        "ListApps",
        service_pb2.ListAppsRequest(per_page=APPS_OFFERED, sort_by_name=True, sort_ascending=True),
    ).apps
    app_ids = [app.id for app in apps]
    app_id = request.GET.get("app", "").strip()[:255] or (app_ids[0] if app_ids else "")
    if app_id and app_id not in app_ids:
        app_ids.append(app_id)  # an app past the first hundred, or one typed into the URL: asked for as is
    listings = remote.list_remote_jobs(client, ids(connection, app_id)) if app_id else []
    context = {
        "connection": connection,
        "app_id": app_id,
        "app_ids": app_ids,
        "listings": listings,
        "polling": any(job.is_active for listing in listings for job in listing.jobs),
    }
    return render_page(request, "jobs/remote.html", context, partial="remote")


@require_POST
@connection_page("Starting the job")
def job_new(request: HttpRequest, connection: Connection) -> HttpResponse:
    form = StartJobForm(request.POST)
    if not form.is_valid():
        return _list_page(request, connection, form, status=400)
    data = form.cleaned_data
    job = services.start_job(request.user, connection, data["app_id"], data["kind"], data["params"], data["input_ids"])
    return redirect("jobs:detail", connection.pk, job.pk)


def _job(connection: Connection, job_id: int) -> Job:
    return get_object_or_404(
        Job.objects.select_related("started_by", "resumed_by", "retry_of"), pk=job_id, connection=connection
    )


@require_GET
@connection_page("Loading the job")
def job_detail(request: HttpRequest, connection: Connection, job_id: int) -> HttpResponse:
    job = _job(connection, job_id)
    failures = list(job.failures.order_by("skipped", "chunk__index", "pk")[:FAILURES_SHOWN])
    context = {
        "connection": connection,
        "job": job,
        "progress": job.progress(),
        "failures": failures,
        "more_failures": max(job.failures.count() - len(failures), 0) if len(failures) == FAILURES_SHOWN else 0,
        "retries": list(job.retries.all()),
    }
    return render_page(request, "jobs/detail.html", context, partial="status")


@require_POST
@connection_page("Cancelling the job")
def job_cancel(request: HttpRequest, connection: Connection, job_id: int) -> HttpResponse:
    job = _job(connection, job_id)
    if services.cancel_job(job):
        messages.info(request, "Cancelled: the chunks being changed now finish, no other is started.")
    else:
        messages.info(request, "The job had already ended.")
    return redirect("jobs:detail", connection.pk, job.pk)


@require_POST
@connection_page("Retrying the failed inputs")
def job_retry(request: HttpRequest, connection: Connection, job_id: int) -> HttpResponse:
    job = _job(connection, job_id)
    try:
        retry = services.retry_failed(request.user, job)
    except services.JobError as e:
        messages.error(request, str(e))
        return redirect("jobs:detail", connection.pk, job.pk)
    return redirect("jobs:detail", connection.pk, retry.pk)


@require_POST
@connection_page("Resuming the job")
def job_resume(request: HttpRequest, connection: Connection, job_id: int) -> HttpResponse:
    job = _job(connection, job_id)
    if not services.resume_job(job, request.user):
        messages.info(request, "The job was not paused.")
    return redirect(reverse("jobs:detail", args=[connection.pk, job.pk]))

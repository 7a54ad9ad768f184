"""The apps of a connection: list and search (with input counts), create, one app's overview, its
settings (name and description), and deleting it as a job."""

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from console.apps.forms import AppForm, AppSettingsForm, DeleteAppForm
from console.audit import context as audit
from console.clarifai import ClarifaiError, concurrently
from console.connections.clients import client_for, ids
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.paging import Page, page_params
from console.core.rendering import render_page, write_failed
from console.inputs.display import Urls, poll_url, present
from console.jobs.models import Job
from console.jobs.services import start_job

APPS_PER_PAGE = 20
LATEST_INPUTS = 12
LISTED_NAMES = 1000  # concepts and datasets counted on the overview; more shows as "1000+"


@require_GET
@connection_page("Loading the apps")
def app_list(request: HttpRequest, connection: Connection) -> HttpResponse:
    number, per_page = page_params(request, APPS_PER_PAGE, (APPS_PER_PAGE,))
    query = request.GET.get("q", "").strip()[:100]
    response = client_for(connection).call(
        "ListApps",
        service_pb2.ListAppsRequest(
            page=number,
            per_page=per_page,
            search=query,
            sort_by_name=True,
            sort_ascending=True,
            additional_fields=["counts"],
        ),
    )
    context = {
        "connection": connection,
        "apps": response.apps,
        # An API that sends no counts (it ignored `additional_fields`) shows none, rather than zeros.
        "rows": [(app, _input_count(app)) for app in response.apps],
        "page": Page(number, per_page, len(response.apps)),
        "query": query,
    }
    return render_page(request, "apps/list.html", context, partial="results")


@require_http_methods(["GET", "POST"])
@connection_page("Creating the app")
def app_new(request: HttpRequest, connection: Connection) -> HttpResponse:
    form = AppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        app = resources_pb2.App(
            id=form.cleaned_data["id"], name=form.cleaned_data["name"], description=form.cleaned_data["description"]
        )
        try:
            client_for(connection).call("PostApps", service_pb2.PostAppsRequest(apps=[app]))
        except ClarifaiError as e:
            check_url = reverse("apps:overview", args=[connection.pk, app.id])
            form.add_error(None, write_failed(e, check_url, f"Open the app {app.id}", refused=""))
        else:
            messages.success(request, f"App {app.id} created.")
            return redirect("apps:overview", connection.pk, app.id)
    return render(request, "apps/new.html", {"connection": connection, "form": form})


@require_GET
@connection_page("Loading the app")
def app_overview(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    client = client_for(connection)
    app_ids = ids(connection, app_id)
    # Independent calls at once: the page takes about as long as the slowest of them.
    app, counts, concepts, datasets, latest = concurrently(
        lambda: client.call("GetApp", service_pb2.GetAppRequest(user_app_id=app_ids, additional_fields=["counts"])).app,
        lambda: client.call("GetInputCount", service_pb2.GetInputCountRequest(user_app_id=app_ids)).counts,
        lambda: (
            client.call(
                "ListConcepts", service_pb2.ListConceptsRequest(user_app_id=app_ids, per_page=LISTED_NAMES)
            ).concepts
        ),
        lambda: (
            client.call(
                "ListDatasets", service_pb2.ListDatasetsRequest(user_app_id=app_ids, per_page=LISTED_NAMES)
            ).datasets
        ),
        lambda: (
            client.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=app_ids, per_page=LATEST_INPUTS)).inputs
        ),
    )
    urls = Urls.of(connection, app_id)
    latest_views = [present(connection, item, urls) for item in latest]
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "overview",
        "app": app,
        "counts": counts,
        "total_inputs": counts.processed + counts.to_process + counts.processing + counts.errors,
        "concepts": concepts,
        "datasets": datasets,
        "capped": LISTED_NAMES,
        "latest": latest_views,
        "poll_url": poll_url(connection, app_id, latest_views),
    }
    return render(request, "apps/overview.html", context)


def _counts(app: resources_pb2.App) -> resources_pb2.AppResourceCounts | None:
    return app.extra_info.counts if app.extra_info.HasField("counts") else None


def _input_count(app: resources_pb2.App) -> int | None:
    counts = _counts(app)
    return None if counts is None else counts.inputs


def _app_with_counts(connection: Connection, app_id: str) -> resources_pb2.App:
    request = service_pb2.GetAppRequest(user_app_id=ids(connection, app_id), additional_fields=["counts"])
    app: resources_pb2.App = client_for(connection).call("GetApp", request).app
    return app


def _settings_context(
    connection: Connection, app_id: str, app: resources_pb2.App, form: forms.Form
) -> dict[str, object]:
    """What the settings and delete pages of an app show around their form."""
    return {
        "connection": connection,
        "app_id": app_id,
        "section": "settings",
        "app": app,
        "counts": _counts(app),
        "form": form,
    }


@require_http_methods(["GET", "POST"])
@connection_page("Saving the app's settings")
def app_settings(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """Change the app's name and description (PatchApps, `overwrite`: what the form shows is what is kept)."""
    app = _app_with_counts(connection, app_id)
    form = AppSettingsForm(request.POST or None, initial={"name": app.name, "description": app.description})
    if request.method == "POST" and form.is_valid():
        patch = resources_pb2.App(
            id=app_id, name=form.cleaned_data["name"].strip(), description=form.cleaned_data["description"]
        )
        audit.before("PatchApps", {"name": app.name, "description": app.description})
        try:
            client_for(connection).call("PatchApps", service_pb2.PatchAppsRequest(apps=[patch], action="overwrite"))
        except ClarifaiError as e:
            check_url = reverse("apps:overview", args=[connection.pk, app_id])
            form.add_error(None, write_failed(e, check_url, "Open the app"))
        else:
            messages.success(request, f"App {app_id} saved.")
            return redirect("apps:overview", connection.pk, app_id)
    context = _settings_context(connection, app_id, app, form)
    return render(request, "apps/settings.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@connection_page("Deleting the app")
def app_delete(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """Ask for the app's id, typed, showing what goes with it; then delete it as a job (on the jobs page)."""
    form = DeleteAppForm(app_id, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user if isinstance(request.user, User) else None
        job = start_job(user, connection, app_id, Job.DELETE_APP, {}, [app_id])
        messages.success(request, f"Deleting app {app_id}: its job is below.")
        return redirect("jobs:detail", connection.pk, job.pk)
    client, app_ids = client_for(connection), ids(connection, app_id)
    app, concepts = concurrently(
        lambda: _app_with_counts(connection, app_id),
        lambda: (
            client.call(
                "ListConcepts", service_pb2.ListConceptsRequest(user_app_id=app_ids, per_page=LISTED_NAMES)
            ).concepts
        ),
    )
    context = {
        **_settings_context(connection, app_id, app, form),
        "concept_count": len(concepts),
        "capped": LISTED_NAMES,
    }
    return render(request, "apps/delete.html", context, status=400 if form.errors else 200)

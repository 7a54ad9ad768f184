"""The apps of a connection: list and search, create, and one app's overview."""

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from console.apps.forms import AppForm
from console.clarifai import ClarifaiError, concurrently
from console.connections.clients import client_for
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.paging import Page, page_params
from console.core.rendering import render_page, write_failed
from console.inputs.display import Urls, poll_url, present

APPS_PER_PAGE = 20
LATEST_INPUTS = 12
LISTED_NAMES = 1000  # concepts and datasets counted on the overview; more shows as "1000+"


def ids(connection: Connection, app_id: str) -> resources_pb2.UserAppIDSet:
    return resources_pb2.UserAppIDSet(user_id=connection.user_id, app_id=app_id)


@require_GET
@connection_page("Loading the apps")
def app_list(request: HttpRequest, connection: Connection) -> HttpResponse:
    number, per_page = page_params(request, APPS_PER_PAGE, (APPS_PER_PAGE,))
    query = request.GET.get("q", "").strip()[:100]
    response = client_for(connection).call(
        "ListApps",
        service_pb2.ListAppsRequest(
            page=number, per_page=per_page, search=query, sort_by_name=True, sort_ascending=True
        ),
    )
    context = {
        "connection": connection,
        "apps": response.apps,
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

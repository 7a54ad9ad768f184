"""The concepts of an app: a paginated list with search by name, creating and renaming concepts."""

from urllib.parse import urlencode

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.apps.views import ids
from console.clarifai import ClarifaiError
from console.concepts.catalog import Catalog
from console.concepts.forms import ConceptForm, RenameForm
from console.connections.clients import client_for
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.paging import Page, page_params
from console.core.rendering import render_page, wants_partial, write_failed

PER_PAGE = 50
OPTIONS = 50  # offered as a concept's name is typed


def _page(
    request: HttpRequest, connection: Connection, app_id: str, form: ConceptForm | None = None, status: int = 200
) -> HttpResponse:
    number, per_page = page_params(request, PER_PAGE, (PER_PAGE,))
    query = request.GET.get("q", "").strip()[:100]
    client, app_ids = client_for(connection), ids(connection, app_id)
    if query:
        concepts = client.call(
            "PostConceptsSearches",
            service_pb2.PostConceptsSearchesRequest(
                user_app_id=app_ids,
                concept_query=resources_pb2.ConceptQuery(name=query),
                pagination=service_pb2.Pagination(page=number, per_page=per_page),
            ),
        ).concepts
    else:
        concepts = client.call(
            "ListConcepts", service_pb2.ListConceptsRequest(user_app_id=app_ids, page=number, per_page=per_page)
        ).concepts
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "concepts",
        "concepts": concepts,
        "page": Page(number, per_page, len(concepts)),
        "query": query,
        "form": form or ConceptForm(),
    }
    return render_page(request, "concepts/list.html", context, partial="results", status=status)


@require_GET
@connection_page("Loading the concepts")
def concept_list(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    return _page(request, connection, app_id)


@require_GET
@connection_page("Looking up concepts")
def concept_options(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """The concepts whose name starts with what is typed in a concept field (`add`), as the options of
    its <datalist>; opened as a page, the concepts list searched for the same."""
    text = request.GET.get("add", "").strip()[:100]
    if not wants_partial(request):
        return _to_list(connection, app_id, QueryDict(urlencode({"q": text}) if text else ""))
    choices = Catalog(client_for(connection), ids(connection, app_id)).choices(text, per_page=OPTIONS)
    return render(request, "inputs/detail.html#concept-options", {"concept_choices": choices})


@require_http_methods(["GET", "POST"])
@connection_page("Creating the concept")
def concept_new(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    if request.method == "GET":
        # A failed create shows the list at this URL, so its search and pager ask here: send them to the list.
        return _to_list(connection, app_id, request.GET)
    form = ConceptForm(request.POST)
    if form.is_valid():
        concept = resources_pb2.Concept(
            id=form.cleaned_data["id"], name=form.cleaned_data["name"] or form.cleaned_data["id"]
        )
        try:
            client_for(connection).call(
                "PostConcepts", service_pb2.PostConceptsRequest(user_app_id=ids(connection, app_id), concepts=[concept])
            )
        except ClarifaiError as e:
            search = reverse("concepts:list", args=[connection.pk, app_id]) + "?" + urlencode({"q": concept.name})
            form.add_error(None, write_failed(e, search, f"Search for {concept.name}", refused=""))
        else:
            messages.success(request, f"Concept {concept.id} created.")
            return redirect("concepts:list", connection.pk, app_id)
    return _page(request, connection, app_id, form, status=400)


@require_POST
@connection_page("Renaming the concept")
def concept_rename(request: HttpRequest, connection: Connection, app_id: str, concept_id: str) -> HttpResponse:
    form = RenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the concept a name.")
        return redirect(_list_url(request, connection, app_id))
    client_for(connection).call(
        "PatchConcepts",
        service_pb2.PatchConceptsRequest(
            user_app_id=ids(connection, app_id),
            concepts=[resources_pb2.Concept(id=concept_id, name=form.cleaned_data["name"])],
            action="overwrite",
        ),
    )
    messages.success(request, f"Concept {concept_id} renamed to {form.cleaned_data['name']}.")
    return redirect(_list_url(request, connection, app_id))


def _list_url(request: HttpRequest, connection: Connection, app_id: str) -> str:
    """Back to the list page the form was on (its search and page only)."""
    return _list_url_for(connection, app_id, QueryDict(request.POST.get("back", "")))


def _list_url_for(connection: Connection, app_id: str, query: QueryDict) -> str:
    kept = urlencode([(k, v) for k, v in query.items() if k in ("q", "page")])
    return reverse("concepts:list", args=[connection.pk, app_id]) + (f"?{kept}" if kept else "")


def _to_list(connection: Connection, app_id: str, query: QueryDict) -> HttpResponse:
    return redirect(_list_url_for(connection, app_id, query))

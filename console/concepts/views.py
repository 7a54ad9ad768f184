"""The concepts of an app: a paginated list with search by name and the inputs labelled with each (sorted by
name or by count), creating and renaming concepts; a concept's own page with its relations, and what to do
instead of deleting it (the API cannot delete a concept): rename it, or remove it from every input."""

from dataclasses import dataclass
from urllib.parse import urlencode

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.audit import context as audit
from console.clarifai import ClarifaiClient, ClarifaiError, concurrently
from console.concepts.catalog import Catalog
from console.concepts.counts import Usage, by_count, counts_if_possible, read_counts
from console.concepts.forms import ConceptForm, RelationForm, RenameForm
from console.connections.clients import client_for, ids
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.paging import Page, page_params
from console.core.rendering import render_page, wants_partial, write_failed
from console.inputs.filters import GridFilters, find_page
from console.jobs.models import Job
from console.jobs.services import start_job

PER_PAGE = 50
OPTIONS = 50  # offered as a concept's name is typed
SORTS = {"name": "Name", "count": "Most used"}
RELATIONS = 1000  # a concept's relations shown on its page
ID_PAGE = 1000  # input ids asked for at a time when removing a concept from every input
MAX_ID_PAGES = 100  # per label (yes, no): beyond that, the grid's "select all that match" does it


@dataclass(frozen=True)
class Row:
    id: str
    name: str
    usage: Usage | None


def _concepts(
    client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, query: str, number: int, per_page: int
) -> list[resources_pb2.Concept]:
    if query:
        request = service_pb2.PostConceptsSearchesRequest(
            user_app_id=app_ids,
            concept_query=resources_pb2.ConceptQuery(name=query),
            pagination=service_pb2.Pagination(page=number, per_page=per_page),
        )
        return list(client.call("PostConceptsSearches", request).concepts)
    listing = service_pb2.ListConceptsRequest(user_app_id=app_ids, page=number, per_page=per_page)
    return list(client.call("ListConcepts", listing).concepts)


def _page(
    request: HttpRequest, connection: Connection, app_id: str, form: ConceptForm | None = None, status: int = 200
) -> HttpResponse:
    number, per_page = page_params(request, PER_PAGE, (PER_PAGE,))
    query = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    client, app_ids = client_for(connection), ids(connection, app_id)
    if sort == "count":
        # The API cannot sort by count: every count is read, and sorted and paged here.
        counts = read_counts(client, app_ids)
        usages = by_count(counts.matching(query))
        start = (number - 1) * per_page
        rows = [Row(u.id, u.name, u) for u in usages[start : start + per_page]]
        page = Page(number, per_page, len(rows), total=len(usages))
    else:
        counts, concepts = concurrently(
            lambda: counts_if_possible(client, app_ids), lambda: _concepts(client, app_ids, query, number, per_page)
        )
        rows = [Row(c.id, c.name, counts.of(c.id)) for c in concepts]
        page = Page(number, per_page, len(rows))
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "concepts",
        "concepts": rows,
        "counts_complete": counts.complete,
        "counts_problem": counts.problem,
        "page": page,
        "query": query,
        "sort": sort,
        "sorts": SORTS,
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
    back = _back(request, connection, app_id, concept_id)
    if not form.is_valid():
        messages.error(request, "Give the concept a name.")
        return redirect(back)
    audit.before_posted(request, "PatchConcepts")
    client_for(connection).call(
        "PatchConcepts",
        service_pb2.PatchConceptsRequest(
            user_app_id=ids(connection, app_id),
            concepts=[resources_pb2.Concept(id=concept_id, name=form.cleaned_data["name"])],
            action="overwrite",
        ),
    )
    messages.success(request, f"Concept {concept_id} renamed to {form.cleaned_data['name']}.")
    return redirect(back)


def _back(request: HttpRequest, connection: Connection, app_id: str, concept_id: str) -> str:
    """The concept's own page when the form was there, else the list page it was on."""
    if request.POST.get("concept_page") == concept_id:
        return _concept_url(connection, app_id, concept_id)
    return _list_url(request, connection, app_id)


def _list_url(request: HttpRequest, connection: Connection, app_id: str) -> str:
    """Back to the list page the form was on (its search and page only)."""
    return _list_url_for(connection, app_id, QueryDict(request.POST.get("back", "")))


def _list_url_for(connection: Connection, app_id: str, query: QueryDict) -> str:
    kept = urlencode([(k, v) for k, v in query.items() if k in ("q", "page", "sort")])
    return reverse("concepts:list", args=[connection.pk, app_id]) + (f"?{kept}" if kept else "")


def _to_list(connection: Connection, app_id: str, query: QueryDict) -> HttpResponse:
    return redirect(_list_url_for(connection, app_id, query))


# --- A concept's own page: its usage, relations, and what to do instead of deleting it ---------------------


def _concept_url(connection: Connection, app_id: str, concept_id: str) -> str:
    return reverse("concepts:detail", args=[connection.pk, app_id, concept_id])


@require_GET
@connection_page("Loading the concept")
def concept_detail(request: HttpRequest, connection: Connection, app_id: str, concept_id: str) -> HttpResponse:
    client, app_ids = client_for(connection), ids(connection, app_id)
    concept, counts, relations, choices = concurrently(
        lambda: client.call("GetConcept", service_pb2.GetConceptRequest(user_app_id=app_ids, concept_id=concept_id)),
        lambda: counts_if_possible(client, app_ids),
        lambda: client.call(
            "ListConceptRelations",
            service_pb2.ListConceptRelationsRequest(user_app_id=app_ids, concept_id=concept_id, per_page=RELATIONS),
        ),
        lambda: Catalog(client, app_ids).choices(),
    )
    context = {
        "connection": connection,
        "app_id": app_id,
        "section": "concepts",
        "concept": concept.concept,
        "usage": None if counts.problem else counts.of(concept_id) or Usage(concept_id, concept.concept.name, 0, 0),
        "counts_problem": counts.problem,
        "relations": relations.concept_relations,
        "relation_form": RelationForm(),
        "concept_choices": [c for c in choices if c.id != concept_id],
    }
    return render(request, "concepts/detail.html", context)


def _write_message(request: HttpRequest, error: ClarifaiError) -> None:
    if error.outcome_unknown:
        messages.warning(request, f"The API did not confirm this change; it may have been saved. ({error.message})")
    else:
        messages.error(request, f"Nothing was saved: {error.message}")


@require_POST
@connection_page("Relating the concepts")
def relation_add(request: HttpRequest, connection: Connection, app_id: str, concept_id: str) -> HttpResponse:
    form = RelationForm(request.POST)
    back = _concept_url(connection, app_id, concept_id)
    if not form.is_valid():
        messages.error(request, "Choose a relation and give the other concept, by its name or id.")
        return redirect(back)
    client, app_ids = client_for(connection), ids(connection, app_id)
    text = form.cleaned_data["concept"]
    found = Catalog(client, app_ids).find(text)
    if not found:
        messages.error(request, f"This app has no concept “{text}”; nothing was saved.")
        return redirect(back)
    if len(found) > 1:
        named = ", ".join(sorted(c.id for c in found))
        messages.error(
            request,
            f"Several concepts are named “{text}”: type the id of the one you mean ({named}). Nothing was saved.",
        )
        return redirect(back)
    other = found[0]
    relation = resources_pb2.ConceptRelation(
        object_concept=resources_pb2.Concept(id=other.id), predicate=form.cleaned_data["predicate"]
    )
    try:
        client.call(
            "PostConceptRelations",
            service_pb2.PostConceptRelationsRequest(
                user_app_id=app_ids, concept_id=concept_id, concept_relations=[relation]
            ),
        )
    except ClarifaiError as e:
        _write_message(request, e)
    else:
        messages.success(request, f"{concept_id} is now a {relation.predicate} of {other.name or other.id}.")
    return redirect(back)


@require_POST
@connection_page("Removing the relation")
def relation_delete(
    request: HttpRequest, connection: Connection, app_id: str, concept_id: str, relation_id: str
) -> HttpResponse:
    try:
        client_for(connection).call(
            "DeleteConceptRelations",
            service_pb2.DeleteConceptRelationsRequest(
                user_app_id=ids(connection, app_id), concept_id=concept_id, ids=[relation_id]
            ),
        )
    except ClarifaiError as e:
        _write_message(request, e)
    else:
        messages.success(request, "Relation removed.")
    return redirect(_concept_url(connection, app_id, concept_id))


def _labelled_ids(
    client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, concept_id: str
) -> tuple[list[str], bool]:
    """The ids of the inputs labelled with the concept (yes or no), and whether that is all of them."""
    found: list[str] = []
    for label in ("yes", "no"):
        filters = GridFilters(concept=concept_id, label=label)
        for number in range(1, MAX_ID_PAGES + 1):
            page = find_page(client, app_ids, filters, number, ID_PAGE).inputs
            found += [item.id for item in page]
            if len(page) < ID_PAGE:
                break
        else:
            return found, False
    return list(dict.fromkeys(found)), True


@require_http_methods(["GET", "POST"])
@connection_page("Removing the concept from its inputs")
def concept_remove_everywhere(
    request: HttpRequest, connection: Connection, app_id: str, concept_id: str
) -> HttpResponse:
    """The bulk action "Remove a concept" of the inputs grid, over every input labelled with it, as a job;
    asked first (GET shows how many inputs carry it)."""
    client, app_ids = client_for(connection), ids(connection, app_id)
    if request.method == "GET":
        concept, counts = concurrently(
            lambda: (
                client.call(
                    "GetConcept", service_pb2.GetConceptRequest(user_app_id=app_ids, concept_id=concept_id)
                ).concept
            ),
            lambda: counts_if_possible(client, app_ids),
        )
        context = {
            "connection": connection,
            "app_id": app_id,
            "section": "concepts",
            "concept": concept,
            "usage": None if counts.problem else counts.of(concept_id) or Usage(concept_id, concept.name, 0, 0),
        }
        return render(request, "concepts/remove.html", context)
    input_ids, complete = _labelled_ids(client, app_ids, concept_id)
    back = _concept_url(connection, app_id, concept_id)
    if not complete:
        messages.error(
            request,
            f"More than {MAX_ID_PAGES * ID_PAGE:,} inputs carry {concept_id}; nothing was started. In the inputs "
            "grid filtered by it, use Select all that match and the action Remove a concept.",
        )
        return redirect(back)
    if not input_ids:
        messages.info(request, f"No input carries {concept_id}: there is nothing to remove.")
        return redirect(back)
    user = request.user if isinstance(request.user, User) else None
    job = start_job(user, connection, app_id, Job.REMOVE_CONCEPTS, {"concepts": [concept_id]}, input_ids)
    count = len(input_ids)
    messages.success(request, f"Remove a concept: a job over {count} input{'s' if count != 1 else ''}.")
    return redirect(reverse("jobs:detail", args=[connection.pk, job.pk]))

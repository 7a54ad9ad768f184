"""Concepts: ListConcepts, GetConcept, PostConcepts, PatchConcepts, PostConceptsSearches."""

import re

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.db import transaction

from console.localapi import status
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.handlers import rpc
from console.localapi.handlers.common import check_id, get_app, paginate, struct_to_dict
from console.localapi.messages import concept_message
from console.localapi.models import App, Concept


def _listing(concepts: list[Concept], app: App) -> list[resources_pb2.Concept]:
    for concept in concepts:
        concept.app = app  # every row is of this app: spare a query per row
    return [concept_message(c) for c in concepts]


@rpc("ListConcepts", scope="Concepts:Get")
def list_concepts(ctx: Context, request: service_pb2.ListConceptsRequest) -> service_pb2.MultiConceptResponse:
    app = get_app(ctx, request.user_app_id)
    concepts = app.concepts.order_by("concept_id")
    if request.id:
        concepts = concepts.filter(concept_id=request.id)
    return service_pb2.MultiConceptResponse(concepts=_listing(paginate(concepts, request.page, request.per_page), app))


@rpc("GetConcept", scope="Concepts:Get")
def get_concept(ctx: Context, request: service_pb2.GetConceptRequest) -> service_pb2.SingleConceptResponse:
    app = get_app(ctx, request.user_app_id)
    concept = app.concepts.filter(concept_id=request.concept_id).first()
    if concept is None:
        raise not_found(f"Concept {request.concept_id!r}")
    return service_pb2.SingleConceptResponse(concept=_listing([concept], app)[0])


@rpc("PostConcepts", scope="Concepts:Add")
def post_concepts(ctx: Context, request: service_pb2.PostConceptsRequest) -> service_pb2.MultiConceptResponse:
    app = get_app(ctx, request.user_app_id)
    if not request.concepts:
        raise invalid("Give at least one concept in concepts.")
    ids = [c.id for c in request.concepts]
    for concept_id in ids:
        check_id(concept_id, "Concept id")
    if len(set(ids)) != len(ids):
        raise ApiError(status.CONCEPTS_INVALID_REQUEST, details="A concept id appears twice in this request.")
    taken = list(app.concepts.filter(concept_id__in=ids).values_list("concept_id", flat=True))
    if taken:
        raise ApiError(
            status.CONCEPTS_INVALID_REQUEST, details=f"Concept {', '.join(sorted(taken))} already exists in this app."
        )
    # The value the client always sends means nothing here (see clarifai-wire.md §4).
    with transaction.atomic():
        created = [
            Concept.objects.create(
                app=app,
                concept_id=c.id,
                name=c.name or c.id,
                language=c.language or app.default_language,
                definition=c.definition,
                metadata=struct_to_dict(c.metadata),
            )
            for c in request.concepts
        ]
    return service_pb2.MultiConceptResponse(concepts=_listing(created, app))


@rpc("PatchConcepts", scope="Concepts:Patch")
def patch_concepts(ctx: Context, request: service_pb2.PatchConceptsRequest) -> service_pb2.MultiConceptResponse:
    app = get_app(ctx, request.user_app_id)
    if (request.action or "overwrite") != "overwrite":
        raise invalid(f"PatchConcepts supports only action 'overwrite', not {request.action!r}.")
    with transaction.atomic():
        found = {
            c.concept_id: c
            for c in app.concepts.select_for_update().filter(concept_id__in=[c.id for c in request.concepts])
        }
        missing = [c.id for c in request.concepts if c.id not in found]
        if missing:
            raise not_found(f"Concept {', '.join(missing)}")
        for patch in request.concepts:
            concept = found[patch.id]
            concept.name = patch.name or concept.name
            concept.definition = patch.definition or concept.definition
            if patch.HasField("metadata"):
                concept.metadata = struct_to_dict(patch.metadata)
            concept.save()
    return service_pb2.MultiConceptResponse(concepts=_listing([found[c.id] for c in request.concepts], app))


@rpc("PostConceptsSearches", scope="Concepts:Get")
def search_concepts(ctx: Context, request: service_pb2.PostConceptsSearchesRequest) -> service_pb2.MultiConceptResponse:
    """Find concepts by name: case-insensitive, a name matches as a prefix, `*` matches anything."""
    app = get_app(ctx, request.user_app_id)
    query = request.concept_query.name.strip()
    concepts = app.concepts.order_by("name", "concept_id")
    if query:
        pattern = "^" + ".*".join(re.escape(part) for part in query.split("*"))
        concepts = concepts.filter(name__iregex=pattern)
    if request.concept_query.language:
        concepts = concepts.filter(language=request.concept_query.language)
    page = paginate(concepts, request.pagination.page, request.pagination.per_page)
    return service_pb2.MultiConceptResponse(concepts=_listing(page, app))

"""Concepts: ListConcepts, GetConcept, PostConcepts, PatchConcepts, PostConceptsSearches, GetConceptCounts,
and the relations between concepts (ListConceptRelations, PostConceptRelations, DeleteConceptRelations).

The real API cannot delete a concept, and neither can this one.
"""

import re
import uuid

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from console.localapi import status
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.handlers import rpc
from console.localapi.handlers.common import check_id, get_app, paginate, struct_to_dict
from console.localapi.messages import concept_message
from console.localapi.models import App, Concept, ConceptCount, ConceptRelation


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


@rpc("GetConceptCounts", scope="Concepts:Get")
def get_concept_counts(
    ctx: Context, request: service_pb2.GetConceptCountsRequest
) -> service_pb2.MultiConceptCountResponse:
    """Every concept of the app with the inputs labelled with it, yes and no, by id. The counts are rows the
    database's triggers keep (ConceptCount), read with the page of concepts: no label is counted here."""
    app = get_app(ctx, request.user_app_id)
    concepts = app.concepts.order_by("concept_id").select_related("count")
    answer = service_pb2.MultiConceptCountResponse()
    for concept in paginate(concepts, request.page, request.per_page):
        try:
            count = concept.count
        except ConceptCount.DoesNotExist:
            count = ConceptCount(concept=concept)
        answer.concept_counts.append(
            resources_pb2.ConceptCount(
                id=concept.concept_id,
                name=concept.name,
                concept_type_count=resources_pb2.ConceptTypeCount(positive=count.positive, negative=count.negative),
            )
        )
    return answer


# --- Relations --------------------------------------------------------------------------------------------


def _concept(app: App, concept_id: str, what: str = "Concept") -> Concept:
    concept = app.concepts.filter(concept_id=concept_id).first() if concept_id else None
    if concept is None:
        raise not_found(f"{what} {concept_id!r}")
    concept.app = app
    return concept


def _predicate(value: str) -> str:
    predicate = value.strip().lower()
    if predicate not in ConceptRelation.PREDICATES:
        raise ApiError(
            status.CONCEPTS_INVALID_REQUEST,
            details=f"predicate must be one of {', '.join(ConceptRelation.PREDICATES)}, not {value!r}.",
        )
    return predicate


def _stored(subject: Concept, predicate: str, obj: Concept) -> tuple[Concept, Concept, str]:
    """The one row a relation is kept as: a hypernym as the hyponym it implies, a synonym ordered."""
    if predicate == ConceptRelation.HYPERNYM:
        return obj, subject, ConceptRelation.HYPONYM
    if predicate == ConceptRelation.SYNONYM and obj.pk < subject.pk:
        return obj, subject, predicate
    return subject, obj, predicate


def _relation_message(relation: ConceptRelation, seen_from: Concept | None) -> resources_pb2.ConceptRelation:
    """A relation from `seen_from`'s side (it is the subject), or as stored when listing a whole app."""
    subject, obj, predicate = relation.subject, relation.object, relation.predicate
    if seen_from is not None and obj.pk == seen_from.pk:
        subject, obj = obj, subject
        if predicate == ConceptRelation.HYPONYM:
            predicate = ConceptRelation.HYPERNYM
    return resources_pb2.ConceptRelation(
        id=relation.relation_id,
        subject_concept=concept_message(subject),
        object_concept=concept_message(obj),
        predicate=predicate,
    )


def _relations_of(app: App) -> QuerySet[ConceptRelation]:
    return app.concept_relations.select_related("subject__app", "object__app").order_by("created_at", "pk")


def _no_knowledge_graph(knowledge_graph_id: str) -> None:
    if knowledge_graph_id:
        raise invalid("The local API keeps relations in the app only: leave knowledge_graph_id empty.")


@rpc("ListConceptRelations", scope="Concepts:Get")
def list_concept_relations(
    ctx: Context, request: service_pb2.ListConceptRelationsRequest
) -> service_pb2.MultiConceptRelationResponse:
    """The relations of one concept, each from its side (`predicate` filters them), or of the whole app."""
    app = get_app(ctx, request.user_app_id)
    _no_knowledge_graph(request.knowledge_graph_id)
    relations = _relations_of(app)
    predicate = _predicate(request.predicate) if request.predicate else ""
    concept = _concept(app, request.concept_id) if request.concept_id else None
    if concept is not None:
        relations = relations.filter(Q(subject=concept) | Q(object=concept))
        if predicate == ConceptRelation.HYPONYM:
            relations = relations.filter(predicate=ConceptRelation.HYPONYM, subject=concept)
        elif predicate == ConceptRelation.HYPERNYM:
            relations = relations.filter(predicate=ConceptRelation.HYPONYM, object=concept)
    elif predicate:
        relations = relations.filter(
            predicate=ConceptRelation.SYNONYM if predicate == ConceptRelation.SYNONYM else ConceptRelation.HYPONYM
        )
    if predicate == ConceptRelation.SYNONYM:
        relations = relations.filter(predicate=ConceptRelation.SYNONYM)
    page = paginate(relations, request.page, request.per_page)
    messages = []
    for relation in page:
        message = _relation_message(relation, concept)
        if concept is None and predicate == ConceptRelation.HYPERNYM:
            message = _relation_message(relation, relation.object)
        messages.append(message)
    return service_pb2.MultiConceptRelationResponse(concept_relations=messages)


@rpc("PostConceptRelations", scope="Concepts:Add")
def post_concept_relations(
    ctx: Context, request: service_pb2.PostConceptRelationsRequest
) -> service_pb2.MultiConceptRelationResponse:
    """Relate the concept to others. All or nothing: a concept that does not exist, a relation of a concept
    to itself, an unknown predicate, or a relation that exists already (either way round) refuses the lot."""
    app = get_app(ctx, request.user_app_id)
    subject = _concept(app, request.concept_id)
    if not request.concept_relations:
        raise invalid("Give at least one relation in concept_relations.")
    wanted: list[tuple[Concept, Concept, str, str]] = []
    seen: set[tuple[int, int, str]] = set()
    for n, given in enumerate(request.concept_relations):
        _no_knowledge_graph(given.knowledge_graph_id)
        if given.subject_concept.id and given.subject_concept.id != subject.concept_id:
            raise invalid(
                f"concept_relations[{n}].subject_concept is {given.subject_concept.id!r}, "
                f"but the relations are posted to concept {subject.concept_id!r}."
            )
        predicate = _predicate(given.predicate)
        obj = _concept(app, given.object_concept.id, f"concept_relations[{n}].object_concept")
        if obj.pk == subject.pk:
            raise ApiError(
                status.CONCEPTS_INVALID_REQUEST,
                details=f"Concept {subject.concept_id!r} cannot be related to itself.",
            )
        a, b, kept = _stored(subject, predicate, obj)
        if (a.pk, b.pk, kept) in seen:
            raise ApiError(status.DATABASE_DUPLICATE_KEY, details=f"concept_relations[{n}] appears twice.")
        seen.add((a.pk, b.pk, kept))
        wanted.append((a, b, kept, predicate))
    involved = {subject.pk} | {w[0].pk for w in wanted} | {w[1].pk for w in wanted}
    existing = _relations_of(app).filter(subject__in=involved, object__in=involved)
    for relation in existing:
        for a, b, kept, predicate in wanted:
            if (relation.subject_id, relation.object_id, relation.predicate) == (a.pk, b.pk, kept):
                other = b if a.pk == subject.pk else a
                raise ApiError(
                    status.DATABASE_DUPLICATE_KEY,
                    details=f"Concept {subject.concept_id!r} is already a {predicate} of {other.concept_id!r} "
                    f"(relation {relation.relation_id}).",
                )
            if kept == ConceptRelation.HYPONYM and (relation.subject_id, relation.object_id, relation.predicate) == (
                b.pk,
                a.pk,
                kept,
            ):
                raise ApiError(
                    status.CONCEPTS_INVALID_REQUEST,
                    details=f"{a.concept_id!r} cannot be a kind of {b.concept_id!r}: "
                    f"{b.concept_id!r} is already a kind of {a.concept_id!r} (relation {relation.relation_id}).",
                )
    try:
        with transaction.atomic():
            created = [
                ConceptRelation.objects.create(
                    app=app, relation_id=uuid.uuid4().hex, subject=a, object=b, predicate=kept
                )
                for a, b, kept, _ in wanted
            ]
    except IntegrityError:  # the same relation posted at the same moment by another request
        raise ApiError(status.DATABASE_DUPLICATE_KEY, details="One of these relations exists already.") from None
    return service_pb2.MultiConceptRelationResponse(concept_relations=[_relation_message(r, subject) for r in created])


@rpc("DeleteConceptRelations", scope="Concepts:Add")
def delete_concept_relations(
    ctx: Context, request: service_pb2.DeleteConceptRelationsRequest
) -> status_pb2.BaseResponse:
    """Remove relations of the concept by their ids; an id that is none of its relations refuses the lot."""
    app = get_app(ctx, request.user_app_id)
    concept = _concept(app, request.concept_id)
    if not request.ids:
        raise invalid("Give the ids of the relations to delete in ids.")
    ids = set(request.ids)
    with transaction.atomic():
        found = app.concept_relations.filter(Q(subject=concept) | Q(object=concept), relation_id__in=ids)
        missing = ids - set(found.values_list("relation_id", flat=True))
        if missing:
            raise not_found(f"Relation {', '.join(sorted(missing))} of concept {concept.concept_id!r}")
        found.delete()
    return status_pb2.BaseResponse()

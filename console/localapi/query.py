"""A Clarifai search (`Search` / `Query` / `Filter`) as a database filter over an app's inputs.

Every search of the local API goes through here: PostInputsSearches, PostSearches and the input source
of a bulk operation. The meaning follows the real API and its official SDK:

- Filters in `query.filters` must all match (AND); `negate` turns one filter into its opposite.
- Concepts in one filter (`annotation.data.concepts`, or `input.data.concepts`) are alternatives (OR):
  a concept given by id, or by name when the id is empty, with value 1 (a positive label) or 0 (a
  negative one). A concept the app does not have matches nothing.
- Metadata (`annotation.data.metadata` or `input.data.metadata`) is a JSON subset match: every key given,
  nested keys included, must have the value given; a list given must be contained in the stored list.
- In one filter's `input`, the input's id, its types (`data.image` / `data.text` present), its status
  code and its dataset ids are alternatives (OR), as the SDK's "input_types or input_status_code" is.
- `last_updated_time_range` bounds the input's modification time.

What the local API cannot do (ranking by similarity, saved searches, geo, regions, annotation status)
is refused with a SEARCH_INVALID_REQUEST that names the field, never ignored.
"""

import json
from datetime import UTC
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, JSONField, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTransform
from google.protobuf.message import Message

from console.localapi import status
from console.localapi.errors import ApiError
from console.localapi.handlers.common import struct_to_dict
from console.localapi.models import App, DatasetInput, Input, InputConcept

INPUT_TYPES = {"image": Input.IMAGE, "text": Input.TEXT, "video": None, "audio": None}


def invalid_search(details: str) -> ApiError:
    return ApiError(status.SEARCH_INVALID_REQUEST, details=details)


def _only(message: Message, allowed: set[str], path: str) -> None:
    """Refuse any field set on `message` that the local API does not search by."""
    for field, _ in message.ListFields():
        if field.name not in allowed:
            raise invalid_search(f"The local API cannot search by {path}.{field.name}.")


def search_inputs(app: App, search: resources_pb2.Search) -> QuerySet[Input]:
    """The app's inputs that match `search`, unordered."""
    _only(search, {"query", "metric", "algorithm", "min_value"}, "search")
    return Input.objects.filter(app=app).filter(query_filter(app, search.query))


def query_filter(app: App, query: resources_pb2.Query) -> Q:
    _only(query, {"filters", "ranks", "language"}, "query")
    for n, rank in enumerate(query.ranks):
        if rank.negate or rank.annotation.ListFields():
            raise invalid_search(
                f"query.ranks[{n}] ranks by similarity, which the local API cannot do; use filters only."
            )
    combined = Q()
    for n, item in enumerate(query.filters):
        condition = _filter(app, item, f"query.filters[{n}]")
        combined &= ~condition if item.negate else condition
    return combined


def _filter(app: App, item: resources_pb2.Filter, path: str) -> Q:
    _only(item, {"negate", "annotation", "input", "last_updated_time_range"}, path)
    condition = Q()
    concepts: list[resources_pb2.Concept] = []
    if item.HasField("annotation"):
        annotation = item.annotation
        _only(annotation, {"data", "input_id"}, f"{path}.annotation")
        _only(annotation.data, {"concepts", "metadata"}, f"{path}.annotation.data")
        concepts += annotation.data.concepts
        if annotation.data.HasField("metadata"):
            condition &= metadata_filter(struct_to_dict(annotation.data.metadata), f"{path}.annotation.data.metadata")
        if annotation.input_id:
            condition &= Q(input_id=annotation.input_id)
    if item.HasField("input"):
        given = item.input
        _only(given, {"id", "data", "status", "dataset_ids"}, f"{path}.input")
        _only(given.data, {"image", "text", "video", "audio", "concepts", "metadata"}, f"{path}.input.data")
        concepts += given.data.concepts
        if given.data.HasField("metadata"):
            condition &= metadata_filter(struct_to_dict(given.data.metadata), f"{path}.input.data.metadata")
        condition &= _input_alternatives(app, given, path)
    if concepts:
        condition &= _concepts(app, concepts, path)
    if item.HasField("last_updated_time_range"):
        span = item.last_updated_time_range
        if span.HasField("start_time"):
            condition &= Q(modified_at__gte=span.start_time.ToDatetime(tzinfo=UTC))
        if span.HasField("end_time"):
            condition &= Q(modified_at__lte=span.end_time.ToDatetime(tzinfo=UTC))
    return condition


def _input_alternatives(app: App, given: resources_pb2.Input, path: str) -> Q:
    alternatives = []
    if given.id:
        alternatives.append(Q(input_id=given.id))
    for name in ("image", "text", "video", "audio"):
        if given.data.HasField(name):
            media = getattr(given.data, name)
            if media.ListFields():
                raise invalid_search(
                    f"{path}.input.data.{name} has content: searching by content ranks by similarity, which the "
                    "local API cannot do. An empty {} filters by input type."
                )
            kind = INPUT_TYPES[name]
            alternatives.append(Q(kind=kind) if kind else Q(pk__in=[]))
    if given.HasField("status"):
        _only(given.status, {"code"}, f"{path}.input.status")
        alternatives.append(Q(status_code=given.status.code))
    if given.dataset_ids:
        alternatives.append(
            Q(
                Exists(
                    DatasetInput.objects.filter(
                        input=OuterRef("pk"), dataset__app=app, dataset__dataset_id__in=list(given.dataset_ids)
                    )
                )
            )
        )
    either = Q()
    for alternative in alternatives:
        either |= alternative
    return either


def _concepts(app: App, concepts: list[resources_pb2.Concept], path: str) -> Q:
    either = Q()
    for n, concept in enumerate(concepts):
        where = f"{path} concept {n + 1}"
        _only(concept, {"id", "name", "value", "language"}, where)
        if not concept.id and not concept.name:
            raise invalid_search(f"{where} has neither id nor name.")
        if concept.value not in (0.0, 1.0):
            raise invalid_search(
                f"{where} has value {concept.value:g}; search for 1 (labelled yes) or 0 (labelled no)."
            )
        which = Q(concept__concept_id=concept.id) if concept.id else Q(concept__name=concept.name)
        value = Q(value__gt=0) if concept.value else Q(value=0)
        either |= which & value
    return Q(Exists(InputConcept.objects.filter(either, input=OuterRef("pk"), concept__app=app)))


def metadata_filter(wanted: dict[str, Any], path: str = "metadata") -> Q:
    """Inputs whose metadata contains `wanted`: PostgreSQL's jsonb `@>` (GIN-indexed); elsewhere the same
    test spelled out key by key."""
    if not wanted:
        return Q()
    if connection.vendor == "postgresql":
        return Q(metadata__contains=wanted)
    return _contains(KeyTransform, ["metadata"], wanted, path)


def _contains(transform: type[KeyTransform], keys: list[str], wanted: Any, path: str) -> Q:
    if isinstance(wanted, dict):
        if not wanted:
            return Q(_sql("json_type(metadata, %s) = 'object'", _json_path(keys[1:])))
        condition = Q()
        for key, value in wanted.items():
            condition &= _contains(transform, [*keys, key], value, path)
        return condition
    if isinstance(wanted, list):
        condition = Q(_sql("json_type(metadata, %s) = 'array'", _json_path(keys[1:])))
        for element in wanted:
            if isinstance(element, dict | list):
                raise invalid_search(
                    f"{path}: a list of objects or lists is matched on PostgreSQL only; on SQLite give lists of "
                    "strings, numbers or booleans."
                )
            condition &= Q(_list_has(keys[1:], element))
        return condition
    expression: Any = keys[0]
    for key in keys[1:]:
        expression = transform(key, expression)
    # The value as a JSON expression, so it is encoded as JSON as `metadata__key=value` would have it.
    return Q(expression.get_lookup("exact")(expression, Value(wanted, output_field=JSONField())))


def _json_path(keys: list[str]) -> str:
    return "$" + "".join("." + json.dumps(key) for key in keys)


def _sql(sql: str, *params: Any) -> "ExpressionWrapper[RawSQL]":
    """A condition in SQLite's JSON functions; every value goes in as a parameter, the column by its name."""
    return ExpressionWrapper(
        RawSQL(sql.replace("metadata", _column()), params),  # noqa: S611 (values are parameters)
        output_field=BooleanField(),
    )


def _column() -> str:
    quote = connection.ops.quote_name
    return f"{quote(Input._meta.db_table)}.{quote('metadata')}"


_LIST_HAS = "EXISTS (SELECT 1 FROM json_each(metadata, %s) WHERE "
_LIST_HAS_TYPE = _LIST_HAS + "type = %s)"
_LIST_HAS_TEXT = _LIST_HAS + "type = 'text' AND value = %s)"
_LIST_HAS_NUMBER = _LIST_HAS + "type IN ('integer', 'real') AND value = %s)"


def _list_has(keys: list[str], element: Any) -> "ExpressionWrapper[RawSQL]":
    path = _json_path(keys)
    if element is None or isinstance(element, bool):
        return _sql(_LIST_HAS_TYPE, path, json.dumps(element))  # the type is 'null', 'true' or 'false'
    return _sql(_LIST_HAS_TEXT if isinstance(element, str) else _LIST_HAS_NUMBER, path, element)

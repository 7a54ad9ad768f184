"""The inputs grid's filters: read from the URL, written back to it, and turned into one search.

Every filter lives in the query string, so a shared link opens the same view:
`concept` (a concept's name or id) with `label=yes|no`, `meta` (`key = value`, dots for nested keys),
`dataset`, `type` (image or text), `id`, and `status`. They combine with AND: each is its own filter
of one PostInputsSearches query (the real API's and the local API's meaning alike).
"""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from django.http import QueryDict
from google.protobuf import struct_pb2

from console.clarifai import ClarifaiClient
from console.clarifai.errors import ClarifaiStatusError
from console.concepts import catalog
from console.inputs.display import FAILED, IN_PROGRESS, PENDING, PROCESSED

STATUSES = {"all": None, "processed": PROCESSED, "pending": PENDING, "processing": IN_PROGRESS, "failed": FAILED}
TYPES = ("image", "text")
# The filters besides status: with any of them the grid searches instead of listing.
SEARCH_PARAMS = ("concept", "label", "meta", "dataset", "type", "id")
GRID_PARAMS = ("page", "per_page", "status", *SEARCH_PARAMS)
MAX_LENGTH = 500


class MetadataFilterError(ValueError):
    """A `key = value` the grid cannot read; the message says what to write instead."""


def parse_metadata(text: str) -> dict[str, Any]:
    """`a.b = 1` -> {"a": {"b": 1}}. The value is JSON: a number, true, false, null, "a quoted string",
    or a list or object."""
    key, equals, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not equals or not key:
        raise MetadataFilterError('Write a metadata filter as key = value, for example split = "test".')
    if any(not part.strip() for part in key.split(".")):
        raise MetadataFilterError(f"“{key}” is not a key: use dots only between the names of nested keys.")
    if not raw:
        raise MetadataFilterError(f'Give a value after “{key} =”: a number, true, false, null or a "quoted string".')
    try:
        value = json.loads(raw)
    except ValueError:
        raise MetadataFilterError(
            f'“{raw}” is not a value the filter can read: write text in double quotes ("{raw}"), or a number, '
            "true, false or null."
        ) from None
    *parents, last = (part.strip() for part in key.split("."))
    nested: dict[str, Any] = {last: value}
    for parent in reversed(parents):
        nested = {parent: nested}
    return nested


@dataclass(frozen=True)
class GridFilters:
    status: str = "all"
    concept: str = ""
    label: str = "yes"  # yes: labelled with the concept; no: labelled as not it
    meta: str = ""
    dataset: str = ""
    type: str = ""
    id: str = ""

    @classmethod
    def of(cls, query: QueryDict) -> "GridFilters":
        def text(name: str) -> str:
            return query.get(name, "").strip()[:MAX_LENGTH]

        status = query.get("status", "all")
        kind = text("type")
        return cls(
            status=status if status in STATUSES else "all",
            concept=text("concept"),
            label="no" if query.get("label") == "no" else "yes",
            meta=text("meta"),
            dataset=text("dataset"),
            type=kind if kind in TYPES else "",
            id=text("id"),
        )

    @property
    def status_code(self) -> "status_code_pb2.StatusCode.ValueType | None":
        return STATUSES[self.status]

    @property
    def searching(self) -> bool:
        """Whether the grid needs a search (any filter besides status), not a plain list."""
        return bool(self.concept or self.meta or self.dataset or self.type or self.id)

    @property
    def metadata(self) -> dict[str, Any] | None:
        return parse_metadata(self.meta) if self.meta else None

    @property
    def metadata_error(self) -> str:
        try:
            self.metadata  # noqa: B018 (read for its error)
        except MetadataFilterError as e:
            return str(e)
        return ""

    def params(self) -> list[tuple[str, str]]:
        """The filters as query parameters, only those set (the shortest URL for the same view)."""
        pairs = [("status", self.status)] if self.status != "all" else []
        if self.concept:
            pairs.append(("concept", self.concept))
            if self.label == "no":
                pairs.append(("label", "no"))
        pairs += [(name, getattr(self, name)) for name in ("meta", "dataset", "type", "id") if getattr(self, name)]
        return pairs

    def query(self) -> str:
        return urlencode(self.params())

    def search(self, concept_id: str = "") -> resources_pb2.Query:
        """One query, a filter per criterion (AND). `concept_id` is the concept the name resolved to."""
        filters = []
        if concept_id:
            concept = resources_pb2.Concept(id=concept_id, value=0.0 if self.label == "no" else 1.0)
            filters.append(
                resources_pb2.Filter(annotation=resources_pb2.Annotation(data=resources_pb2.Data(concepts=[concept])))
            )
        metadata = self.metadata
        if metadata is not None:
            struct = struct_pb2.Struct()
            struct.update(metadata)
            filters.append(
                resources_pb2.Filter(annotation=resources_pb2.Annotation(data=resources_pb2.Data(metadata=struct)))
            )
        if self.dataset:
            filters.append(resources_pb2.Filter(input=resources_pb2.Input(dataset_ids=[self.dataset])))
        if self.type:
            data = resources_pb2.Data()
            getattr(data, self.type).SetInParent()  # an empty image or text: "inputs of this type"
            filters.append(resources_pb2.Filter(input=resources_pb2.Input(data=data)))
        if self.id:
            filters.append(resources_pb2.Filter(input=resources_pb2.Input(id=self.id)))
        if self.status_code:
            status = resources_pb2.Input()
            status.status.code = self.status_code
            filters.append(resources_pb2.Filter(input=status))
        return resources_pb2.Query(filters=filters)


def grid_query(query: str) -> str:
    """Only the grid's own parameters of a query string: where to come back to from an input."""
    return urlencode([(k, v) for k, v in QueryDict(query).items() if k in GRID_PARAMS])


@dataclass
class Found:
    """A page of the inputs that match, or why none can (a message, never an error page)."""

    inputs: list[resources_pb2.Input]
    message: str = ""


def _dataset_exists(client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, dataset_id: str) -> bool:
    try:
        client.call("GetDataset", service_pb2.GetDatasetRequest(user_app_id=app_ids, dataset_id=dataset_id))
    except ClarifaiStatusError as e:
        if e.http_status == 404 or e.code == status_code_pb2.CONN_DOES_NOT_EXIST:
            return False
        raise
    return True


def resolve_concept(client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, text: str) -> str:
    """The id of the concept `text` names (its id, or its name ignoring case), or "" when none does."""
    found = catalog.find(client, app_ids, text)
    return found[0].id if found else ""


def find_page(
    client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, filters: GridFilters, number: int, per_page: int
) -> Found:
    """One page of the inputs that match: ListInputs for no filter or status alone, else PostInputsSearches."""
    if not filters.searching:
        listing = service_pb2.ListInputsRequest(user_app_id=app_ids, page=number, per_page=per_page)
        if filters.status_code:
            listing.status.code = filters.status_code
        listed: service_pb2.MultiInputResponse = client.call("ListInputs", listing)
        return Found(list(listed.inputs))
    if filters.metadata_error:
        return Found([], filters.metadata_error)
    concept_id = ""
    if filters.concept:
        concept_id = resolve_concept(client, app_ids, filters.concept)
        if not concept_id:
            return Found([], f"This app has no concept “{filters.concept}”, so no input matches.")
    request = service_pb2.PostInputsSearchesRequest(
        user_app_id=app_ids,
        searches=[resources_pb2.Search(query=filters.search(concept_id))],
        pagination=service_pb2.Pagination(page=number, per_page=per_page),
    )
    try:
        response: service_pb2.MultiSearchResponse = client.call("PostInputsSearches", request)
    except ClarifaiStatusError:
        if filters.dataset and not _dataset_exists(client, app_ids, filters.dataset):
            return Found([], f"This app has no dataset “{filters.dataset}”, so no input matches.")
        raise
    inputs = [hit.input for hit in response.hits]
    if not inputs and filters.dataset and not _dataset_exists(client, app_ids, filters.dataset):
        return Found([], f"This app has no dataset “{filters.dataset}”, so no input matches.")
    return Found(inputs)

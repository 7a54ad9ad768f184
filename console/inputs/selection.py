"""What a bulk action runs over, and what it does.

A selection is one of three scopes: the tiles ticked (`ids`), every input of the page shown (`page_ids`,
which works without JavaScript), or every input that matches the filters: a *snapshot*. The real API
has no count for a search, so the snapshot pages through the matching ids (PostInputsSearches, 1,000 a
page, through the client) one request at a time, the page showing the count as it grows; the ids are
kept in the cache every process shares, a page of ids a key, for an hour. The bulk action then runs
over exactly those ids: what the person saw counted is what is changed.

Why in the request and not a Celery job: each step is one API call of at most 1,000 ids (well under a
second on the real API), so the page shows progress without a worker, and a closed tab leaves nothing
running. 100,000 matches are 100 steps.
"""

import secrets
from dataclasses import dataclass, field
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import QueryDict

from console.clarifai import ClarifaiClient
from console.inputs.filters import GridFilters, MetadataFilterError, find_page, parse_metadata, resolve_concept
from console.jobs.models import Job

SNAPSHOT_PAGE = 1000
SNAPSHOT_SECONDS = 3600
MAX_SNAPSHOT = 1_000_000

BULK_KINDS = [
    (Job.ADD_CONCEPTS, "Add a concept"),
    (Job.REMOVE_CONCEPTS, "Remove a concept"),
    (Job.SET_METADATA, "Set a metadata key"),
    (Job.REMOVE_METADATA, "Remove a metadata key"),
    (Job.ADD_TO_DATASET, "Add to a dataset"),
    (Job.REMOVE_FROM_DATASET, "Remove from a dataset"),
    (Job.DELETE_INPUTS, "Delete"),
]


def _cache() -> BaseCache:
    # The cache every web process shares (Redis, or a table in the database): the next step of a snapshot
    # may reach another process.
    return caches[settings.CONSOLE_RATE_LIMIT_CACHE]


@dataclass
class Snapshot:
    token: str
    connection_id: int
    app_id: str
    query: str  # the grid's filters, as a query string
    user_id: int | None
    pages: int = 0
    count: int = 0
    done: bool = False

    def key(self, page: int | None = None) -> str:
        return f"inputs-snapshot:{self.token}" + ("" if page is None else f":{page}")

    def save(self) -> None:
        _cache().set(self.key(), self.__dict__.copy(), SNAPSHOT_SECONDS)

    @classmethod
    def load(cls, token: str, connection_id: int, app_id: str, user_id: int | None) -> "Snapshot | None":
        """The snapshot `token` names, only for the same person, connection and app."""
        if not token.isalnum():
            return None
        data = _cache().get(f"inputs-snapshot:{token}")
        if not isinstance(data, dict):
            return None
        snapshot = cls(**data)
        if (snapshot.connection_id, snapshot.app_id, snapshot.user_id) != (connection_id, app_id, user_id):
            return None
        return snapshot

    @classmethod
    def start(cls, connection_id: int, app_id: str, query: str, user_id: int | None) -> "Snapshot":
        snapshot = cls(secrets.token_hex(16), connection_id, app_id, query, user_id)
        snapshot.save()
        return snapshot

    def step(self, client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet) -> None:
        """Take the next page of matching ids."""
        if self.done:
            return
        filters = GridFilters.of(QueryDict(self.query))
        found = find_page(client, app_ids, filters, self.pages + 1, SNAPSHOT_PAGE)
        page_ids = [item.id for item in found.inputs]
        _cache().set(self.key(self.pages + 1), page_ids, SNAPSHOT_SECONDS)
        self.pages += 1
        self.count += len(page_ids)
        self.done = len(page_ids) < SNAPSHOT_PAGE or self.count >= MAX_SNAPSHOT
        self.save()

    def ids(self) -> list[str] | None:
        """Every id taken, in order, without repeats; None when a page has expired from the cache."""
        pages = _cache().get_many([self.key(n) for n in range(1, self.pages + 1)])
        if len(pages) != self.pages:
            return None
        return list(dict.fromkeys(i for n in range(1, self.pages + 1) for i in pages[self.key(n)]))


class BulkError(ValueError):
    """A bulk action that cannot start as asked; the message says why."""


@dataclass
class BulkAction:
    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return dict(BULK_KINDS)[self.kind]


def bulk_action(posted: QueryDict, client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet) -> BulkAction:
    """The action of a posted bulk form, its concept resolved by name; BulkError says what is missing."""
    kind = posted.get("kind", "")
    if kind not in dict(BULK_KINDS):
        raise BulkError("Choose what to do to the selected inputs.")
    if kind in (Job.ADD_CONCEPTS, Job.REMOVE_CONCEPTS):
        name = posted.get("concept", "").strip()
        if not name:
            raise BulkError("Give the concept, by its name or id.")
        concept_id = resolve_concept(client, app_ids, name)
        if not concept_id:
            raise BulkError(f"This app has no concept “{name}”. Create it on the concepts page first.")
        params: dict[str, Any] = {"concepts": [concept_id]}
        if kind == Job.ADD_CONCEPTS:
            params["value"] = 0 if posted.get("label") == "no" else 1
        return BulkAction(kind, params)
    if kind == Job.SET_METADATA:
        text = posted.get("meta", "")
        try:
            parse_metadata(text)
        except MetadataFilterError as e:
            raise BulkError(str(e)) from None
        key, _, raw = text.partition("=")
        flat_key = ".".join(part.strip() for part in key.strip().split("."))
        return BulkAction(kind, {"metadata": {flat_key: parse_metadata(f"x = {raw}")["x"]}})
    if kind == Job.REMOVE_METADATA:
        key = posted.get("meta", "").partition("=")[0].strip()
        if not key:
            raise BulkError("Give the metadata key to remove (dots for nested keys).")
        return BulkAction(kind, {"keys": [key]})
    if kind in (Job.ADD_TO_DATASET, Job.REMOVE_FROM_DATASET):
        dataset_id = posted.get("dataset", "").strip()
        if not dataset_id:
            raise BulkError("Give the dataset's id.")
        return BulkAction(kind, {"dataset_id": dataset_id})
    return BulkAction(kind)

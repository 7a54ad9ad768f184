"""Finding an app's concepts by what a person types (a name or an id), and creating one by its name.

Used by every form that labels data, so that a typo never creates a concept on its own: a name that
matches nothing is created only through `create_named`, which a form calls once the person confirmed.
"""

import hashlib
import re

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from django.utils.text import slugify

from console.apps.forms import clarifai_id
from console.clarifai import ClarifaiClient
from console.clarifai.errors import ClarifaiStatusError

SEARCH_PAGE = 100


def is_clarifai_id(text: str) -> bool:
    return bool(re.match(clarifai_id.regex, text))


def _by_id(
    client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, concept_id: str
) -> resources_pb2.Concept | None:
    if not is_clarifai_id(concept_id):
        return None
    try:
        request = service_pb2.GetConceptRequest(user_app_id=app_ids, concept_id=concept_id)
        response: service_pb2.SingleConceptResponse = client.call("GetConcept", request)
        return response.concept
    except ClarifaiStatusError as e:
        if e.http_status == 404 or e.code == status_code_pb2.CONN_DOES_NOT_EXIST:
            return None
        raise


def search_by_name(
    client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, text: str, per_page: int = SEARCH_PAGE
) -> list[resources_pb2.Concept]:
    """Concepts whose name starts with `text` (case-insensitively), as the API searches; `*` is not a
    wildcard here, so it is left out of the query."""
    query = text.replace("*", " ").strip()
    request = service_pb2.PostConceptsSearchesRequest(
        user_app_id=app_ids,
        concept_query=resources_pb2.ConceptQuery(name=query),
        pagination=service_pb2.Pagination(page=1, per_page=per_page),
    )
    return list(client.call("PostConceptsSearches", request).concepts)


def find(client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, text: str) -> list[resources_pb2.Concept]:
    """The concepts `text` names: the one with that id, else those with that name (ignoring case)."""
    text = text.strip()
    if not text:
        return []
    by_id = _by_id(client, app_ids, text)
    if by_id is not None:
        return [by_id]
    wanted = text.casefold()
    return [c for c in search_by_name(client, app_ids, text) if (c.name or c.id).casefold() == wanted]


def id_for(name: str) -> str:
    """The id a new concept named `name` gets: its slug ("feature request" -> "feature-request"), or a
    digest of the name when nothing of it is a letter or digit the API allows in ids."""
    slug = slugify(name)[:200].strip("-")
    return slug if is_clarifai_id(slug) else "concept-" + hashlib.sha256(name.encode()).hexdigest()[:12]


def create_named(client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, name: str) -> resources_pb2.Concept:
    """Create a concept called `name` (as typed), with an id derived from it that no concept has yet."""
    base = id_for(name)
    concept_id = base
    for n in range(2, 50):
        if _by_id(client, app_ids, concept_id) is None:
            break
        concept_id = f"{base}-{n}"
    concept = resources_pb2.Concept(id=concept_id, name=name.strip())
    request = service_pb2.PostConceptsRequest(user_app_id=app_ids, concepts=[concept])
    created: service_pb2.MultiConceptResponse = client.call("PostConcepts", request)
    return created.concepts[0]


class Catalog:
    """An app's concepts as a form sees them: find what was typed, create a confirmed name."""

    def __init__(self, client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet) -> None:
        self.client, self.app_ids = client, app_ids

    def find(self, text: str) -> list[resources_pb2.Concept]:
        return find(self.client, self.app_ids, text)

    def create(self, name: str) -> resources_pb2.Concept:
        return create_named(self.client, self.app_ids, name)

    def choices(self, text: str = "", per_page: int = 200) -> list[resources_pb2.Concept]:
        """Concepts to offer: those whose name starts with `text`, or the first of all."""
        if text.strip():
            return search_by_name(self.client, self.app_ids, text, per_page)
        request = service_pb2.ListConceptsRequest(user_app_id=self.app_ids, page=1, per_page=per_page)
        return list(self.client.call("ListConcepts", request).concepts)

"""How many inputs carry each concept (yes and no), from GetConceptCounts, for the concepts pages.

The API pages the counts by concept id and cannot sort them, so the concepts page reads them all (1,000 a
call, at most MAX_PAGES calls) and sorts by count itself. An app with more concepts than that shows the
counts of those read and says the rest were left out.
"""

import re
from dataclasses import dataclass

from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.clarifai import ClarifaiClient, ClarifaiError

PER_PAGE = 1000
MAX_PAGES = 20


@dataclass(frozen=True)
class Usage:
    id: str
    name: str
    positive: int
    negative: int

    @property
    def total(self) -> int:
        return self.positive + self.negative


@dataclass
class Counts:
    by_id: dict[str, Usage]
    complete: bool  # False when the app has more concepts than were read
    problem: str = ""  # why there are none, when they could not be read

    def of(self, concept_id: str) -> Usage | None:
        return self.by_id.get(concept_id)

    def matching(self, query: str) -> list[Usage]:
        """Those whose name starts with `query` (ignoring case; `*` for any letters), as the API searches."""
        if not query:
            return list(self.by_id.values())
        pattern = re.compile("^" + ".*".join(re.escape(part) for part in query.split("*")), re.IGNORECASE)
        return [u for u in self.by_id.values() if pattern.match(u.name or u.id)]


def read_counts(client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet) -> Counts:
    by_id: dict[str, Usage] = {}
    for number in range(1, MAX_PAGES + 1):
        request = service_pb2.GetConceptCountsRequest(user_app_id=app_ids, page=number, per_page=PER_PAGE)
        response: service_pb2.MultiConceptCountResponse = client.call("GetConceptCounts", request)
        for c in response.concept_counts:
            by_id[c.id] = Usage(c.id, c.name, c.concept_type_count.positive, c.concept_type_count.negative)
        if len(response.concept_counts) < PER_PAGE:
            return Counts(by_id, complete=True)
    return Counts(by_id, complete=False)


def counts_if_possible(client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet) -> Counts:
    """The counts, or none with the reason: a page that lists concepts still works without them."""
    try:
        return read_counts(client, app_ids)
    except ClarifaiError as e:
        return Counts({}, complete=True, problem=f"The counts could not be read: {e.message}")


def by_count(usages: list[Usage]) -> list[Usage]:
    """Most used first; ties by name."""
    return sorted(usages, key=lambda u: (-u.total, (u.name or u.id).casefold(), u.id))

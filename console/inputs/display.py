"""Inputs as the templates show them: status in words, picture URLs through the console, concepts.

Hosted pictures need the connection's token, so a browser cannot load them: the console serves them
at /c/<connection>/media?u=<signed URL>. The URL is signed with the connection in the salt, so the
media view fetches only URLs the console itself took from the API, and only with that connection.
"""

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

from clarifai_grpc.grpc.api import resources_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from django.core import signing
from django.urls import reverse
from google.protobuf import json_format

from console.connections.models import Connection

PROCESSED = status_code_pb2.INPUT_DOWNLOAD_SUCCESS  # 30000
PENDING = status_code_pb2.INPUT_DOWNLOAD_PENDING  # 30001
FAILED = status_code_pb2.INPUT_DOWNLOAD_FAILED  # 30002
IN_PROGRESS = status_code_pb2.INPUT_DOWNLOAD_IN_PROGRESS  # 30003
STATUS_WORDS = {
    PROCESSED: ("Processed", "ok"),
    PENDING: ("Pending", "wait"),
    IN_PROGRESS: ("Processing", "wait"),
    FAILED: ("Failed", "bad"),
}


def media_signer(connection: Connection) -> signing.Signer:
    return signing.Signer(salt=f"console.media.{connection.pk}")


class _Lookup:
    """Django templates try `obj[name]` before `obj.name`; answering it saves an exception per lookup,
    which is most of the cost of a grid of 128 tiles."""

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None


@dataclass
class ConceptView(_Lookup):
    id: str
    name: str
    value: float

    @property
    def positive(self) -> bool:
        return self.value > 0

    @property
    def negative_class(self) -> str:
        return "" if self.value > 0 else " no"


@dataclass
class InputView(_Lookup):
    id: str
    url: str  # the detail page; its edit, delete and tile URLs are under it
    href: str  # the detail page, remembering the grid page to go back to
    filter_base: str  # the grid's URL and "?", to which a chip adds its filter
    status_code: int
    status_label: str
    status_kind: str
    reason: str
    kind: str  # image, text or other
    text: str = ""
    thumb_url: str = ""
    large_url: str = ""
    orig_url: str = ""
    source_url: str = ""
    width: int = 0
    height: int = 0
    image_format: str = ""
    concepts: list[ConceptView] = field(default_factory=list)
    dataset_ids: list[str] = field(default_factory=list)
    snippet: str = ""  # the start of a text, for its tile
    # A digest of all a tile is made from (the input as the API sent it, and the page's URLs): the key
    # of the tile's cached markup in grid.html.
    fingerprint: str = ""
    metadata_json: str = "{}"
    created_at: datetime | None = None
    modified_at: datetime | None = None

    @property
    def back_query(self) -> str:
        """`?back=...` for links from this input's pages that should lead back to the same grid page."""
        return self.href[len(self.url) :]

    @property
    def source_link(self) -> str:
        """The source URL when it is safe as a link's target (http or https), else ""."""
        return self.source_url if self.source_url.lower().startswith(("https://", "http://")) else ""

    @property
    def chips(self) -> list[ConceptView]:
        return self.concepts[:4]

    @property
    def more_concepts(self) -> int:
        return max(len(self.concepts) - 4, 0)

    @property
    def waiting(self) -> bool:
        """Still being processed: the tile polls until this is no longer so."""
        return self.status_code in (PENDING, IN_PROGRESS)


def _whole_numbers(value: Any) -> Any:
    """JSON numbers travel as doubles (3 arrives as 3.0); show whole ones as people wrote them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _picture_urls(
    connection: Connection, image: resources_pb2.Image, media_url: str, *, all_sizes: bool
) -> dict[str, str]:
    """The thumbnail's URL, and with `all_sizes` the large and original pictures' too: hosted pictures
    only, served through the console."""
    hosted = image.hosted
    if hosted.prefix and hosted.suffix:
        signer = media_signer(connection)
        sizes = list(hosted.sizes) or ["orig"]

        def url(*wanted: str) -> str:
            size = next((s for s in wanted if s in sizes), sizes[0])
            return f"{media_url}?u={signer.sign(f'{hosted.prefix}/{size}/{hosted.suffix}')}"

        if not all_sizes:
            return {"thumb_url": url("small", "tiny", "orig")}
        return {"thumb_url": url("small", "tiny", "orig"), "large_url": url("large", "orig"), "orig_url": url("orig")}
    # Not hosted: nothing is shown from a third party's address (it may have failed, track the viewer or
    # change); the page links to it as text instead.
    return {}


@dataclass(frozen=True)
class Urls:
    """URLs worked out once per page, not once per input (reverse() is slow in a loop)."""

    inputs: str  # ends with "/": an input's page is inputs + quoted id + "/"
    media: str
    back: str = ""  # "?back=<the grid's query>" to add to links, or nothing

    @cached_property
    def key(self) -> bytes:
        """What, beside the input, a tile's markup depends on (at most 64 bytes, blake2b's key size)."""
        return hashlib.blake2b(f"{self.inputs}\n{self.media}\n{self.back}".encode(), digest_size=32).digest()

    @classmethod
    def of(cls, connection: Connection, app_id: str, back: str = "") -> "Urls":
        return cls(
            inputs=reverse("inputs:grid", args=[connection.pk, app_id]),
            media=reverse("inputs:media", args=[connection.pk]),
            back=f"?back={quote(back, safe='')}" if back else "",
        )


def present(connection: Connection, item: resources_pb2.Input, urls: Urls, *, full: bool = False) -> InputView:
    """An input for a tile, or with `full` for its own page (every picture size, metadata, times)."""
    code = item.status.code
    label, kind = STATUS_WORDS.get(code, (item.status.description or f"Status {code}", "bad" if code else ""))
    data = item.data
    url = f"{urls.inputs}{quote(item.id, safe='')}/"
    digest = hashlib.blake2b(item.SerializeToString(deterministic=True), digest_size=16, key=urls.key)
    view = InputView(
        fingerprint=digest.hexdigest(),
        id=item.id,
        url=url,
        href=url + urls.back,
        filter_base=urls.inputs + "?",
        status_code=code,
        status_label=label,
        status_kind=kind,
        reason=item.status.details if code == FAILED else "",
        kind="image" if data.HasField("image") else "text" if data.HasField("text") else "other",
        concepts=[ConceptView(c.id, c.name or c.id, c.value) for c in data.concepts],
        dataset_ids=list(item.dataset_ids),
    )
    if view.kind == "image":
        for name, value in _picture_urls(connection, data.image, urls.media, all_sizes=full).items():
            setattr(view, name, value)
        view.source_url = data.image.url
        info = data.image.image_info
        view.width, view.height, view.image_format = info.width, info.height, info.format
    elif view.kind == "text":
        view.text = data.text.raw
        view.snippet = view.text[:300]
        view.source_url = data.text.url
    if full:
        metadata = _whole_numbers(json_format.MessageToDict(data.metadata))
        view.metadata_json = json.dumps(metadata, indent=2, sort_keys=True)
        view.created_at = item.created_at.ToDatetime(tzinfo=UTC) if item.HasField("created_at") else None
        view.modified_at = item.modified_at.ToDatetime(tzinfo=UTC) if item.HasField("modified_at") else None
    return view


def poll_url(
    connection: Connection,
    app_id: str,
    inputs: list[InputView],
    back: str = "",
    *,
    with_counts: bool = False,
    since: int | None = None,
) -> str:
    """Where a page with inputs still being processed asks about them all at once, or "" when none is;
    `with_counts` asks for the status counts too (the grid's filters show them). `since` (when the page
    was loaded, in seconds since the epoch) travels along, so that the polling can end on its own."""
    waiting = [("ids", view.id) for view in inputs if view.waiting]
    if not waiting:
        return ""
    extra = [("back", back)] if back else []
    extra += [("counts", "1")] if with_counts else []
    extra += [("since", str(int(time.time()) if since is None else since))]
    query = urlencode(waiting + extra)
    return f"{reverse('inputs:poll', args=[connection.pk, app_id])}?{query}"

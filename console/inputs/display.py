"""Inputs as the templates show them: status in words, picture URLs through the console, concepts.

Hosted pictures need the connection's token, so a browser cannot load them: the console serves them
at /c/<connection>/media?u=<signed URL>. The URL is signed with the connection in the salt, so the
media view fetches only URLs the console itself took from the API, and only with that connection.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from clarifai_grpc.grpc.api import resources_pb2
from django.core import signing
from django.urls import reverse
from google.protobuf import json_format

from console.connections.models import Connection

PROCESSED, PENDING, FAILED, IN_PROGRESS = 30000, 30001, 30002, 30003
STATUS_WORDS = {
    PROCESSED: ("Processed", "ok"),
    PENDING: ("Pending", "wait"),
    IN_PROGRESS: ("Processing", "wait"),
    FAILED: ("Failed", "bad"),
}


def media_signer(connection: Connection) -> signing.Signer:
    return signing.Signer(salt=f"console.media.{connection.pk}")


@dataclass
class ConceptView:
    id: str
    name: str
    value: float

    @property
    def positive(self) -> bool:
        return self.value > 0


@dataclass
class InputView:
    id: str
    url: str  # the detail page
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
    metadata_json: str = "{}"
    created_at: datetime | None = None
    modified_at: datetime | None = None

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


def _picture_urls(connection: Connection, image: resources_pb2.Image, media_url: str) -> dict[str, str]:
    hosted = image.hosted
    if hosted.prefix and hosted.suffix:
        signer = media_signer(connection)
        sizes = list(hosted.sizes) or ["orig"]

        def url(*wanted: str) -> str:
            size = next((s for s in wanted if s in sizes), sizes[0])
            return f"{media_url}?u={signer.sign(f'{hosted.prefix}/{size}/{hosted.suffix}')}"

        return {"thumb_url": url("small", "tiny", "orig"), "large_url": url("large", "orig"), "orig_url": url("orig")}
    if image.url.startswith("https://"):
        # Not hosted: a public https picture can be shown from where it is.
        return {"thumb_url": image.url, "large_url": image.url, "orig_url": image.url}
    return {}


@dataclass(frozen=True)
class Urls:
    """URLs worked out once per page, not once per input (reverse() is slow in a loop)."""

    inputs: str  # ends with "/": an input's page is inputs + quoted id + "/"
    media: str

    @classmethod
    def of(cls, connection: Connection, app_id: str) -> "Urls":
        return cls(
            inputs=reverse("inputs:grid", args=[connection.pk, app_id]),
            media=reverse("inputs:media", args=[connection.pk]),
        )


def present(connection: Connection, item: resources_pb2.Input, urls: Urls, *, with_metadata: bool = False) -> InputView:
    code = item.status.code
    label, kind = STATUS_WORDS.get(code, (item.status.description or f"Status {code}", "bad" if code else ""))
    data = item.data
    view = InputView(
        id=item.id,
        url=f"{urls.inputs}{quote(item.id, safe='')}/",
        status_code=code,
        status_label=label,
        status_kind=kind,
        reason=item.status.details if code == FAILED else "",
        kind="image" if data.HasField("image") else "text" if data.HasField("text") else "other",
        concepts=[ConceptView(c.id, c.name or c.id, c.value) for c in data.concepts],
        dataset_ids=list(item.dataset_ids),
    )
    if view.kind == "image":
        for name, value in _picture_urls(connection, data.image, urls.media).items():
            setattr(view, name, value)
        view.source_url = data.image.url
        info = data.image.image_info
        view.width, view.height, view.image_format = info.width, info.height, info.format
    elif view.kind == "text":
        view.text = data.text.raw
        view.source_url = data.text.url
    if with_metadata:
        metadata = _whole_numbers(json_format.MessageToDict(data.metadata))
        view.metadata_json = json.dumps(metadata, indent=2, sort_keys=True)
        view.created_at = item.created_at.ToDatetime(tzinfo=UTC) if item.HasField("created_at") else None
        view.modified_at = item.modified_at.ToDatetime(tzinfo=UTC) if item.HasField("modified_at") else None
    return view

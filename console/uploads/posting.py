"""What an upload job does with one chunk: post its items as new inputs with PostInputs, in batches.

A chunk's items go out in batches of at most BATCH_BYTES of pictures (as base64; the API caps a request's
size) and at most the chunk's own size in number. Exactly once: every item has an input id fixed when
the upload was made, and is marked sent (`sent_at`) just before a request carries it. When a request's
outcome is unknown the chunk is tried again; the API then answers that the inputs sent before already
exist, and those are counted as uploaded, not failed. An input the API calls a duplicate that this
upload never sent (an id given in a CSV that the app already had) is a failure. The API refuses a whole
PostInputs when one input is refused: the refused ones are recorded, and the rest sent again.
"""

from collections.abc import Iterator
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.utils import timezone
from google.protobuf import struct_pb2

from console.clarifai import ClarifaiError
from console.clarifai.errors import ClarifaiStatusError
from console.jobs import kinds
from console.uploads import spool
from console.uploads.models import Upload, UploadItem

BATCH_BYTES = 20 * 1024 * 1024  # of pictures a request, before base64: the local API reads up to 29 MB
DUPLICATE = {codes.INPUT_DUPLICATE, codes.DATABASE_DUPLICATE_KEY}
ADDED = kinds.INPUT_OK
ROUNDS = 4  # requests for one batch: the first, and again without what each refused
NOT_ADDED = "not added, because another input"


def post_chunk(
    params: dict[str, Any], call: kinds.Call, app: resources_pb2.UserAppIDSet, ids: list[str], outcome: kinds.Outcome
) -> None:
    upload = Upload.objects.filter(pk=params["upload"]).first()
    items = {i.input_id: i for i in UploadItem.objects.filter(upload_id=params["upload"], input_id__in=ids)}
    for input_id in ids:
        if upload is None or input_id not in items:
            outcome.failed[input_id] = (None, "The upload this input belonged to no longer exists.")
    if upload is None:
        return
    for batch in _batches(upload, [items[i] for i in ids if i in items], outcome):
        _post_batch(upload, batch, call, app, outcome)


def _batches(
    upload: Upload, items: list[UploadItem], outcome: kinds.Outcome
) -> Iterator[list[tuple[UploadItem, bytes | None]]]:
    """The items with their bytes, in batches small enough for one request (files read batch by batch)."""
    batch: list[tuple[UploadItem, bytes | None]] = []
    size = 0
    for item in items:
        data = None
        if item.source == UploadItem.FILE:
            data = spool.read(upload.key, item.input_id)
            if data is None:
                outcome.failed[item.input_id] = (None, f"{item.name}: the file is no longer in the spool.")
                continue
        if batch and size + len(data or b"") > BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append((item, data))
        size += len(data or b"")
    if batch:
        yield batch


def _input(upload: Upload, item: UploadItem, data: bytes | None) -> resources_pb2.Input:
    shared = upload.params
    concepts = dict(shared.get("concepts", [])) | dict(item.concepts)
    metadata = struct_pb2.Struct()
    metadata.update({**shared.get("metadata", {}), **item.metadata})
    image = resources_pb2.Image(base64=data) if data is not None else resources_pb2.Image(url=item.url)
    if data is None:
        image.allow_duplicate_url = True  # the person asked for this URL; the input id keeps it once
    return resources_pb2.Input(
        id=item.input_id,
        data=resources_pb2.Data(
            image=image,
            concepts=[resources_pb2.Concept(id=c, value=v) for c, v in concepts.items()],
            metadata=metadata,
        ),
        dataset_ids=[shared["dataset_id"]] if shared.get("dataset_id") else [],
    )


def _post_batch(
    upload: Upload,
    batch: list[tuple[UploadItem, bytes | None]],
    call: kinds.Call,
    app: resources_pb2.UserAppIDSet,
    outcome: kinds.Outcome,
) -> None:
    todo = list(batch)
    for _ in range(ROUNDS):
        ids = [item.input_id for item, _ in todo]
        # Items a request may already have added (one whose outcome was never known).
        sent_before = set(
            UploadItem.objects.filter(upload=upload, input_id__in=ids, sent_at__isnull=False).values_list(
                "input_id", flat=True
            )
        )
        UploadItem.objects.filter(upload=upload, input_id__in=ids, sent_at__isnull=True).update(sent_at=timezone.now())
        request = service_pb2.PostInputsRequest(
            user_app_id=app, inputs=[_input(upload, item, data) for item, data in todo]
        )
        refused_whole = False
        try:
            response: Any = call("PostInputs", request)
        except ClarifaiError as e:
            kinds.raise_if_not_final(e)  # throttled, token refused, outcome unknown: the chunk is tried again
            statuses = {i.id: i for i in e.items} if isinstance(e, ClarifaiStatusError) else {}
            if not statuses:
                if isinstance(e, ClarifaiStatusError) and e.code in DUPLICATE:
                    todo = _without_existing(upload, todo, call, app, sent_before, outcome)
                    if todo:
                        continue
                    return
                _refused(upload, todo, (e.code if isinstance(e, ClarifaiStatusError) else None), e.message, outcome)
                return
            refused_whole = True
        else:
            statuses = {i.id: i.status for i in response.inputs}
        todo = _sort_out(upload, todo, statuses, sent_before, refused_whole, outcome)
        if not todo:
            return
    for item, _ in todo:
        outcome.failed[item.input_id] = (codes.FAILURE, f"{item.name}: the API did not add it after {ROUNDS} tries.")


def _sort_out(
    upload: Upload,
    todo: list[tuple[UploadItem, bytes | None]],
    statuses: dict[str, Any],
    sent_before: set[str],
    refused_whole: bool,
    outcome: kinds.Outcome,
) -> list[tuple[UploadItem, bytes | None]]:
    """Record what the answer says of each input; answers those to send again."""
    again, not_added = [], []
    refused: dict[str, tuple[int | None, str]] = {}
    ours = 0  # inputs found already added by this upload
    for item, data in todo:
        status = statuses.get(item.input_id)
        if status is None or status.code in ADDED:
            if refused_whole:
                # The request failed, yet this input was not refused: whether it was added is unknown. Sent
                # again still marked sent, so that "it exists" then counts it as uploaded.
                again.append((item, data))
            continue
        if status.code in DUPLICATE and item.input_id in sent_before:
            ours += 1
            continue  # added by an earlier request of this upload whose answer was lost
        if status.code == codes.FAILURE and NOT_ADDED in status.details:
            again.append((item, data))
            not_added.append(item.input_id)
            continue
        refused[item.input_id] = (status.code, f"{item.name}: {_reason(status)}")
    _record_refused(upload, refused, outcome)
    if not_added:  # certainly not added: sent again as if for the first time
        UploadItem.objects.filter(upload=upload, input_id__in=not_added).update(sent_at=None)
    if again and not refused and not ours:
        # Refused as a whole with no input to blame: sending the same again would be refused again.
        for item, _ in again:
            outcome.failed[item.input_id] = (codes.FAILURE, f"{item.name}: the API did not add it.")
        return []
    return again


def _without_existing(
    upload: Upload,
    todo: list[tuple[UploadItem, bytes | None]],
    call: kinds.Call,
    app: resources_pb2.UserAppIDSet,
    sent_before: set[str],
    outcome: kinds.Outcome,
) -> list[tuple[UploadItem, bytes | None]]:
    """A duplicate refusal that says not which input: look which exist, settle them, and keep the rest."""
    ids = [item.input_id for item, _ in todo]
    listed = call("ListInputs", service_pb2.ListInputsRequest(user_app_id=app, ids=ids, per_page=len(ids)))
    existing = {i.id for i in listed.inputs}
    refused: dict[str, tuple[int | None, str]] = {
        item.input_id: (int(codes.INPUT_DUPLICATE), f"{item.name}: an input with id {item.input_id!r} already exists.")
        for item, _ in todo
        if item.input_id in existing and item.input_id not in sent_before
    }
    _record_refused(upload, refused, outcome)
    return [(item, data) for item, data in todo if item.input_id not in existing]


def _refused(
    upload: Upload, todo: list[tuple[UploadItem, bytes | None]], code: int | None, reason: str, outcome: kinds.Outcome
) -> None:
    _record_refused(upload, {item.input_id: (code, f"{item.name}: {reason}") for item, _ in todo}, outcome)


def _record_refused(upload: Upload, refused: dict[str, tuple[int | None, str]], outcome: kinds.Outcome) -> None:
    """The API said these were not added: they are failures, and no longer count as sent."""
    if not refused:
        return
    outcome.failed.update(refused)
    UploadItem.objects.filter(upload=upload, input_id__in=list(refused)).update(sent_at=None)


def _reason(status: Any) -> str:
    text: str = status.description or "refused"
    if status.details and status.details != status.description:
        text = f"{text.rstrip('.')}: {status.details}"
    return text

"""Bulk operations, run by Celery workers: take a snapshot of the inputs, then change them chunk by chunk.

A worker claims a chunk by marking it done as the first write of a transaction that also applies the
change; a worker that dies half way rolls both back, so the next worker applies that chunk, and no
chunk is ever applied twice. Several workers may run one operation together: on PostgreSQL each skips
the chunks others hold (`SKIP LOCKED`); on SQLite writes take turns anyway. Every change is idempotent
too (a concept merged, a key removed, a dataset link made once), so even a message delivered twice
changes nothing twice. Cancelling stops the operation before its next chunk.
"""

import bisect
import hashlib
import itertools
import logging
from typing import Any

from celery import shared_task
from clarifai_grpc.grpc.api import resources_pb2
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from google.protobuf import json_format

from console.localapi import status
from console.localapi.handlers.common import merge_metadata, remove_metadata, struct_to_dict
from console.localapi.models import (
    BulkChunk,
    BulkOperation,
    Concept,
    Dataset,
    DatasetInput,
    Input,
    InputConcept,
)
from console.localapi.query import search_inputs

log = logging.getLogger(__name__)

ENDED = {status.BULK_SUCCESS, status.BULK_FAILED, status.BULK_CANCELLED, status.BULK_UNEXPECTED_ERROR}
UNFINISHED = [status.BULK_PENDING, status.BULK_IN_PROGRESS]


class Stop(Exception):
    """The operation cannot go on (what it needs was deleted meanwhile): it fails with this reason."""


def stored_message(data: dict[str, Any], message: Any) -> Any:
    return json_format.ParseDict(data, message)


@shared_task(ignore_result=True)
def run_bulk_operation(bulk_pk: int) -> None:
    bulk = BulkOperation.objects.filter(pk=bulk_pk).select_related("app").first()
    if bulk is None or bulk.status_code in ENDED:
        return
    if bulk.total is None:
        _take_snapshot(bulk)
    try:
        while _run_next_chunk(bulk):
            pass
    except Stop as e:
        BulkOperation.objects.filter(pk=bulk.pk, status_code__in=UNFINISHED).update(
            status_code=status.BULK_FAILED, status_details=f"{e} The operation stopped.", modified_at=timezone.now()
        )
        return
    except Exception as e:
        log.exception("bulk operation %s failed", bulk.pk)
        BulkOperation.objects.filter(pk=bulk.pk, status_code__in=UNFINISHED).update(
            status_code=status.BULK_UNEXPECTED_ERROR,
            status_details=f"The operation stopped ({type(e).__name__}); the worker's log has the details.",
            modified_at=timezone.now(),
        )
        return
    _finish(bulk)


def _matching_pks(bulk: BulkOperation) -> tuple[list[int], int]:
    """The inputs the operation is about, oldest first, and how many given ids no input has."""
    app = bulk.app
    source = bulk.source
    if "input_ids" in source:
        ids = list(dict.fromkeys(source["input_ids"].get("input_ids", [])))
        found = dict(Input.objects.filter(app=app, input_id__in=ids).values_list("input_id", "pk"))
        return sorted(found.values()), len(ids) - len(found)
    if "search" in source:
        inputs = search_inputs(app, stored_message(source["search"], resources_pb2.Search()))
    else:
        inputs = Input.objects.filter(app=app, datasets__app=app, datasets__dataset_id=source["dataset"]["id"])
    return list(inputs.order_by("id").values_list("pk", flat=True)), 0


def _take_snapshot(bulk: BulkOperation) -> None:
    size = settings.LOCALAPI_BULK_CHUNK_SIZE
    with transaction.atomic():
        # The first write claims the snapshot: another worker waits here, then finds it taken.
        if not BulkOperation.objects.filter(pk=bulk.pk, total__isnull=True, status_code__in=UNFINISHED).update(
            status_code=status.BULK_IN_PROGRESS, modified_at=timezone.now()
        ):
            return
        pks, missing = _matching_pks(bulk)
        BulkChunk.objects.bulk_create(
            BulkChunk(bulk_operation=bulk, number=n, input_pks=pks[start : start + size])
            for n, start in enumerate(range(0, len(pks), size))
        )
        BulkOperation.objects.filter(pk=bulk.pk).update(total=len(pks), missing=missing)


def _run_next_chunk(bulk: BulkOperation) -> bool:
    """Apply one chunk not done yet; False when none is left or the operation was cancelled."""
    with transaction.atomic():
        state = BulkOperation.objects.filter(pk=bulk.pk).values_list("status_code", flat=True).first()
        if state is None or state in ENDED:
            return False
        waiting = BulkChunk.objects.filter(bulk_operation=bulk, done=False).order_by("number")
        if connection.features.has_select_for_update_skip_locked:
            waiting = waiting.select_for_update(skip_locked=True)
        pk = waiting.values_list("pk", flat=True).first()
        if pk is None:
            return False
        if not BulkChunk.objects.filter(pk=pk, done=False).update(done=True, applied=F("applied") + 1):
            return True  # another worker took it a moment ago: look for the next one
        chunk = BulkChunk.objects.get(pk=pk)
        changed, last_input_id = _apply(bulk, chunk.input_pks)
        chunk.changed, chunk.skipped = changed, len(chunk.input_pks) - changed
        chunk.last_input_id = last_input_id
        chunk.save(update_fields=["changed", "skipped", "last_input_id"])
        BulkOperation.objects.filter(pk=bulk.pk).update(modified_at=timezone.now())
    return True


def _finish(bulk: BulkOperation) -> None:
    if BulkChunk.objects.filter(bulk_operation=bulk, done=False).exists():
        return  # cancelled, or other workers still hold chunks: the last of them finishes it
    row = BulkOperation.objects.get(pk=bulk.pk)
    chunks = BulkChunk.objects.filter(bulk_operation=bulk)
    skipped = sum(chunks.values_list("skipped", flat=True)) + row.missing
    details = f"{row.total - (skipped - row.missing):,} inputs changed" if row.total else "No input matched"
    if skipped:
        details += f"; {skipped:,} skipped (deleted, or no input has the id)"
    BulkOperation.objects.filter(pk=bulk.pk, status_code__in=UNFINISHED).update(
        status_code=status.BULK_SUCCESS, status_details=details + ".", modified_at=timezone.now()
    )


def _apply(bulk: BulkOperation, pks: list[int]) -> tuple[int, str]:
    """Change the inputs of a chunk that still exist; how many there were and the id of the last one."""
    operation = stored_message(bulk.operation, resources_pb2.Operation())
    # Locked until the chunk commits: an input deleted meanwhile is either gone here (skipped) or waits
    # for this chunk; never a link written to an input that a concurrent delete has just removed.
    items = list(Input.objects.select_for_update().filter(pk__in=pks, app=bulk.app).order_by("id"))
    if not items:
        return 0, ""
    now = timezone.now()
    kind = operation.WhichOneof("operation")
    if kind == "add_concepts":
        concepts = ensure_concepts(bulk, [c.id for c in operation.add_concepts.concepts])
        InputConcept.objects.bulk_create(
            [
                InputConcept(input=item, concept=concepts[c.id], value=c.value)
                for item in items
                for c in operation.add_concepts.concepts
            ],
            update_conflicts=True,
            unique_fields=["input", "concept"],
            update_fields=["value"],
        )
    elif kind == "delete_concepts":
        InputConcept.objects.filter(
            input__in=items,
            concept__app=bulk.app,
            concept__concept_id__in=[c.id for c in operation.delete_concepts.concepts],
        ).delete()
    elif kind in ("add_metadata", "delete_metadata"):
        given = struct_to_dict(getattr(operation, kind).metadata)
        change = merge_metadata if kind == "add_metadata" else remove_metadata
        for item in items:
            item.metadata = change(item.metadata, given)
            item.modified_at = now
        Input.objects.bulk_update(items, ["metadata", "modified_at"])
    elif kind in ("add_to_dataset", "delete_from_dataset"):
        dataset_id = getattr(operation, kind).dataset_id
        dataset = Dataset.objects.filter(app=bulk.app, dataset_id=dataset_id).first()
        if dataset is None:
            raise Stop(f"Dataset {dataset_id!r} no longer exists.")
        if kind == "add_to_dataset":
            DatasetInput.objects.bulk_create(
                [DatasetInput(dataset=dataset, input=item) for item in items], ignore_conflicts=True
            )
        else:
            DatasetInput.objects.filter(dataset=dataset, input__in=items).delete()
    elif kind == "split_into_datasets":
        _split(bulk, operation.split_into_datasets, items)
    else:
        raise ValueError(f"bulk operation {bulk.pk} has an operation no worker knows: {kind}")
    if kind not in ("add_metadata", "delete_metadata"):
        Input.objects.filter(pk__in=[i.pk for i in items]).update(modified_at=now)
    return len(items), items[-1].input_id


def _split(bulk: BulkOperation, split: resources_pb2.SplitIntoDatasets, items: list[Input]) -> None:
    """Put each input in one of the datasets, with the chances given. The draw is a hash of the operation
    and the input, so it is random across inputs yet the same whenever a chunk is run again."""
    ids = [part.dataset.id for part in split.dataset_splits]
    datasets = {d.dataset_id: d for d in Dataset.objects.filter(app=bulk.app, dataset_id__in=ids)}
    if len(datasets) != len(set(ids)):
        raise Stop(f"Dataset {', '.join(sorted(set(ids) - datasets.keys()))} no longer exists.")
    bounds = list(itertools.accumulate(part.percentage for part in split.dataset_splits))
    links = []
    for item in items:
        digest = hashlib.sha256(f"{bulk.app_id}/{bulk.operation_id}/{item.input_id}".encode()).digest()
        draw = int.from_bytes(digest[:8]) % 100
        links.append(DatasetInput(dataset=datasets[ids[bisect.bisect_right(bounds, draw)]], input=item))
    DatasetInput.objects.bulk_create(links, ignore_conflicts=True)


def ensure_concepts(bulk: BulkOperation, concept_ids: list[str]) -> dict[str, Concept]:
    app = bulk.app
    wanted = set(concept_ids)
    found = {c.concept_id: c for c in app.concepts.filter(concept_id__in=wanted)}
    if wanted - found.keys():
        Concept.objects.bulk_create(
            [Concept(app=app, concept_id=c, name=c, language=app.default_language) for c in wanted - found.keys()],
            ignore_conflicts=True,
        )
        found = {c.concept_id: c for c in app.concepts.filter(concept_id__in=wanted)}
    return found


def requeue_stalled(cutoff: Any, now: Any) -> int:
    """Queue again the operations no worker has advanced since `cutoff` (see tasks.resume_unfinished_work)."""
    stalled = list(
        BulkOperation.objects.filter(status_code__in=UNFINISHED, modified_at__lte=cutoff).values_list("pk", flat=True)
    )
    BulkOperation.objects.filter(pk__in=stalled).update(modified_at=now)
    for pk in stalled:
        run_bulk_operation.delay(pk)
    return len(stalled)

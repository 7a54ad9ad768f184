"""Dataset versions and their exports, built by Celery workers.

A version's snapshot is taken in one transaction that also writes its metrics and READY status: a
worker that dies half way rolls all of it back, the version stays IN_PROGRESS, and the look for
unfinished work (tasks.resume_unfinished_work) queues it again; nothing is counted twice. An export is
written to a file at a fixed name and marked done after, so one done again replaces the same file.
An export asked for before its version is ready waits (PENDING) and is queued when the version is.
"""

import logging
from collections import Counter
from itertools import batched
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from console.localapi import exports, media, status
from console.localapi.models import DatasetVersion, DatasetVersionExport, DatasetVersionInput, Input

log = logging.getLogger(__name__)

VERSION_UNFINISHED = [status.DATASET_VERSION_PENDING, status.DATASET_VERSION_IN_PROGRESS]
EXPORT_UNFINISHED = [status.EXPORT_PENDING, status.EXPORT_IN_PROGRESS]
SNAPSHOT_BATCH = 1000


@shared_task(ignore_result=True)
def build_dataset_version(version_pk: int) -> None:
    version = DatasetVersion.objects.filter(pk=version_pk).select_related("dataset__app").first()
    if version is None or version.status_code not in VERSION_UNFINISHED:
        return
    DatasetVersion.objects.filter(pk=version_pk, status_code__in=VERSION_UNFINISHED).update(
        status_code=status.DATASET_VERSION_IN_PROGRESS, modified_at=timezone.now()
    )
    try:
        with transaction.atomic():
            locked = (
                DatasetVersion.objects.select_for_update()
                .filter(pk=version_pk, status_code=status.DATASET_VERSION_IN_PROGRESS)
                .first()
            )
            if locked is None:
                return
            locked.dataset = version.dataset
            DatasetVersionInput.objects.filter(version=locked).delete()  # none, unless a database lost a rollback
            code, details, metrics = _snapshot(locked)
            DatasetVersion.objects.filter(pk=version_pk).update(
                status_code=code, status_details=details, metrics=metrics, modified_at=timezone.now()
            )
    except Exception as e:
        log.exception("dataset version %s could not be built", version_pk)
        DatasetVersion.objects.filter(pk=version_pk, status_code__in=VERSION_UNFINISHED).update(
            status_code=status.DATASET_VERSION_UNEXPECTED_ERROR,
            status_details=f"Building the version stopped ({type(e).__name__}); the worker's log has the details.",
            modified_at=timezone.now(),
        )
    _after_version(version_pk)


def _snapshot(version: DatasetVersion) -> tuple[status.Code, str, dict[str, Any]]:
    """Copy the dataset's processed inputs and their labels into the version; count them as it goes."""
    dataset = version.dataset
    members = Input.objects.filter(datasets=dataset)
    totals: Counter[str] = Counter()
    concepts: dict[str, Counter[str]] = {}
    kinds: Counter[str] = Counter()
    last_pk = 0
    while True:
        page = list(
            members.filter(status_code=status.INPUT_SUCCESS, pk__gt=last_pk)
            .order_by("pk")
            .prefetch_related("input_concepts__concept")[:SNAPSHOT_BATCH]
        )
        if not page:
            break
        last_pk = page[-1].pk
        rows = []
        for item in page:
            labels: list[tuple[str, str, float]] = [
                (c.concept.concept_id, c.concept.name, c.value) for c in item.input_concepts.all()
            ]
            if version.ignore_empty_inputs and not labels:
                totals["ignored"] += 1
                continue
            rows.append(_row(version, item, labels))
            totals["inputs"] += 1
            kinds[item.kind] += 1
            totals["unlabeled"] += not labels
            totals["with_metadata"] += bool(item.metadata)
            for concept_id, _, value in labels:
                sign = "positive" if value > 0 else "negative"
                totals[sign] += 1
                concepts.setdefault(concept_id, Counter())[sign] += 1
        for chunk in batched(rows, 500):
            DatasetVersionInput.objects.bulk_create(chunk)
    left_out = Counter(members.exclude(status_code=status.INPUT_SUCCESS).values_list("status_code", flat=True))
    metrics = {
        "/": {key: totals[key] for key in ("inputs", "unlabeled", "with_metadata", "positive", "negative")},
        "concepts": {
            cid: {"positive": c["positive"], "negative": c["negative"]} for cid, c in sorted(concepts.items())
        },
        "input_types": dict(kinds),
    }
    details = _left_out(left_out, totals["ignored"])
    if not totals["inputs"]:
        what = "labelled inputs" if version.ignore_empty_inputs else "processed inputs"
        return status.DATASET_VERSION_FAILURE, f"The dataset has no {what} to put in a version{details}.", metrics
    return status.DATASET_VERSION_READY, f"{totals['inputs']:,} inputs{details}.", metrics


def _left_out(by_status: Counter[int], ignored: int) -> str:
    parts = []
    waiting = by_status[status.INPUT_PENDING] + by_status[status.INPUT_IN_PROGRESS]
    if waiting:
        parts.append(f"{waiting:,} not processed yet")
    if by_status[status.INPUT_FAILED]:
        parts.append(f"{by_status[status.INPUT_FAILED]:,} that failed")
    if ignored:
        parts.append(f"{ignored:,} without labels")
    return f"; left out: {', '.join(parts)}" if parts else ""


def _row(version: DatasetVersion, item: Input, labels: list[tuple[str, str, float]]) -> DatasetVersionInput:
    return DatasetVersionInput(
        version=version,
        original=item,
        input_id=item.input_id,
        kind=item.kind,
        source_url=item.source_url,
        media_key=item.media_key,
        width=item.width,
        height=item.height,
        image_format=item.image_format,
        color_mode=item.color_mode,
        text=item.text,
        metadata=item.metadata,
        concepts=[list(label) for label in labels],
        input_created_at=item.created_at,
    )


def _after_version(version_pk: int) -> None:
    """Start the exports that waited for the version, or fail them if it failed."""
    version = DatasetVersion.objects.filter(pk=version_pk).first()
    if version is None or version.status_code in VERSION_UNFINISHED:
        return
    waiting = DatasetVersionExport.objects.filter(version=version, status_code__in=EXPORT_UNFINISHED)
    if version.status_code == status.DATASET_VERSION_READY:
        for pk in waiting.values_list("pk", flat=True):
            build_export.delay(pk)
    else:
        waiting.update(
            status_code=status.EXPORT_FAILED,
            status_details=f"Dataset version {version.version_id!r} failed, so it cannot be exported.",
            modified_at=timezone.now(),
        )


@shared_task(ignore_result=True)
def build_export(export_pk: int) -> None:
    export = DatasetVersionExport.objects.filter(pk=export_pk).select_related("version__dataset__app").first()
    if export is None or export.status_code not in EXPORT_UNFINISHED:
        return
    if export.version.status_code in VERSION_UNFINISHED:
        return  # the version's build queues it when it is ready
    if export.version.status_code != status.DATASET_VERSION_READY:
        _after_version(export.version_id)
        return
    DatasetVersionExport.objects.filter(pk=export_pk, status_code__in=EXPORT_UNFINISHED).update(
        status_code=status.EXPORT_IN_PROGRESS, modified_at=timezone.now()
    )
    try:
        data = exports.build_archive(export)
        media.put(exports.storage_name(export.version.dataset.app_id, export.key), data)
    except Exception as e:
        log.exception("export %s could not be built", export_pk)
        DatasetVersionExport.objects.filter(pk=export_pk, status_code__in=EXPORT_UNFINISHED).update(
            status_code=status.EXPORT_UNEXPECTED_ERROR,
            status_details=f"The export stopped ({type(e).__name__}); the worker's log has the details.",
            modified_at=timezone.now(),
        )
        return
    DatasetVersionExport.objects.filter(pk=export_pk, status_code__in=EXPORT_UNFINISHED).update(
        status_code=status.EXPORT_SUCCESS, status_details="", size=len(data), modified_at=timezone.now()
    )


@shared_task(ignore_result=True)
def delete_export_files(app_pk: int, keys: list[str]) -> None:
    """Delete the archives of exports that are gone (their version or dataset was deleted)."""
    kept = set(DatasetVersionExport.objects.filter(key__in=keys).values_list("key", flat=True))
    for key in set(keys) - kept:
        media.delete(exports.storage_name(app_pk, key))


def requeue_stalled(cutoff: Any, now: Any) -> int:
    """Queue again the versions and exports no worker has advanced since `cutoff`."""
    versions = list(
        DatasetVersion.objects.filter(status_code__in=VERSION_UNFINISHED, modified_at__lte=cutoff).values_list(
            "pk", flat=True
        )
    )
    DatasetVersion.objects.filter(pk__in=versions).update(modified_at=now)
    for pk in versions:
        build_dataset_version.delay(pk)
    stalled = list(
        DatasetVersionExport.objects.filter(
            status_code__in=EXPORT_UNFINISHED,
            modified_at__lte=cutoff,
            version__status_code=status.DATASET_VERSION_READY,
        ).values_list("pk", flat=True)
    )
    DatasetVersionExport.objects.filter(pk__in=stalled).update(modified_at=now)
    for pk in stalled:
        build_export.delay(pk)
    return len(versions) + len(stalled)

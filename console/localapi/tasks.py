"""The local API's background work: processing new inputs, deleting apps and media.

Tasks take ids, are queued after the transaction that made the work commits, and are idempotent: a
task that runs twice (a worker died and the message came back) ends in the same state.
"""

import logging
import time
from datetime import timedelta
from itertools import batched
from typing import Any

from celery import shared_task
from celery.app.task import Task
from celery.signals import worker_ready
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from console.celery import queue_now_and_every
from console.localapi import bulk_tasks, media, status
from console.localapi.fetch import FetchError, fetch
from console.localapi.models import App, Input

log = logging.getLogger(__name__)

FINAL = {status.INPUT_SUCCESS, status.INPUT_FAILED}


def enqueue[**P](task: Task[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
    transaction.on_commit(lambda: task.delay(*args, **kwargs))


# Inputs one processing task takes in turn. A message per input made the broker the limit, not the work:
# the embedded broker looks at its folder every 0.1 s for each message. A batch pays that once for many
# inputs, and a request of 128 still makes several tasks that the worker processes share.
PROCESS_BATCH = 32


def enqueue_inputs(input_pks: list[int]) -> None:
    """Queue the processing of these inputs, in batches, once the transaction that made them commits."""
    for batch in batched(input_pks, PROCESS_BATCH):
        enqueue(process_inputs, list(batch))


# How often a batch writes what it has finished: each write is a commit, which on PostgreSQL costs about
# what decoding a small picture does; writing every quarter second keeps the grid's tiles and counts
# moving while costing a commit per many inputs.
SAVE_EVERY_SECONDS = 0.25
FINISHED_FIELDS = [
    "status_code",
    "status_details",
    "media_key",
    "width",
    "height",
    "image_format",
    "color_mode",
    "text",
    "modified_at",
]


@shared_task(ignore_result=True)
def process_inputs(input_pks: list[int]) -> None:
    """Download or read each input's data, decode and measure it, store it and its thumbnails; in turn,
    one that cannot be processed ending as failed without stopping the others."""
    _process_batch(input_pks)


@shared_task(ignore_result=True)
def process_input(input_pk: int) -> None:
    """One input, as process_inputs does it."""
    _process_batch([input_pk])


def _process_batch(input_pks: list[int]) -> None:
    items = list(Input.objects.filter(pk__in=input_pks).exclude(status_code__in=FINAL).order_by("pk"))
    if not items:
        return
    # All marked in progress at once; while the batch runs, each save touches the ones still waiting, so
    # resume_unfinished_work (which queues again what has been in progress for long) leaves them alone.
    # A worker that dies leaves them in progress: they are queued again, and done again (idempotent).
    waiting = {item.pk for item in items}
    Input.objects.filter(pk__in=waiting).update(status_code=status.INPUT_IN_PROGRESS, modified_at=timezone.now())
    finished: list[Input] = []
    uploads: list[str] = []
    saved_at = time.monotonic()
    for item in items:
        upload = _process(item)
        finished.append(item)
        waiting.discard(item.pk)
        if upload:
            uploads.append(upload)
        if time.monotonic() - saved_at >= SAVE_EVERY_SECONDS:
            _save(finished, uploads, waiting)
            finished, uploads, saved_at = [], [], time.monotonic()
    _save(finished, uploads, waiting)


def _save(finished: list[Input], uploads: list[str], waiting: set[int]) -> None:
    """Write the finished inputs in one transaction, then delete their uploads (never before: a worker dying
    in between would leave an input in progress whose data is gone)."""
    now = timezone.now()
    for item in finished:
        item.modified_at = now
    # One transaction (one commit) of small updates: bulk_update's CASE expressions cost more to build.
    with transaction.atomic():
        for item in finished:
            Input.objects.filter(pk=item.pk).update(**{name: getattr(item, name) for name in FINISHED_FIELDS})
        if waiting:
            Input.objects.filter(pk__in=waiting, status_code=status.INPUT_IN_PROGRESS).update(modified_at=now)
    for name in uploads:
        media.delete(name)


def _process(item: Input) -> str:
    """Set the input's outcome on it (not saved); the name of its upload to delete once saved, if any."""
    try:
        upload = _process_image(item) if item.kind == Input.IMAGE else _process_text(item)
    except (FetchError, media.MediaError, UnicodeDecodeError) as e:
        code = e.code if isinstance(e, media.MediaError) else status.INPUT_FAILED
        _fail(item, code, str(e))
        return ""
    except Exception as e:
        # Whatever else goes wrong still ends the input: left in progress, it would be polled forever.
        log.exception("input %s could not be processed", item.pk)
        _fail(item, status.INPUT_FAILED, f"processing failed ({type(e).__name__}); the worker's log has the details")
        return ""
    item.status_code = status.INPUT_SUCCESS
    item.status_details = ""
    return upload


def _process_image(item: Input) -> str:
    upload = media.path(item.app_id, item.media_key, media.UPLOAD)
    if item.source_url:
        data, _ = fetch(item.source_url, settings.LOCALAPI_MAX_IMAGE_BYTES)
    else:
        data = media.read(upload)
    decoded = media.decode(data)
    for size, content in decoded.files.items():
        media.put(media.path(item.app_id, item.media_key, size), content)
    item.width, item.height = decoded.width, decoded.height
    item.image_format, item.color_mode = decoded.format, decoded.mode
    return "" if item.source_url else upload


def _process_text(item: Input) -> str:
    if item.source_url:
        data, _ = fetch(item.source_url, settings.LOCALAPI_MAX_TEXT_BYTES)
        item.text = data.decode("utf-8")
    return ""


def _fail(item: Input, code: status.Code, reason: str) -> None:
    details = reason if code == status.INPUT_FAILED else f"{status.description(code)}: {reason}"
    log.info("input %s failed: %s", item.pk, details)
    item.status_code, item.status_details = status.INPUT_FAILED, details[:2000]


# At most this many inputs are queued again per pass, the longest-waiting first: a large backlog
# gets a bounded number of extra messages, and the next pass takes the next ones.
REQUEUE_BATCH = 500


@shared_task(ignore_result=True)
def resume_unfinished_work(older_than_seconds: int) -> int:
    """Queue again what no worker finished: inputs still pending or in progress, apps still to purge.

    The embedded broker drops a message once a worker takes it, so a worker that died half way (or
    before it started) would leave its work waiting forever. Every task is idempotent, so work that
    was in fact still queued is done once and then skipped. What is queued again is touched, so the
    next pass leaves it alone until it has waited `older_than_seconds` once more.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    unfinished = [status.INPUT_PENDING, status.INPUT_IN_PROGRESS]
    inputs = list(
        Input.objects.filter(status_code__in=unfinished, modified_at__lte=cutoff)
        .order_by("modified_at")
        .values_list("pk", flat=True)[:REQUEUE_BATCH]
    )
    Input.objects.filter(pk__in=inputs, status_code__in=unfinished).update(modified_at=now)
    for batch in batched(inputs, PROCESS_BATCH):
        process_inputs.delay(list(batch))
    apps = list(App.objects.filter(deleted=True, modified_at__lte=cutoff).values_list("pk", flat=True))
    App.objects.filter(pk__in=apps).update(modified_at=now)
    for pk in apps:
        purge_app.delay(pk)
    bulk = bulk_tasks.requeue_stalled(cutoff, now)
    datasets = dataset_tasks.requeue_stalled(cutoff, now)
    archives = upload_tasks.requeue_stalled(cutoff, now)
    if inputs or apps or bulk or datasets or archives:
        log.info(
            "queued again: %d unfinished inputs, %d apps to purge, %d bulk operations, "
            "%d dataset versions and exports, %d inputs-add jobs",
            len(inputs),
            len(apps),
            bulk,
            datasets,
            archives,
        )
    return len(inputs) + len(apps) + bulk + datasets + archives


@worker_ready.connect
def _resume_unfinished_work_while_running(**kwargs: Any) -> None:
    """Look for unfinished work when a worker starts and then every LOCALAPI_REQUEUE_EVERY seconds:
    a worker restarted promptly after a crash finds the dead one's work too fresh to take at first."""
    queue_now_and_every(
        settings.LOCALAPI_REQUEUE_EVERY,
        lambda: resume_unfinished_work.delay(settings.LOCALAPI_REQUEUE_AFTER),
        "the look for unfinished work",
    )


@shared_task(ignore_result=True)
def purge_app(app_pk: int) -> None:
    """Delete a deleted app's rows and media. Safe to run again after a crash half way."""
    app = App.objects.filter(pk=app_pk, deleted=True).first()
    if app is None:
        return
    # In batches, so a large app never sits in memory whole.
    while batch := list(Input.objects.filter(app=app).values_list("pk", flat=True)[:2000]):
        Input.objects.filter(pk__in=batch).delete()
    media.delete_tree(media.app_folder(app_pk))
    app.delete()


@shared_task(ignore_result=True)
def delete_media(app_pk: int, media_keys: list[str]) -> None:
    """Delete the media of deleted inputs, unless another input still shows the same files."""
    in_use = set(Input.objects.filter(app_id=app_pk, media_key__in=media_keys).values_list("media_key", flat=True))
    for key in set(media_keys) - in_use:
        media.delete_tree(f"{media.app_folder(app_pk)}/{key}")


# Last: these modules queue tasks of this one (so they import it), and a worker must know their tasks.
from console.localapi import dataset_tasks, upload_tasks  # noqa: E402

"""Making an upload (spool what was sent, start its job) and cleaning the spool after its jobs end.

The spool is cleaned by a look each worker makes when it starts and every JOBS_RESUME_EVERY seconds:
once every job of an upload has ended (and no chunk is still being posted), the files of the inputs that
were uploaded, or never tried (a cancelled job), are removed at once; the files of inputs that failed
stay for "Retry the failed only" until UPLOAD_SPOOL_KEEP_HOURS after the last job ended. A folder that
no upload owns (a request that died half way) is removed after an hour.
"""

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from console.connections.models import Connection
from console.jobs.models import Job, JobChunk
from console.jobs.services import lease, start_job
from console.uploads import spool
from console.uploads.intake import Intake
from console.uploads.models import Upload, UploadItem

log = logging.getLogger(__name__)

ORPHAN_AFTER = 3600  # seconds before a spool folder no upload owns is removed


@dataclass
class Shared:
    """What the whole upload sets on each of its inputs."""

    concepts: list[list[Any]]
    metadata: dict[str, Any]
    dataset_id: str = ""


def create_upload(
    user: User | AnonymousUser | None,
    connection: Connection,
    app_id: str,
    shared: Shared,
    files: list[Any],
    urls: str = "",
) -> Upload:
    """Spool the files, sort out what cannot be uploaded, and start the job that posts the rest."""
    key = secrets.token_hex(5)
    upload = Upload.objects.create(
        connection=connection,
        app_id=app_id,
        key=key,
        started_by=user if user is not None and user.is_authenticated else None,
        params={"concepts": shared.concepts, "metadata": shared.metadata, "dataset_id": shared.dataset_id},
    )
    spool.make_folder(key)
    try:
        intake = Intake(key).take(files, urls)
        with transaction.atomic():
            UploadItem.objects.bulk_create(
                [
                    UploadItem(
                        upload=upload,
                        input_id=i.input_id,
                        source=i.source,
                        name=i.name[:1000],
                        url=i.url,
                        size=i.size,
                        concepts=i.concepts,
                        metadata=i.metadata,
                    )
                    for i in intake.items
                ],
                batch_size=1000,
            )
            upload.rejected = intake.refusals()
            if intake.items:
                upload.job = start_job(
                    user,
                    connection,
                    app_id,
                    Job.UPLOAD_INPUTS,
                    {"upload": upload.pk, "summary": summary(intake)},
                    [i.input_id for i in intake.items],
                )
            else:
                upload.spool_removed_at = timezone.now()
            upload.save(update_fields=["rejected", "job", "spool_removed_at"])
    except BaseException:
        spool.remove_folder(key)
        upload.delete()
        raise
    if not intake.items:
        spool.remove_folder(key)
    return upload


def summary(intake: Intake) -> str:
    files = sum(i.source == UploadItem.FILE for i in intake.items)
    urls = len(intake.items) - files
    parts = [f"{n:,} {word}{'' if n == 1 else 's'}" for n, word in ((files, "file"), (urls, "URL")) if n]
    return " and ".join(parts)


def jobs_of(upload: Upload) -> list[Job]:
    """The upload's job and the jobs that retried its failures, oldest first."""
    return list(Job.objects.filter(kind=Job.UPLOAD_INPUTS, params__upload=upload.pk).order_by("pk"))


def clean_spool() -> int:
    """Remove what no job of an upload needs any more; answers how many files were removed."""
    removed = 0
    now = timezone.now()
    keep_for = timedelta(hours=settings.UPLOAD_SPOOL_KEEP_HOURS)
    for upload in Upload.objects.filter(spool_removed_at__isnull=True, job__isnull=False):
        jobs = jobs_of(upload)
        if not jobs or any(not j.is_final for j in jobs) or _still_posting(jobs):
            continue
        newest = jobs[-1]
        if upload.cleaned_after_id != newest.pk:
            keep = set(newest.failures.filter(skipped=False).values_list("input_id", flat=True))
            names = UploadItem.objects.filter(upload=upload, source=UploadItem.FILE).values_list("input_id", flat=True)
            removed += spool.remove(upload.key, (i for i in names.iterator() if i not in keep))
            upload.cleaned_after = newest
            fields = ["cleaned_after"]
            if not keep:
                spool.remove_folder(upload.key)
                upload.spool_removed_at = now
                fields.append("spool_removed_at")
            upload.save(update_fields=fields)
            log.info("upload %s: removed the spooled files its jobs no longer need", upload.key)
        elif newest.finished_at is None or newest.finished_at + keep_for <= now:
            spool.remove_folder(upload.key)
            Upload.objects.filter(pk=upload.pk).update(spool_removed_at=now)
    removed += _remove_orphans(now)
    return removed


def _still_posting(jobs: list[Job]) -> bool:
    # A cancelled job's chunks being posted now finish: their files must still be there.
    return JobChunk.objects.filter(
        job__in=jobs, state=JobChunk.RUNNING, claimed_at__gt=timezone.now() - lease()
    ).exists()


def _remove_orphans(now: Any) -> int:
    known = set(Upload.objects.filter(spool_removed_at__isnull=True).values_list("key", flat=True))
    removed = 0
    for key in spool.folders():
        if key in known:
            continue
        try:
            age = time.time() - spool.folder(key).stat().st_mtime
        except FileNotFoundError:
            continue
        if age > ORPHAN_AFTER:
            spool.remove_folder(key)
            removed += 1
    # Uploads whose request died before its job was started.
    Upload.objects.filter(
        job__isnull=True, spool_removed_at__isnull=True, created_at__lt=now - timedelta(seconds=ORPHAN_AFTER)
    ).update(spool_removed_at=now)
    return removed

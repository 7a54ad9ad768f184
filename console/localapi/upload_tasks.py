"""Archives of pictures turned into inputs (PostInputsUploads), by Celery workers.

A worker lists the archive once (its entries are written with the job's total in one transaction), then
adds its files in chunks: each chunk locks the job, turns pending entries into inputs and marks them
added in one transaction, so a worker that dies half way leaves the rest to the next, and no file is
added twice. The inputs are then processed like any other (tasks.process_inputs); the job's progress
counts read their statuses.

Nothing is written to disk from the archive: entries are read into memory one at a time, within the
picture size limit. Entries whose path leaves the archive (`..`, absolute), links and devices, empty
files, files over the limit and files that are not pictures are refused one by one, each with its
reason; an archive with too many files, or whose files add up past LOCALAPI_MAX_ARCHIVE_EXPANDED_BYTES,
is refused whole before anything is added.
"""

import contextlib
import hashlib
import logging
import os
import re
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from celery import shared_task
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from console.localapi import media, status, tasks
from console.localapi.fetch import FetchError, fetch
from console.localapi.models import (
    ArchiveEntry,
    ArchiveUpload,
    Concept,
    DatasetInput,
    Input,
    InputConcept,
    InputsAddJob,
    UploadPart,
)

log = logging.getLogger(__name__)

UNFINISHED = [status.JOB_QUEUED, status.JOB_RUNNING]
ENDED = {status.JOB_COMPLETED, status.JOB_FAILED, status.JOB_CANCELLED}
SKIPPED_NAMES = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|\._)")
SKIP, SUFFIX = 1, 2  # InputIDConflictResolution


class Refused(Exception):
    """The whole archive is refused; the message says why."""


def upload_folder(upload: ArchiveUpload) -> str:
    return f"{media.app_folder(upload.job.app_id)}/uploads/{upload.upload_id}"


def archive_name(upload: ArchiveUpload) -> str:
    return f"{upload_folder(upload)}/archive"


def part_name(upload: ArchiveUpload, part_number: int) -> str:
    return f"{upload_folder(upload)}/part-{part_number}"


def assemble(upload: ArchiveUpload, parts: list[UploadPart]) -> None:
    """Join the parts, in the order of their ranges, into the archive file."""
    target = archive_name(upload)
    try:
        path = default_storage.path(target)
    except NotImplementedError:
        media.put(target, b"".join(media.read(part_name(upload, p.part_number)) for p in parts))
        return
    partial = f"{path}.{os.getpid()}.part"
    with open(partial, "wb") as out:
        for part in parts:
            with default_storage.open(part_name(upload, part.part_number), "rb") as f:
                shutil.copyfileobj(f, out, 1024 * 1024)
    os.replace(partial, path)


# What the archive holds, read lazily.


@dataclass
class Listed:
    number: int
    name: str
    size: int
    problem: str = ""


def entry_problem(name: str, size: int, regular: bool) -> str:
    parts = re.split(r"[/\\]", name)
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        return "its path leaves the archive ('..' or an absolute path), so it was not read"
    if not regular:
        return "it is a link or a special file, not a picture"
    if size == 0:
        return "the file is empty"
    if size > settings.LOCALAPI_MAX_IMAGE_BYTES:
        return f"the file is {size:,} bytes, over the limit of {settings.LOCALAPI_MAX_IMAGE_BYTES:,} bytes"
    return ""


class Archive:
    """A zip or tar (plain or compressed) archive, open for reading its entries by number."""

    def __init__(self, file: IO[bytes]) -> None:
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._members: list[tarfile.TarInfo] = []
        if zipfile.is_zipfile(file):
            file.seek(0)
            self._zip = zipfile.ZipFile(file)
            return
        file.seek(0)
        try:
            self._tar = tarfile.open(fileobj=file, mode="r:*")  # noqa: SIM115 (closed by close())
            self._members = self._tar.getmembers()
        except (tarfile.TarError, EOFError, OSError) as e:
            raise Refused(f"the file is not a zip or tar archive that can be read ({e})") from None

    def listed(self) -> Iterator[Listed]:
        """Every file entry (folders and operating-system clutter left out), with what is wrong with it."""
        if self._zip is not None:
            for number, info in enumerate(self._zip.infolist()):
                if info.is_dir() or SKIPPED_NAMES.search(info.filename):
                    continue
                # Unix file type bits, when the archiver wrote them (writers that do not leave them 0).
                regular = stat.S_IFMT(info.external_attr >> 16) in (0, stat.S_IFREG)
                yield Listed(
                    number, info.filename, info.file_size, entry_problem(info.filename, info.file_size, regular)
                )
        else:
            for number, member in enumerate(self._members):
                if member.isdir() or SKIPPED_NAMES.search(member.name):
                    continue
                yield Listed(number, member.name, member.size, entry_problem(member.name, member.size, member.isreg()))

    def read(self, number: int) -> bytes:
        """An entry's bytes, never more than the picture size limit allows (a header may lie)."""
        limit = settings.LOCALAPI_MAX_IMAGE_BYTES
        if self._zip is not None:
            with self._zip.open(self._zip.infolist()[number]) as f:
                data = f.read(limit + 1)
        else:
            assert self._tar is not None
            extracted = self._tar.extractfile(self._members[number])
            if extracted is None:
                raise ValueError("not a regular file")
            data = extracted.read(limit + 1)
        if len(data) > limit:
            raise ValueError(f"the file is over the limit of {limit:,} bytes")
        return data

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()


@contextlib.contextmanager
def opened(upload: ArchiveUpload) -> Iterator[Archive]:
    with default_storage.open(archive_name(upload), "rb") as f:
        archive = Archive(f)  # Django's File wraps the real, seekable file
        try:
            yield archive
        finally:
            archive.close()


# The job.


@shared_task(ignore_result=True)
def extract_archive(job_pk: int) -> None:
    job = InputsAddJob.objects.filter(pk=job_pk).select_related("app", "upload").first()
    if job is None or job.status_code not in UNFINISHED:
        return
    upload = job.upload
    try:
        if upload.status_code == status.UPLOAD_IN_PROGRESS:
            if not upload.content_url:
                return  # still waiting for its parts
            _download(job, upload)
        if job.total is None:
            _list(job, upload)
        with opened(upload) as archive:
            while _add_next_chunk(job.pk, archive):
                pass
    except Refused as e:
        _end(job, status.JOB_FAILED, f"{status.description(status.ARCHIVE_EXTRACT_FAILED)}: {e}. Nothing was added.")
        return
    except FetchError as e:
        ArchiveUpload.objects.filter(pk=upload.pk).update(
            status_code=status.UPLOAD_FAILED, status_details=str(e), modified_at=timezone.now()
        )
        _end(job, status.JOB_FAILED, f"The archive could not be fetched: {e}.")
        return
    except Exception as e:
        log.exception("inputs-add job %s failed", job_pk)
        _end(job, status.JOB_FAILED, f"The job stopped ({type(e).__name__}); the worker's log has the details.")
        return
    _finish(job)


def _download(job: InputsAddJob, upload: ArchiveUpload) -> None:
    timeout = max(60, settings.LOCALAPI_FETCH_TIMEOUT)  # an archive is larger than a picture
    data, _ = fetch(upload.content_url, settings.LOCALAPI_MAX_ARCHIVE_BYTES, timeout=timeout)
    media.put(archive_name(upload), data)
    ArchiveUpload.objects.filter(pk=upload.pk).update(
        status_code=status.UPLOAD_DONE, content_length=len(data), modified_at=timezone.now()
    )
    upload.status_code, upload.content_length = status.UPLOAD_DONE, len(data)


def _list(job: InputsAddJob, upload: ArchiveUpload) -> None:
    with opened(upload) as archive:
        listed = []
        expanded = 0
        for entry in archive.listed():
            listed.append(entry)
            expanded += entry.size
            if len(listed) > settings.LOCALAPI_MAX_ARCHIVE_FILES:
                limit = settings.LOCALAPI_MAX_ARCHIVE_FILES
                raise Refused(f"it holds more than {limit:,} files (LOCALAPI_MAX_ARCHIVE_FILES)")
            if expanded > settings.LOCALAPI_MAX_ARCHIVE_EXPANDED_BYTES:
                raise Refused(
                    f"its files add up to more than {settings.LOCALAPI_MAX_ARCHIVE_EXPANDED_BYTES:,} bytes "
                    "(LOCALAPI_MAX_ARCHIVE_EXPANDED_BYTES)"
                )
    if not listed:
        raise Refused("it holds no files")
    with transaction.atomic():
        locked = InputsAddJob.objects.select_for_update().get(pk=job.pk)
        if locked.total is not None or locked.status_code not in UNFINISHED:
            return  # another worker listed it meanwhile, or it was cancelled
        ArchiveEntry.objects.bulk_create(
            [
                ArchiveEntry(
                    job=job,
                    number=e.number,
                    name=e.name[:1000],
                    size=e.size,
                    state=ArchiveEntry.REFUSED if e.problem else ArchiveEntry.PENDING,
                    details=e.problem,
                )
                for e in listed
            ],
            batch_size=1000,
        )
        InputsAddJob.objects.filter(pk=job.pk).update(
            total=len(listed), status_code=status.JOB_RUNNING, modified_at=timezone.now()
        )
    job.total = len(listed)


def _add_next_chunk(job_pk: int, archive: Archive) -> bool:
    """Add the next pending entries as inputs; False when there are none left or the job was cancelled."""
    with transaction.atomic():
        # The job's row only (PostgreSQL would lock the joined app's too, and hold other writers of the app).
        job = InputsAddJob.objects.select_for_update(of=("self",)).select_related("app").get(pk=job_pk)
        if job.status_code != status.JOB_RUNNING or job.app.deleted:  # a deleted app is being purged
            return False
        entries = list(
            job.entries.filter(state=ArchiveEntry.PENDING).order_by("number")[: settings.LOCALAPI_ARCHIVE_CHUNK_SIZE]
        )
        if not entries:
            return False
        created = [pk for entry in entries if (pk := _add(job, archive, entry))]
        InputsAddJob.objects.filter(pk=job.pk).update(modified_at=timezone.now())
        tasks.enqueue_inputs(created)
    return True


def input_id_for(name: str) -> str:
    """An input id from a file's path in the archive: `cats/tom.jpg` is `cats-tom`."""
    stem = os.path.splitext(name)[0].strip("/").replace("/", "-").replace("\\", "-")
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", stem).lstrip("-.")[:200]
    return cleaned or hashlib.sha256(name.encode()).hexdigest()[:32]


def _free_id(job: InputsAddJob, wanted: str) -> str | None:
    """The id to give, or None to skip the entry (its id is taken and the job says to skip)."""
    taken = Input.objects.filter(app=job.app, input_id=wanted).exists()
    if not taken:
        return wanted
    if job.conflict_resolution == SKIP:
        return None
    if job.conflict_resolution != SUFFIX:
        raise ValueError(f"an input with id {wanted!r} already exists in this app")
    n = 1
    while Input.objects.filter(app=job.app, input_id=f"{wanted}-{n}").exists():
        n += 1
    return f"{wanted}-{n}"


def _add(job: InputsAddJob, archive: Archive, entry: ArchiveEntry) -> int | None:
    """Make one entry an input (not yet processed); the input's pk, or None when it was refused or skipped."""
    try:
        data = archive.read(entry.number)
        if not data:
            raise ValueError("the file is empty")
        media.check_bytes(data)
        input_id = _free_id(job, input_id_for(entry.name))
    except media.MediaError as e:
        _refuse(entry, e.details)
        return None
    except (ValueError, zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as e:
        _refuse(entry, str(e))
        return None
    if input_id is None:
        entry.state, entry.details = ArchiveEntry.SKIPPED, "an input with its id exists already"
        entry.save(update_fields=["state", "details"])
        return None
    # Fixed by the job and entry, so a chunk done again after a crash writes the same file.
    media_key = hashlib.sha256(f"{job.pk}/{entry.number}".encode()).hexdigest()[:32]
    media.put(media.path(job.app_id, media_key, media.UPLOAD), data)
    template = job.template
    item = Input.objects.create(
        app=job.app, input_id=input_id, kind=Input.IMAGE, media_key=media_key, metadata=template.get("metadata", {})
    )
    concepts = _concepts(job, template.get("concepts", {}))
    InputConcept.objects.bulk_create(
        [InputConcept(input=item, concept=concepts[cid], value=v) for cid, v in template.get("concepts", {}).items()]
    )
    datasets = job.app.datasets.filter(dataset_id__in=template.get("dataset_ids", []))
    DatasetInput.objects.bulk_create([DatasetInput(dataset=d, input=item) for d in datasets])
    entry.state, entry.input, entry.details = ArchiveEntry.ADDED, item, ""
    entry.applied += 1
    entry.save(update_fields=["state", "input", "details", "applied"])
    return item.pk


def _refuse(entry: ArchiveEntry, reason: str) -> None:
    entry.state, entry.details = ArchiveEntry.REFUSED, reason[:2000]
    entry.save(update_fields=["state", "details"])


def _concepts(job: InputsAddJob, values: dict[str, float]) -> dict[str, Concept]:
    app = job.app
    found = {c.concept_id: c for c in app.concepts.filter(concept_id__in=values)}
    if new := values.keys() - found.keys():
        Concept.objects.bulk_create(
            [Concept(app=app, concept_id=c, name=c, language=app.default_language) for c in new],
            ignore_conflicts=True,
        )
        found = {c.concept_id: c for c in app.concepts.filter(concept_id__in=values)}
    return found


def _finish(job: InputsAddJob) -> None:
    counts = dict(job.entries.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    details = f"{counts.get(ArchiveEntry.ADDED, 0):,} of {job.total or 0:,} files added"
    if counts.get(ArchiveEntry.REFUSED):
        details += f"; {counts[ArchiveEntry.REFUSED]:,} refused (each entry says why)"
    if counts.get(ArchiveEntry.SKIPPED):
        details += f"; {counts[ArchiveEntry.SKIPPED]:,} skipped (their input ids were taken)"
    _end(job, status.JOB_COMPLETED, details + ".")


def _end(job: InputsAddJob, code: status.Code, details: str) -> None:
    """End the job (unless it was cancelled meanwhile) and delete its archive, which is no longer needed."""
    InputsAddJob.objects.filter(pk=job.pk, status_code__in=UNFINISHED).update(
        status_code=code, status_details=details[:2000], modified_at=timezone.now()
    )
    media.delete_tree(upload_folder(job.upload))


def progress(job: InputsAddJob) -> dict[str, int]:
    """How many of the job's files wait, are being processed, were added and processed, or failed."""
    counts = {"pending": 0, "in_progress": 0, "success": 0, "failed": 0, "skipped": 0}
    states = job.entries.values("state", "input__status_code").annotate(n=Count("id"))
    for row in states:
        state, code, n = row["state"], row["input__status_code"], row["n"]
        if state == ArchiveEntry.PENDING or code == status.INPUT_PENDING:
            counts["pending"] += n
        elif state == ArchiveEntry.REFUSED or code == status.INPUT_FAILED:
            counts["failed"] += n
        elif state == ArchiveEntry.SKIPPED:
            counts["skipped"] += n
        elif code == status.INPUT_IN_PROGRESS:
            counts["in_progress"] += n
        else:  # processed, or deleted since
            counts["success"] += n
    return counts


def requeue_stalled(cutoff: Any, now: Any) -> int:
    """Queue again the jobs no worker has advanced since `cutoff`; end those whose upload expired."""
    expired = InputsAddJob.objects.filter(
        status_code__in=UNFINISHED, upload__status_code=status.UPLOAD_IN_PROGRESS, upload__expires_at__lte=now
    )
    for job in expired.select_related("upload"):
        ArchiveUpload.objects.filter(pk=job.upload.pk).update(status_code=status.UPLOAD_EXPIRED, modified_at=now)
        _end(job, status.JOB_FAILED, "The archive's upload expired before all its parts arrived.")
    stalled = list(
        InputsAddJob.objects.filter(status_code__in=UNFINISHED, modified_at__lte=cutoff)
        .exclude(upload__status_code=status.UPLOAD_IN_PROGRESS, upload__content_url="")
        .values_list("pk", flat=True)
    )
    InputsAddJob.objects.filter(pk__in=stalled).update(modified_at=now)
    for pk in stalled:
        extract_archive.delay(pk)
    return len(stalled)

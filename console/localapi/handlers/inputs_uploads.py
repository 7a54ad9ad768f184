"""Archive uploads and inputs-add jobs: PostInputsUploads, PutUploadContentParts, GetUpload, ListUploads,
ListInputsAddJobs, GetInputsAddJob, CancelInputsAddJob.

PostInputsUploads starts one inputs-add job per archive and answers them, each with its upload. An
archive given by `upload.content_url` is fetched by a worker at once; otherwise the client sends it in
parts (PutUploadContentParts on the upload's id, with `range_start` and `part_number`) up to its
`content_length`, and the last part starts the job. A worker (console.localapi.upload_tasks) then turns
each picture into an input with the job's `input_template` (dataset ids, concepts, metadata). The job's
progress counts its files: pending, in progress, processed (success) and refused or failed.
"""

from datetime import timedelta
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from console.localapi import media, status, tasks, upload_tasks
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.fetch import FetchError, check_host, parse_url
from console.localapi.handlers import rpc
from console.localapi.handlers.common import ID_PATTERN, check_id, get_app, page_slice, struct_to_dict
from console.localapi.handlers.inputs import posted_job
from console.localapi.messages import timestamp
from console.localapi.models import App, ArchiveUpload, Input, InputsAddJob, UploadPart

UPLOAD_LIFETIME = timedelta(days=1)
MAX_JOBS_PER_REQUEST = 16


def upload_message(upload: ArchiveUpload) -> resources_pb2.Upload:
    return resources_pb2.Upload(
        id=upload.upload_id,
        created_at=timestamp(upload.created_at),
        modified_at=timestamp(upload.modified_at),
        expires_at=timestamp(upload.expires_at),
        status=status.make(status.as_code(upload.status_code), upload.status_details),
        content_name=upload.content_name,
        content_length=upload.content_length,
        content_url=upload.content_url,
    )


def job_message(job: InputsAddJob) -> resources_pb2.InputsAddJob:
    counts = upload_tasks.progress(job)
    code, details = status.as_code(job.status_code), job.status_details
    waiting = counts["pending"] + counts["in_progress"]
    if code == status.JOB_COMPLETED and waiting:
        # The files are all inputs now; the job is done when they are processed too.
        code, details = status.JOB_RUNNING, f"{details} {waiting:,} pictures are still being processed."
    message = resources_pb2.InputsAddJob(
        id=job.job_id,
        progress=resources_pb2.InputsAddJobProgress(
            pending_count=counts["pending"],
            in_progress_count=counts["in_progress"],
            success_count=counts["success"],
            failed_count=counts["failed"],
        ),
        created_at=timestamp(job.created_at),
        modified_at=timestamp(job.modified_at),
        status=status.make(code, details),
    )
    upload = job.upload
    message.uploads.append(upload_message(upload))
    extraction = message.extraction_jobs.add(
        id=upload.upload_id,
        url=upload.content_url,
        status=status.make(status.as_code(job.status_code), job.status_details),
        created_at=timestamp(job.created_at),
        modified_at=timestamp(job.modified_at),
        input_id_conflict_resolution=resources_pb2.InputIDConflictResolution.ValueType(job.conflict_resolution),
    )
    added = counts["pending"] + counts["in_progress"] + counts["success"] + counts["failed"]
    extraction.progress.image_inputs_count = added
    ended = job.status_code in upload_tasks.ENDED
    extraction.progress.pending_archives_count = int(job.status_code == status.JOB_QUEUED)
    extraction.progress.in_progress_archives_count = int(job.status_code == status.JOB_RUNNING)
    extraction.progress.completed_archives_count = int(ended and job.status_code == status.JOB_COMPLETED)
    extraction.progress.failed_archives_count = int(job.status_code == status.JOB_FAILED)
    return message


def _template(app: App, template: resources_pb2.Input, where: str) -> dict[str, Any]:
    if template.id:
        raise invalid(f"{where}.input_template.id: each picture gets its own id (from its file name); give none.")
    extra = [f.name for f, _ in template.data.ListFields() if f.name not in ("concepts", "metadata")]
    if extra:
        raise invalid(
            f"{where}.input_template.data.{extra[0]}: a template gives concepts and metadata only; "
            "the data of each input is a picture of the archive."
        )
    missing = set(template.dataset_ids) - set(
        app.datasets.filter(dataset_id__in=list(template.dataset_ids)).values_list("dataset_id", flat=True)
    )
    if missing:
        raise not_found(f"{where}.input_template: dataset {', '.join(sorted(missing))}")
    concepts = {}
    for concept in template.data.concepts:
        if not ID_PATTERN.match(concept.id):
            raise invalid(f"{where}.input_template: concept id {concept.id!r} is not a valid id.")
        if not 0.0 <= concept.value <= 1.0:
            raise invalid(f"{where}.input_template: concept {concept.id!r} has value {concept.value}; give 0 to 1.")
        concepts[concept.id] = concept.value
    return {
        "dataset_ids": list(dict.fromkeys(template.dataset_ids)),
        "concepts": concepts,
        "metadata": struct_to_dict(template.data.metadata),
    }


def _check_upload(given: resources_pb2.Upload, where: str) -> None:
    limit = settings.LOCALAPI_MAX_ARCHIVE_BYTES
    if given.content_url:
        try:
            check_host(parse_url(given.content_url).raw_host.decode("ascii"))
        except FetchError as e:
            raise ApiError(status.INPUT_INVALID_URL, details=f"{where}.upload.content_url: {e}") from None
        return
    if not given.content_length:
        raise invalid(
            f"{where}.upload: give content_length (the archive's size in bytes) and content_name, "
            "then send it with PutUploadContentParts; or give content_url."
        )
    if given.content_length > limit:
        raise ApiError(
            status.INPUT_OVER_LIMIT,
            details=f"{where}.upload: the archive is {given.content_length:,} bytes, over the limit of {limit:,} bytes "
            "(LOCALAPI_MAX_ARCHIVE_BYTES).",
        )


@rpc("PostInputsUploads", scope="Inputs:Add")
def post_inputs_uploads(
    ctx: Context, request: service_pb2.PostInputsUploadsRequest
) -> service_pb2.MultiInputsAddJobResponse:
    app = get_app(ctx, request.user_app_id)
    if not request.inputs_uploads:
        raise invalid("Give at least one archive in inputs_uploads, each with an upload.")
    if len(request.inputs_uploads) > MAX_JOBS_PER_REQUEST:
        raise invalid(f"At most {MAX_JOBS_PER_REQUEST} archives per request, not {len(request.inputs_uploads)}.")
    planned = []
    for n, given in enumerate(request.inputs_uploads):
        where = f"inputs_uploads[{n}]"
        if given.inputs_add_job_id:
            check_id(given.inputs_add_job_id, "Inputs-add job id")
        _check_upload(given.upload, where)
        planned.append((given, _template(app, given.input_template, where)))
    ids = [given.inputs_add_job_id or Input.new_id() for given, _ in planned]
    taken = list(app.inputs_add_jobs.filter(job_id__in=ids).values_list("job_id", flat=True))
    if taken or len(set(ids)) != len(ids):
        raise ApiError(
            status.DATABASE_DUPLICATE_KEY,
            details=f"Inputs-add job {', '.join(sorted(taken) or ids)} already exists or is given twice.",
        )
    now = timezone.now()
    with transaction.atomic():
        jobs = []
        for job_id, (given, template) in zip(ids, planned, strict=True):
            job = InputsAddJob.objects.create(
                app=app,
                job_id=job_id,
                created_by=ctx.user.id,
                template=template,
                conflict_resolution=given.input_id_conflict_resolution,
            )
            ArchiveUpload.objects.create(
                job=job,
                upload_id=Input.new_id(),
                content_name=given.upload.content_name[:255],
                content_length=0 if given.upload.content_url else given.upload.content_length,
                content_url=given.upload.content_url,
                expires_at=now + UPLOAD_LIFETIME,
            )
            if given.upload.content_url:
                tasks.enqueue(upload_tasks.extract_archive, job.pk)
            jobs.append(job.pk)
    return service_pb2.MultiInputsAddJobResponse(inputs_add_jobs=_jobs(jobs))


def _jobs(pks: list[int]) -> list[resources_pb2.InputsAddJob]:
    rows = InputsAddJob.objects.select_related("upload").in_bulk(pks)
    return [job_message(rows[pk]) for pk in pks if pk in rows]


def _get_upload(app: App, upload_id: str, lock: bool = False) -> ArchiveUpload:
    uploads = ArchiveUpload.objects.select_related("job")
    if lock:
        uploads = uploads.select_for_update()
    upload = uploads.filter(upload_id=upload_id, job__app=app).first()
    if upload is None:
        raise not_found(f"Upload {upload_id!r}")
    return upload


@rpc("PutUploadContentParts", scope="Inputs:Add")
def put_upload_content_parts(
    ctx: Context, request: service_pb2.PutUploadContentPartsRequest
) -> service_pb2.SingleUploadResponse:
    """Store parts of an archive; a part sent again replaces itself. When the parts cover the archive
    from its first byte to its last, the archive is put together and its job queued."""
    app = get_app(ctx, request.user_app_id)
    if not request.content_parts:
        raise invalid("Give at least one part in content_parts, each with range_start, part_number and data.")
    with transaction.atomic():
        upload = _get_upload(app, request.upload_id, lock=True)
        _check_open(upload)
        for n, part in enumerate(request.content_parts):
            where = f"content_parts[{n}]"
            if part.part_number < 1 or not part.data:
                raise invalid(f"{where}: give part_number (1 or more) and the part's data.")
            if part.range_start + len(part.data) > upload.content_length:
                raise invalid(
                    f"{where}: bytes {part.range_start:,} to {part.range_start + len(part.data):,} are past the end "
                    f"of the archive ({upload.content_length:,} bytes, as PostInputsUploads said)."
                )
            media.put(upload_tasks.part_name(upload, part.part_number), part.data)
            UploadPart.objects.update_or_create(
                upload=upload,
                part_number=part.part_number,
                defaults={"range_start": part.range_start, "size": len(part.data)},
            )
        parts = list(upload.parts.order_by("range_start", "part_number"))
        covered = _covered(parts)
        if covered == upload.content_length:
            upload_tasks.assemble(upload, parts)
            upload.status_code = status.UPLOAD_DONE
            tasks.enqueue(upload_tasks.extract_archive, upload.job_id)
            names = [upload_tasks.part_name(upload, p.part_number) for p in parts]
            transaction.on_commit(lambda: _delete_files(names))
        upload.save(update_fields=["status_code", "modified_at"])
    return service_pb2.SingleUploadResponse(upload=upload_message(upload))


def _delete_files(names: list[str]) -> None:
    for name in names:
        media.delete(name)


def _check_open(upload: ArchiveUpload) -> None:
    if upload.content_url:
        raise invalid(f"Upload {upload.upload_id!r} is fetched from its content_url; it takes no parts.")
    if upload.status_code == status.UPLOAD_IN_PROGRESS and upload.expires_at <= timezone.now():
        raise ApiError(status.UPLOAD_EXPIRED, details=f"Upload {upload.upload_id!r} expired; start a new one.")
    if upload.status_code != status.UPLOAD_IN_PROGRESS or upload.job.status_code not in upload_tasks.UNFINISHED:
        raise ApiError(
            status.UPLOAD_CONFLICT,
            details=f"Upload {upload.upload_id!r} is {status.description(upload.status_code).lower()} "
            f"and its job {status.description(upload.job.status_code).lower()}: it takes no more parts.",
        )


def _covered(parts: list[UploadPart]) -> int:
    """How many bytes from the start the parts cover without a gap; refuses parts that overlap."""
    end = 0
    previous = None
    for part in parts:
        if previous is not None and part.range_start < end:
            raise invalid(
                f"Part {part.part_number} (from byte {part.range_start:,}) overlaps part {previous.part_number}; "
                "send parts whose ranges do not overlap."
            )
        if part.range_start > end:
            return end
        end, previous = part.range_start + part.size, part
    return end


@rpc("GetUpload", scope="Inputs:Get")
def get_upload(ctx: Context, request: service_pb2.GetUploadRequest) -> service_pb2.SingleUploadResponse:
    app = get_app(ctx, request.user_app_id)
    return service_pb2.SingleUploadResponse(upload=upload_message(_get_upload(app, request.upload_id)))


@rpc("ListUploads", scope="Inputs:Get")
def list_uploads(ctx: Context, request: service_pb2.ListUploadsRequest) -> service_pb2.MultiUploadResponse:
    app = get_app(ctx, request.user_app_id)
    uploads = ArchiveUpload.objects.filter(job__app=app).order_by("-id")[page_slice(request.page, request.per_page)]
    return service_pb2.MultiUploadResponse(uploads=[upload_message(u) for u in uploads])


def _get_job(app: App, job_id: str) -> InputsAddJob:
    job = app.inputs_add_jobs.filter(job_id=job_id).select_related("upload").first()
    if job is None:
        raise not_found(f"Inputs-add job {job_id!r}")
    return job


@rpc("ListInputsAddJobs", scope="Inputs:Get")
def list_inputs_add_jobs(
    ctx: Context, request: service_pb2.ListInputsAddJobsRequest
) -> service_pb2.MultiInputsAddJobResponse:
    """The app's inputs-add jobs, newest first."""
    app = get_app(ctx, request.user_app_id)
    pks = list(
        app.inputs_add_jobs.order_by("-id").values_list("pk", flat=True)[page_slice(request.page, request.per_page)]
    )
    return service_pb2.MultiInputsAddJobResponse(inputs_add_jobs=_jobs(pks))


@rpc("GetInputsAddJob", scope="Inputs:Get")
def get_inputs_add_job(
    ctx: Context, request: service_pb2.GetInputsAddJobRequest
) -> service_pb2.SingleInputsAddJobResponse:
    app = get_app(ctx, request.user_app_id)
    if not app.inputs_add_jobs.filter(job_id=request.id).exists():
        # Not an archive's job: the inputs of PostInputs calls that gave this inputs_add_job_id, if any.
        posted = posted_job(app, request.id)
        if posted is not None:
            return service_pb2.SingleInputsAddJobResponse(inputs_add_job=posted)
    return service_pb2.SingleInputsAddJobResponse(inputs_add_job=job_message(_get_job(app, request.id)))


@rpc("CancelInputsAddJob", scope="Inputs:Add")
def cancel_inputs_add_job(
    ctx: Context, request: service_pb2.CancelInputsAddJobRequest
) -> service_pb2.SingleInputsAddJobResponse:
    """Stop a job before its next files: what it added stays. Cancelling twice is no error; cancelling
    a job that ended otherwise is."""
    app = get_app(ctx, request.user_app_id)
    with transaction.atomic():
        job = _get_job(app, request.id)
        job = InputsAddJob.objects.select_for_update(of=("self",)).select_related("upload").get(pk=job.pk)
        if job.status_code in upload_tasks.ENDED - {status.JOB_CANCELLED}:
            raise invalid(
                f"Inputs-add job {job.job_id!r} has already ended "
                f"({status.description(job.status_code).lower()}) and cannot be cancelled."
            )
        if job.status_code in upload_tasks.UNFINISHED:
            job.status_code, job.status_details = status.JOB_CANCELLED, f"Cancelled by {ctx.user.id}."
            job.save(update_fields=["status_code", "status_details", "modified_at"])
            ArchiveUpload.objects.filter(job=job, status_code=status.UPLOAD_IN_PROGRESS).update(
                status_code=status.UPLOAD_CANCELED, modified_at=timezone.now()
            )
            folder = upload_tasks.upload_folder(job.upload)
            transaction.on_commit(lambda: media.delete_tree(folder))
    job.upload.refresh_from_db()
    return service_pb2.SingleInputsAddJobResponse(inputs_add_job=job_message(job))

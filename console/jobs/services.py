"""Starting, advancing, pausing, cancelling and retrying jobs: every change of a job's state is here.

A worker advances a job one chunk at a time: `claim_chunk` takes one atomically (SELECT ... FOR UPDATE
SKIP LOCKED where the database has it, PostgreSQL; elsewhere an UPDATE that only succeeds while the
chunk is still claimable), `work_on_chunk` applies it through the client and records the outcome in one
transaction. A chunk held past JOBS_CHUNK_LEASE by a worker that died is claimable again.
"""

import logging
import os
import random
import socket
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db import connection as db
from django.utils import timezone

from console.connections.clients import client_for
from console.connections.crypto import TokenUnreadable
from console.connections.models import Connection
from console.jobs import kinds
from console.jobs.models import Job, JobChunk, JobFailure
from console.teams import policy

log = logging.getLogger(__name__)

# A failure whose outcome is unknown or that is transient (the API unreachable) is tried again this many
# times, with growing waits, before the chunk's inputs are recorded as failed. Throttling never counts.
MAX_ATTEMPTS = 5
MAX_WAIT = 60.0  # seconds, the longest wait before a chunk is tried again


class JobError(ValueError):
    """A job that cannot be started as asked; the message says why."""


def start_job(
    user: User | AnonymousUser | None,
    connection: Connection,
    app_id: str,
    kind: str,
    params: dict[str, Any],
    input_ids: Iterable[str],
    *,
    retry_of: Job | None = None,
) -> Job:
    """Snapshot `input_ids` into chunks and queue the job for the workers."""
    if kind not in dict(Job.KINDS + Job.APP_KINDS):
        raise JobError(f"Unknown kind of job: {kind}.")
    ids = list(dict.fromkeys(i.strip() for i in input_ids if i and i.strip()))
    if not ids:
        raise JobError("No inputs to change: give at least one input id.")
    size = settings.JOBS_CHUNK_SIZE
    with transaction.atomic():
        job = Job.objects.create(
            connection=connection,
            app_id=app_id,
            kind=kind,
            params=params,
            total=len(ids),
            started_by=user if user is not None and user.is_authenticated else None,
            retry_of=retry_of,
        )
        JobChunk.objects.bulk_create(
            [
                JobChunk(job=job, index=n, input_ids=ids[start : start + size])
                for n, start in enumerate(range(0, len(ids), size))
            ],
            batch_size=500,
        )
        _queue(job.pk)
    return job


def retry_failed(user: User | AnonymousUser | None, job: Job) -> Job:
    """A new job, of the same kind and parameters, over the inputs this one failed on (not the skipped ones)."""
    failed = list(job.failures.filter(skipped=False).order_by("chunk__index", "pk").values_list("input_id", flat=True))
    if not failed:
        raise JobError("No input failed: there is nothing to retry.")
    return start_job(user, job.connection, job.app_id, job.kind, job.params, failed, retry_of=job)


def cancel_job(job: Job) -> bool:
    """Stop the job: no chunk is claimed any more; the chunks being applied now finish and are recorded."""
    changed = (
        Job.objects.filter(pk=job.pk)
        .exclude(state__in=Job.FINAL)
        .update(state=Job.CANCELLED, finished_at=timezone.now(), reason="")
    )
    return bool(changed)


def resume_job(job: Job, by: User | AnonymousUser | None = None) -> bool:
    """Carry on with a paused job (its connection has been fixed, or someone who may change data took it
    over): resumed by a person, it changes data as them from now on."""
    fields: dict[str, Any] = {"state": Job.RUNNING, "reason": ""}
    if by is not None and by.is_authenticated:
        fields["resumed_by"] = by
    changed = Job.objects.filter(pk=job.pk, state=Job.PAUSED).update(**fields)
    if changed:
        _queue(job.pk)
    return bool(changed)


def resume_paused_jobs(connection: Connection) -> int:
    """Resume every job that was paused on this connection (called when the connection is saved), but not
    one whose person may no longer change data: a fixed token does not give them back their role."""
    resumed = 0
    for job in Job.objects.filter(connection=connection, state=Job.PAUSED).select_related(*PERSON):
        if not lapsed(job):
            resumed += resume_job(job)
    return resumed


# A job's person, loaded with it: their rights are looked at before each chunk.
PERSON = ("connection", "started_by", "resumed_by")
# Every kind of job changes data (an upload posts inputs, a deletion deletes): each needs the editor's right.
NEEDED = policy.EDIT


def lapsed(job: Job) -> str:
    """Why the job's person may no longer change data on its connection ("" while they may). A job of no
    person (started from the shell) has no one to ask."""
    person = job.resumed_by or job.started_by
    if person is None:
        return ""
    role = policy.role_in(person, job.connection.team_id)
    if person.is_active and policy.allows(role, NEEDED):
        return ""
    if not person.is_active:
        why = "the account is deactivated"
    elif role is None:
        why = "no longer a member of its team"
    else:
        why = f"role is now {role}"
    return (
        f"{person.get_username()} may no longer change data on {job.connection.name} ({why}). An editor can resume it."
    )


def pause_job(job: Job, reason: str) -> None:
    Job.objects.filter(pk=job.pk, state__in=Job.ACTIVE).update(state=Job.PAUSED, reason=reason[:2000])


def _queue(job_id: int) -> None:
    from console.jobs.tasks import run_job

    def send() -> None:
        try:
            run_job.delay(job_id)
        except Exception:  # the broker is away: the job is saved, and a worker's next look finds it
            log.exception("could not queue job %s; a worker will find it when it looks for unfinished jobs", job_id)

    transaction.on_commit(send)


# --- Advancing a job -------------------------------------------------------------------------------


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def lease() -> timedelta:
    return timedelta(seconds=settings.JOBS_CHUNK_LEASE)


def claim_chunk(job_id: int) -> JobChunk | None:
    """Take one chunk of the job for this worker, or None when none is free."""
    now = timezone.now()
    if db.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            chunk = (
                JobChunk.objects.select_for_update(skip_locked=True)
                .filter(JobChunk.claimable(now, lease()), job_id=job_id)
                .order_by("index")
                .first()
            )
            if chunk is None:
                return None
            chunk.state, chunk.claimed_at, chunk.attempts = JobChunk.RUNNING, now, chunk.attempts + 1
            chunk.claimed_by = _worker_name()  # at claim time: a forked worker has its own pid
            chunk.save(update_fields=["state", "claimed_at", "claimed_by", "attempts"])
            return chunk
    # Without SKIP LOCKED (SQLite): a compare-and-set; if another worker took the chunk first, try the next.
    for _ in range(20):
        candidate = (
            JobChunk.objects.filter(JobChunk.claimable(now, lease()), job_id=job_id)
            .order_by("index")
            .values_list("pk", "attempts")
            .first()
        )
        if candidate is None:
            return None
        pk, attempts = candidate
        taken = JobChunk.objects.filter(JobChunk.claimable(now, lease()), pk=pk, attempts=attempts).update(
            state=JobChunk.RUNNING, claimed_at=now, claimed_by=_worker_name(), attempts=attempts + 1
        )
        if taken:
            return JobChunk.objects.get(pk=pk)
    return None


def start_running(job_id: int) -> Job | None:
    """The job, marked running if it was queued; None when no worker should advance it."""
    Job.objects.filter(pk=job_id, state=Job.QUEUED).update(state=Job.RUNNING, started_at=timezone.now())
    job = Job.objects.select_related(*PERSON).filter(pk=job_id).first()
    if job is None or job.state != Job.RUNNING:
        return None
    if job.started_at is None:
        Job.objects.filter(pk=job_id, started_at__isnull=True).update(started_at=timezone.now())
    return job


def work_on_chunk(job: Job, chunk: JobChunk) -> None:
    """Apply one claimed chunk and record what became of each input, or give the chunk back to try later."""
    connection = job.connection
    reason = lapsed(job)
    if reason:  # the person's role was lowered, or they left: nothing more is changed as them
        log.info("job %s paused: %s", job.pk, reason)
        _give_back(chunk, 0, count_attempt=False)
        pause_job(job, reason)
        return
    try:
        client = client_for(connection, waits=True)  # each call waits for its turn under the rate limit
    except (TokenUnreadable, ValueError) as e:  # a token no configured key decrypts, or one the client refuses
        _give_back(chunk, 0, count_attempt=False)
        pause_job(job, f"The connection's token cannot be used: {e} Fix the connection to resume.")
        return
    call = client.call
    app = resources_pb2.UserAppIDSet(user_id=connection.user_id, app_id=job.app_id)
    try:
        outcome = kinds.apply(job.kind, job.params, call, app, list(chunk.input_ids))
    except kinds.Throttled as e:
        # Slowed, never failed: the chunk waits as long as the API asked (or a growing while) and is not
        # counted as an attempt.
        wait = e.retry_after if e.retry_after is not None else _backoff(chunk.attempts)
        log.info("job %s chunk %s throttled; again in %.1f s", job.pk, chunk.index, wait)
        _give_back(chunk, wait, count_attempt=False)
        return
    except kinds.Revoked as e:
        log.info("job %s paused: %s", job.pk, e)
        _give_back(chunk, 0, count_attempt=False)
        pause_job(job, f"The connection's token was refused: {e}. Fix the connection to resume.")
        return
    except (kinds.Transient, Exception) as e:
        if not isinstance(e, kinds.Transient):
            # A bug, not the API: logged, tried again like a transient failure, never a chunk held forever.
            log.exception("job %s chunk %s failed", job.pk, chunk.index)
            e = kinds.Transient(f"The console failed to apply this chunk ({type(e).__name__}).")
        if chunk.attempts < MAX_ATTEMPTS:
            log.info("job %s chunk %s: %s; trying again", job.pk, chunk.index, e)
            _give_back(chunk, _backoff(chunk.attempts), count_attempt=True)
            return
        outcome = kinds.Outcome(failed=dict.fromkeys(chunk.input_ids, (None, f"{e} (tried {chunk.attempts} times)")))
    record(job, chunk, outcome)


def record(job: Job, chunk: JobChunk, outcome: kinds.Outcome) -> None:
    """Finish the chunk with its counts and its failures, replacing what an earlier run of it recorded."""
    failed, skipped = outcome.failed, outcome.skipped
    try:
        _record(job, chunk, failed, skipped)
    except IntegrityError:
        # Another worker recorded the same chunk at the same moment (it took it over after the lease): its
        # record is the same, as the change is idempotent.
        log.info("job %s chunk %s was recorded by another worker", job.pk, chunk.index)


def _record(job: Job, chunk: JobChunk, failed: dict[str, tuple[int | None, str]], skipped: dict[str, str]) -> None:
    with transaction.atomic():
        JobFailure.objects.filter(chunk=chunk).delete()
        JobFailure.objects.bulk_create(
            [JobFailure(job=job, chunk=chunk, input_id=i, code=c, reason=r[:2000]) for i, (c, r) in failed.items()]
            + [JobFailure(job=job, chunk=chunk, input_id=i, reason=r, skipped=True) for i, r in skipped.items()]
        )
        JobChunk.objects.filter(pk=chunk.pk).update(
            state=JobChunk.DONE,
            finished_at=timezone.now(),
            done_count=len(chunk.input_ids) - len(failed) - len(skipped),
            failed_count=len(failed),
            skipped_count=len(skipped),
        )


def _give_back(chunk: JobChunk, wait: float, *, count_attempt: bool) -> None:
    JobChunk.objects.filter(pk=chunk.pk, state=JobChunk.RUNNING).update(
        state=JobChunk.PENDING,
        claimed_at=None,
        not_before=timezone.now() + timedelta(seconds=min(wait, MAX_WAIT)),
        attempts=chunk.attempts if count_attempt else chunk.attempts - 1,
    )


def _backoff(attempts: int) -> float:
    wait: float = min(MAX_WAIT, (2 ** max(attempts - 1, 0)) * (0.5 + random.random() / 2))
    return wait


def finish_if_complete(job_id: int) -> bool:
    """End the job when every chunk is done: failed if no input was changed and some failed, else done."""
    if JobChunk.objects.filter(job_id=job_id).exclude(state=JobChunk.DONE).exists():
        return False
    job = Job.objects.get(pk=job_id)
    progress = job.progress()
    state = Job.FAILED if progress.failed and not progress.done else Job.DONE
    reason = "Every input failed." if state == Job.FAILED else ""
    return bool(
        Job.objects.filter(pk=job_id, state__in=Job.ACTIVE).update(
            state=state, finished_at=timezone.now(), reason=reason
        )
    )


def next_due(job_id: int) -> float | None:
    """Seconds until a chunk given back to wait becomes claimable; None when no chunk is waiting."""
    waiting = (
        JobChunk.objects.filter(job_id=job_id, state=JobChunk.PENDING, not_before__gt=timezone.now())
        .order_by("not_before")
        .values_list("not_before", flat=True)
        .first()
    )
    return None if waiting is None else max((waiting - timezone.now()).total_seconds(), 0.0)


def unfinished_jobs() -> list[int]:
    """Jobs a worker should look at: active ones with a chunk that can be claimed now (or soon)."""
    now = timezone.now()
    return list(
        Job.objects.filter(state__in=Job.ACTIVE)
        .filter(pk__in=JobChunk.objects.filter(JobChunk.claimable(now, lease())).values("job_id"))
        .values_list("pk", flat=True)
    ) + list(
        # Everything done but the job itself not ended (the worker died between the two).
        Job.objects.filter(state__in=Job.ACTIVE)
        .exclude(chunks__state__in=[JobChunk.PENDING, JobChunk.RUNNING])
        .values_list("pk", flat=True)
    )

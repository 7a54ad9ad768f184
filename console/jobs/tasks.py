"""The Celery side of jobs: `run_job` advances one job chunk by chunk; a periodic look resumes what no
worker is advancing.

Several workers share one job: the first chunk a task claims queues another `run_job`, so an idle worker
joins in (and it, in turn, calls the next one). The embedded broker drops a message once a worker takes
it, so a worker that dies leaves no message behind: each worker looks for unfinished jobs when it starts
and every JOBS_RESUME_EVERY seconds, and a chunk the dead worker held is claimable again once its lease
(JOBS_CHUNK_LEASE) ends. Everything is idempotent: a chunk applied twice changes nothing twice.
"""

import logging
import time
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from console.audit.context import acting_for_job
from console.celery import queue_now_and_every
from console.jobs import services

log = logging.getLogger(__name__)

# A task gives its worker back after this long (queuing itself again), so that other jobs get turns.
SLICE_SECONDS = 60.0
LONGEST_NAP = 5.0  # seconds a task waits for a chunk that was given back to wait, before looking again


@shared_task(ignore_result=True, bind=True)
def run_job(self: Any, job_id: int) -> None:
    started = time.monotonic()
    asked_for_help = False
    while time.monotonic() - started < SLICE_SECONDS:
        job = services.start_running(job_id)
        if job is None:
            return  # paused, cancelled, ended, or gone
        chunk = services.claim_chunk(job_id)
        if chunk is None:
            if services.finish_if_complete(job_id):
                return
            wait = services.next_due(job_id)
            if wait is None:
                return  # the rest is held by other workers; the last of them ends the job
            time.sleep(min(wait, LONGEST_NAP))
            continue
        if not asked_for_help and not (self.request.is_eager or self.app.conf.task_always_eager):
            run_job.delay(job_id)  # another worker, if one is idle, takes the next chunk meanwhile
            asked_for_help = True
        # The audit trail names the job's person: who started it, or who took it over by resuming it.
        with acting_for_job(job.person_id, job.pk, job.connection_id):
            services.work_on_chunk(job, chunk)
    run_job.delay(job_id)


@shared_task(ignore_result=True)
def resume_unfinished_jobs() -> int:
    """Queue every active job that has a chunk to claim (its message was lost with a worker that died)."""
    job_ids = sorted(set(services.unfinished_jobs()))
    for job_id in job_ids:
        run_job.delay(job_id)
    if job_ids:
        log.info("queued again: %d unfinished jobs", len(job_ids))
    return len(job_ids)


@worker_ready.connect
def _resume_jobs_while_running(**kwargs: Any) -> None:
    queue_now_and_every(settings.JOBS_RESUME_EVERY, resume_unfinished_jobs.delay, "the look for unfinished jobs")

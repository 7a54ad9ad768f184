"""The Celery side of uploads: the spool's cleaning, looked at by each worker when it starts and every
JOBS_RESUME_EVERY seconds (the posting itself is a job: console/jobs/tasks.py runs it)."""

from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from console.celery import queue_now_and_every
from console.uploads import services


@shared_task(ignore_result=True)
def clean_spool() -> int:
    return services.clean_spool()


@worker_ready.connect
def _clean_while_running(**kwargs: Any) -> None:
    queue_now_and_every(settings.JOBS_RESUME_EVERY, clean_spool.delay, "the spool's cleaning")

"""Fixtures for the jobs: an app of text inputs on the built-in connection, and running a job in the
test process (the tasks run eagerly; tests marked `worker` start real worker processes instead)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from console.connections.models import Connection
from console.jobs import services, tasks
from console.jobs.models import Job, JobChunk
from console.localapi.models import Input


@pytest.fixture
def notes(make_app: Callable[..., str]) -> str:
    """An app `notes` with 25 text inputs, text-000 to text-024."""
    return make_app("notes", texts=25)


def ids(n: int) -> list[str]:
    return [f"text-{i:03}" for i in range(n)]


def run(job: Job) -> Job:
    """Advance the job as a worker would, until no chunk is left to take now."""
    tasks.run_job(job.pk)
    job.refresh_from_db()
    return job


def concepts_of(app_id: str, input_id: str) -> dict[str, float]:
    item = Input.objects.get(app__app_id=app_id, input_id=input_id)
    return {c.concept.concept_id: c.value for c in item.input_concepts.select_related("concept")}


def metadata_of(app_id: str, input_id: str) -> dict[str, Any]:
    metadata: dict[str, Any] = Input.objects.get(app__app_id=app_id, input_id=input_id).metadata
    return metadata


@pytest.fixture
def remote(db: None, staff: User) -> Callable[[str], Connection]:
    """A connection to an API at `url` (a test's own HTTP server), without a rate limit unless set."""

    def make(url: str, rate_limit: int = 0) -> Connection:
        connection = Connection(name=f"Remote {url}", base_url=url, user_id="me", rate_limit=rate_limit)
        connection.set_token("remote-token-1234")
        connection.save()
        return connection

    return make


def started(job_id: int) -> Job:
    """The job marked running, as a worker finds it before claiming a chunk."""
    job = services.start_running(job_id)
    assert job is not None, "no worker should advance this job"
    return job


def claimed(job_id: int) -> JobChunk:
    """A chunk of the job taken as a worker takes one."""
    chunk = services.claim_chunk(job_id)
    assert chunk is not None, "no chunk of this job is free"
    return chunk

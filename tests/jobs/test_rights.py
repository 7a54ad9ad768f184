"""A job changes data as its person, whose right is looked at before every chunk: demoted, removed from the
team or deactivated, the job pauses with the reason and changes nothing more; an editor who resumes it
takes it over, and the rest is changed (and recorded) as them."""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from console.audit.models import AuditEvent
from console.connections.models import Connection
from console.jobs import services
from console.jobs.models import Job, JobChunk
from console.jobs.services import start_job
from console.teams.models import Membership, Role
from tests.jobs.conftest import claimed, concepts_of, ids, run, started

STAR = {"concepts": ["star"], "value": 1}
Capture = Callable[..., AbstractContextManager[object]]


def _after_first_chunk(local: Connection, notes: str, member: User) -> Job:
    """A job over 25 inputs started by the editor `member`, its first chunk of 10 changed."""
    job = start_job(member, local, notes, Job.ADD_CONCEPTS, STAR, ids(25))
    services.work_on_chunk(started(job.pk), claimed(job.pk))
    return job


def _starred(notes: str) -> list[str]:
    return [i for i in ids(25) if "star" in concepts_of(notes, i)]


def _demote(user: User) -> None:
    Membership.objects.filter(user=user).update(role=Role.VIEWER)


def _remove(user: User) -> None:
    Membership.objects.filter(user=user).delete()


def _deactivate(user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)


@override_settings(JOBS_CHUNK_SIZE=10)
@pytest.mark.parametrize(
    ("lose_right", "why"),
    [
        (_demote, "role is now viewer"),
        (_remove, "no longer a member of its team"),
        (_deactivate, "the account is deactivated"),
    ],
)
def test_a_job_whose_person_may_no_longer_edit_pauses_and_changes_nothing_more(
    local: Connection, notes: str, member: User, lose_right: Callable[[User], None], why: str
) -> None:
    job = _after_first_chunk(local, notes, member)
    lose_right(member)

    job = run(job)
    assert job.state == Job.PAUSED
    assert job.reason == (f"bob may no longer change data on Local demo ({why}). An editor can resume it.")
    assert _starred(notes) == ids(10)
    assert job.progress().done == 10 and not job.failures.exists()
    assert job.chunks.filter(state=JobChunk.PENDING).count() == 2


@override_settings(JOBS_CHUNK_SIZE=10)
def test_an_editor_who_resumes_it_takes_it_over_and_it_finishes_as_them(
    local: Connection, notes: str, member: User, staff: User, django_capture_on_commit_callbacks: Capture
) -> None:
    job = _after_first_chunk(local, notes, member)
    _demote(member)
    job = run(job)
    assert job.state == Job.PAUSED

    with django_capture_on_commit_callbacks(execute=True):  # queued after commit: runs here, eagerly
        assert services.resume_job(job, staff)
    job.refresh_from_db()
    assert job.state == Job.DONE and job.reason == ""
    assert job.resumed_by == staff and job.started_by == member
    assert _starred(notes) == ids(25)
    # The audit trail names the resumer for the two chunks changed since (the worker records a job's
    # writes; the first chunk was changed directly above).
    writes = AuditEvent.objects.filter(job_id=job.pk, action="PatchInputs").order_by("pk")
    assert [e.username for e in writes] == ["ada", "ada"]


@override_settings(JOBS_CHUNK_SIZE=10)
def test_saving_the_connection_does_not_resume_a_job_whose_person_lost_the_right(
    local: Connection, notes: str, member: User, django_capture_on_commit_callbacks: Capture
) -> None:
    job = _after_first_chunk(local, notes, member)
    _demote(member)
    job = run(job)
    with django_capture_on_commit_callbacks(execute=True):
        local.save()
    job.refresh_from_db()
    assert job.state == Job.PAUSED and "role is now viewer" in job.reason
    assert _starred(notes) == ids(10)


@override_settings(JOBS_CHUNK_SIZE=10)
def test_the_job_page_says_why_it_paused_and_who_resumed_it(
    console: Client,
    local: Connection,
    notes: str,
    member: User,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    job = _after_first_chunk(local, notes, member)
    _demote(member)
    run(job)
    url = reverse("jobs:detail", args=[local.pk, job.pk])
    html = console.get(url).content.decode()
    assert "bob may no longer change data on Local demo (role is now viewer). An editor can resume it." in html
    assert "Resume" in html

    with django_capture_on_commit_callbacks(execute=True):
        console.post(reverse("jobs:resume", args=[local.pk, job.pk]))
    html = console.get(url).content.decode()
    assert "started by bob" in html and "Resumed by ada: it now changes data as them." in html
    assert "may no longer change data" not in html
    assert 'data-state="done"' in html

"""Real worker processes advance a 5,000-input job; one is killed (SIGKILL) in the middle of a chunk and
another finishes the job: every input is changed, each exactly once in the API's data, and counted once.

The upstream is the real local API (pytest-django's live server) behind a small proxy of the test's own
that counts which inputs each PatchInputs carries, and holds one request (the 16th) until the worker
that sent it has been killed: that chunk reached the API but its worker never recorded it, the worst
moment to die. No sleep is added to the job: the held request is what catches the worker mid-way.
Runs on the embedded broker, and on Redis (database 14) when one answers at 127.0.0.1:6379.
"""

import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings

from console.jobs import services
from console.jobs.models import Job, JobChunk
from console.jobs.services import start_job
from console.localapi import status
from console.localapi.models import App, Input, InputConcept, Token
from console.localapi.models import User as LocalUser
from console.teams.models import Membership, Role
from tests import workers
from tests.localapi.test_worker import wait_for
from tests.servers import serving
from tests.workers import HoldingProxy, proxied_connection

pytestmark = pytest.mark.worker

REDIS = "redis://127.0.0.1:6379/14"  # CI uses database 15
INPUTS = 5000
HELD = 16  # the PatchInputs held until its worker is dead

BROKERS = workers.brokers(REDIS)
broker = workers.broker
start_worker = workers.start_worker


def patches(method: str, path: str) -> bool:
    return method == "PATCH"


def _make_inputs(app_id: str) -> tuple[LocalUser, list[str]]:
    demo, _ = LocalUser.objects.get_or_create(id="demo")
    app = App.objects.create(user=demo, app_id=app_id, name=app_id)
    ids = [f"in-{n:05}" for n in range(INPUTS)]
    Input.objects.bulk_create(
        [Input(app=app, input_id=i, kind=Input.TEXT, text=i, status_code=status.INPUT_SUCCESS) for i in ids],
        batch_size=1000,
    )
    return demo, ids


@pytest.mark.parametrize("broker", BROKERS, indirect=True)
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_chunk_leaves_a_job_another_worker_finishes_changing_each_input_once(
    live_server: Any, broker: dict[str, str], start_worker: Callable[..., subprocess.Popen[bytes]], staff: Any
) -> None:
    demo, ids = _make_inputs("big")
    _, secret = Token.issue(demo)
    proxy = HoldingProxy(live_server.url, patches, hold=HELD)
    with serving(proxy.handler()) as url:
        connection = proxied_connection(url, secret)
        job = start_job(staff, connection, "big", Job.ADD_CONCEPTS, {"concepts": ["star"], "value": 1}, ids)
        assert job.chunks.count() == 50

        timing = {"JOBS_CHUNK_LEASE": "3", "JOBS_RESUME_EVERY": "1"}
        first = start_worker(**timing)
        assert proxy.held.wait(120), "the worker never reached the held chunk"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        proxy.release.set()  # the held chunk now reaches the API; no worker will record it
        done_before = JobChunk.objects.filter(job=job, state=JobChunk.DONE).count()
        assert 0 < done_before < 50
        assert JobChunk.objects.filter(job=job, state=JobChunk.RUNNING).count() == 1

        start_worker(**timing)
        wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.DONE, timeout=240)

    job.refresh_from_db()
    progress = job.progress()
    assert (progress.done, progress.failed, progress.skipped) == (INPUTS, 0, 0)
    # In the API's data, each input carries the concept once.
    labelled = InputConcept.objects.filter(input__app__app_id="big", concept__concept_id="star")
    assert labelled.count() == INPUTS
    assert labelled.values("input").distinct().count() == INPUTS
    # Every input was sent; only the chunk the dead worker held was sent again (idempotent: no change).
    assert set(proxy.sent) == set(ids)
    assert {i for i, n in proxy.sent.items() if n > 1} == set(proxy.held_ids)
    assert max(proxy.sent.values()) == 2
    assert sum(c.attempts for c in job.chunks.all()) == 51


@pytest.mark.parametrize("broker", ["filesystem"], indirect=True)
@pytest.mark.django_db(transaction=True)
@override_settings(JOBS_CHUNK_SIZE=50)
def test_two_workers_share_one_job(
    live_server: Any, broker: dict[str, str], start_worker: Callable[..., subprocess.Popen[bytes]], staff: Any
) -> None:
    demo, ids = _make_inputs("shared")
    ids = ids[:1000]
    _, secret = Token.issue(demo)
    proxy = HoldingProxy(live_server.url, patches, latency=0.1)  # each call waits on the API, not the CPU
    with serving(proxy.handler()) as url:
        connection = proxied_connection(url, secret)
        start_worker()
        start_worker()
        job = start_job(staff, connection, "shared", Job.SET_METADATA, {"metadata": {"checked": True}}, ids)
        wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.DONE, timeout=180)
    assert len({c.claimed_by for c in job.chunks.all()}) == 2
    assert job.progress().done == 1000
    assert Counter(proxy.sent) == Counter(dict.fromkeys(ids, 1))
    assert Input.objects.filter(app__app_id="shared", metadata__checked=True).count() == 1000


@pytest.mark.parametrize("broker", ["filesystem"], indirect=True)
@pytest.mark.django_db(transaction=True)
@override_settings(JOBS_CHUNK_SIZE=10)
def test_a_worker_pauses_a_job_whose_starter_was_demoted_and_finishes_it_once_an_editor_resumes_it(
    live_server: Any,
    broker: dict[str, str],
    start_worker: Callable[..., subprocess.Popen[bytes]],
    member: Any,
    staff: Any,
) -> None:
    demo, ids = _make_inputs("demoted")
    ids = ids[:100]
    _, secret = Token.issue(demo)
    proxy = HoldingProxy(live_server.url, patches, hold=2)  # the second chunk waits while the role is lowered
    with serving(proxy.handler()) as url:
        connection = proxied_connection(url, secret)
        job = start_job(member, connection, "demoted", Job.ADD_CONCEPTS, {"concepts": ["star"], "value": 1}, ids)
        start_worker()
        assert proxy.held.wait(120), "the worker never reached the second chunk"
        Membership.objects.filter(user=member).update(role=Role.VIEWER)
        proxy.release.set()  # the chunk already sent goes in; no other is sent as bob
        wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.PAUSED, timeout=60)

        job.refresh_from_db()
        assert job.reason == (
            "bob may no longer change data on Through a proxy (role is now viewer). An editor can resume it."
        )
        starred = InputConcept.objects.filter(input__app__app_id="demoted", concept__concept_id="star")
        assert sorted(starred.values_list("input__input_id", flat=True)) == ids[:20]
        assert set(proxy.sent) == set(ids[:20])

        assert services.resume_job(job, staff)  # queued for the worker after commit (autocommit here)
        wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.DONE, timeout=120)

    job.refresh_from_db()
    assert job.resumed_by_id == staff.pk and job.progress().done == 100
    assert starred.count() == 100
    assert Counter(proxy.sent) == Counter(dict.fromkeys(ids, 1))

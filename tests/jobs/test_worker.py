"""Real worker processes advance a 5,000-input job; one is killed (SIGKILL) in the middle of a chunk and
another finishes the job: every input is changed, each exactly once in the API's data, and counted once.

The upstream is the real local API (pytest-django's live server) behind a small proxy of the test's own
that counts which inputs each PatchInputs carries, and holds one request (the 16th) until the worker
that sent it has been killed: that chunk reached the API but its worker never recorded it, the worst
moment to die. No sleep is added to the job: the held request is what catches the worker mid-way.
Runs on the embedded broker, and on Redis (database 14) when one answers at 127.0.0.1:6379.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import kombu.pools
import pytest
from django.conf import settings
from django.test import override_settings

from console.celery import app as celery_app
from console.connections.models import Connection
from console.jobs.models import Job, JobChunk
from console.jobs.services import start_job
from console.localapi import status
from console.localapi.models import App, Input, InputConcept, Token
from console.localapi.models import User as LocalUser
from tests.localapi.test_worker import wait_for
from tests.processes import ROOT, database_url, end_other_sessions
from tests.servers import QuietHandler, serving

pytestmark = pytest.mark.worker

REDIS = "redis://127.0.0.1:6379/14"  # CI uses database 15
INPUTS = 5000
HELD = 16  # the PatchInputs held until its worker is dead


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


BROKERS = ["filesystem", pytest.param("redis", marks=pytest.mark.skipif(not _redis_answers(), reason="no Redis"))]


@pytest.fixture
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A broker of this test's own (a fresh folder, or Redis database 14 emptied), eager mode off."""
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.broker_transport, conf.broker_transport_options)
    if request.param == "redis":
        import redis

        redis.Redis.from_url(REDIS).flushdb()
        celery_app.conf.update(broker_url=REDIS, broker_transport=None, broker_transport_options={})
        env = {"CELERY_BROKER_URL": REDIS, "CONSOLE_VAR_DIR": str(tmp_path)}
    else:
        folders = {
            "data_folder_in": str(tmp_path / "broker" / "queue"),
            "data_folder_out": str(tmp_path / "broker" / "queue"),
            "control_folder": str(tmp_path / "broker" / "control"),
        }
        for folder in set(folders.values()):
            Path(folder).mkdir(parents=True, exist_ok=True)
        # The embedded broker as settings make it (console/broker.py), whatever the suite runs on.
        celery_app.conf.update(
            broker_url="filesystem://",
            broker_transport="console.broker:Transport",
            broker_transport_options={"polling_interval": 0.1, **folders},
        )
        env = {"CELERY_BROKER_URL": "filesystem://", "CONSOLE_VAR_DIR": str(tmp_path)}
    celery_app.conf.task_always_eager = False
    kombu.pools.reset()
    celery_app._after_fork()  # type: ignore[attr-defined]  # private: what Celery does in a forked child
    yield env
    celery_app.conf.update(
        task_always_eager=saved[0], broker_url=saved[1], broker_transport=saved[2], broker_transport_options=saved[3]
    )
    kombu.pools.reset()
    celery_app._after_fork()  # type: ignore[attr-defined]  # private: what Celery does in a forked child


@pytest.fixture
def start_worker(broker: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    workers: list[subprocess.Popen[bytes]] = []

    def start(**extra_env: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            **broker,
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SECRET_KEY": "worker-test-secret-key-" + "x" * 40,
            "CONSOLE_TOKEN_KEYS": ",".join(settings.CONSOLE_TOKEN_KEYS),  # to read the connection's token
            **extra_env,
        }
        log = open(tmp_path / f"worker-{len(workers)}.log", "wb")  # noqa: SIM115 (closed with the process)
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", "worker", "--pool=solo", "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
    end_other_sessions()


class CountingProxy:
    """Forwards every request to the local API, counting the inputs of each PatchInputs; holds the
    `hold`-th one until `release` is set, and answers each one `latency` seconds late."""

    def __init__(self, upstream: str, *, hold: int | None = HELD, latency: float = 0.0) -> None:
        self.upstream = upstream
        self.hold = hold
        self.latency = latency
        self.sent: Counter[str] = Counter()
        self.patches = 0
        self.held = threading.Event()
        self.release = threading.Event()
        self.held_ids: list[str] = []
        self.lock = threading.Lock()

    def handler(self) -> type[QuietHandler]:
        proxy = self

        class Handler(QuietHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "PATCH":
                    ids = [i["id"] for i in json.loads(body)["inputs"]]
                    with proxy.lock:
                        proxy.patches += 1
                        hold = proxy.patches == proxy.hold
                        proxy.sent.update(ids)
                    if hold:
                        proxy.held_ids = ids
                        proxy.held.set()
                        proxy.release.wait(60)
                    time.sleep(proxy.latency)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                answer = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers)
                try:
                    self.send_response(answer.status_code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except OSError:
                    pass  # the worker that asked is dead

            do_GET = do_POST = do_PATCH = do_DELETE = _forward  # noqa: N815

        return Handler


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
    proxy = CountingProxy(live_server.url)
    with serving(proxy.handler()) as url:
        connection = Connection(name="Through a proxy", base_url=url, user_id="demo", rate_limit=0)
        connection.set_token(secret)
        connection.save()
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
    proxy = CountingProxy(live_server.url, hold=None, latency=0.1)  # each call waits on the API, not the CPU
    with serving(proxy.handler()) as url:
        connection = Connection(name="Through a proxy", base_url=url, user_id="demo", rate_limit=0)
        connection.set_token(secret)
        connection.save()
        start_worker()
        start_worker()
        job = start_job(staff, connection, "shared", Job.SET_METADATA, {"metadata": {"checked": True}}, ids)
        wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.DONE, timeout=180)
    assert len({c.claimed_by for c in job.chunks.all()}) == 2
    assert job.progress().done == 1000
    assert Counter(proxy.sent) == Counter(dict.fromkeys(ids, 1))
    assert Input.objects.filter(app__app_id="shared", metadata__checked=True).count() == 1000

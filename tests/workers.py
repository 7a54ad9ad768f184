"""Fixtures and helpers for tests that run real Celery worker processes on a broker of their own, and kill
one with SIGKILL mid-way (the jobs and the uploads): a module uses them as

    broker = workers.broker
    start_worker = workers.start_worker

and parametrizes `broker` (indirect) with `workers.brokers(<its Redis URL>)`: the embedded (filesystem)
broker always, and Redis when one answers at that URL (each module has a database of its own, emptied).
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import kombu.pools
import pytest
from django.conf import settings

from console.celery import app as celery_app
from console.connections.models import Connection
from tests.processes import ROOT, database_url, end_other_sessions
from tests.servers import QuietHandler

FILESYSTEM = "filesystem"


def _redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def brokers(redis_url: str) -> list[Any]:
    """The parameters of `broker`: the embedded broker, and Redis at `redis_url` (skipped when none answers)."""
    no_redis = pytest.mark.skipif(not _redis_answers(redis_url), reason="no Redis")
    return [FILESYSTEM, pytest.param(redis_url, id="redis", marks=no_redis)]


def _drop_connections() -> None:
    """Forget pooled broker connections, so the next message goes to the broker configured now."""
    kombu.pools.reset()
    celery_app._after_fork()  # type: ignore[attr-defined]  # private: what Celery does in a forked child


@pytest.fixture
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A broker of this test's own (a fresh folder, or the Redis database of the parameter emptied), eager
    mode off; yields the environment a worker process needs to use it."""
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.broker_transport, conf.broker_transport_options)
    if request.param == FILESYSTEM:
        folders = {
            "data_folder_in": str(tmp_path / "broker" / "queue"),
            "data_folder_out": str(tmp_path / "broker" / "queue"),
            "control_folder": str(tmp_path / "broker" / "control"),
        }
        for folder in set(folders.values()):
            Path(folder).mkdir(parents=True, exist_ok=True)
        # The embedded broker as settings make it (console/broker.py), whatever the suite runs on.
        conf.update(
            broker_url="filesystem://",
            broker_transport="console.broker:Transport",
            broker_transport_options={"polling_interval": 0.1, **folders},
        )
        env = {"CELERY_BROKER_URL": "filesystem://", "CONSOLE_VAR_DIR": str(tmp_path)}
    else:
        import redis

        redis_url = str(request.param)
        redis.Redis.from_url(redis_url).flushdb()
        conf.update(broker_url=redis_url, broker_transport=None, broker_transport_options={})
        env = {"CELERY_BROKER_URL": redis_url, "CONSOLE_VAR_DIR": str(tmp_path)}
    conf.task_always_eager = False
    _drop_connections()
    yield env
    conf.update(
        task_always_eager=saved[0], broker_url=saved[1], broker_transport=saved[2], broker_transport_options=saved[3]
    )
    _drop_connections()


@contextmanager
def worker_processes(log_dir: Path, **env: str) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Yields a function that starts a `celery worker` process on the test database, with `env` and its
    own keywords added to this process's environment; its output goes to `<log_dir>/worker-<n>.log`.
    Those still running are stopped at the end."""
    workers: list[subprocess.Popen[bytes]] = []

    def start(**extra_env: str) -> subprocess.Popen[bytes]:
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SECRET_KEY": "worker-test-secret-key-" + "x" * 40,
            **env,
            **extra_env,
        }
        log = open(log_dir / f"worker-{len(workers)}.log", "wb")  # noqa: SIM115 (closed with the process)
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", "worker", "--pool=solo", "--loglevel=INFO"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
        end_other_sessions()


@pytest.fixture
def start_worker(broker: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts worker processes on the test's broker (extra environment as keywords), able to read the
    connections' tokens."""
    token_keys = ",".join(settings.CONSOLE_TOKEN_KEYS)
    with worker_processes(tmp_path, **broker, CONSOLE_TOKEN_KEYS=token_keys) as start:
        yield start


def proxied_connection(url: str, token: str) -> Connection:
    """A connection, as the local API's user `demo`, to a proxy of the test's own at `url` (no rate limit)."""
    connection = Connection(name="Through a proxy", base_url=url, user_id="demo", rate_limit=0)
    connection.set_token(token)
    connection.save()
    return connection


class HoldingProxy:
    """Forwards every request to the local API. Of the requests `watched(method, path)` picks, it counts
    the input ids each carries (`sent`), holds the `hold`-th until `release` is set (its ids in `held_ids`,
    `held` set meanwhile), and answers each `latency` seconds late."""

    def __init__(
        self,
        upstream: str,
        watched: Callable[[str, str], bool],
        *,
        hold: int | None = None,
        latency: float = 0.0,
    ) -> None:
        self.upstream = upstream
        self.watched = watched
        self.hold = hold
        self.latency = latency
        self.sent: Counter[str] = Counter()
        self.calls = 0
        self.held = threading.Event()
        self.release = threading.Event()
        self.held_ids: list[str] = []
        self.lock = threading.Lock()

    def handler(self) -> type[QuietHandler]:
        proxy = self

        class Handler(QuietHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.watched(self.command, self.path):
                    ids = [i["id"] for i in json.loads(body)["inputs"]]
                    with proxy.lock:
                        proxy.calls += 1
                        hold = proxy.calls == proxy.hold
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

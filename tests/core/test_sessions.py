"""Signing out ends the session for every web process at once.

Sessions live where every process sees the same state (the database; a shared cache in front of it when
CACHE_URL is set), never in a per-process cache: two real gunicorn processes on the test database, one
signs out, and the other refuses the old cookie at once.
"""

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User

from console.connections.models import Connection
from console.localapi.models import App
from tests.conftest import PASSWORD
from tests.processes import ROOT, collect_static, database_url, end_other_sessions

pytestmark = pytest.mark.worker


REDIS = "redis://127.0.0.1:6379/14"


def redis_is_running() -> bool:
    try:
        return redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@contextmanager
def gunicorn(tmp_path: Path, name: str, cache_url: str) -> Iterator[str]:
    """gunicorn with one worker process on the test database; yields its base URL."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "CACHE_URL"},
        "CACHE_URL": cache_url,
        "CONSOLE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": "sessions-test-secret-key-" + "x" * 40,  # the same for both, as in a deployment
        "CONSOLE_TOKEN_KEYS": ",".join(settings.CONSOLE_TOKEN_KEYS),
        "SECURE_COOKIES": "0",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
    }
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "console.wsgi"),
                *("--workers", "1", "--bind", "127.0.0.1:0", "--no-control-socket"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"Listening at: (http://[\d.:]+)", log_path.read_text())):
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield found[1]
    finally:
        server.terminate()
        server.wait(timeout=30)
        end_other_sessions()


@pytest.fixture(params=["", REDIS], ids=["database", "shared cache"])
def two_web_processes(
    request: pytest.FixtureRequest, transactional_db: None, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """Two web processes on the test database, with sessions in the database, or read through Redis."""
    if request.param and not redis_is_running():
        pytest.skip(f"no Redis at {REDIS}")
    collect_static()
    with ExitStack() as stack:
        first = stack.enter_context(gunicorn(tmp_path, "first", request.param))
        second = stack.enter_context(gunicorn(tmp_path, "second", request.param))
        yield first, second


def test_signing_out_on_one_process_ends_the_session_on_every_other(
    two_web_processes: tuple[str, str], staff: User, local: Connection
) -> None:
    first_url, second_url = two_web_processes
    apps = f"/c/{local.pk}/apps/"
    with httpx.Client(base_url=first_url, timeout=20) as first, httpx.Client(base_url=second_url, timeout=20) as second:
        first.get("/accounts/login/")
        signed_in = first.post(
            "/accounts/login/",
            data={"username": staff.username, "password": PASSWORD, "csrfmiddlewaretoken": first.cookies["csrftoken"]},
        )
        assert signed_in.status_code == 302
        second.cookies.update(first.cookies)
        # The other process knows the session (and a per-process cache would now hold it).
        assert second.get(apps).status_code == 200

        assert (
            first.post("/accounts/logout/", data={"csrfmiddlewaretoken": first.cookies["csrftoken"]}).status_code == 302
        )

        page = second.get(apps)
        assert page.status_code == 302
        assert page.headers["Location"].startswith("/accounts/login/")
        created = second.post(
            f"{apps}new",
            data={"id": "after-sign-out", "name": "After", "csrfmiddlewaretoken": second.cookies["csrftoken"]},
        )
        assert created.status_code == 302
        assert created.headers["Location"].startswith("/accounts/login/")
    assert not App.objects.filter(app_id="after-sign-out").exists()

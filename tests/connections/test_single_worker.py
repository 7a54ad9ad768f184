"""The built-in connection does not deadlock a web server with one worker process and one thread.

The console reaches the local API in-process (console.localapi.transport), not over HTTP to itself: a
server whose only thread waits on a request to itself would hang. Here gunicorn runs for real with
`--workers 1 --threads 1` on the test database, and pages that call the local API (several calls at
once, pictures fetched through the console) must answer within a timeout.
"""

import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command

from console.connections.models import Connection
from tests.conftest import PASSWORD
from tests.processes import ROOT, collect_static, database_url, end_other_sessions

pytestmark = pytest.mark.worker
TIMEOUT = 20  # seconds; a deadlocked server never answers
APP_ID = "single"
INPUTS = 40


@pytest.fixture
def single_worker(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """gunicorn with one worker process and one thread on the test database; yields its base URL."""
    collect_static()
    env = {
        **os.environ,
        "CONSOLE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": "single-worker-test-secret-key-" + "x" * 40,
        "CONSOLE_TOKEN_KEYS": ",".join(settings.CONSOLE_TOKEN_KEYS),  # to read the connection's token
        "SECURE_COOKIES": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
    }
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "console.wsgi", "--workers", "1", "--threads", "1"),
                *("--bind", "127.0.0.1:0", "--timeout", "60", "--log-level", "info"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield _wait_until_listening(server, log_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        end_other_sessions()


def _wait_until_listening(server: subprocess.Popen[bytes], log_path: Path) -> str:
    """The address gunicorn chose (port 0: no race for a free port), once its worker answers."""
    deadline = time.monotonic() + 30
    url = ""
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()}")
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log_path.read_text())
        if found:
            url = found[1]
            try:
                if httpx.get(f"{url}/health", timeout=TIMEOUT).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer at {url or 'an address'} within 30 s:\n{log_path.read_text()}")


def sign_in(client: httpx.Client, username: str) -> None:
    assert client.get("/accounts/login/").status_code == 200
    response = client.post(
        "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
    )
    assert response.status_code == 302, response.text
    assert "sessionid" in client.cookies


def test_a_single_worker_thread_serves_pages_over_the_built_in_connection(
    single_worker: str, staff: User, local: Connection
) -> None:
    call_command("seed_demo", inputs=INPUTS, app=APP_ID, pictures=4, verbosity=0)
    with httpx.Client(base_url=single_worker, timeout=TIMEOUT) as client:
        sign_in(client, staff.username)

        grid = client.get(f"/c/{local.pk}/apps/{APP_ID}/inputs/")
        assert grid.status_code == 200
        for n in (1, INPUTS // 2, INPUTS):
            assert f'id="input-{APP_ID}-{n:06d}"' in grid.text
        # The page did call the local API (ListInputs and GetInputCount, at the same time).
        assert 'desc="2 calls"' in grid.headers["Server-Timing"]

        thumbnail = re.search(r'<img src="([^"]+/media\?u=[^"]+)"', grid.text)
        assert thumbnail is not None
        picture = client.get(html.unescape(thumbnail[1]))
        assert picture.status_code == 200
        assert picture.headers["Content-Type"].startswith("image/")
        assert picture.content.startswith((b"\x89PNG", b"\xff\xd8\xff"))

        # The overview makes five calls through the shared thread pool while the only web thread waits.
        overview = client.get(f"/c/{local.pk}/apps/{APP_ID}/")
        assert overview.status_code == 200
        assert 'desc="5 calls"' in overview.headers["Server-Timing"]
        assert f"{APP_ID}-{INPUTS:06d}" in overview.text

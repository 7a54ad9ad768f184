"""One hanging API does not stall the console: gunicorn as deployed (one process, 8 threads), a
connection whose API never answers, and many pages of it at once; meanwhile /health and a page of a
healthy connection answer, and the hanging pages end within the deadline."""

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import User

from console.connections.models import Connection
from tests.connections.test_single_worker import sign_in
from tests.faults import fault_server
from tests.processes import ROOT, collect_static, database_url, end_other_sessions

pytestmark = pytest.mark.worker
DEADLINE = 9  # CONSOLE_CLARIFAI_DEADLINE of the server, seconds
THREADS = 8  # gunicorn's threads per process, as `manage.py serve` runs it
HUNG_PAGES = 12


@pytest.fixture
def gunicorn(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    collect_static()
    env = {
        **os.environ,
        "CONSOLE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": "hung-upstream-test-secret-key-" + "x" * 40,
        "CONSOLE_TOKEN_KEYS": ",".join(settings.CONSOLE_TOKEN_KEYS),
        "CONSOLE_CLARIFAI_DEADLINE": str(DEADLINE),
        "SECURE_COOKIES": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
    }
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "console.wsgi", "--workers", "1", "--threads", str(THREADS)),
                *("--bind", "127.0.0.1:0", "--timeout", "60", "--log-level", "info"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield _listening(server, log_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        end_other_sessions()


def _listening(server: subprocess.Popen[bytes], log_path: Path) -> str:
    until = time.monotonic() + 30
    while time.monotonic() < until:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()}")
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log_path.read_text())
        if found:
            try:
                if httpx.get(f"{found[1]}/health", timeout=5).status_code == 200:
                    return found[1]
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not start:\n{log_path.read_text()}")


def test_a_hanging_api_leaves_health_and_other_connections_answering(
    gunicorn: str, staff: User, local: Connection
) -> None:
    with fault_server() as server:
        server.fault("GET", "hang")
        hung = Connection(name="Hung", user_id="u", base_url=server.url)
        hung.set_token("abcdef")
        hung.save()
        with httpx.Client(base_url=gunicorn, timeout=60) as browser:
            sign_in(browser, staff.username)
            cookies = dict(browser.cookies)

        answers: list[tuple[float, httpx.Response]] = []

        def open_hung_page() -> None:
            started = time.monotonic()
            response = httpx.get(f"{gunicorn}/c/{hung.pk}/apps/", cookies=cookies, timeout=60)
            answers.append((time.monotonic() - started, response))

        pages = [threading.Thread(target=open_hung_page) for _ in range(HUNG_PAGES)]
        for page in pages:
            page.start()
        time.sleep(0.5)  # every web thread has taken one of them

        # While the first of them still wait on the API (until the deadline), the rest of the console answers.
        started = time.monotonic()
        assert httpx.get(f"{gunicorn}/health", timeout=60).status_code == 200
        healthy = httpx.get(f"{gunicorn}/c/{local.pk}/apps/", cookies=cookies, timeout=60)
        assert healthy.status_code == 200
        assert time.monotonic() - started < DEADLINE - 3, "health and a healthy page waited on the hanging API"

        for page in pages:
            page.join()
    assert len(answers) == HUNG_PAGES
    assert all(seconds < DEADLINE + 3 for seconds, _ in answers)
    assert {response.status_code for _, response in answers} <= {502, 504}
    texts = [response.text for _, response in answers]
    assert any("did not answer ListApps in time" in text for text in texts)
    host = server.url.removeprefix("http://")
    assert any(f"6 calls to {host} are already waiting for an answer; try again shortly." in t for t in texts)

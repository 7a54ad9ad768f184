"""The built-in connection does not deadlock a web server with one worker process and one thread.

The console reaches the local API in-process (console.localapi.transport), not over HTTP to itself: a
server whose only thread waits on a request to itself would hang. Here gunicorn runs for real with
`--workers 1 --threads 1` on the test database, and pages that call the local API (several calls at
once, pictures fetched through the console) must answer within a timeout.
"""

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from console.connections.models import Connection
from tests.conftest import PASSWORD
from tests.processes import web_process

pytestmark = pytest.mark.worker
TIMEOUT = 20  # seconds; a deadlocked server never answers
APP_ID = "single"
INPUTS = 40


@pytest.fixture
def single_worker(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """gunicorn with one worker process and one thread on the test database; yields its base URL."""
    with web_process(tmp_path, threads=1) as url:
        yield url


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

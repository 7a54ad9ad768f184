"""One hanging API does not stall the console: gunicorn as deployed (one process, 8 threads), a
connection whose API never answers, and many pages of it at once; meanwhile /health and a page of a
healthy connection answer, and the hanging pages end within the deadline."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User

from console.connections.models import Connection
from tests.connections.test_single_worker import sign_in
from tests.faults import fault_server
from tests.processes import web_process

pytestmark = pytest.mark.worker
DEADLINE = 9  # CONSOLE_CLARIFAI_DEADLINE of the server, seconds
THREADS = 8  # gunicorn's threads per process, as `manage.py serve` runs it
HUNG_PAGES = 12


@pytest.fixture
def gunicorn(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    with web_process(tmp_path, threads=THREADS, CONSOLE_CLARIFAI_DEADLINE=str(DEADLINE)) as url:
        yield url


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

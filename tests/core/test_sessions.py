"""Signing out ends the session for every web process at once.

Sessions live where every process sees the same state (the database; a shared cache in front of it when
CACHE_URL is set), never in a per-process cache: two real gunicorn processes on the test database, one
signs out, and the other refuses the old cookie at once.
"""

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis
from django.contrib.auth.models import User

from console.connections.models import Connection
from console.localapi.models import App
from tests.conftest import PASSWORD
from tests.processes import web_process

pytestmark = pytest.mark.worker


REDIS = "redis://127.0.0.1:6379/14"


def redis_is_running() -> bool:
    try:
        return redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(params=["", REDIS], ids=["database", "shared cache"])
def two_web_processes(
    request: pytest.FixtureRequest, transactional_db: None, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """Two web processes on the test database, with sessions in the database, or read through Redis."""
    if request.param and not redis_is_running():
        pytest.skip(f"no Redis at {REDIS}")
    with ExitStack() as stack:
        first = stack.enter_context(web_process(tmp_path, name="first", CACHE_URL=request.param))
        second = stack.enter_context(web_process(tmp_path, name="second", CACHE_URL=request.param))
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

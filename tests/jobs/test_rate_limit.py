"""One request-rate limit per token, shared by every process: two real processes take turns from one bucket."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from clarifai_grpc.grpc.api import service_pb2

from console.clarifai import ratelimit
from console.connections import clients
from console.connections.models import Connection
from console.localapi.models import Token
from console.localapi.models import User as LocalUser
from tests.core.test_sessions import REDIS, redis_is_running
from tests.processes import ROOT, database_url, end_other_sessions

CALLER = """
import json, sys, time
import django
django.setup()
from console.clarifai import ratelimit
calls, rate, burst = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()  # both processes start together
stamps = []
for _ in range(calls):
    ratelimit.acquire("shared-test-bucket", rate, burst=burst)
    stamps.append(time.time())
print(json.dumps(stamps), flush=True)
"""


def _caller(tmp_path: Path, calls: int, rate: float, burst: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DATABASE_URL": database_url(),
        "CONSOLE_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "rate-limit-test-secret-key-" + "x" * 40,
    }
    return subprocess.Popen(
        [sys.executable, "-c", CALLER, str(calls), str(rate), str(burst)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.django_db(transaction=True)  # the other processes must see the cache table, unlocked
def test_two_processes_share_one_bucket_per_token(tmp_path: Path) -> None:
    rate, burst, calls = 10.0, 2, 12
    processes = [_caller(tmp_path, calls, rate, burst) for _ in range(2)]
    try:
        for p in processes:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in processes:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        stamps = sorted(t for p in processes for t in json.loads(p.communicate(timeout=60)[0].strip()))
    finally:
        for p in processes:
            p.kill() if p.poll() is None else None
        end_other_sessions()
    assert len(stamps) == 2 * calls
    # Together, not each on its own: 24 calls at 10 a second (2 at once) take at least 2.2 s; one process's
    # 12 calls alone would take 1 s, so two separate buckets would finish both in about that.
    assert stamps[-1] - stamps[0] >= (2 * calls - burst) / rate - 0.1
    # And never more than the bucket allows in any second.
    for i, start in enumerate(stamps):
        in_a_second = [t for t in stamps[i:] if t < start + 1.0]
        assert len(in_a_second) <= rate + burst


def test_no_limit_means_no_wait_and_each_token_has_its_own_bucket(db: None) -> None:
    assert ratelimit.acquire("unlimited", 0) == 0.0
    a, b = ratelimit.key_for("token-a"), ratelimit.key_for("token-b")
    assert a != b and "token-a" not in a
    waits = [ratelimit.acquire(a, 5, burst=1, sleep=lambda s: None) for _ in range(3)]
    assert 0 <= waits[0] <= 0.2 < waits[2]
    assert abs((waits[2] - waits[0]) - 0.4) < 0.05  # turns one fifth of a second apart
    assert ratelimit.acquire(b, 5, burst=1, sleep=lambda s: None) <= 0.2  # another token: its own next turn
    burst = [ratelimit.acquire(ratelimit.key_for("token-c"), 5, burst=3, sleep=lambda s: None) for _ in range(4)]
    assert burst[:2] == [0.0, 0.0] and burst[3] > 0  # an idle token may make 3 calls at once, not 4


@pytest.fixture
def shared_cache(settings: Any) -> None:
    """The rate limit in Redis, as with CACHE_URL set (a database's test of its own)."""
    if not redis_is_running():
        pytest.skip(f"no Redis at {REDIS}")  # .ci/run starts one before its PostgreSQL pass at the latest
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS},
    }
    settings.CONSOLE_RATE_LIMIT_CACHE = "shared"


def test_a_pages_calls_take_their_turns_at_once_and_a_jobs_calls_wait_behind_them(
    live_server: Any, monkeypatch: pytest.MonkeyPatch, shared_cache: None
) -> None:
    """With the shared cache, a connection limited to 2 calls a second, over real HTTP: a page makes 4
    calls and none of them waits; a job's call right after waits for the turn after those 4 (about 2 s),
    so page and jobs together keep to the token's limit."""
    demo, _ = LocalUser.objects.get_or_create(id="demo")
    _, secret = Token.issue(demo)
    connection = Connection(name="Limited", base_url=live_server.url, user_id="demo", rate_limit=2)
    connection.set_token(secret)
    connection.save()
    waited: list[float] = []
    real = ratelimit.acquire
    # The real bucket, with its sleeps recorded instead of slept.
    monkeypatch.setattr(ratelimit, "acquire", lambda key, rate, **kw: real(key, rate, sleep=waited.append, **kw))
    page, job = clients.client_for(connection), clients.client_for(connection, waits=True)
    assert page is not job

    for _ in range(4):
        page.call("ListApps", service_pb2.ListAppsRequest(per_page=1))
    assert waited == [], "a page's call waited for the rate limit"
    job.call("ListApps", service_pb2.ListAppsRequest(per_page=1))
    assert len(waited) == 1 and 1.0 < waited[0] <= 2.0, waited  # its turn comes after the page's four


def test_without_the_shared_cache_only_jobs_take_turns(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database's bucket: a page's calls (several at once from its threads) do not write to it."""
    demo, _ = LocalUser.objects.get_or_create(id="demo")
    _, secret = Token.issue(demo)
    connection = Connection(name="Limited", base_url=live_server.url, user_id="demo", rate_limit=2)
    connection.set_token(secret)
    connection.save()
    taken: list[bool] = []
    real = ratelimit.acquire

    def spy(key: str, rate: float, **kw: Any) -> float:
        taken.append(kw["wait"])
        return real(key, rate, **kw)

    monkeypatch.setattr(ratelimit, "acquire", spy)
    clients.client_for(connection).call("ListApps", service_pb2.ListAppsRequest(per_page=1))
    assert taken == []
    clients.client_for(connection, waits=True).call("ListApps", service_pb2.ListAppsRequest(per_page=1))
    assert taken == [True]

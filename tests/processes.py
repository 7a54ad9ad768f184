"""Helpers for tests that start the project's own processes (gunicorn, `manage.py serve`, Celery workers)."""

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database, as a URL another process can open."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = f"{s['USER']}:{s['PASSWORD']}@" if s["USER"] else ""
    return f"postgres://{auth}{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


@cache
def collect_static() -> None:
    """Run collectstatic once per test session, as a deployment does: a server in its own process uses the
    project's real settings, whose manifest storage needs it (the test process itself serves from the finders)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, check=True, timeout=300
    )


def end_other_sessions() -> None:
    """End what processes started by a test left connected to the test database (a killed worker's
    session lingers a moment), so that the test database can be dropped at the end."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@contextmanager
def web_process(log_dir: Path, *, name: str = "gunicorn", threads: int = 1, **env: str) -> Iterator[str]:
    """The console on gunicorn (one worker process, `threads` threads) over the test database, as it is
    deployed; yields its base URL once it answers /health. `env` adds to or replaces its environment
    (a value of "" leaves a variable out). Its output is in `<log_dir>/<name>.log`, shown if it fails."""
    collect_static()
    environment = {
        **os.environ,
        "CONSOLE_VAR_DIR": str(log_dir / "var"),
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": "test-web-process-secret-key-" + "x" * 40,  # the same for every process, as deployed
        "CONSOLE_TOKEN_KEYS": ",".join(settings.CONSOLE_TOKEN_KEYS),  # to read the connections' tokens
        "SECURE_COOKIES": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    log_path = log_dir / f"{name}.log"
    command = [
        *(sys.executable, "-m", "gunicorn", "console.wsgi", "--workers", "1", "--threads", str(threads)),
        *("--bind", "127.0.0.1:0", "--timeout", "60", "--log-level", "info", "--no-control-socket"),
    ]
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env={k: v for k, v in environment.items() if v != ""},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield _answering(server, log_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        end_other_sessions()


def _answering(server: "subprocess.Popen[bytes]", log_path: Path) -> str:
    """The address gunicorn chose (port 0: no race for a free port), once its worker answers."""
    until = time.monotonic() + 30
    url = ""
    while time.monotonic() < until:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()}")
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log_path.read_text())
        if found:
            url = found[1]
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer at {url or 'an address'} within 30 s:\n{log_path.read_text()}")

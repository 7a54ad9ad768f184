"""Helpers for tests that start the project's own processes (gunicorn, `manage.py serve`, Celery workers)."""

import subprocess
import sys
from functools import cache
from pathlib import Path

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

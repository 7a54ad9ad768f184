"""Helpers for tests that start the project's own processes (gunicorn, `manage.py serve`, Celery workers)."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def healthy(port: int) -> bool:
    try:
        return bool(httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json() == {"status": "ok"})
    except httpx.HTTPError:
        return False


def wait_for(condition: Callable[[], bool], served: "Served", timeout: float = 60) -> None:
    """Until `condition()` holds; fails with serve's output if it does not within `timeout` s, or serve ends."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, served.output()
        assert served.process.poll() is None, served.output()
        time.sleep(0.3)


@dataclass
class Served:
    """A running `manage.py serve`: its process, its web port, and the lines it has written so far."""

    process: subprocess.Popen[bytes]
    port: int
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def worker_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"worker started \(pid=(\d+)\)", self.output())]


@contextmanager
def serve(tmp_path: Path, grpc_port: int = 0) -> Iterator[Served]:
    """`manage.py serve` on a free port (PORT), on the test database and an embedded broker of its own, until
    the web server answers and the worker is ready; with a gRPC server on `grpc_port` (0: none)."""
    collect_static()
    port = free_port()
    env = {
        **os.environ,
        "CONSOLE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": database_url(),
        "SECURE_COOKIES": "0",
        # What `make run` passes on: serve takes its defaults from the settings, which read these.
        "PORT": str(port),
        "WEB_PROCESSES": "1",
        "WORKER_CONCURRENCY": "1",
        "GRPC_PORT": str(grpc_port),  # 0: none (the default port could be taken)
    }
    env.pop("CELERY_BROKER_URL", None)  # the embedded broker, in this test's own folder
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    served = Served(process, port)
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: served.lines.extend(line.decode() for line in stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: healthy(port) and " ready." in served.output(), served)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        reader.join(timeout=10)
        end_other_sessions()

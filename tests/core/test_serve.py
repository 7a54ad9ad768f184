"""`manage.py serve` (what `make run` ends with) serves the console with a worker, and stops both on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, collect_static, database_url, end_other_sessions

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json() == {"status": "ok"}
    except httpx.HTTPError:
        return False


def test_it_serves_and_stops_the_web_server_and_the_worker_on_sigterm(tmp_path: Path) -> None:
    collect_static()
    port = free_port()
    env = {**os.environ, "CONSOLE_VAR_DIR": str(tmp_path), "DATABASE_URL": database_url(), "SECURE_COOKIES": "0"}
    env.pop("CELERY_BROKER_URL", None)  # the embedded broker, in this test's own folder
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", f"--port={port}", "--web-processes=1", "--worker-concurrency=1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.decode() for line in server.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not (healthy(port) and any(" ready." in line for line in lines)):
            assert time.monotonic() < deadline, "".join(lines)
            assert server.poll() is None, "".join(lines)
            time.sleep(0.3)
        assert httpx.get(f"http://127.0.0.1:{port}/accounts/login/").status_code == 200
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        end_other_sessions()
    output = "".join(lines)
    assert "web started" in output
    assert "worker started" in output
    assert "web stopped" in output
    assert "worker stopped" in output
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)

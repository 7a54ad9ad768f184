"""`manage.py serve` (what `make run` ends with) serves the console with a worker, restarts a worker that
dies while the web server keeps serving, and stops both on SIGTERM."""

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
from pathlib import Path

import httpx
import pytest
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from console.localapi.models import App, Input, Token
from console.localapi.models import User as LocalUser
from tests.processes import ROOT, collect_static, database_url, end_other_sessions

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


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
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, served.output()
        assert served.process.poll() is None, served.output()
        time.sleep(0.3)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def worker_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"worker started \(pid=(\d+)\)", self.output())]


@contextmanager
def serve(tmp_path: Path) -> Iterator[Served]:
    """`manage.py serve` on a free port (PORT), on the test database and an embedded broker of its own, until
    the web server answers and the worker is ready."""
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
        "GRPC_PORT": "0",  # no gRPC server on the default port (tests/grpc/test_serve_grpc.py runs one)
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


def test_it_serves_and_stops_the_web_server_and_the_worker_on_sigterm(tmp_path: Path) -> None:
    with serve(tmp_path) as served:
        assert httpx.get(f"http://127.0.0.1:{served.port}/accounts/login/").status_code == 200
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=60) == 0
    output = served.output()
    assert f"Console at http://127.0.0.1:{served.port}/" in output
    assert "web started" in output
    assert "worker started" in output
    assert "web stopped" in output
    assert "worker stopped" in output
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{served.port}/health", timeout=2)


def test_a_worker_killed_is_started_again_while_the_web_server_keeps_serving(tmp_path: Path) -> None:
    demo = LocalUser.objects.create(id="demo")
    App.objects.create(user=demo, app_id="notes")
    _, secret = Token.issue(demo)
    with serve(tmp_path) as served:
        [first] = served.worker_pids()
        os.kill(first, signal.SIGKILL)

        answers: list[bool] = []

        def restarted() -> bool:
            answers.append(healthy(served.port))
            return len(served.worker_pids()) == 2 and served.output().count(" ready.") == 2

        wait_for(restarted, served)
        assert all(answers), f"/health failed {answers.count(False)} of {len(answers)} times while the worker was down"
        assert served.process.poll() is None
        assert "worker stopped (rc=-9)" in served.output()

        # The new worker does the work: an input posted now is processed.
        posted = httpx.post(
            f"http://127.0.0.1:{served.port}/v2/users/demo/apps/notes/inputs",
            headers={"Authorization": f"Key {secret}"},
            json={"inputs": [{"id": "after-restart", "data": {"text": {"raw": "still here"}}}]},
        )
        assert posted.status_code == 200, posted.text
        wait_for(
            lambda: Input.objects.get(input_id="after-restart").status_code == codes.INPUT_DOWNLOAD_SUCCESS, served
        )

"""`manage.py serve` (what `make run` ends with) serves the console with a worker, restarts a worker that
dies while the web server keeps serving, and stops both on SIGTERM."""

import os
import signal
from pathlib import Path

import httpx
import pytest
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from console.localapi.models import App, Input, Token
from console.localapi.models import User as LocalUser
from tests.processes import healthy, serve, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


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

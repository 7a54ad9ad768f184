"""`manage.py serve` runs the gRPC server on GRPC_PORT beside the web server and the worker, with hosted
media URLs pointing at the web server, and stops it with them; GRPC_PORT=0 runs none."""

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from console.localapi.models import App, Token
from console.localapi.models import User as LocalUser
from tests.core.test_serve import Served, free_port, healthy, wait_for
from tests.grpc.conftest import official_stub
from tests.images import png
from tests.processes import ROOT, collect_static, database_url, end_other_sessions

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@contextmanager
def serve(tmp_path: Path, grpc_port: int) -> Iterator[Served]:
    collect_static()
    port = free_port()
    env = {
        **os.environ,
        "CONSOLE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": database_url(),
        "SECURE_COOKIES": "0",
        "PORT": str(port),
        "GRPC_PORT": str(grpc_port),
        "WEB_PROCESSES": "1",
        "WORKER_CONCURRENCY": "1",
    }
    env.pop("CELERY_BROKER_URL", None)
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


def test_serve_runs_grpc_beside_the_web_server_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    user = LocalUser.objects.create(id="alice")
    _, token = Token.issue(user)
    App.objects.create(user=user, app_id="main", name="Main")
    grpc_port = free_port()
    metadata = (("authorization", f"Key {token}"),)
    with serve(tmp_path, grpc_port) as served:
        wait_for(lambda: "Local API over gRPC at" in served.output(), served)
        stub = official_stub(f"http://127.0.0.1:{grpc_port}")
        posted = stub.PostInputs(
            service_pb2.PostInputsRequest(
                user_app_id=resources_pb2.UserAppIDSet(app_id="main"),
                inputs=[
                    resources_pb2.Input(id="red", data=resources_pb2.Data(image=resources_pb2.Image(base64=png(10, 8))))
                ],
            ),
            metadata=metadata,
        )
        assert posted.status.code == codes.SUCCESS

        def processed() -> bool:
            answer = stub.GetInput(
                service_pb2.GetInputRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="main"), input_id="red"),
                metadata=metadata,
            )
            return bool(answer.input.status.code == codes.INPUT_DOWNLOAD_SUCCESS)

        wait_for(processed, served)
        item = stub.GetInput(
            service_pb2.GetInputRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="main"), input_id="red"),
            metadata=metadata,
        ).input
        assert item.data.image.hosted.prefix.startswith(f"http://127.0.0.1:{served.port}/")
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=60) == 0
    assert "grpc stopped (rc=0)" in served.output()


def test_grpc_port_0_runs_no_grpc_server(tmp_path: Path) -> None:
    with serve(tmp_path, 0) as served:
        pass
    assert "grpc" not in served.output().lower().replace("grpc_port", "")

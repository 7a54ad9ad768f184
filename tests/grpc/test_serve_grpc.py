"""`manage.py serve` runs the gRPC server on GRPC_PORT beside the web server and the worker, with hosted
media URLs pointing at the web server, and stops it with them; GRPC_PORT=0 runs none."""

import signal
from pathlib import Path

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from console.localapi.models import App, Token
from console.localapi.models import User as LocalUser
from tests.grpc.conftest import official_stub
from tests.images import png
from tests.processes import free_port, serve, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


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

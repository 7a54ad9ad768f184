"""The official `clarifai` SDK, unmodified, against the local API's real gRPC server (in a thread of the
test process, beside pytest-django's live server that serves hosted media and export archives)."""

import io
import os
import subprocess
import sys
from typing import Any

import grpc
import pytest
from clarifai.client.user import User  # type: ignore[import-untyped]
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.test import override_settings
from PIL import Image

from console.localapi.models import App, Input
from tests.grpc.conftest import official_stub
from tests.images import jpeg, png
from tests.processes import ROOT
from tests.servers import QuietHandler, serving


def sdk_user(grpc_url: str, token: str) -> Any:
    return User(user_id="alice", pat=token, base_url=grpc_url)


def test_the_sdk_lists_and_creates_apps_and_reads_the_user(grpc_url: str, token: str, main_app: App) -> None:
    user = sdk_user(grpc_url, token)
    assert [app.id for app in user.list_apps()] == ["main"]
    created = user.create_app(app_id="second", base_workflow="Empty")
    assert created.id == "second"
    assert sorted(app.id for app in user.list_apps()) == ["main", "second"]
    assert App.objects.filter(user_id="alice", app_id="second").exists()
    info = user.get_user_info()
    assert info.status.code == codes.SUCCESS
    assert info.user.id == "alice"


class Pictures(QuietHandler):
    def do_GET(self) -> None:
        body = jpeg(40, 30)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=True)  # the picture server is on 127.0.0.1
def test_the_sdk_uploads_from_bytes_and_from_a_url_and_lists_inputs_and_concepts(
    grpc_url: str, token: str, main_app: App
) -> None:
    app = sdk_user(grpc_url, token).app(app_id="main")
    uploader = app.inputs()
    uploader.upload_from_bytes(input_id="red", image_bytes=png(64, 48), labels=["cat"])
    with serving(Pictures) as base:
        uploader.upload_from_url(input_id="blue", image_url=f"{base}/blue.jpg", labels=["dog"])
    listed = {item.id: item for item in uploader.list_inputs()}
    assert set(listed) == {"red", "blue"}
    assert listed["blue"].data.image.url == f"{base}/blue.jpg"
    hosted = listed["red"].data.image.hosted
    assert hosted.prefix.startswith("http://localhost") or hosted.prefix.startswith("http://127.0.0.1")
    assert {c.id for c in app.list_concepts()} == {"cat", "dog"}
    assert set(Input.objects.values_list("status_code", flat=True)) == {codes.INPUT_DOWNLOAD_SUCCESS}


def test_a_wrong_token_is_refused_with_a_clarifai_status(grpc_url: str, token: str, main_app: App) -> None:
    with pytest.raises(Exception, match=r"CONN_KEY_INVALID|11009"):
        list(sdk_user(grpc_url, "not-a-token").list_apps())
    answer = official_stub(grpc_url).ListApps(service_pb2.ListAppsRequest(), metadata=(("authorization", "Key wrong"),))
    assert answer.status.code == codes.CONN_KEY_INVALID
    assert answer.status.req_id


def test_a_bad_request_gets_a_clarifai_status_and_writes_nothing(grpc_url: str, token: str, main_app: App) -> None:
    with pytest.raises(Exception, match="not a valid id"):
        sdk_user(grpc_url, token).create_app(app_id="no spaces allowed")
    assert list(App.objects.values_list("app_id", flat=True)) == ["main"]
    answer = official_stub(grpc_url).PostInputs(
        service_pb2.PostInputsRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="main")),
        metadata=(("authorization", f"Key {token}"),),
    )
    assert answer.status.code == codes.CONN_INVALID_REQUEST


def test_an_rpc_without_a_handler_answers_not_implemented_and_an_unknown_one_unimplemented(
    grpc_url: str, token: str
) -> None:
    answer = official_stub(grpc_url).ListModels(
        service_pb2.ListModelsRequest(), metadata=(("authorization", f"Key {token}"),)
    )
    assert answer.status.code == codes.NOT_IMPLEMENTED  # inside the answer, with gRPC OK
    channel = grpc.insecure_channel(grpc_url.removeprefix("http://"))
    unknown: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary("/clarifai.api.V2/NoSuchRpc")
    with pytest.raises(grpc.RpcError) as raised:
        unknown(b"", metadata=(("authorization", f"Key {token}"),))
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


def noise(side: int) -> bytes:
    """A PNG that does not compress: side * side * 3 bytes and a little more."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_picture_over_grpcs_default_4_mib_is_accepted(grpc_url: str, token: str, main_app: App) -> None:
    picture = noise(1400)
    assert len(picture) > 5 * 1024 * 1024
    answer = official_stub(grpc_url).PostInputs(
        service_pb2.PostInputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="main"),
            inputs=[resources_pb2.Input(id="big", data=resources_pb2.Data(image=resources_pb2.Image(base64=picture)))],
        ),
        metadata=(("authorization", f"Key {token}"),),
    )
    assert answer.status.code == codes.SUCCESS
    assert Input.objects.get(input_id="big").width == 1400


@override_settings(LOCALAPI_MAX_REQUEST_BYTES=200_000)
def test_a_message_over_the_limit_gets_a_clarifai_status_and_writes_nothing(
    grpc_url: str, token: str, main_app: App
) -> None:
    answer = official_stub(grpc_url).PostInputs(
        service_pb2.PostInputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(app_id="main"),
            inputs=[resources_pb2.Input(data=resources_pb2.Data(image=resources_pb2.Image(base64=noise(300))))],
        ),
        metadata=(("authorization", f"Key {token}"),),
    )
    assert answer.status.code == codes.RPC_MAX_MESSAGE_SIZE_EXCEEDED
    assert "200,000 bytes" in answer.status.details
    assert not Input.objects.exists()


def test_deep_metadata_gets_a_clarifai_status_and_writes_nothing(grpc_url: str, token: str, main_app: App) -> None:
    metadata: dict[str, Any] = {"leaf": 1}
    for _ in range(30):
        metadata = {"deeper": metadata}
    item = resources_pb2.Input(id="deep", data=resources_pb2.Data(text=resources_pb2.Text(raw="hi")))
    item.data.metadata.update(metadata)
    answer = official_stub(grpc_url).PostInputs(
        service_pb2.PostInputsRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="main"), inputs=[item]),
        metadata=(("authorization", f"Key {token}"),),
    )
    assert answer.status.code == codes.CONN_INVALID_REQUEST
    assert "nested deeper than 24 levels" in answer.status.details
    assert not Input.objects.exists()


def test_an_unknown_app_gets_a_clarifai_status_and_writes_nothing(grpc_url: str, token: str, main_app: App) -> None:
    with pytest.raises(Exception, match=r"CONN_DOES_NOT_EXIST|does not exist"):
        sdk_user(grpc_url, token).app(app_id="nope").inputs().upload_from_bytes(input_id="x", image_bytes=png())
    assert not Input.objects.exists()


def test_bytes_that_are_not_a_message_get_a_clarifai_status(grpc_url: str, token: str) -> None:
    channel = grpc.insecure_channel(grpc_url.removeprefix("http://"))
    list_apps: grpc.UnaryUnaryMultiCallable[bytes, service_pb2.MultiAppResponse] = channel.unary_unary(
        "/clarifai.api.V2/ListApps", response_deserializer=service_pb2.MultiAppResponse.FromString
    )
    answer = list_apps(b"\xff\xff\xff", metadata=(("authorization", f"Key {token}"),))
    assert answer.status.code == codes.CONN_BAD_REQUEST_FORMAT


SCRIPT = """
from tests.grpc.sdk import stand_in_for_clarifai_protocol
stand_in_for_clarifai_protocol()
from clarifai.client.user import User
print("apps:", ",".join(app.id for app in User(user_id="alice").list_apps()))
"""


def test_the_sdk_finds_the_server_from_clarifai_api_base(grpc_url: str, token: str, main_app: App) -> None:
    """A script that only sets the environment, as the README says (the SDK reads it at import time)."""
    env = {**os.environ, "CLARIFAI_API_BASE": grpc_url, "CLARIFAI_PAT": token}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert "apps: main" in done.stdout, done.stderr[-2000:]

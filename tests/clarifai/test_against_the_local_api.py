"""The client end to end against the real local API: over HTTP on a live server, and in process."""

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from PIL import Image

from console.clarifai import ClarifaiClient, ClarifaiStatusError
from console.localapi.models import Token, User
from console.localapi.transport import LocalAPITransport

pytestmark = pytest.mark.django_db(transaction=True)

APP = resources_pb2.UserAppIDSet(app_id="notes")


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def make_client() -> Iterator[Callable[..., ClarifaiClient]]:
    clients: list[ClarifaiClient] = []

    def make(base_url: str, **kwargs: Any) -> ClarifaiClient:
        user = User.objects.create(id="alice")
        _, secret = Token.issue(user)
        client = ClarifaiClient(base_url, secret, "alice", **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def exercise(client: ClarifaiClient) -> None:
    created = client.call(
        "PostApps",
        service_pb2.PostAppsRequest(apps=[resources_pb2.App(id="notes", name="Notes")]),
    )
    assert [a.id for a in created.apps] == ["notes"]
    assert [a.id for a in client.call("ListApps", service_pb2.ListAppsRequest()).apps] == ["notes"]

    texts = [
        resources_pb2.Input(id=f"t{i}", data=resources_pb2.Data(text=resources_pb2.Text(raw=f"note {i}")))
        for i in range(3)
    ]
    posted = client.call("PostInputs", service_pb2.PostInputsRequest(user_app_id=APP, inputs=texts))
    assert sorted(i.id for i in posted.inputs) == ["t0", "t1", "t2"]

    listed = client.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP, per_page=10))
    assert sorted(i.id for i in listed.inputs) == ["t0", "t1", "t2"]
    walked = client.iter_pages("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP), "inputs", per_page=2)
    assert sorted(i.id for i in walked) == ["t0", "t1", "t2"]

    counts = client.call("GetInputCount", service_pb2.GetInputCountRequest(user_app_id=APP)).counts
    assert counts.processed + counts.to_process + counts.processing == 3

    with pytest.raises(ClarifaiStatusError) as raised:
        client.call("GetInput", service_pb2.GetInputRequest(user_app_id=APP, input_id="missing"))
    assert raised.value.code == 11101
    assert raised.value.http_status == 404
    assert raised.value.req_id


def test_it_works_against_the_local_api_over_http(live_server: Any, make_client: Callable[..., ClarifaiClient]) -> None:
    exercise(make_client(live_server.url))


def test_it_works_against_the_local_api_in_process(make_client: Callable[..., ClarifaiClient]) -> None:
    exercise(make_client("http://local.invalid", transport=LocalAPITransport()))


def test_it_fetches_a_hosted_picture(live_server: Any, make_client: Callable[..., ClarifaiClient]) -> None:
    client = make_client(live_server.url)
    client.call("PostApps", service_pb2.PostAppsRequest(apps=[resources_pb2.App(id="notes")]))
    picture = resources_pb2.Input(id="pic", data=resources_pb2.Data(image=resources_pb2.Image(base64=png())))
    client.call("PostInputs", service_pb2.PostInputsRequest(user_app_id=APP, inputs=[picture]))

    hosted = client.call(
        "GetInput", service_pb2.GetInputRequest(user_app_id=APP, input_id="pic")
    ).input.data.image.hosted
    assert "orig" in hosted.sizes
    media = client.get_bytes(f"{hosted.prefix}/orig/{hosted.suffix}", max_bytes=1_000_000)
    assert media.content_type.startswith("image/")
    assert Image.open(io.BytesIO(media.content)).size == (64, 48)


def test_a_wrong_token_is_an_auth_failure(live_server: Any) -> None:
    with (
        ClarifaiClient(live_server.url, "not-a-real-token", "alice") as client,
        pytest.raises(ClarifaiStatusError) as raised,
    ):
        client.call("ListApps", service_pb2.ListAppsRequest())
    assert raised.value.code_name == "CONN_KEY_INVALID"
    assert raised.value.is_auth_failure
    assert not raised.value.retryable

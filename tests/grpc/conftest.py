"""Fixtures for the local API over gRPC: a real gRPC server in a thread of the test process, beside
pytest-django's live server (the web side, which serves hosted media and export archives), and the
official `clarifai` SDK pointed at it."""

from collections.abc import Iterator
from typing import Any

import pytest
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import service_pb2_grpc

from console.localapi import grpc_server
from console.localapi.models import App, Token, User
from tests.grpc.sdk import stand_in_for_clarifai_protocol

stand_in_for_clarifai_protocol()


def official_stub(grpc_url: str) -> service_pb2_grpc.V2Stub:
    """clarifai-grpc's own gRPC client on the server at `grpc_url`; the stub is built right after its
    channel, which sets how the stubs built next read answers (clarifai-wire.md §1)."""
    host, _, port = grpc_url.removeprefix("http://").rpartition(":")
    channel = ClarifaiChannel.get_insecure_grpc_channel(base=host, port=int(port))
    return service_pb2_grpc.V2Stub(channel)


@pytest.fixture
def grpc_url(live_server: Any) -> Iterator[str]:
    """The base URL of a gRPC server of the local API, its media URLs pointing at the live server."""
    server, port = grpc_server.build("127.0.0.1:0", live_server.url, threads=4)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop(None)


@pytest.fixture
def token(db: None) -> str:
    user, _ = User.objects.get_or_create(id="alice")
    _, secret = Token.issue(user)
    return secret


@pytest.fixture
def main_app(token: str) -> App:
    return App.objects.create(user_id="alice", app_id="main", name="Main app")

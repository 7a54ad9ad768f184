"""Fixtures for the local API: a user with a token, and the official client pointed at a live server; the
labeling team of the task and annotation tests."""

from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2_grpc

from console.localapi.models import App, Token, User


@dataclass
class Caller:
    """The official clarifai-grpc JSON client, signed in as one local API user."""

    stub: service_pb2_grpc.V2Stub
    token: str
    user: User
    base_url: str

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Key {self.token}"),)

    def call(self, rpc: str, request: Any) -> Any:
        return getattr(self.stub, rpc)(request, metadata=self.metadata)

    def app_ids(self, app_id: str) -> resources_pb2.UserAppIDSet:
        return resources_pb2.UserAppIDSet(user_id="me", app_id=app_id)


class MakeCaller(Protocol):
    def __call__(self, user_id: str = "alice", scopes: list[str] | None = None) -> Caller: ...


@pytest.fixture
def make_caller(live_server: Any) -> MakeCaller:
    def make(user_id: str = "alice", scopes: list[str] | None = None) -> Caller:
        user, _ = User.objects.get_or_create(id=user_id)
        _, secret = Token.issue(user, scopes=scopes)
        channel = ClarifaiChannel.get_json_channel(base_url=live_server.url)
        # Build the stub right after its channel (clarifai-wire.md §1).
        stub = service_pb2_grpc.V2Stub(channel)
        return Caller(stub=stub, token=secret, user=user, base_url=live_server.url)

    return make


@pytest.fixture
def alice(make_caller: MakeCaller) -> Caller:
    return make_caller("alice")


@pytest.fixture
def alice_app(alice: Caller) -> App:
    return App.objects.create(user=alice.user, app_id="main", name="Main app")


@dataclass
class Team:
    """The labeling tests' people, each signed in as themselves: the app's owner (alice), three labelers
    and a reviewer."""

    owner: Caller
    bob: Caller
    carol: Caller
    dave: Caller
    rita: Caller


@pytest.fixture
def team(make_caller: MakeCaller) -> Team:
    return Team(*(make_caller(name) for name in ("alice", "bob", "carol", "dave", "rita")))

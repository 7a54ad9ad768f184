"""Keys and collaborators over gRPC: the same checks as over REST, since both go through dispatch.call."""

from typing import Any

from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2 as s
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from console.localapi.models import App, Token, User
from tests.grpc.conftest import official_stub


def test_an_app_key_and_a_collaborator_over_grpc(grpc_url: str, token: str, main_app: App) -> None:
    stub: Any = official_stub(grpc_url)
    alice = (("authorization", f"Key {token}"),)
    made = stub.PostKeys(
        s.PostKeysRequest(keys=[r.Key(scopes=["Inputs:Get"], apps=[r.App(id="main")])]), metadata=alice
    )
    assert made.status.code == codes.SUCCESS, made.status
    key = (("authorization", f"Key {made.keys[0].id}"),)
    assert stub.ListInputs(s.ListInputsRequest(), metadata=key).status.code == codes.SUCCESS
    post = stub.PostInputs(s.PostInputsRequest(inputs=[r.Input(data=r.Data(text=r.Text(raw="x")))]), metadata=key)
    assert post.status.code == codes.CONN_INSUFFICIENT_SCOPES
    listed = stub.ListKeys(s.ListKeysRequest(), metadata=alice)
    assert made.keys[0].id not in str(listed) and made.keys[0].id[:12] in [k.id for k in listed.keys]

    _, bobs = Token.issue(User.objects.create(id="bob"))
    bob = (("authorization", f"Key {bobs}"),)
    alices_main = r.UserAppIDSet(user_id="alice", app_id="main")
    added = stub.PostCollaborators(
        s.PostCollaboratorsRequest(
            user_app_id=alices_main, collaborators=[r.Collaborator(user=r.User(id="bob"), scopes=["Inputs:Get"])]
        ),
        metadata=alice,
    )
    assert added.status.code == codes.SUCCESS, added.status
    assert stub.ListInputs(s.ListInputsRequest(user_app_id=alices_main), metadata=bob).status.code == codes.SUCCESS
    App.objects.create(user_id="alice", app_id="other")
    other = stub.ListInputs(
        s.ListInputsRequest(user_app_id=r.UserAppIDSet(user_id="alice", app_id="other")), metadata=bob
    )
    assert other.status.code == codes.CONN_DOES_NOT_EXIST

"""API keys through the official client: made with a personal access token, their secret shown once and
stored only as its hash; an app-specific key reaches its app alone, the short routes included, within its
scopes and endpoints."""

import json
from datetime import timedelta

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2 as s
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from google.protobuf import timestamp_pb2

from console.localapi import dispatch
from console.localapi.models import App, Collaborator, Token, User, hash_token
from tests.images import png
from tests.localapi.conftest import Caller, MakeCaller
from tests.localapi.test_bad_input import assert_status

ME = r.UserAppIDSet(user_id="me")


def post_key(alice: Caller, **fields: object) -> s.MultiKeyResponse:
    got: s.MultiKeyResponse = alice.call("PostKeys", s.PostKeysRequest(user_app_id=ME, keys=[r.Key(**fields)]))  # type: ignore[arg-type]
    return got


def app_key(alice: Caller, app_id: str = "main", scopes: tuple[str, ...] = ("All",), **fields: object) -> str:
    got = post_key(alice, description="for the app", scopes=list(scopes), apps=[r.App(id=app_id)], **fields)
    assert got.status.code == codes.SUCCESS, got.status
    secret: str = got.keys[0].id
    return secret


def as_key(alice: Caller, secret: str) -> Caller:
    return Caller(stub=alice.stub, token=secret, user=alice.user, base_url=alice.base_url)


def add_input(caller: Caller, input_id: str, app_ids: r.UserAppIDSet | None = None) -> int:
    got = caller.call(
        "PostInputs",
        s.PostInputsRequest(user_app_id=app_ids, inputs=[r.Input(id=input_id, data=r.Data(text=r.Text(raw="hello")))]),
    )
    code: int = got.status.code
    return code


def test_an_app_key_reaches_its_app_through_the_short_routes(alice: Caller, alice_app: App) -> None:
    key = as_key(alice, app_key(alice))
    assert add_input(key, "through-the-key") == codes.SUCCESS  # no user_app_id: POST /v2/inputs
    listed = key.call("ListInputs", s.ListInputsRequest())
    assert listed.status.code == codes.SUCCESS and [i.id for i in listed.inputs] == ["through-the-key"]
    got = key.call("GetInput", s.GetInputRequest(input_id="through-the-key"))
    assert got.input.data.text.raw == "hello"
    # Naming its own app works too.
    named = key.call("ListInputs", s.ListInputsRequest(user_app_id=alice.app_ids("main")))
    assert [i.id for i in named.inputs] == ["through-the-key"]
    # The short routes over plain HTTP, as the wire notes show them.
    raw = httpx.get(f"{alice.base_url}/v2/inputs", headers={"Authorization": f"Key {key.token}"})
    assert raw.status_code == 200 and raw.json()["inputs"][0]["id"] == "through-the-key"


def test_an_app_key_reaches_no_other_app_and_no_user_level_call(alice: Caller, alice_app: App) -> None:
    App.objects.create(user=alice.user, app_id="other")
    key = as_key(alice, app_key(alice))
    other = key.call("ListInputs", s.ListInputsRequest(user_app_id=alice.app_ids("other")))
    assert other.status.code == codes.CONN_INSUFFICIENT_SCOPES, other.status
    assert "main only" in other.status.details
    assert key.call("ListApps", s.ListAppsRequest(user_app_id=ME)).status.code == codes.CONN_INSUFFICIENT_SCOPES
    made = key.call("PostKeys", s.PostKeysRequest(user_app_id=ME, keys=[r.Key(scopes=["All"])]))
    assert made.status.code == codes.CONN_INSUFFICIENT_SCOPES
    # A personal access token with no app still needs one named.
    assert alice.call("ListInputs", s.ListInputsRequest()).status.code == codes.CONN_INVALID_REQUEST


def test_a_key_whose_scopes_or_endpoints_lack_the_call_is_refused(alice: Caller, alice_app: App) -> None:
    reader = as_key(alice, app_key(alice, scopes=("Inputs:Get",)))
    assert reader.call("ListInputs", s.ListInputsRequest()).status.code == codes.SUCCESS
    refused = reader.call("PostInputs", s.PostInputsRequest(inputs=[r.Input(data=r.Data(text=r.Text(raw="x")))]))
    assert refused.status.code == codes.CONN_INSUFFICIENT_SCOPES and "Inputs:Add" in refused.status.details
    lister = as_key(alice, app_key(alice, endpoints=["ListInputs"]))
    assert lister.call("ListInputs", s.ListInputsRequest()).status.code == codes.SUCCESS
    got = lister.call("GetInput", s.GetInputRequest(input_id="x"))
    assert got.status.code == codes.CONN_INSUFFICIENT_SCOPES and "endpoints" in got.status.details


def test_the_secret_is_not_stored_and_never_listed(alice: Caller, alice_app: App) -> None:
    made = post_key(alice, description="ci", scopes=["Inputs:Get"], apps=[r.App(id="main")])
    secret = made.keys[0].id
    key_id = secret[:12]
    assert len(secret) > 12 and made.keys[0].type == "app_specific_key"
    stored = Token.objects.get(key_id=key_id)
    assert stored.key_hash == hash_token(secret)
    row = Token.objects.filter(pk=stored.pk).values().get()
    assert not any(secret in str(value) for value in row.values())
    listed = alice.call("ListKeys", s.ListKeysRequest(user_app_id=ME))
    assert key_id in [k.id for k in listed.keys]
    assert secret not in str(listed) and secret not in str(alice.call("GetKey", s.GetKeyRequest(key_id=key_id)))
    got = alice.call("GetKey", s.GetKeyRequest(user_app_id=ME, key_id=key_id)).key
    assert (got.id, got.description, list(got.scopes)) == (key_id, "ci", ["Inputs:Get"])
    assert [(a.id, a.user_id) for a in got.apps] == [("main", "alice")]
    # The whole secret names it too (it is what a client holds after PostKeys), and is not echoed.
    by_secret = alice.call("GetKey", s.GetKeyRequest(user_app_id=ME, key_id=secret))
    assert by_secret.key.id == key_id
    app_keys = alice.call("ListAppKeys", s.ListAppKeysRequest(user_app_id=alice.app_ids("main")))
    assert [k.id for k in app_keys.keys] == [key_id]


def test_list_filters_patch_and_delete(alice: Caller, alice_app: App) -> None:
    secret = post_key(alice, description="old", scopes=["Inputs:Get"]).keys[0].id
    key_id = secret[:12]
    personal = alice.call("ListKeys", s.ListKeysRequest(user_app_id=ME, type="personal_access_token"))
    assert key_id in [k.id for k in personal.keys]
    with_scope = alice.call("ListKeys", s.ListKeysRequest(user_app_id=ME, scopes=["Concepts:Get"]))
    assert key_id not in [k.id for k in with_scope.keys]  # the fixture's own token (All) is listed
    patched = alice.call(
        "PatchKeys",
        s.PatchKeysRequest(
            user_app_id=ME, action="merge", keys=[r.Key(id=key_id, description="new", scopes=["Concepts:Get"])]
        ),
    )
    assert patched.status.code == codes.SUCCESS, patched.status
    assert patched.keys[0].description == "new" and list(patched.keys[0].scopes) == ["Inputs:Get", "Concepts:Get"]
    key = as_key(alice, secret)
    assert key.call("ListConcepts", s.ListConceptsRequest(user_app_id=alice.app_ids("main"))).status.code == 10000
    assert alice.call("DeleteKey", s.DeleteKeyRequest(user_app_id=ME, key_id=key_id)).status.code == codes.SUCCESS
    gone = key.call("ListConcepts", s.ListConceptsRequest(user_app_id=alice.app_ids("main")))
    assert gone.status.code == codes.CONN_KEY_INVALID
    missing = alice.call("GetKey", s.GetKeyRequest(user_app_id=ME, key_id=key_id))
    assert missing.status.code == codes.CONN_KEY_NOT_FOUND
    again = alice.call("DeleteKey", s.DeleteKeyRequest(user_app_id=ME, key_id=key_id))
    assert again.status.code == codes.CONN_KEY_NOT_FOUND


def test_an_expired_key_is_refused(alice: Caller, alice_app: App) -> None:
    soon = timestamp_pb2.Timestamp()
    soon.FromDatetime(timezone.now() + timedelta(hours=1))
    secret = app_key(alice, expires_at=soon)
    key = as_key(alice, secret)
    assert key.call("ListInputs", s.ListInputsRequest()).status.code == codes.SUCCESS
    Token.objects.filter(key_id=secret[:12]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert key.call("ListInputs", s.ListInputsRequest()).status.code == codes.CONN_KEY_INVALID
    past = timestamp_pb2.Timestamp()
    past.FromDatetime(timezone.now() - timedelta(hours=1))
    assert post_key(alice, scopes=["All"], expires_at=past).status.code == codes.CONN_INVALID_REQUEST


def test_bad_keys_are_refused_with_the_real_codes(make_caller: MakeCaller, alice: Caller, alice_app: App) -> None:
    bob = make_caller("bob")
    App.objects.create(user=bob.user, app_id="bobs")
    not_owned = post_key(alice, scopes=["All"], apps=[r.App(id="bobs", user_id="bob")])
    assert not_owned.status.code == codes.CONN_INSUFFICIENT_SCOPES, not_owned.status
    no_app = post_key(alice, scopes=["All"], apps=[r.App(id="nope")])
    assert no_app.status.code == codes.CONN_DOES_NOT_EXIST
    assert post_key(alice, scopes=["Inputs:Fly"]).status.code == codes.CONN_INVALID_REQUEST
    assert post_key(alice, scopes=[]).status.code == codes.CONN_INVALID_REQUEST
    assert post_key(alice, scopes=["All"], endpoints=["Fly"]).status.code == codes.CONN_INVALID_REQUEST
    two = post_key(alice, scopes=["All"], apps=[r.App(id="main"), r.App(id="main")])
    assert two.status.code == codes.CONN_INVALID_REQUEST
    assert Token.objects.filter(user=alice.user).count() == 1  # only the fixture's
    # Keys of another user are not there for alice.
    bobs_key = post_key(bob, scopes=["All"]).keys[0].id[:12]
    got = alice.call("GetKey", s.GetKeyRequest(user_app_id=ME, key_id=bobs_key))
    assert got.status.code == codes.CONN_KEY_NOT_FOUND
    deleted = alice.call("DeleteKey", s.DeleteKeyRequest(user_app_id=ME, key_id=bobs_key))
    assert deleted.status.code == codes.CONN_KEY_NOT_FOUND and Token.objects.filter(key_id=bobs_key).exists()
    other_user = alice.call("ListKeys", s.ListKeysRequest(user_app_id=r.UserAppIDSet(user_id="bob")))
    assert other_user.status.code == codes.CONN_INSUFFICIENT_SCOPES


def test_a_token_gives_no_scope_it_lacks(make_caller: MakeCaller, alice_app: App) -> None:
    limited = make_caller("alice", scopes=["Keys:Add", "Keys:Get", "Keys:Patch", "Inputs:Get"])
    assert post_key(limited, scopes=["Inputs:Get"]).status.code == codes.SUCCESS
    beyond = post_key(limited, scopes=["All"])
    assert beyond.status.code == codes.CONN_INSUFFICIENT_SCOPES and "All" in beyond.status.details
    key_id = post_key(limited, scopes=["Inputs:Get"]).keys[0].id[:12]
    widened = limited.call(
        "PatchKeys", s.PatchKeysRequest(user_app_id=ME, action="merge", keys=[r.Key(id=key_id, scopes=["Inputs:Add"])])
    )
    assert widened.status.code == codes.CONN_INSUFFICIENT_SCOPES
    no_delete = limited.call("DeleteKey", s.DeleteKeyRequest(user_app_id=ME, key_id=key_id))
    assert no_delete.status.code == codes.CONN_INSUFFICIENT_SCOPES


def test_hosted_pictures_follow_the_keys_app(alice: Caller, alice_app: App) -> None:
    App.objects.create(user=alice.user, app_id="other")
    other_key = as_key(alice, app_key(alice, app_id="other"))
    main_key = as_key(alice, app_key(alice))
    alice.call(
        "PostInputs",
        s.PostInputsRequest(
            user_app_id=alice.app_ids("main"),
            inputs=[r.Input(id="pic", data=r.Data(image=r.Image(base64=png())))],
        ),
    )
    got = main_key.call("GetInput", s.GetInputRequest(input_id="pic"))
    assert got.input.status.code == codes.INPUT_DOWNLOAD_SUCCESS, got.input.status
    path = f"/v2/hosted/tiny/{got.input.data.image.hosted.suffix}"
    ok = httpx.get(f"{alice.base_url}{path}", headers={"Authorization": f"Key {main_key.token}"})
    assert ok.status_code == 200 and ok.content[:2] == b"\xff\xd8"
    refused = httpx.get(f"{alice.base_url}{path}", headers={"Authorization": f"Key {other_key.token}"})
    assert_status(refused, 404, codes.CONN_DOES_NOT_EXIST)


@pytest.mark.parametrize("rpc", ["ListKeys", "PostKeys"])
def test_keys_need_their_scopes(make_caller: MakeCaller, rpc: str) -> None:
    reader = make_caller("alice", scopes=["Inputs:Get"])
    request = s.ListKeysRequest(user_app_id=ME) if rpc == "ListKeys" else s.PostKeysRequest(user_app_id=ME)
    got = reader.call(rpc, request)
    assert got.status.code == codes.CONN_INSUFFICIENT_SCOPES and "Keys:" in got.status.details


def queries_of(secret: str, path: str) -> tuple[int, list[str]]:
    """The status code and the SQL of one GET through the dispatcher, in this process."""
    with CaptureQueriesContext(connection) as queries:
        reply = dispatch.handle("GET", path, [], f"Key {secret}", b"", "http://testserver")
    return json.loads(reply.body)["status"]["code"], [q["sql"] for q in queries]


@pytest.mark.django_db
def test_checking_keys_and_collaborators_costs_no_query_on_the_owners_app() -> None:
    """A personal token on its owner's app: one query for the token, one for the app, as before keys and
    collaborators; an app key finds its app with the token; a collaborator pays one query for the app."""
    alice, bob = User.objects.create(id="alice"), User.objects.create(id="bob")
    app = App.objects.create(user=alice, app_id="main")
    pat = Token.issue(alice)[1]
    key = Token.issue(alice, app=app)[1]
    code, owner = queries_of(pat, "/v2/users/me/apps/main")
    assert code == codes.SUCCESS and len(owner) == 2, owner
    code, keyed = queries_of(key, "/v2/users/me/apps/main")
    assert code == codes.SUCCESS and len(keyed) == 1, keyed
    Collaborator.objects.create(app=app, user=bob, collaborator_id="c", scopes=["Apps:Get"])
    code, collaborator = queries_of(Token.issue(bob)[1], "/v2/users/alice/apps/main")
    assert code == codes.SUCCESS and len(collaborator) == 2, collaborator

"""Collaborators through the official client: alice adds bob to one app; bob reaches it with his own
token within his scopes, and none of alice's other apps; only alice manages the collaborators."""

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2 as s
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from console.localapi.models import App, Collaborator, User
from tests.images import png
from tests.localapi.conftest import Caller, MakeCaller
from tests.localapi.test_bad_input import assert_status

ALICES_MAIN = r.UserAppIDSet(user_id="alice", app_id="main")
ALICES_OTHER = r.UserAppIDSet(user_id="alice", app_id="other")


@pytest.fixture
def bob(make_caller: MakeCaller) -> Caller:
    return make_caller("bob")


def add(alice: Caller, *collaborators: r.Collaborator) -> s.MultiCollaboratorsResponse:
    got: s.MultiCollaboratorsResponse = alice.call(
        "PostCollaborators",
        s.PostCollaboratorsRequest(user_app_id=alice.app_ids("main"), collaborators=list(collaborators)),
    )
    return got


def reader(user_id: str = "bob", **fields: object) -> r.Collaborator:
    return r.Collaborator(user=r.User(id=user_id), scopes=["Inputs:Get", "Apps:Get"], **fields)  # type: ignore[arg-type]


def put_text(caller: Caller, app_ids: r.UserAppIDSet, input_id: str) -> int:
    got = caller.call(
        "PostInputs",
        s.PostInputsRequest(user_app_id=app_ids, inputs=[r.Input(id=input_id, data=r.Data(text=r.Text(raw="hi")))]),
    )
    code: int = got.status.code
    return code


def test_a_collaborator_reads_the_app_within_the_scopes_and_nothing_else(
    alice: Caller, alice_app: App, bob: Caller
) -> None:
    App.objects.create(user=alice.user, app_id="other")
    assert put_text(alice, alice.app_ids("main"), "in-main") == codes.SUCCESS
    assert put_text(alice, alice.app_ids("other"), "in-other") == codes.SUCCESS
    before = bob.call("ListInputs", s.ListInputsRequest(user_app_id=ALICES_MAIN))
    assert before.status.code == codes.CONN_DOES_NOT_EXIST

    added = add(alice, reader(id="bob-reads"))
    assert added.status.code == codes.SUCCESS, added.status
    assert [(c.id, c.user.id, list(c.scopes)) for c in added.collaborators] == [
        ("bob-reads", "bob", ["Inputs:Get", "Apps:Get"])
    ]
    listed = bob.call("ListInputs", s.ListInputsRequest(user_app_id=ALICES_MAIN))
    assert listed.status.code == codes.SUCCESS and [i.id for i in listed.inputs] == ["in-main"]
    assert bob.call("GetApp", s.GetAppRequest(user_app_id=ALICES_MAIN)).app.id == "main"
    # Writing needs a scope he was not given; alice's other app stays out of reach.
    assert put_text(bob, ALICES_MAIN, "from-bob") == codes.CONN_INSUFFICIENT_SCOPES
    other = bob.call("ListInputs", s.ListInputsRequest(user_app_id=ALICES_OTHER))
    assert other.status.code == codes.CONN_DOES_NOT_EXIST, other.status
    # The owner's things stay the owner's, whatever the scopes.
    deleting = bob.call("DeleteApp", s.DeleteAppRequest(user_app_id=ALICES_MAIN))
    assert deleting.status.code == codes.CONN_INSUFFICIENT_SCOPES
    assert App.objects.filter(app_id="main", deleted=False).exists()
    theirs = bob.call("ListCollaborators", s.ListCollaboratorsRequest(user_app_id=ALICES_MAIN))
    assert theirs.status.code == codes.CONN_INSUFFICIENT_SCOPES
    assert bob.call("ListApps", s.ListAppsRequest(user_app_id=r.UserAppIDSet(user_id="alice"))).status.code == (
        codes.CONN_INSUFFICIENT_SCOPES
    )


def test_the_collaborators_token_scopes_still_apply(alice: Caller, alice_app: App, make_caller: MakeCaller) -> None:
    carol = make_caller("carol", scopes=["Concepts:Get"])
    assert add(alice, r.Collaborator(user=r.User(id="carol"), scopes=["All"])).status.code == codes.SUCCESS
    refused = carol.call("ListInputs", s.ListInputsRequest(user_app_id=ALICES_MAIN))
    assert refused.status.code == codes.CONN_INSUFFICIENT_SCOPES
    got = carol.call("ListConcepts", s.ListConceptsRequest(user_app_id=ALICES_MAIN))
    assert got.status.code == codes.SUCCESS


def test_writes_and_endpoints_follow_patches(alice: Caller, alice_app: App, bob: Caller) -> None:
    add(alice, reader())
    patched = alice.call(
        "PatchCollaborators",
        s.PatchCollaboratorsRequest(
            user_app_id=alice.app_ids("main"),
            action="merge",
            collaborators=[r.Collaborator(user=r.User(id="bob"), scopes=["Inputs:Add"])],
        ),
    )
    assert patched.status.code == codes.SUCCESS, patched.status
    assert list(patched.collaborators[0].scopes) == ["Inputs:Get", "Apps:Get", "Inputs:Add"]
    assert put_text(bob, ALICES_MAIN, "from-bob") == codes.SUCCESS
    only_list = alice.call(
        "PatchCollaborators",
        s.PatchCollaboratorsRequest(
            user_app_id=alice.app_ids("main"),
            collaborators=[r.Collaborator(user=r.User(id="bob"), endpoints=["ListInputs"])],
        ),
    )
    assert list(only_list.collaborators[0].endpoints) == ["ListInputs"]
    assert bob.call("ListInputs", s.ListInputsRequest(user_app_id=ALICES_MAIN)).status.code == codes.SUCCESS
    got = bob.call("GetInput", s.GetInputRequest(user_app_id=ALICES_MAIN, input_id="from-bob"))
    assert got.status.code == codes.CONN_INSUFFICIENT_SCOPES


def test_list_collaborations_and_delete(alice: Caller, alice_app: App, bob: Caller) -> None:
    User.objects.filter(id="bob").update(email="Bob@Example.com")
    add(alice, reader(id="c1"))
    mine = bob.call("ListCollaborations", s.ListCollaborationsRequest(user_app_id=r.UserAppIDSet(user_id="me")))
    assert [(c.app.id, c.app_owner.id, list(c.scopes)) for c in mine.collaborations] == [
        ("main", "alice", ["Inputs:Get", "Apps:Get"])
    ]
    listed = alice.call("ListCollaborators", s.ListCollaboratorsRequest(user_app_id=alice.app_ids("main")))
    assert [c.id for c in listed.collaborators] == ["c1"] and listed.app_owner.id == "alice"
    gone = alice.call(
        "DeleteCollaborators",
        s.DeleteCollaboratorsRequest(user_app_id=alice.app_ids("main"), user_emails=["bob@example.com"]),
    )
    assert gone.status.code == codes.SUCCESS, gone.status
    assert not Collaborator.objects.exists()
    assert bob.call("ListInputs", s.ListInputsRequest(user_app_id=ALICES_MAIN)).status.code == codes.CONN_DOES_NOT_EXIST
    # Added again by email, removed by id.
    by_email = r.Collaborator(user=r.User(user_detail=r.UserDetail(primary_email="bob@example.com")), scopes=["All"])
    assert add(alice, by_email).status.code == codes.SUCCESS
    cid = Collaborator.objects.get().collaborator_id
    by_id = alice.call(
        "DeleteCollaborators", s.DeleteCollaboratorsRequest(user_app_id=alice.app_ids("main"), collaborator_ids=[cid])
    )
    assert by_id.status.code == codes.SUCCESS and not Collaborator.objects.exists()


def test_bad_collaborators_are_refused_with_the_real_codes(alice: Caller, alice_app: App, bob: Caller) -> None:
    unknown = add(alice, reader("nobody"))
    assert unknown.status.code == codes.CONN_DOES_NOT_EXIST and "nobody" in unknown.status.details
    assert add(alice, reader()).status.code == codes.SUCCESS
    duplicate = add(alice, reader())
    assert duplicate.status.code == codes.DATABASE_DUPLICATE_KEY, duplicate.status
    User.objects.create(id="carol")
    twice = add(alice, reader("carol"), reader("carol"))
    assert twice.status.code == codes.DATABASE_DUPLICATE_KEY
    assert add(alice, reader("alice")).status.code == codes.CONN_INVALID_REQUEST  # the owner herself
    no_scopes = add(alice, r.Collaborator(user=r.User(id="carol")))
    assert no_scopes.status.code == codes.CONN_INVALID_REQUEST
    owner_only = add(alice, r.Collaborator(user=r.User(id="carol"), scopes=["Apps:Delete"]))
    assert owner_only.status.code == codes.CONN_INVALID_REQUEST
    assert add(alice, r.Collaborator(user=r.User(id="carol"), scopes=["Fly"])).status.code == codes.CONN_INVALID_REQUEST
    assert Collaborator.objects.count() == 1
    # Bob cannot add himself anything on alice's app, nor on an app that is not there.
    bob_adds = bob.call(
        "PostCollaborators", s.PostCollaboratorsRequest(user_app_id=ALICES_MAIN, collaborators=[reader("carol")])
    )
    assert bob_adds.status.code == codes.CONN_INSUFFICIENT_SCOPES
    nowhere = alice.call(
        "PostCollaborators",
        s.PostCollaboratorsRequest(user_app_id=alice.app_ids("nope"), collaborators=[reader("carol")]),
    )
    assert nowhere.status.code == codes.CONN_DOES_NOT_EXIST
    missing = alice.call(
        "DeleteCollaborators", s.DeleteCollaboratorsRequest(user_app_id=alice.app_ids("main"), collaborator_ids=["zz"])
    )
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST and Collaborator.objects.count() == 1


def test_a_collaborator_sees_the_hosted_pictures(
    alice: Caller, alice_app: App, bob: Caller, make_caller: MakeCaller
) -> None:
    alice.call(
        "PostInputs",
        s.PostInputsRequest(
            user_app_id=alice.app_ids("main"), inputs=[r.Input(id="pic", data=r.Data(image=r.Image(base64=png())))]
        ),
    )
    add(alice, reader())
    got = bob.call("GetInput", s.GetInputRequest(user_app_id=ALICES_MAIN, input_id="pic"))
    assert got.input.status.code == codes.INPUT_DOWNLOAD_SUCCESS, got.input.status
    url = f"{bob.base_url}/v2/hosted/tiny/{got.input.data.image.hosted.suffix}"
    seen = httpx.get(url, headers={"Authorization": f"Key {bob.token}"})
    assert seen.status_code == 200 and seen.content[:2] == b"\xff\xd8"
    carol = make_caller("carol")
    assert_status(httpx.get(url, headers={"Authorization": f"Key {carol.token}"}), 404, codes.CONN_DOES_NOT_EXIST)

"""Hosted pictures over HTTP: served to a live token of the app's owner that may read inputs, and to no one
else, each refusal with the status that says why (the picture is found in one query; a miss goes the long
way to tell which)."""

import datetime

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.utils import timezone

from console.localapi.models import App, Input, Token
from tests.images import png
from tests.localapi.conftest import Caller, MakeCaller
from tests.localapi.test_bad_input import assert_status, raw


@pytest.fixture
def picture(alice: Caller, alice_app: App) -> str:
    """The path of the tiny thumbnail of a processed picture of alice's app."""
    alice.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=alice.app_ids("main"),
            inputs=[resources_pb2.Input(id="pic", data=resources_pb2.Data(image=resources_pb2.Image(base64=png())))],
        ),
    )
    got = alice.call("GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="pic"))
    assert got.input.status.code == codes.INPUT_DOWNLOAD_SUCCESS, got.input.status
    return f"/v2/hosted/tiny/{got.input.data.image.hosted.suffix}"


def test_the_owner_gets_the_picture_and_head_gets_its_headers(alice: Caller, picture: str) -> None:
    got = raw(alice, "GET", picture)
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert got.content[:2] == b"\xff\xd8" and got.headers["content-length"] == str(len(got.content))
    head = raw(alice, "HEAD", picture)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(got.content))


def test_no_token_a_wrong_one_or_an_expired_one_is_refused_as_unauthenticated(alice: Caller, picture: str) -> None:
    assert_status(raw(alice, "GET", picture, headers={"Authorization": ""}), 401, codes.CONN_KEY_INVALID)
    assert_status(raw(alice, "GET", picture, headers={"Authorization": "Key nope"}), 401, codes.CONN_KEY_INVALID)
    assert_status(raw(alice, "GET", picture, headers={"Authorization": "Bearer x"}), 401, codes.CONN_KEY_INVALID)
    Token.objects.filter(user=alice.user).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert_status(raw(alice, "GET", picture), 401, codes.CONN_KEY_INVALID, "expired")


def test_another_users_token_finds_nothing(make_caller: MakeCaller, picture: str) -> None:
    bob = make_caller("bob")
    assert_status(raw(bob, "GET", picture), 404, codes.CONN_DOES_NOT_EXIST, "no hosted picture")


def test_a_token_without_inputs_get_is_refused(make_caller: MakeCaller, alice: Caller, picture: str) -> None:
    limited = make_caller("alice", scopes=["Concepts:Get"])
    assert_status(raw(limited, "GET", picture), 403, codes.CONN_INSUFFICIENT_SCOPES, "Inputs:Get")


def test_an_unknown_size_a_deleted_app_or_an_unprocessed_input_is_not_found(
    alice: Caller, alice_app: App, picture: str
) -> None:
    assert_status(raw(alice, "GET", picture.replace("/tiny/", "/huge/")), 404, codes.CONN_DOES_NOT_EXIST)
    Input.objects.filter(input_id="pic").update(status_code=codes.INPUT_DOWNLOAD_PENDING)
    assert_status(raw(alice, "GET", picture), 404, codes.CONN_DOES_NOT_EXIST)
    Input.objects.filter(input_id="pic").update(status_code=codes.INPUT_DOWNLOAD_SUCCESS)
    assert raw(alice, "GET", picture).status_code == 200
    App.objects.filter(pk=alice_app.pk).update(deleted=True)
    assert_status(raw(alice, "GET", picture), 404, codes.CONN_DOES_NOT_EXIST)

"""Every input ends: whatever goes wrong while processing it, it becomes 30002 with a reason.

URLs the fetcher cannot read are refused when posted; rows written before that check (or any other
failure in the task) still end as failed, with the task run for real.
"""

import logging

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.test import override_settings

from console.localapi import tasks
from console.localapi.models import App, Input
from tests.localapi.conftest import Caller


def post_url(alice: Caller, url: str) -> service_pb2.MultiInputResponse:
    item = resources_pb2.Input(id="u", data=resources_pb2.Data(image=resources_pb2.Image(url=url)))
    request = service_pb2.PostInputsRequest(user_app_id=alice.app_ids("main"), inputs=[item])
    response: service_pb2.MultiInputResponse = alice.call("PostInputs", request)
    return response


@pytest.mark.parametrize(
    ("url", "details"),
    [
        ("http://127.000.000.001/a", "not a URL that can be fetched: Invalid IPv4 address"),
        ("http://①②⑦.0.0.1/", "not a URL that can be fetched: Invalid IDNA hostname"),
        ("http://８.８.８.８/a.png", "not a URL that can be fetched"),
    ],
)
@pytest.mark.parametrize("allow_private", [False, True])
def test_a_url_the_fetcher_cannot_read_is_refused_when_posted(
    alice: Caller, alice_app: App, url: str, details: str, allow_private: bool
) -> None:
    with override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=allow_private):
        response = post_url(alice, url)
    assert response.inputs[0].status.code == codes.INPUT_INVALID_URL
    assert details in response.inputs[0].status.details
    assert not Input.objects.exists()


@pytest.mark.parametrize(
    "url", ["http://2130706433/a.png", "http://0x7f.1/a.png", "http://127.1/a.png", "http://localhost./a.png"]
)
def test_a_private_address_in_another_numeric_form_is_refused_when_posted(
    alice: Caller, alice_app: App, url: str
) -> None:
    response = post_url(alice, url)
    assert response.inputs[0].status.code == codes.INPUT_INVALID_URL
    assert "is a private address" in response.inputs[0].status.details
    assert not Input.objects.exists()


@pytest.mark.parametrize("url", ["http://127.000.000.001/a", "http://①②⑦.0.0.1/"])
def test_a_stored_input_whose_url_the_fetcher_cannot_read_ends_as_failed(alice_app: App, url: str) -> None:
    """A row posted before the check existed."""
    item = Input.objects.create(app=alice_app, input_id="old", kind=Input.IMAGE, source_url=url, media_key="k" * 32)
    tasks.process_input(item.pk)
    item.refresh_from_db()
    assert item.status_code == codes.INPUT_DOWNLOAD_FAILED
    assert "not a URL that can be fetched" in item.status_details


def test_any_failure_while_processing_ends_the_input_as_failed_and_logs_it(
    alice_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Here the uploaded bytes are gone from storage before the worker reads them."""
    item = Input.objects.create(app=alice_app, input_id="lost", kind=Input.IMAGE, media_key="f" * 32)
    with caplog.at_level(logging.ERROR, logger="console.localapi.tasks"):
        tasks.process_input(item.pk)
    item.refresh_from_db()
    assert item.status_code == codes.INPUT_DOWNLOAD_FAILED
    assert "processing failed (FileNotFoundError)" in item.status_details
    assert "Traceback" in caplog.text
    assert f"input {item.pk} could not be processed" in caplog.text

"""Request bodies: a picture up to LOCALAPI_MAX_IMAGE_BYTES can be posted as base64 over real HTTP, and
a body over LOCALAPI_MAX_REQUEST_BYTES is refused with a Clarifai status, not Django's HTML page."""

import base64
import io
import os

import httpx
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.conf import settings
from django.test import override_settings
from PIL import Image

from console.localapi.models import App, Input
from console.localapi.transport import LocalAPITransport
from tests.localapi.conftest import Caller
from tests.localapi.test_bad_input import INPUTS, assert_status, raw


def noisy_png(side: int) -> bytes:
    """Noise does not compress: a PNG about side * side * 3 bytes."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_4_mb_picture_is_posted_as_base64(alice: Caller, alice_app: App) -> None:
    picture = noisy_png(1200)
    assert 4_000_000 < len(picture) < settings.LOCALAPI_MAX_IMAGE_BYTES
    body = {"inputs": [{"id": "big", "data": {"image": {"base64": base64.b64encode(picture).decode()}}}]}
    response = raw(alice, "POST", INPUTS, json=body, timeout=60)
    assert_status(response, 200, codes.SUCCESS)
    stored = Input.objects.get(input_id="big")
    assert stored.status_code == codes.INPUT_DOWNLOAD_SUCCESS
    assert (stored.width, stored.height) == (1200, 1200)


def test_the_default_limit_holds_a_largest_picture_in_base64() -> None:
    encoded = len(base64.b64encode(b"\0" * settings.LOCALAPI_MAX_IMAGE_BYTES))
    assert encoded + 1024 * 1024 <= settings.LOCALAPI_MAX_REQUEST_BYTES


@override_settings(LOCALAPI_MAX_REQUEST_BYTES=100_000)
def test_a_body_over_the_limit_is_refused_with_a_clarifai_status(alice: Caller, alice_app: App) -> None:
    body = {"inputs": [{"id": "x", "data": {"text": {"raw": "a" * 100_000}}}]}
    response = raw(alice, "POST", INPUTS, json=body)
    assert_status(response, 413, codes.RPC_MAX_MESSAGE_SIZE_EXCEEDED, "over the limit of 100,000 bytes")
    assert response.headers["X-Clarifai-Request-ID"] == response.json()["status"]["req_id"]
    assert not Input.objects.exists()
    # The same server goes on answering.
    small = {"inputs": [{"id": "y", "data": {"text": {"raw": "a"}}}]}
    assert_status(raw(alice, "POST", INPUTS, json=small), 200, codes.SUCCESS)


@override_settings(LOCALAPI_MAX_REQUEST_BYTES=100_000)
def test_a_body_far_over_the_limit_gets_the_status_too(alice: Caller, alice_app: App) -> None:
    body = b'{"inputs": [{"data": {"text": {"raw": "' + b"a" * 5_000_000 + b'"}}}]}'
    response = raw(alice, "POST", INPUTS, content=body, headers={"Content-Type": "application/json"})
    assert_status(response, 413, codes.RPC_MAX_MESSAGE_SIZE_EXCEEDED, "LOCALAPI_MAX_REQUEST_BYTES")


@override_settings(LOCALAPI_MAX_REQUEST_BYTES=100_000)
def test_the_console_in_process_gets_the_same_limit(alice: Caller, alice_app: App) -> None:
    with httpx.Client(transport=LocalAPITransport(), base_url="http://local") as client:
        body = {"inputs": [{"id": "x", "data": {"text": {"raw": "a" * 100_000}}}]}
        response = client.post(INPUTS, json=body, headers={"Authorization": f"Key {alice.token}"})
    assert_status(response, 413, codes.RPC_MAX_MESSAGE_SIZE_EXCEEDED, "over the limit of 100,000 bytes")
    assert not Input.objects.exists()

"""Inputs are processed in batches: a request's inputs make a few tasks, not one per input, on the same
worker tasks (whatever the broker); a batch goes on past an input that fails, and what a dead worker
left is queued again in batches."""

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.conf import settings

from console.celery import app as celery_app
from console.localapi import dispatch, tasks
from console.localapi.models import App, Input, Token, User
from tests.images import png
from tests.localapi import test_worker
from tests.localapi.test_worker import wait_for

# The real worker of test_worker.py, on a broker of the test's own.
broker = test_worker.broker
start_worker = test_worker.start_worker

ORIGIN = "http://testserver"


def post(token: str, inputs: list[dict[str, Any]]) -> None:
    body = json.dumps({"inputs": inputs}).encode()
    reply = dispatch.handle("POST", "/v2/users/me/apps/main/inputs", [], f"Key {token}", body, ORIGIN)
    assert json.loads(reply.body)["status"]["code"] == codes.SUCCESS, reply.body


def picture(n: int) -> dict[str, Any]:
    return {"id": f"p{n}", "data": {"image": {"base64": base64.b64encode(png(40 + n, 30)).decode()}}}


def queued_messages() -> list[dict[str, Any]]:
    folder = Path(celery_app.conf.broker_transport_options["data_folder_in"])
    return [json.loads(f.read_bytes()) for f in sorted(folder.glob("*.msg"))]


@pytest.fixture
def owner() -> str:
    user = User.objects.create(id="owner")
    App.objects.create(user=user, app_id="main")
    return Token.issue(user)[1]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_request_of_many_inputs_queues_a_few_batches_that_a_worker_processes(
    owner: str, start_worker: Callable[..., object]
) -> None:
    post(owner, [picture(n) for n in range(70)])

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):  # on Redis, the same tasks are just processed
        messages = queued_messages()
        assert len(messages) == 3  # 32 + 32 + 6
        assert {m["headers"]["task"] for m in messages} == {"console.localapi.tasks.process_inputs"}

    start_worker()
    wait_for(lambda: Input.objects.filter(status_code=codes.INPUT_DOWNLOAD_SUCCESS).count() == 70)
    assert sorted(width or 0 for width in Input.objects.values_list("width", flat=True)) == list(range(40, 110))


@pytest.mark.django_db
def test_a_batch_goes_on_past_an_input_that_fails(owner: str) -> None:
    app = App.objects.get(app_id="main")
    lost = Input.objects.create(app=app, input_id="lost", kind=Input.IMAGE, media_key="f" * 32)  # no upload
    text = Input.objects.create(app=app, input_id="note", kind=Input.TEXT, text="hello")

    tasks.process_inputs([lost.pk, 999_999, text.pk])

    lost.refresh_from_db()
    text.refresh_from_db()
    assert lost.status_code == codes.INPUT_DOWNLOAD_FAILED
    assert text.status_code == codes.INPUT_DOWNLOAD_SUCCESS


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_unfinished_inputs_are_queued_again_in_batches(owner: str, broker: dict[str, str]) -> None:
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("counts the embedded broker's message files")
    app = App.objects.get(app_id="main")
    Input.objects.bulk_create([Input(app=app, input_id=f"t{n}", kind=Input.TEXT, text="x") for n in range(40)])

    assert tasks.resume_unfinished_work(0) == 40

    messages = queued_messages()
    assert len(messages) == 2
    assert sorted(len(m_args(m)) for m in messages) == [8, 32]


def m_args(message: dict[str, Any]) -> list[int]:
    args, _, _ = json.loads(base64.b64decode(message["body"]))
    pks: list[int] = args[0]
    return pks

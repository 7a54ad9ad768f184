"""A real Celery worker process, on the embedded (filesystem) broker, processes what the API queues.

These tests turn eager mode off: the live server queues messages into a broker folder of the test's
own, and `celery worker` runs as a separate process on the test database.
"""

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import kombu.pools
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from console.celery import app as celery_app
from console.localapi.models import App, Input
from tests.images import jpeg, png
from tests.localapi.conftest import Caller
from tests.servers import QuietHandler, serving
from tests.workers import worker_processes

pytestmark = pytest.mark.worker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh broker for this test, and eager mode off while it runs."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        queue, control = tmp_path / "broker" / "queue", tmp_path / "broker" / "control"
        for folder in (queue, control):
            folder.mkdir(parents=True, exist_ok=True)
        options = {
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(control),
        }
        env = {"CONSOLE_VAR_DIR": str(tmp_path)}  # the worker derives the same folders from it
    else:
        options = dict(celery_app.conf.broker_transport_options or {})
        env = {}
    saved = (celery_app.conf.task_always_eager, celery_app.conf.broker_transport_options)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_transport_options = options
    _drop_connections()
    yield env
    _drop_connections()
    celery_app.conf.task_always_eager, celery_app.conf.broker_transport_options = saved


def _drop_connections() -> None:
    """Forget pooled broker connections, so the next message goes to the broker configured now."""
    kombu.pools.reset()
    # what Celery itself does to start afresh in a forked child; private, so celery-types leaves it out
    celery_app._after_fork()  # type: ignore[attr-defined]


@pytest.fixture
def start_worker(broker: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    with worker_processes(tmp_path, **broker, LOCALAPI_ALLOW_PRIVATE_URLS="1") as start:
        yield start


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


@override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=True)
def test_a_worker_process_processes_posted_inputs(
    alice: Caller, alice_app: App, start_worker: Callable[..., object]
) -> None:
    response = alice.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=alice.app_ids("main"),
            inputs=[
                resources_pb2.Input(id="img", data=resources_pb2.Data(image=resources_pb2.Image(base64=png(90, 60)))),
                resources_pb2.Input(id="txt", data=resources_pb2.Data(text=resources_pb2.Text(raw="hello"))),
            ],
        ),
    )
    assert [i.status.code for i in response.inputs] == [codes.INPUT_DOWNLOAD_PENDING] * 2
    # Nothing processes them before a worker runs.
    time.sleep(0.5)
    assert set(Input.objects.values_list("status_code", flat=True)) == {codes.INPUT_DOWNLOAD_PENDING}

    start_worker()
    wait_for(lambda: set(Input.objects.values_list("status_code", flat=True)) == {codes.INPUT_DOWNLOAD_SUCCESS})
    item = alice.call("GetInput", service_pb2.GetInputRequest(user_app_id=alice.app_ids("main"), input_id="img")).input
    assert (item.data.image.image_info.width, item.data.image.image_info.height) == (90, 60)


class _Gate:
    """A picture server's gate: every request waits until it is opened, and is counted."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.requests = 0

    def handler(self) -> type[QuietHandler]:
        gate = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                gate.requests += 1
                gate.opened.wait(timeout=60)
                body = jpeg(50, 40)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=True)
def test_an_input_whose_worker_died_half_way_is_finished_by_the_next_worker(
    alice: Caller, alice_app: App, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    gate = _Gate()
    with serving(gate.handler()) as server:
        url = f"{server}/pic.jpg"
        alice.call(
            "PostInputs",
            service_pb2.PostInputsRequest(
                user_app_id=alice.app_ids("main"),
                inputs=[resources_pb2.Input(id="slow", data=resources_pb2.Data(image=resources_pb2.Image(url=url)))],
            ),
        )
        first = start_worker()
        wait_for(lambda: gate.requests == 1)  # the download has begun
        assert Input.objects.get(input_id="slow").status_code == codes.INPUT_DOWNLOAD_IN_PROGRESS
        first.send_signal(signal.SIGKILL)  # dies in the middle of the download
        first.wait(timeout=30)
        assert Input.objects.get(input_id="slow").status_code == codes.INPUT_DOWNLOAD_IN_PROGRESS

        gate.opened.set()
        start_worker(LOCALAPI_REQUEUE_AFTER="0")
        wait_for(lambda: Input.objects.get(input_id="slow").status_code == codes.INPUT_DOWNLOAD_SUCCESS)
        assert gate.requests == 2


@override_settings(LOCALAPI_ALLOW_PRIVATE_URLS=True)
def test_a_worker_restarted_promptly_after_a_crash_finishes_the_dead_ones_input(
    alice: Caller, alice_app: App, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    """The new worker's first look finds the input in progress for less than LOCALAPI_REQUEUE_AFTER and
    leaves it; a later look, while the same worker runs, queues it again."""
    gate = _Gate()
    with serving(gate.handler()) as server:
        alice.call(
            "PostInputs",
            service_pb2.PostInputsRequest(
                user_app_id=alice.app_ids("main"),
                inputs=[
                    resources_pb2.Input(
                        id="slow", data=resources_pb2.Data(image=resources_pb2.Image(url=f"{server}/pic.jpg"))
                    )
                ],
            ),
        )
        timing = {"LOCALAPI_REQUEUE_AFTER": "10", "LOCALAPI_REQUEUE_EVERY": "1"}
        first = start_worker(**timing)
        wait_for(lambda: gate.requests == 1)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        gate.opened.set()
        Input.objects.filter(input_id="slow").update(modified_at=timezone.now())  # it crashed just now

        start_worker(**timing)
        wait_for(lambda: Input.objects.get(input_id="slow").status_code == codes.INPUT_DOWNLOAD_SUCCESS, timeout=90)
        assert gate.requests == 2

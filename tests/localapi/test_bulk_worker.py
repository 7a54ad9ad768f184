"""Bulk operations run by real Celery worker processes, on the embedded broker (see test_worker.py)."""

import signal
import subprocess
import time
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from google.protobuf.struct_pb2 import Struct

from console.localapi.models import App, BulkChunk, Input
from tests.localapi.conftest import Caller
from tests.localapi.test_worker import broker, start_worker, wait_for  # noqa: F401 (fixtures used here)

pytestmark = pytest.mark.worker

Worker = Callable[..., subprocess.Popen[bytes]]


def many_inputs(app: App, count: int) -> None:
    """`count` processed text inputs, written straight to the database: only the bulk change is under test."""
    Input.objects.bulk_create(
        Input(app=app, input_id=f"in-{n:05}", kind=Input.TEXT, text=str(n), status_code=codes.INPUT_DOWNLOAD_SUCCESS)
        for n in range(count)
    )


def tag_everything(alice: Caller, operation_id: str, **tags: str) -> None:
    metadata = Struct()
    metadata.update(tags)
    response = alice.call(
        "PostBulkOperations",
        service_pb2.PostBulkOperationsRequest(
            user_app_id=alice.app_ids("main"),
            bulk_operations=[
                r.BulkOperation(
                    id=operation_id,
                    search=r.Search(query=r.Query()),
                    operation=r.Operation(add_metadata=r.AddMetadata(metadata=metadata)),
                )
            ],
        ),
    )
    assert response.status.code == codes.SUCCESS, response.status
    assert response.bulk_operation[0].status.code == codes.BULK_OPERATION_PENDING


def get(alice: Caller, operation_id: str) -> r.BulkOperation:
    operation: r.BulkOperation = alice.call(
        "GetBulkOperation", service_pb2.GetBulkOperationRequest(user_app_id=alice.app_ids("main"), id=operation_id)
    ).bulk_operation
    return operation


def processed(alice: Caller, operation_id: str) -> int:
    return get(alice, operation_id).progress.processed


def ended(alice: Caller, operation_id: str) -> bool:
    return get(alice, operation_id).status.code != codes.BULK_OPERATION_IN_PROGRESS


def test_a_worker_killed_in_the_middle_leaves_the_rest_to_the_next_each_input_changed_once_deleted_ones_skipped(
    alice: Caller,
    alice_app: App,
    start_worker: Worker,  # noqa: F811
) -> None:
    many_inputs(alice_app, 5000)
    tag_everything(alice, "tag", batch="b1")
    first = start_worker(LOCALAPI_BULK_CHUNK_SIZE="10")
    wait_for(lambda: processed(alice, "tag") >= 200)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    stopped_at = processed(alice, "tag")
    assert 200 <= stopped_at < 5000
    assert get(alice, "tag").status.code == codes.BULK_OPERATION_IN_PROGRESS
    # While the operation is under way, some of its last inputs are deleted.
    deleted = alice.call(
        "DeleteInputs",
        service_pb2.DeleteInputsRequest(
            user_app_id=alice.app_ids("main"), ids=[f"in-{n:05}" for n in range(4993, 5000)]
        ),
    )
    assert deleted.status.code == codes.SUCCESS

    start_worker(LOCALAPI_BULK_CHUNK_SIZE="10", LOCALAPI_REQUEUE_AFTER="0")
    wait_for(lambda: ended(alice, "tag"), timeout=120)
    done = get(alice, "tag")
    assert done.status.code == codes.BULK_OPERATION_SUCCESS, done.status
    assert done.progress.processed == 5000
    assert done.progress.last_processed_id == "in-04992"
    assert "4,993 inputs changed; 7 skipped" in done.status.details
    # Each chunk's change was committed exactly once, with the chunk marked done in the same transaction.
    assert set(BulkChunk.objects.values_list("applied", flat=True)) == {1}
    assert BulkChunk.objects.count() == 500
    assert all(m == {"batch": "b1"} for m in Input.objects.values_list("metadata", flat=True))


INPUTS_TO_CANCEL = 8000  # one a transaction: many seconds of work, so the cancel lands half way even under load


def test_a_cancelled_operation_stops_before_its_next_chunk(
    alice: Caller,
    alice_app: App,
    start_worker: Worker,  # noqa: F811
) -> None:
    many_inputs(alice_app, INPUTS_TO_CANCEL)
    tag_everything(alice, "waiting", batch="never")
    cancelled = alice.call(
        "CancelBulkOperations",
        service_pb2.CancelBulkOperationRequest(user_app_id=alice.app_ids("main"), ids=["waiting"]),
    )
    assert cancelled.bulk_operation[0].status.code == codes.BULK_OPERATION_CANCELLED
    tag_everything(alice, "running", batch="b1")
    start_worker(LOCALAPI_BULK_CHUNK_SIZE="1")  # many small transactions: time to cancel
    # Watched in the database, without a request's delay, so the cancel goes out while chunks remain.
    started = BulkChunk.objects.filter(bulk_operation__operation_id="running", done=True)
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the operation never started"
        time.sleep(0.01)
    stop = alice.call(
        "CancelBulkOperations",
        service_pb2.CancelBulkOperationRequest(user_app_id=alice.app_ids("main"), ids=["running"]),
    )
    assert stop.status.code == codes.SUCCESS, stop.status
    # The worker notices before its next chunk: the count stops moving, short of the end.
    time.sleep(1)
    after = processed(alice, "running")
    time.sleep(1)
    assert processed(alice, "running") == after < INPUTS_TO_CANCEL
    assert get(alice, "running").status.code == codes.BULK_OPERATION_CANCELLED
    assert get(alice, "waiting").progress.processed == 0
    assert not Input.objects.filter(metadata__batch="never").exists()
    assert Input.objects.filter(metadata__batch="b1").count() == after

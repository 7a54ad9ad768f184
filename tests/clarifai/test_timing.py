"""Upstream timing for Server-Timing, and running independent calls at the same time."""

import threading
import time
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.clarifai import ClarifaiStatusError, concurrently, timing
from tests.clarifai.conftest import Harness, ok, status

APP = resources_pb2.UserAppIDSet(user_id="alice", app_id="my-app")


def test_upstream_seconds_is_the_union_of_overlapping_calls() -> None:
    calls = [("a", 10.0, 11.0), ("b", 10.5, 12.0), ("c", 13.0, 14.0), ("d", 13.2, 13.8)]
    assert timing.upstream_seconds(calls) == pytest.approx(3.0)


def test_upstream_seconds_of_nothing_is_zero() -> None:
    assert timing.upstream_seconds([]) == 0.0


def test_upstream_seconds_does_not_care_about_order() -> None:
    calls = [("c", 5.0, 6.0), ("a", 1.0, 2.0), ("b", 1.5, 2.5)]
    assert timing.upstream_seconds(calls) == pytest.approx(2.5)


def test_nothing_is_recorded_outside_a_request() -> None:
    def outside() -> list[timing.UpstreamCall] | None:
        timing.record("ListInputs", 1.0, 2.0)
        return timing.current_calls()

    # A fresh thread starts with an empty context, as a Celery task would.
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(outside()))
    thread.start()
    thread.join()
    assert result == [None]


def test_the_client_records_each_call(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok(), status(11101, 404))
    with timing.recording() as calls:
        h.client.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP))
        with pytest.raises(ClarifaiStatusError):
            h.client.call("GetInput", service_pb2.GetInputRequest(user_app_id=APP, input_id="x"))
    assert timing.current_calls() is None
    assert [c.rpc for c in calls] == ["ListInputs", "GetInput"]
    assert all(c.end >= c.start for c in calls)


def test_concurrently_runs_callables_at_the_same_time() -> None:
    barrier = threading.Barrier(2, timeout=5)

    def meet(value: str) -> Callable[[], str]:
        def run() -> str:
            barrier.wait()  # raises BrokenBarrierError unless both run at once
            return value

        return run

    assert concurrently(meet("first"), meet("second")) == ["first", "second"]


def test_concurrently_keeps_the_order_of_results() -> None:
    def after(delay: float, value: int) -> Callable[[], int]:
        def run() -> int:
            time.sleep(delay)
            return value

        return run

    assert concurrently(after(0.05, 1), after(0.0, 2), after(0.02, 3)) == [1, 2, 3]


def test_concurrently_raises_the_first_error_after_all_have_finished() -> None:
    finished = threading.Event()

    def fails() -> None:
        raise ClarifaiStatusError(code=11101, description="Resource does not exist")

    def slow() -> str:
        time.sleep(0.1)
        finished.set()
        return "done"

    def also_fails() -> None:
        raise ValueError("second")

    with pytest.raises(ClarifaiStatusError):
        concurrently(fails, slow, also_fails)
    assert finished.is_set()


def test_concurrently_shares_the_timing_list(make_client: Callable[..., Harness]) -> None:
    h = make_client(ok())
    with timing.recording() as calls:
        concurrently(
            lambda: h.client.call("ListInputs", service_pb2.ListInputsRequest(user_app_id=APP)),
            lambda: h.client.call("GetApp", service_pb2.GetAppRequest(user_app_id=APP)),
        )
    assert sorted(c.rpc for c in calls) == ["GetApp", "ListInputs"]


def test_concurrently_nested_runs_in_turn_instead_of_deadlocking() -> None:
    def inner() -> list[int]:
        return concurrently(lambda: 1, lambda: 2)

    assert concurrently(inner, inner) == [[1, 2], [1, 2]]


def test_concurrently_of_nothing_is_an_empty_list() -> None:
    assert concurrently() == []

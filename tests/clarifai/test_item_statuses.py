"""A refused PostInputs carries each input's status on the client's error, so that an upload can tell
which input was refused; those statuses never hold the token, even when the server echoes it."""

from collections.abc import Callable

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.clarifai import ClarifaiError
from console.clarifai.errors import ClarifaiStatusError, ItemStatus
from tests.clarifai.conftest import TOKEN, Harness
from tests.clarifai.test_secrets import assert_clean

APP = resources_pb2.UserAppIDSet(user_id="alice", app_id="my-app")


def refuse_echoing(request: httpx.Request) -> httpx.Response:
    header = request.headers["Authorization"]
    body = {
        "status": {"code": 10020, "description": "Failure", "details": "1 of 2 inputs were refused"},
        "inputs": [
            {"id": "a", "status": {"code": 30100, "description": "Input has a duplicate ID", "details": header}},
            {"id": "b", "status": {"code": 10020, "description": "Failure", "details": "not added"}},
        ],
    }
    return httpx.Response(400, json=body)


def test_a_refused_post_inputs_says_which_input_was_refused_without_the_token(
    make_client: Callable[..., Harness],
) -> None:
    h = make_client(refuse_echoing)
    request = service_pb2.PostInputsRequest(
        user_app_id=APP,
        inputs=[
            resources_pb2.Input(id=i, data=resources_pb2.Data(image=resources_pb2.Image(url="https://x.example/p")))
            for i in "ab"
        ],
    )
    with pytest.raises(ClarifaiError) as raised:
        h.client.call("PostInputs", request)
    error = raised.value
    assert isinstance(error, ClarifaiStatusError) and error.code == 10020
    assert error.items == (
        ItemStatus("a", 30100, "Input has a duplicate ID", "Key [token]"),
        ItemStatus("b", 10020, "Failure", "not added"),
    )
    assert TOKEN not in str(error.items)
    assert_clean(error)

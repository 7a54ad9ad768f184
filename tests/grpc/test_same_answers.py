"""REST and gRPC are two doors to one call (dispatch.call): the same request gets the same answer through
each, errors included. The REST side is clarifai-grpc's own JSON channel against the live server."""

from collections.abc import Callable
from typing import Any

import pytest
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2 as s
from clarifai_grpc.grpc.api import service_pb2_grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from console.localapi.models import App
from tests.grpc.conftest import official_stub
from tests.images import png

MAIN = r.UserAppIDSet(user_id="me", app_id="main")

CALLS: dict[str, tuple[str, Callable[[], Message]]] = {
    "list inputs": ("ListInputs", lambda: s.ListInputsRequest(user_app_id=MAIN, per_page=128)),
    "list inputs by ids": ("ListInputs", lambda: s.ListInputsRequest(user_app_id=MAIN, ids=["cat-1", "note"])),
    "get an input": ("GetInput", lambda: s.GetInputRequest(user_app_id=MAIN, input_id="cat-1")),
    "count inputs": ("GetInputCount", lambda: s.GetInputCountRequest(user_app_id=MAIN)),
    "list concepts": ("ListConcepts", lambda: s.ListConceptsRequest(user_app_id=MAIN)),
    "list apps": ("ListApps", lambda: s.ListAppsRequest(user_app_id=r.UserAppIDSet(user_id="me"))),
    "list datasets": ("ListDatasets", lambda: s.ListDatasetsRequest(user_app_id=MAIN)),
    "a missing input": ("GetInput", lambda: s.GetInputRequest(user_app_id=MAIN, input_id="nope")),
    "an unknown app": ("ListInputs", lambda: s.ListInputsRequest(user_app_id=r.UserAppIDSet(app_id="nope"))),
    "too many per page": ("ListInputs", lambda: s.ListInputsRequest(user_app_id=MAIN, per_page=5000)),
    "no handler": ("ListModels", lambda: s.ListModelsRequest(user_app_id=MAIN)),
}


def comparable(message: Message) -> dict[str, Any]:
    data = json_format.MessageToDict(message, preserving_proto_field_name=True)
    data["status"].pop("req_id", None)
    return data


@pytest.mark.parametrize("name", list(CALLS))
def test_rest_and_grpc_give_the_same_answer(
    name: str, grpc_url: str, token: str, main_app: App, live_server: Any
) -> None:
    # Each stub right after its channel: the JSON channel changes what a stub built next deserializes with
    # (clarifai-wire.md §1).
    over_grpc = official_stub(grpc_url)
    rest = service_pb2_grpc.V2Stub(ClarifaiChannel.get_json_channel(base_url=live_server.url))
    metadata = (("authorization", f"Key {token}"),)
    main_app.datasets.create(dataset_id="pets")
    posted = rest.PostInputs(
        s.PostInputsRequest(
            user_app_id=MAIN,
            inputs=[
                r.Input(
                    id="cat-1",
                    dataset_ids=["pets"],
                    data=r.Data(image=r.Image(base64=png(30, 20)), concepts=[r.Concept(id="cat", value=1)]),
                ),
                r.Input(id="note", data=r.Data(text=r.Text(raw="a note"))),
            ],
        ),
        metadata=metadata,
    )
    assert posted.status.description == "Ok"
    rpc, request = CALLS[name]
    through_rest = getattr(rest, rpc)(request(), metadata=metadata)
    through_grpc = getattr(over_grpc, rpc)(request(), metadata=metadata)
    assert comparable(through_grpc) == comparable(through_rest)
    assert through_grpc.status.code  # set explicitly, success included

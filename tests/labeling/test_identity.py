"""A console member labels as themselves: their client on the built-in connection calls the local API with
their own token, about the connection's account."""

from typing import Any

import pytest
from clarifai_grpc.grpc.api import service_pb2

from console.clarifai.errors import ClarifaiError
from console.connections.clients import ids
from console.labeling.demo import seed_accounts
from console.labeling.identity import client_as, member_of
from console.localapi import demo
from console.localapi.models import Annotation


@pytest.mark.django_db
def test_a_member_labels_and_reviews_as_their_own_user(django_user_model: Any) -> None:
    seeded = demo.seed_demo(shapes=120, notes=12)  # enough for work left to give out
    seed_accounts(seeded.tokens)
    maya = member_of(django_user_model.objects.get(username="maya"), demo_connection())
    rita = member_of(django_user_model.objects.get(username="rita"), demo_connection())
    assert maya is not None and rita is not None
    app = ids(maya.connection, demo.SHAPES_APP)

    given = client_as(maya).call(
        "ListNextTaskAssignments", service_pb2.ListNextTaskAssignmentsRequest(user_app_id=app, task_id=demo.DEMO_TASK)
    )
    first = given.inputs[0].id
    client_as(maya).call(
        "PutTaskAssignments",
        service_pb2.PutTaskAssignmentsRequest(
            user_app_id=app, task_id=demo.DEMO_TASK, input_id=first, action=service_pb2.LABEL_SUBMIT
        ),
    )

    assert Annotation.objects.get(input__input_id=first, task__task_id=demo.DEMO_TASK).user_id == "maya"
    with pytest.raises(ClarifaiError, match="not a labeler"):
        client_as(rita).call(
            "ListNextTaskAssignments",
            service_pb2.ListNextTaskAssignmentsRequest(user_app_id=app, task_id=demo.DEMO_TASK),
        )
    assert client_as(maya) is client_as(maya)  # one client per member


def demo_connection() -> Any:
    from console.labeling.demo import builtin_connection

    return builtin_connection()

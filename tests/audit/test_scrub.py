"""The recorder keeps nothing token-like: secret-named keys, `Key ...` headers, signed URL parameters,
an API key's id (which is its secret), the connection's own token wherever it hides, and no picture bytes."""

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.audit.models import AuditEvent
from console.audit.recorder import Secrets, message_json, record, record_call, targets_of
from console.clarifai.client import CallReport
from console.connections.models import Connection

pytestmark = pytest.mark.django_db
SECRET = "SENTINEL-TOKEN-4f2c0000"


def saved(event: AuditEvent | None) -> str:
    assert event is not None
    return repr(AuditEvent.objects.filter(pk=event.pk).values().get()) + repr(list(event.targets.values()))


def test_token_like_values_are_removed_before_saving(local: Connection) -> None:
    event = record(
        "PatchInputs",
        connection=local,
        summary=f"sent with Authorization: Key {SECRET}",
        before={"token": SECRET, "nested": {"api_key": SECRET, "Password": "hunter2"}},
        after={
            "metadata": {"note": f"Bearer {SECRET}", "seen": f"it was {SECRET}!"},
            "url": f"https://bucket.example/a.jpg?X-Amz-Signature={SECRET}&width=10",
        },
        targets=[("input", f"has-{SECRET}")],
        req_id=SECRET,
        secrets=Secrets([SECRET]),
    )
    text = saved(event)
    assert SECRET not in text and "hunter2" not in text
    assert event is not None and event.after is not None
    assert event.after["url"] == "https://bucket.example/a.jpg?X-Amz-Signature=[removed]&width=10"
    assert event.before == {"token": "[removed]", "nested": {"api_key": "[removed]", "Password": "[removed]"}}


def test_an_api_keys_id_is_kept_as_its_last_four_characters(local: Connection) -> None:
    report = CallReport(
        "DeleteKey", service_pb2.DeleteKeyRequest(key_id="0123456789abcdef0123456789abcdef"), True, 10000, "r"
    )
    event = record_call(report, local.pk, Secrets())
    text = saved(event)
    assert "0123456789abcdef0123456789abcdef" not in text
    assert event is not None and event.target_id == "…cdef"
    patch = service_pb2.PatchKeysRequest(
        keys=[resources_pb2.Key(id="ffffeeeeddddccccbbbbaaaa99998888", description="ci")]
    )
    event = record_call(CallReport("PatchKeys", patch, True, 10000, "r"), local.pk, Secrets())
    assert "ffffeeeeddddccccbbbbaaaa99998888" not in saved(event)
    assert event is not None and event.after == {"keys": [{"id": "…8888", "description": "ci"}]}


def test_pictures_sent_inline_are_left_out_of_what_was_asked() -> None:
    request = service_pb2.PostInputsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id="u", app_id="a"),
        inputs=[
            resources_pb2.Input(id="p", data=resources_pb2.Data(image=resources_pb2.Image(base64=b"\x89PNG" * 50)))
        ],
    )
    assert message_json(request) == {"inputs": [{"id": "p", "data": {"image": {}}}]}
    assert request.inputs[0].data.image.base64  # the request itself is untouched


def test_what_a_request_targets_is_found_from_its_fields() -> None:
    app = resources_pb2.UserAppIDSet(app_id="a")
    assert targets_of("DeleteInputs", service_pb2.DeleteInputsRequest(user_app_id=app, ids=["x", "y"])) == [
        ("input", "x"),
        ("input", "y"),
    ]
    posted = service_pb2.PostDatasetInputsRequest(
        user_app_id=app,
        dataset_id="train",
        dataset_inputs=[resources_pb2.DatasetInput(input=resources_pb2.Input(id="x"))],
    )
    assert sorted(targets_of("PostDatasetInputs", posted)) == [("dataset", "train"), ("input", "x")]
    annotated = service_pb2.PostAnnotationsRequest(annotations=[resources_pb2.Annotation(id="n1", input_id="x")])
    assert sorted(targets_of("PostAnnotations", annotated)) == [("annotation", "n1"), ("input", "x")]

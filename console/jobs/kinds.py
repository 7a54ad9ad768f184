"""What each kind of job does to one chunk of inputs, through the Clarifai client.

Every change is idempotent upstream (merge a concept, remove a key, add to a dataset, delete), so a
chunk applied again after a crash changes nothing twice. `apply` answers which inputs failed (with the
API's status) and which were skipped because they no longer exist; it raises `Throttled` when the API
asks to slow down, `Revoked` when the token no longer works, and `Transient` when the outcome is unknown
or the API could not be reached (the chunk is then tried again).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from google.protobuf import struct_pb2

from console.clarifai import ClarifaiError
from console.clarifai.errors import ClarifaiStatusError, ClarifaiTransportError

# The answers of the API for an input that does not exist.
NOT_FOUND = {codes.CONN_DOES_NOT_EXIST, codes.INPUT_DOES_NOT_EXIST}
# An input's status in a mixed answer that is not a failure (processing states).
INPUT_OK = {
    codes.SUCCESS,
    codes.INPUT_DOWNLOAD_SUCCESS,
    codes.INPUT_DOWNLOAD_PENDING,
    codes.INPUT_DOWNLOAD_IN_PROGRESS,
    codes.DATASET_INPUT_SUCCESS,
    codes.DATASET_INPUT_DUPLICATE,  # already in the dataset: what the job wanted
}
GONE = "The input no longer exists."


class Throttled(Exception):
    def __init__(self, error: ClarifaiError) -> None:
        super().__init__(error.message)
        self.retry_after = error.retry_after


class Revoked(Exception):
    """The token is refused (revoked, expired, lacking scopes): nothing will work until the connection is fixed."""


class Transient(Exception):
    """The call may work if tried again: the API could not be reached, or it is unknown whether it applied."""


@dataclass
class Outcome:
    failed: dict[str, tuple[int | None, str]] = field(default_factory=dict)  # input id -> (code, reason)
    skipped: dict[str, str] = field(default_factory=dict)  # input id -> reason


Call = Callable[[str, Any], Any]


def apply(kind: str, params: dict[str, Any], call: Call, app: resources_pb2.UserAppIDSet, ids: list[str]) -> Outcome:
    """Apply `kind` to the inputs `ids`; `call(rpc, request)` makes one rate-limited API call."""
    outcome = Outcome()
    try:
        if kind == "delete_inputs":
            _delete(call, app, ids, outcome)
        elif kind == "delete_app":
            _delete_app(call, app, outcome)
        elif kind in ("add_to_dataset", "remove_from_dataset"):
            _datasets(kind, params, call, app, ids, outcome)
        elif kind == "upload_inputs":
            from console.uploads.posting import post_chunk  # the uploads app builds on the jobs

            post_chunk(params, call, app, ids, outcome)
        else:
            _patch(kind, params, call, app, ids, outcome)
    except ClarifaiError as e:
        raise_if_not_final(e)
        code = e.code if isinstance(e, ClarifaiStatusError) else None
        for input_id in ids:
            if input_id not in outcome.skipped:
                outcome.failed[input_id] = (code, e.message)
    return outcome


def raise_if_not_final(error: ClarifaiError) -> None:
    """Turn a failure that says nothing about the inputs into what the job does about it."""
    if is_throttled(error):
        raise Throttled(error) from error
    if isinstance(error, ClarifaiStatusError) and error.is_auth_failure:
        raise Revoked(error.message) from error
    if error.retryable or error.outcome_unknown:
        raise Transient(error.message) from error


def is_throttled(error: ClarifaiError) -> bool:
    if isinstance(error, ClarifaiStatusError):
        return error.code == codes.CONN_THROTTLED or error.http_status == 429
    # A 429 without a Clarifai status (a gateway in front of the API) comes as a transport error.
    return isinstance(error, ClarifaiTransportError) and "too many requests" in error.message


def _patch(
    kind: str, params: dict[str, Any], call: Call, app: resources_pb2.UserAppIDSet, ids: list[str], outcome: Outcome
) -> None:
    action, data = _patch_data(kind, params)
    # The API refuses a whole PatchInputs when one input is missing: find which, skip them, send the rest.
    for _ in range(3):  # inputs may keep disappearing while we look; three looks are plenty
        todo = [i for i in ids if i not in outcome.skipped]
        if not todo:
            return
        request = service_pb2.PatchInputsRequest(
            user_app_id=app, action=action, inputs=[resources_pb2.Input(id=i, data=data) for i in todo]
        )
        try:
            response = call("PatchInputs", request)
        except ClarifaiStatusError as e:
            if e.code not in NOT_FOUND:
                raise
            missing = [i for i in todo if i not in _existing(call, app, todo)]
            if not missing:
                raise  # something else does not exist (a dataset, say): that is the inputs' failure
            outcome.skipped.update(dict.fromkeys(missing, GONE))
            continue
        _mixed(response, outcome)
        return


def _patch_data(kind: str, params: dict[str, Any]) -> tuple[str, resources_pb2.Data]:
    if kind in ("add_concepts", "remove_concepts"):
        value = 1.0 if kind == "remove_concepts" else float(params.get("value", 1))
        concepts = [resources_pb2.Concept(id=c, value=value) for c in params["concepts"]]
        return ("merge" if kind == "add_concepts" else "remove"), resources_pb2.Data(concepts=concepts)
    metadata = struct_pb2.Struct()
    if kind == "set_metadata":
        metadata.update(_nested(params["metadata"]))
        return "merge", resources_pb2.Data(metadata=metadata)
    if kind == "remove_metadata":
        metadata.update(_nested(dict.fromkeys(params["keys"])))
        return "remove", resources_pb2.Data(metadata=metadata)
    raise ValueError(f"Unknown kind of job: {kind}")


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}}: dotted keys name nested keys."""
    result: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, last = key.split(".")
        place = result
        for parent in parents:
            place = place.setdefault(parent, {})
        place[last] = value
    return result


def _delete(call: Call, app: resources_pb2.UserAppIDSet, ids: list[str], outcome: Outcome) -> None:
    # DeleteInputs passes over ids that do not exist; looking first tells which were already gone.
    existing = _existing(call, app, ids)
    outcome.skipped.update({i: GONE for i in ids if i not in existing})
    todo = [i for i in ids if i in existing]
    if todo:
        call("DeleteInputs", service_pb2.DeleteInputsRequest(user_app_id=app, ids=todo))


def _delete_app(call: Call, app: resources_pb2.UserAppIDSet, outcome: Outcome) -> None:
    """Delete the job's app (its one item is the app's id). The API deletes its data afterwards, in the
    background; an app that is already gone is skipped."""
    try:
        call("DeleteApp", service_pb2.DeleteAppRequest(user_app_id=app))
    except ClarifaiStatusError as e:
        if e.code not in NOT_FOUND and e.http_status != 404:
            raise
        outcome.skipped[app.app_id] = "The app no longer exists."


def _datasets(
    kind: str, params: dict[str, Any], call: Call, app: resources_pb2.UserAppIDSet, ids: list[str], outcome: Outcome
) -> None:
    dataset_id = params["dataset_id"]
    if kind == "add_to_dataset":
        request = service_pb2.PostDatasetInputsRequest(
            user_app_id=app,
            dataset_id=dataset_id,
            dataset_inputs=[resources_pb2.DatasetInput(input=resources_pb2.Input(id=i)) for i in ids],
        )
        _mixed(call("PostDatasetInputs", request), outcome)
    else:
        call(
            "DeleteDatasetInputs",
            service_pb2.DeleteDatasetInputsRequest(user_app_id=app, dataset_id=dataset_id, input_ids=ids),
        )


def _existing(call: Call, app: resources_pb2.UserAppIDSet, ids: list[str]) -> set[str]:
    response = call("ListInputs", service_pb2.ListInputsRequest(user_app_id=app, ids=ids, per_page=len(ids)))
    return {i.id for i in response.inputs}


def _mixed(response: Any, outcome: Outcome) -> None:
    """In a mixed answer (10010) each item carries its own status: record the ones that failed, and the
    ones that no longer exist as skipped."""
    if response.status.code != codes.MIXED_STATUS:
        return
    items = getattr(response, "inputs", None) or getattr(response, "dataset_inputs", [])
    for item in items:
        # An input carries its own status; a dataset input carries it on its input.
        item = item if hasattr(item, "data") else item.input
        status, input_id = item.status, item.id
        if status.code in NOT_FOUND:
            outcome.skipped[input_id] = GONE  # deleted meanwhile: skipped, as a PatchInputs finds it
        elif status.code and status.code not in INPUT_OK:
            reason = status.description + (f": {status.details}" if status.details else "")
            outcome.failed[input_id] = (status.code, reason or "refused")

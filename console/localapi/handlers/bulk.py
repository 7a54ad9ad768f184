"""Bulk operations: PostBulkOperations, GetBulkOperation, ListBulkOperations, CancelBulkOperations,
DeleteBulkOperations.

An operation changes the inputs of one source (input ids, a search, or a dataset) in one way the
`Operation` message defines: add or delete concepts, add (merge) or delete metadata keys, add to or
delete from a dataset. Everything is checked when it is posted; then a worker runs it
(console.localapi.bulk_tasks) and its `status` goes BULK_OPERATION_PENDING, _IN_PROGRESS, then _SUCCESS
(or _CANCELLED, _UNEXPECTED_ERROR), with `progress.processed` counting the inputs done.
"""

from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.db import transaction
from django.db.models import Max, Q, Sum
from google.protobuf import json_format
from google.protobuf.message import Message

from console.localapi import bulk_tasks, status, tasks
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.handlers import rpc
from console.localapi.handlers.common import ID_PATTERN, check_id, get_app, page_slice, struct_to_dict
from console.localapi.messages import timestamp
from console.localapi.models import App, BulkChunk, BulkOperation, Input
from console.localapi.query import search_inputs

SUPPORTED = (
    "add_concepts",
    "delete_concepts",
    "add_metadata",
    "delete_metadata",
    "add_to_dataset",
    "delete_from_dataset",
    "split_into_datasets",
)


def _refuse(details: str) -> ApiError:
    return ApiError(status.BULK_INVALID_REQUEST, details=details)


def _as_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _check_source(app: App, given: resources_pb2.BulkOperation, where: str) -> dict[str, Any]:
    if given.HasField("annotation_search"):
        raise _refuse(f"{where}: annotation_search is not supported by the local API; give an input source only.")
    source = given.WhichOneof("input_source")
    if source is None:
        raise _refuse(f"{where} has no input source: give input_ids, search or dataset.")
    if source == "input_ids":
        if not given.input_ids.input_ids:
            raise _refuse(f"{where}: input_ids.input_ids is empty.")
        return {"input_ids": _as_dict(given.input_ids)}
    if source == "search":
        search_inputs(app, given.search)  # refuses what cannot be searched, now rather than in the worker
        return {"search": _as_dict(given.search)}
    if not app.datasets.filter(dataset_id=given.dataset.id).exists():
        raise not_found(f"{where}: dataset {given.dataset.id!r}")
    return {"dataset": {"id": given.dataset.id}}


def _check_operation(app: App, operation: resources_pb2.Operation, where: str) -> None:
    if operation.WhichOneof("annotation_operation"):
        raise _refuse(f"{where}: delete_annotations is not supported by the local API.")
    kind = operation.WhichOneof("operation")
    if kind is None:
        raise _refuse(f"{where} has no operation: give one of {', '.join(SUPPORTED)}.")
    if kind not in SUPPORTED:
        raise _refuse(f"{where}: {kind} is not supported by the local API; it does {', '.join(SUPPORTED)}.")
    part = getattr(operation, kind)
    if kind in ("add_concepts", "delete_concepts"):
        if not part.concepts:
            raise _refuse(f"{where}: {kind}.concepts is empty.")
        if kind == "delete_concepts" and part.user_ids:
            raise _refuse(
                f"{where}: delete_concepts.user_ids is not supported: the local API keeps one label per input."
            )
        for concept in part.concepts:
            if not ID_PATTERN.match(concept.id):
                raise _refuse(f"{where}: concept id {concept.id!r} is not a valid id.")
            if kind == "add_concepts" and concept.value not in (0.0, 1.0):
                raise _refuse(f"{where}: concept {concept.id!r} has value {concept.value:g}; give 1 (yes) or 0 (no).")
    elif kind in ("add_metadata", "delete_metadata"):
        if not struct_to_dict(part.metadata):
            raise _refuse(f"{where}: {kind}.metadata is empty.")
    elif kind == "split_into_datasets":
        _check_split(app, part, where)
    elif not app.datasets.filter(dataset_id=part.dataset_id).exists():
        raise not_found(f"{where}: dataset {part.dataset_id!r}")


def _check_split(app: App, split: resources_pb2.SplitIntoDatasets, where: str) -> None:
    if split.method != resources_pb2.SplitIntoDatasets.RANDOM_PERCENTAGE_SPLIT:
        raise _refuse(f"{where}: split_into_datasets.method must be RANDOM_PERCENTAGE_SPLIT.")
    ids = [part.dataset.id for part in split.dataset_splits]
    if len(ids) < 2 or len(set(ids)) != len(ids):
        raise _refuse(f"{where}: split_into_datasets needs two or more different datasets.")
    shares = [part.percentage for part in split.dataset_splits]
    if any(not 0 < share <= 100 for share in shares) or sum(shares) != 100:
        raise _refuse(f"{where}: the datasets' percentages must each be 1 to 100 and add up to 100, not {shares}.")
    missing = set(ids) - set(app.datasets.filter(dataset_id__in=ids).values_list("dataset_id", flat=True))
    if missing:
        raise not_found(f"{where}: dataset {', '.join(sorted(missing))}")


@rpc("PostBulkOperations", scope="Inputs:Patch")
def post_bulk_operations(
    ctx: Context, request: service_pb2.PostBulkOperationsRequest
) -> service_pb2.MultiBulkOperationsResponse:
    app = get_app(ctx, request.user_app_id)
    if not request.bulk_operations:
        raise invalid("Give at least one bulk operation in bulk_operations.")
    rows = []
    for n, given in enumerate(request.bulk_operations):
        where = f"bulk_operations[{n}]"
        if given.id:
            check_id(given.id, "Bulk operation id")
        source = _check_source(app, given, where)
        _check_operation(app, given.operation, where)
        rows.append(
            BulkOperation(
                app=app,
                operation_id=given.id or Input.new_id(),
                created_by=ctx.user.id,
                source=source,
                operation=_as_dict(given.operation),
            )
        )
    ids = [row.operation_id for row in rows]
    taken = list(app.bulk_operations.filter(operation_id__in=ids).values_list("operation_id", flat=True))
    if taken or len(set(ids)) != len(ids):
        raise ApiError(
            status.DATABASE_DUPLICATE_KEY,
            details=f"Bulk operation {', '.join(sorted(taken) or ids)} already exists or is given twice.",
        )
    with transaction.atomic():
        for row in rows:
            row.save()
            tasks.enqueue(bulk_tasks.run_bulk_operation, row.pk)
    return service_pb2.MultiBulkOperationsResponse(bulk_operation=_messages(app, [r.pk for r in rows]))


def _messages(app: App, pks: list[int]) -> list[resources_pb2.BulkOperation]:
    """The operations in the order given, with progress read from their chunks in the same query."""
    rows = BulkOperation.objects.filter(pk__in=pks).annotate(
        processed=Sum("chunks__changed", filter=Q(chunks__done=True), default=0)
        + Sum("chunks__skipped", filter=Q(chunks__done=True), default=0),
        last_chunk=Max("chunks__number", filter=Q(chunks__done=True)),
    )
    by_pk = {row.pk: row for row in rows}
    last_ids = _last_ids(list(by_pk.values()))
    return [_message(app, by_pk[pk], last_ids.get(pk, "")) for pk in pks if pk in by_pk]


def _last_ids(rows: list[BulkOperation]) -> dict[int, str]:
    wanted = Q(pk__in=[])
    for row in rows:
        if row.last_chunk is not None:  # type: ignore[attr-defined]
            wanted |= Q(bulk_operation=row, number=row.last_chunk)  # type: ignore[attr-defined]
    return dict(BulkChunk.objects.filter(wanted).values_list("bulk_operation_id", "last_input_id"))


def _message(app: App, row: BulkOperation, last_input_id: str) -> resources_pb2.BulkOperation:
    message = resources_pb2.BulkOperation(
        id=row.operation_id,
        app_id=app.app_id,
        created_by=row.created_by,
        status=status.make(status.as_code(row.status_code), row.status_details),
        progress=resources_pb2.Progress(processed=row.processed, last_processed_id=last_input_id),  # type: ignore[attr-defined]
        created_at=timestamp(row.created_at),
        last_modified_at=timestamp(row.modified_at),
    )
    json_format.ParseDict(row.operation, message.operation)
    source = row.source
    if "input_ids" in source:
        json_format.ParseDict(source["input_ids"], message.input_ids)
    elif "search" in source:
        json_format.ParseDict(source["search"], message.search)
    else:
        message.dataset.id = source["dataset"]["id"]
        message.dataset.app_id = app.app_id
    return message


def _get(app: App, operation_id: str) -> BulkOperation:
    row = app.bulk_operations.filter(operation_id=operation_id).first()
    if row is None:
        raise not_found(f"Bulk operation {operation_id!r}")
    return row


@rpc("GetBulkOperation", scope="Inputs:Get")
def get_bulk_operation(
    ctx: Context, request: service_pb2.GetBulkOperationRequest
) -> service_pb2.SingleBulkOperationsResponse:
    app = get_app(ctx, request.user_app_id)
    row = _get(app, request.id)
    return service_pb2.SingleBulkOperationsResponse(bulk_operation=_messages(app, [row.pk])[0])


@rpc("ListBulkOperations", scope="Inputs:Get")
def list_bulk_operations(
    ctx: Context, request: service_pb2.ListBulkOperationsRequest
) -> service_pb2.MultiBulkOperationsResponse:
    app = get_app(ctx, request.user_app_id)
    pks = app.bulk_operations.order_by("-id").values_list("pk", flat=True)
    page = list(pks[page_slice(request.page, request.per_page)])
    return service_pb2.MultiBulkOperationsResponse(bulk_operation=_messages(app, page))


def _named(app: App, ids: list[str]) -> list[BulkOperation]:
    if not ids:
        raise invalid("Give the ids of the bulk operations in ids.")
    rows = {row.operation_id: row for row in app.bulk_operations.select_for_update().filter(operation_id__in=ids)}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise not_found(f"Bulk operation {', '.join(repr(m) for m in missing)}")
    return [rows[i] for i in dict.fromkeys(ids)]


@rpc("CancelBulkOperations", scope="Inputs:Patch")
def cancel_bulk_operations(
    ctx: Context, request: service_pb2.CancelBulkOperationRequest
) -> service_pb2.MultiBulkOperationsResponse:
    """Cancel operations still waiting or running: they stop before their next chunk. Cancelling one that
    was cancelled already is no error; one that ended otherwise is."""
    app = get_app(ctx, request.user_app_id)
    with transaction.atomic():
        rows = _named(app, list(request.ids))
        ended = [r.operation_id for r in rows if r.status_code in bulk_tasks.ENDED - {status.BULK_CANCELLED}]
        if ended:
            raise _refuse(f"Bulk operation {', '.join(ended)} has already ended and cannot be cancelled.")
        BulkOperation.objects.filter(pk__in=[r.pk for r in rows], status_code__in=bulk_tasks.UNFINISHED).update(
            status_code=status.BULK_CANCELLED, status_details=f"Cancelled by {ctx.user.id}."
        )
    return service_pb2.MultiBulkOperationsResponse(bulk_operation=_messages(app, [r.pk for r in rows]))


@rpc("DeleteBulkOperations", scope="Inputs:Patch")
def delete_bulk_operations(ctx: Context, request: service_pb2.DeleteBulkOperationRequest) -> status_pb2.BaseResponse:
    """Forget operations that have ended; one still waiting or running must be cancelled first."""
    app = get_app(ctx, request.user_app_id)
    with transaction.atomic():
        rows = _named(app, list(request.ids))
        running = [r.operation_id for r in rows if r.status_code not in bulk_tasks.ENDED]
        if running:
            raise _refuse(f"Bulk operation {', '.join(running)} has not ended: cancel it first.")
        BulkOperation.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return status_pb2.BaseResponse()

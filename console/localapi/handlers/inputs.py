"""Inputs: PostInputs, ListInputs, GetInput, PatchInputs, DeleteInput, DeleteInputs, GetInputCount.

PostInputs is all or nothing: every input is checked first, and if any is refused none is written and
each input in the answer carries its own status. Accepted inputs are 30001 (pending) until a worker
has fetched, decoded and stored them: then 30000, or 30002 with the reason.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min

from console.localapi import media, status, tasks
from console.localapi.context import Context
from console.localapi.errors import invalid, not_found
from console.localapi.fetch import FetchError, check_host, parse_url
from console.localapi.handlers import rpc
from console.localapi.handlers.common import (
    ID_PATTERN,
    check_id,
    get_app,
    merge_metadata,
    page_slice,
    patch_action,
    remove_metadata,
    struct_to_dict,
)
from console.localapi.messages import INPUT_RELATIONS, input_message, timestamp
from console.localapi.models import App, Concept, DatasetInput, Input, InputConcept, InputCount

MAX_INPUTS_PER_REQUEST = 128


class Refused(Exception):
    def __init__(self, code: status.Code, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


@dataclass
class Planned:
    """An input that passed every check, ready to be written."""

    input_id: str
    kind: str
    source_url: str = ""
    allow_duplicate_url: bool = False
    upload: bytes | None = None
    text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    concepts: dict[str, float] = field(default_factory=dict)
    dataset_ids: list[str] = field(default_factory=list)


def _check_url(url: str) -> None:
    """Refuse up front what the fetcher would refuse: a URL it cannot read, a private host in any form."""
    try:
        check_host(parse_url(url).raw_host.decode("ascii"))  # the name as it is resolved
    except FetchError as e:
        raise Refused(status.INPUT_INVALID_URL, str(e)) from None


def _concept_values(concepts: Iterable[resources_pb2.Concept]) -> dict[str, float]:
    values = {}
    for concept in concepts:
        if not ID_PATTERN.match(concept.id):
            raise Refused(status.INPUT_INVALID_ARGUMENT, f"concept id {concept.id!r} is not a valid id")
        if not 0.0 <= concept.value <= 1.0:
            raise Refused(
                status.INPUT_INVALID_ARGUMENT,
                f"concept {concept.id!r} has value {concept.value}; values are 0 (no) to 1 (yes)",
            )
        values[concept.id] = concept.value
    return values


def _plan(item: resources_pb2.Input, datasets: set[str]) -> Planned:
    if item.id and not ID_PATTERN.match(item.id):
        raise Refused(
            status.INPUT_INVALID_ARGUMENT, f"{item.id!r} is not a valid input id (letters, digits, '_', '-', '.')"
        )
    data = item.data
    plan = Planned(input_id=item.id or Input.new_id(), kind=Input.IMAGE)
    if data.HasField("video") or data.HasField("audio"):
        raise Refused(status.INPUT_UNSUPPORTED_FORMAT, "the local API stores image and text inputs only")
    if data.HasField("image"):
        image = data.image
        if image.url and image.base64:
            raise Refused(status.INPUT_INVALID_ARGUMENT, "give the image as url or as base64, not both")
        if image.url:
            _check_url(image.url)
            plan.source_url, plan.allow_duplicate_url = image.url, image.allow_duplicate_url
        elif image.base64:
            try:
                media.check_bytes(image.base64)
            except media.MediaError as e:
                raise Refused(e.code, e.details) from None
            plan.upload = image.base64
        else:
            raise Refused(status.INPUT_INVALID_ARGUMENT, "the image has neither url nor base64")
    elif data.HasField("text"):
        plan.kind = Input.TEXT
        if data.text.url:
            _check_url(data.text.url)
            plan.source_url = data.text.url
        elif data.text.raw:
            if len(data.text.raw.encode()) > settings.LOCALAPI_MAX_TEXT_BYTES:
                raise Refused(
                    status.INPUT_OVER_LIMIT, f"the text is over the limit of {settings.LOCALAPI_MAX_TEXT_BYTES:,} bytes"
                )
            plan.text = data.text.raw
        else:
            raise Refused(status.INPUT_INVALID_ARGUMENT, "the text has neither raw nor url")
    else:
        raise Refused(status.INPUT_INVALID_ARGUMENT, "the input has no data: give data.image or data.text")
    plan.concepts = _concept_values(data.concepts)
    plan.metadata = struct_to_dict(data.metadata)
    missing = [d for d in item.dataset_ids if d not in datasets]
    if missing:
        raise Refused(status.INPUT_INVALID_ARGUMENT, f"dataset {', '.join(missing)} does not exist in this app")
    plan.dataset_ids = list(dict.fromkeys(item.dataset_ids))
    return plan


def _refusal(item: resources_pb2.Input, code: status.Code, details: str) -> resources_pb2.Input:
    refused = resources_pb2.Input()
    refused.CopyFrom(item)
    refused.data.image.ClearField("base64")  # never echo megabytes back
    refused.status.CopyFrom(status.make(code, details))
    return refused


@rpc("PostInputs", scope="Inputs:Add")
def post_inputs(ctx: Context, request: service_pb2.PostInputsRequest) -> service_pb2.MultiInputResponse:
    app = get_app(ctx, request.user_app_id)
    if not request.inputs:
        raise invalid("Give at least one input in inputs.")
    if request.inputs_add_job_id:
        check_id(request.inputs_add_job_id, "inputs_add_job_id")
    if len(request.inputs) > MAX_INPUTS_PER_REQUEST:
        raise invalid(f"At most {MAX_INPUTS_PER_REQUEST} inputs per request, not {len(request.inputs)}.")
    datasets = set(app.datasets.values_list("dataset_id", flat=True))
    plans: list[Planned | Refused] = []
    for item in request.inputs:
        try:
            plans.append(_plan(item, datasets))
        except Refused as e:
            plans.append(e)
    _refuse_duplicates(app, plans)
    planned = [p for p in plans if isinstance(p, Planned)]
    if len(planned) < len(plans):
        return _refused_response(request, plans)
    created = _write(app, planned, request.inputs_add_job_id)
    return service_pb2.MultiInputResponse(inputs=[input_message(i, ctx.origin) for i in created])


def _refuse_duplicates(app: App, plans: list[Planned | Refused]) -> None:
    ids = [p.input_id for p in plans if isinstance(p, Planned)]
    existing = set(Input.objects.filter(app=app, input_id__in=ids).values_list("input_id", flat=True))
    seen: set[str] = set()
    for i, plan in enumerate(plans):
        if not isinstance(plan, Planned):
            continue
        if plan.input_id in existing:
            plans[i] = Refused(status.INPUT_DUPLICATE, f"an input with id {plan.input_id!r} already exists in this app")
        elif plan.input_id in seen:
            plans[i] = Refused(
                status.INPUT_DUPLICATE, f"id {plan.input_id!r} is given to more than one input in this request"
            )
        seen.add(plan.input_id)


def _refused_response(
    request: service_pb2.PostInputsRequest, plans: list[Planned | Refused]
) -> service_pb2.MultiInputResponse:
    refused = sum(isinstance(p, Refused) for p in plans)
    response = service_pb2.MultiInputResponse(
        status=status.make(status.FAILURE, f"{refused} of {len(plans)} inputs were refused; nothing was added.")
    )
    for item, plan in zip(request.inputs, plans, strict=True):
        if isinstance(plan, Refused):
            response.inputs.append(_refusal(item, plan.code, plan.details))
        else:
            response.inputs.append(
                _refusal(item, status.FAILURE, "not added, because another input in this request was refused")
            )
            response.inputs[-1].id = plan.input_id
    return response


def _ensure_concepts(app: App, concept_ids: set[str]) -> dict[str, Concept]:
    """The app's concepts with these ids, creating those that do not exist yet (as the real API does)."""
    found = {c.concept_id: c for c in app.concepts.filter(concept_id__in=concept_ids)}
    new = [
        Concept(app=app, concept_id=cid, name=cid, language=app.default_language) for cid in concept_ids - found.keys()
    ]
    if new:
        Concept.objects.bulk_create(new, ignore_conflicts=True)
        found = {c.concept_id: c for c in app.concepts.filter(concept_id__in=concept_ids)}
    return found


def _write(app: App, plans: list[Planned], inputs_add_job_id: str = "") -> list[Input]:
    written: list[str] = []
    try:
        with transaction.atomic():
            concepts = _ensure_concepts(app, {cid for p in plans for cid in p.concepts})
            datasets = {
                d.dataset_id: d for d in app.datasets.filter(dataset_id__in={d for p in plans for d in p.dataset_ids})
            }
            created = []
            for plan in plans:
                media_key = Input.new_id() if plan.kind == Input.IMAGE else ""
                if plan.upload is not None:
                    name = media.path(app.pk, media_key, media.UPLOAD)
                    media.put(name, plan.upload)
                    written.append(name)
                item = Input.objects.create(
                    app=app,
                    input_id=plan.input_id,
                    kind=plan.kind,
                    source_url=plan.source_url,
                    allow_duplicate_url=plan.allow_duplicate_url,
                    media_key=media_key,
                    text=plan.text,
                    metadata=plan.metadata,
                    inputs_add_job_id=inputs_add_job_id or None,
                )
                InputConcept.objects.bulk_create(
                    [InputConcept(input=item, concept=concepts[cid], value=v) for cid, v in plan.concepts.items()]
                )
                DatasetInput.objects.bulk_create(
                    [DatasetInput(dataset=datasets[d], input=item) for d in plan.dataset_ids]
                )
                created.append(item.pk)
            tasks.enqueue_inputs(created)
            # Read back before commit: once it commits, workers may already be changing these rows.
            return list(Input.objects.filter(pk__in=created).prefetch_related(*INPUT_RELATIONS).order_by("id"))
    except BaseException:
        for name in written:
            media.delete(name)
        raise


@rpc("ListInputs", scope="Inputs:Get")
def list_inputs(ctx: Context, request: service_pb2.ListInputsRequest) -> service_pb2.MultiInputResponse:
    app = get_app(ctx, request.user_app_id)
    inputs = Input.objects.filter(app=app)
    if request.status.code:
        inputs = inputs.filter(status_code=request.status.code)
    if request.ids:
        inputs = inputs.filter(input_id__in=list(request.ids))
    # Find the page's keys on the index first, then load just those rows: the cost of a deep page is a
    # walk over index entries, and the number of queries does not depend on the page size.
    wanted = page_slice(request.page, request.per_page)
    total = None if request.ids else _counted(app, request.status.code)
    if total is not None and wanted.start >= total:
        pks = []
    elif total is not None and wanted.start > total // 2:
        # Past the middle, the walk is shorter from the oldest end: the counters say where that is.
        oldest = inputs.order_by("id").values_list("pk", flat=True)[max(total - wanted.stop, 0) : total - wanted.start]
        pks = list(oldest)[::-1]
    else:
        pks = list(inputs.order_by("-id").values_list("pk", flat=True)[wanted])
    rows = Input.objects.filter(pk__in=pks).order_by("-id").prefetch_related(*INPUT_RELATIONS)
    return service_pb2.MultiInputResponse(inputs=[input_message(i, ctx.origin) for i in rows])


def _counted(app: App, status_code: int) -> int:
    """How many inputs the app has (in this status, if given), from the counters the triggers keep."""
    counts = InputCount.objects.filter(app=app)
    if status_code:
        counts = counts.filter(status_code=status_code)
    return sum(counts.values_list("inputs", flat=True))


def _get_input(app: App, input_id: str) -> Input:
    item = Input.objects.filter(app=app, input_id=input_id).prefetch_related(*INPUT_RELATIONS).first()
    if item is None:
        raise not_found(f"Input {input_id!r}")
    return item


@rpc("GetInput", scope="Inputs:Get")
def get_input(ctx: Context, request: service_pb2.GetInputRequest) -> service_pb2.SingleInputResponse:
    app = get_app(ctx, request.user_app_id)
    return service_pb2.SingleInputResponse(input=input_message(_get_input(app, request.input_id), ctx.origin))


@rpc("GetInputCount", scope="Inputs:Get")
def get_input_count(ctx: Context, request: service_pb2.GetInputCountRequest) -> service_pb2.SingleInputCountResponse:
    app = get_app(ctx, request.user_app_id)
    # Kept by triggers as inputs come, change and go (models.InputCount): a few rows, whatever the size.
    by_status = dict(InputCount.objects.filter(app=app).values_list("status_code", "inputs"))
    counts = resources_pb2.InputCount(
        processed=by_status.get(status.INPUT_SUCCESS, 0),
        to_process=by_status.get(status.INPUT_PENDING, 0),
        errors=by_status.get(status.INPUT_FAILED, 0),
        processing=by_status.get(status.INPUT_IN_PROGRESS, 0),
    )
    return service_pb2.SingleInputCountResponse(counts=counts)


def _patch_concepts(app: App, item: Input, given: dict[str, float], action: str) -> None:
    if action == "overwrite":
        item.input_concepts.all().delete()
    if action == "remove":
        item.input_concepts.filter(concept__concept_id__in=given.keys()).delete()
        return
    concepts = _ensure_concepts(app, set(given))
    for concept_id, value in given.items():
        InputConcept.objects.update_or_create(input=item, concept=concepts[concept_id], defaults={"value": value})


def _patch_datasets(app: App, item: Input, dataset_ids: list[str], action: str) -> None:
    datasets = {d.dataset_id: d for d in app.datasets.filter(dataset_id__in=dataset_ids)}
    missing = [d for d in dataset_ids if d not in datasets]
    if missing:
        raise not_found(f"Dataset {', '.join(missing)}")
    if action == "remove":
        DatasetInput.objects.filter(input=item, dataset__in=datasets.values()).delete()
        return
    if action == "overwrite":
        DatasetInput.objects.filter(input=item).exclude(dataset__in=datasets.values()).delete()
    DatasetInput.objects.bulk_create(
        [DatasetInput(dataset=d, input=item) for d in datasets.values()], ignore_conflicts=True
    )


@rpc("PatchInputs", scope="Inputs:Patch")
def patch_inputs(ctx: Context, request: service_pb2.PatchInputsRequest) -> service_pb2.MultiInputResponse:
    """merge adds and updates concepts and metadata keys; remove takes away the concepts and keys given;
    overwrite replaces the concepts (an empty list clears them) and, when given, the metadata."""
    app = get_app(ctx, request.user_app_id)
    action = patch_action(request.action)
    if not request.inputs:
        raise invalid("Give at least one input in inputs.")
    with transaction.atomic():
        items = {
            i.input_id: i
            for i in Input.objects.select_for_update().filter(app=app, input_id__in=[p.id for p in request.inputs])
        }
        missing = [p.id for p in request.inputs if p.id not in items]
        if missing:
            raise not_found(f"Input {', '.join(repr(m) for m in missing)}")
        for patch in request.inputs:
            item = items[patch.id]
            try:
                given = _concept_values(patch.data.concepts)
            except Refused as e:
                raise invalid(f"Input {patch.id!r}: {e.details}.") from None
            if given or action == "overwrite":
                _patch_concepts(app, item, given, action)
            if patch.data.HasField("metadata"):
                new = struct_to_dict(patch.data.metadata)
                item.metadata = {"merge": merge_metadata, "remove": remove_metadata}.get(action, lambda _, n: n)(
                    item.metadata, new
                )
            if patch.dataset_ids:
                _patch_datasets(app, item, list(patch.dataset_ids), action)
            item.save(update_fields=["metadata", "modified_at"])
    rows = Input.objects.filter(pk__in=[i.pk for i in items.values()]).prefetch_related(*INPUT_RELATIONS)
    by_id = {i.input_id: i for i in rows}
    return service_pb2.MultiInputResponse(inputs=[input_message(by_id[p.id], ctx.origin) for p in request.inputs])


def _delete(app: App, inputs: list[Input]) -> None:
    keys = [i.media_key for i in inputs if i.media_key]
    Input.objects.filter(pk__in=[i.pk for i in inputs]).delete()
    if keys:
        tasks.enqueue(tasks.delete_media, app.pk, keys)


@rpc("DeleteInput", scope="Inputs:Delete")
def delete_input(ctx: Context, request: service_pb2.DeleteInputRequest) -> status_pb2.BaseResponse:
    app = get_app(ctx, request.user_app_id)
    with transaction.atomic():
        item = Input.objects.filter(app=app, input_id=request.input_id).first()
        if item is None:
            raise not_found(f"Input {request.input_id!r}")
        _delete(app, [item])
    return status_pb2.BaseResponse()


@rpc("DeleteInputs", scope="Inputs:Delete")
def delete_inputs(ctx: Context, request: service_pb2.DeleteInputsRequest) -> status_pb2.BaseResponse:
    """Ids that do not exist are skipped: deleting twice is not an error."""
    app = get_app(ctx, request.user_app_id)
    if not request.ids:
        raise invalid("Give the ids of the inputs to delete.")
    with transaction.atomic():
        _delete(app, list(Input.objects.filter(app=app, input_id__in=list(request.ids))))
    return status_pb2.BaseResponse()


def _progress_kind(code: int) -> str:
    if code == status.INPUT_PENDING:
        return "pending"
    if code == status.INPUT_IN_PROGRESS:
        return "in_progress"
    return "success" if code == status.INPUT_SUCCESS else "failed"


def posted_job(app: App, job_id: str) -> resources_pb2.InputsAddJob | None:
    """The inputs-add job of the PostInputs calls that gave `job_id`, its progress read from their inputs'
    states (the SDK's upload_dataset waits on it, then deletes what failed); None when no input has it."""
    if not job_id:
        return None
    rows = (
        Input.objects.filter(app=app, inputs_add_job_id=job_id)
        .values("status_code")
        .annotate(n=Count("id"), first=Min("created_at"), last=Max("modified_at"))
    )
    counts = {"pending": 0, "in_progress": 0, "success": 0, "failed": 0}
    first, last = None, None
    for row in rows:
        counts[_progress_kind(row["status_code"])] += row["n"]
        first = row["first"] if first is None else min(first, row["first"])
        last = row["last"] if last is None else max(last, row["last"])
    if first is None or last is None:
        return None
    waiting = counts["pending"] + counts["in_progress"]
    code = status.JOB_RUNNING if waiting else status.JOB_COMPLETED
    details = f"{waiting:,} inputs are still being processed." if waiting else "Every input has been processed."
    return resources_pb2.InputsAddJob(
        id=job_id,
        progress=resources_pb2.InputsAddJobProgress(
            pending_count=counts["pending"],
            in_progress_count=counts["in_progress"],
            success_count=counts["success"],
            failed_count=counts["failed"],
        ),
        created_at=timestamp(first),
        modified_at=timestamp(last),
        status=status.make(code, details),
    )

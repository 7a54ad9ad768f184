"""Annotations: PostAnnotations, ListAnnotations, GetAnnotation, PatchAnnotations, DeleteAnnotation,
DeleteAnnotations, PatchAnnotationsStatus, ListAnnotationWorkers.

An annotation is what one user says about one input: concepts (value 1 present, 0 absent) and, for
bounding-box tasks, regions with their concepts. In a task (`task_id`) it is the labeler's draft
(ANNOTATION_PENDING) until they submit the input (PutTaskAssignments LABEL_SUBMIT); only the labeler the
input is assigned to may post it, and only with the task's concepts; posting again replaces the draft.
Without a task, only the app's owner posts, and the annotation is approved at once (ANNOTATION_SUCCESS).
An approved annotation is merged into its input's own labels (see console.localapi.labeling).
"""

from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from google.protobuf import json_format

from console.localapi import labeling, status
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid
from console.localapi.handlers import rpc
from console.localapi.handlers.common import check_id, page_slice, paginate, struct_to_dict
from console.localapi.messages import annotation_message, user_message
from console.localapi.models import Annotation, App, Input, Task, TaskAssignment, TaskMember, User

EDITABLE_BY_LABELER = (status.ANNOTATION_PENDING,)
STATUSES = (
    status.ANNOTATION_SUCCESS,
    status.ANNOTATION_PENDING,
    status.ANNOTATION_AWAITING_REVIEW,
    status.ANNOTATION_AWAITING_CONSENSUS_REVIEW,
    status.ANNOTATION_REVIEW_DENIED,
)


def _refuse(details: str) -> ApiError:
    return ApiError(status.ANNOTATION_INVALID_ARGUMENT, details=details)


def _concepts(concepts: Any, where: str) -> list[dict[str, Any]]:
    out = []
    for n, concept in enumerate(concepts):
        if not concept.id:
            raise _refuse(f"{where}.concepts[{n}] needs an id.")
        out.append({"id": concept.id, "value": 1.0 if concept.value > 0 else 0.0})
    return out


def read_data(data: resources_pb2.Data, where: str) -> dict[str, Any]:
    """The part of Data an annotation keeps (concepts, and bounding-box regions with concepts); anything
    else is refused rather than dropped."""
    others = [f.name for f, _ in data.ListFields() if f.name not in ("concepts", "regions")]
    if others:
        raise _refuse(f"{where}.data may hold concepts and regions (bounding boxes) only, not {', '.join(others)}.")
    stored: dict[str, Any] = {"concepts": _concepts(data.concepts, f"{where}.data")}
    regions = []
    for n, region in enumerate(data.regions):
        box = region.region_info.bounding_box
        if not region.region_info.HasField("bounding_box"):
            raise _refuse(f"{where}.data.regions[{n}] needs region_info.bounding_box.")
        if not (0 <= box.left_col < box.right_col <= 1 and 0 <= box.top_row < box.bottom_row <= 1):
            raise _refuse(
                f"{where}.data.regions[{n}].region_info.bounding_box must have 0 <= left_col < right_col <= 1 "
                "and 0 <= top_row < bottom_row <= 1."
            )
        entry: dict[str, Any] = {
            "region_info": {"bounding_box": json_format.MessageToDict(box, preserving_proto_field_name=True)},
            "data": {"concepts": _concepts(region.data.concepts, f"{where}.data.regions[{n}].data")},
        }
        if region.id:
            entry["id"] = region.id
        regions.append(entry)
    if regions:
        stored["regions"] = regions
    return stored


def concept_ids_of(data: dict[str, Any]) -> set[str]:
    ids = {c["id"] for c in data.get("concepts", [])}
    for region in data.get("regions", []):
        ids |= {c["id"] for c in region["data"]["concepts"]}
    return ids


def _check_concepts(app: App, task: Task | None, data: dict[str, Any], where: str) -> None:
    ids = concept_ids_of(data)
    if task is not None:
        outside = sorted(ids - set(task.concept_ids))
        if outside:
            raise _refuse(
                f"{where}: concept {', '.join(repr(c) for c in outside)} is not one of task {task.task_id!r}'s "
                f"concepts ({', '.join(task.concept_ids)})."
            )
    known = set(app.concepts.filter(concept_id__in=ids).values_list("concept_id", flat=True))
    missing = sorted(ids - known)
    if missing:
        raise _refuse(f"{where}: concept {', '.join(repr(c) for c in missing)} does not exist in app {app.app_id!r}.")


def _messages(app: App, rows: list[Annotation]) -> list[resources_pb2.Annotation]:
    ids = set().union(*(concept_ids_of(a.data) for a in rows)) if rows else set()
    names = dict(app.concepts.filter(concept_id__in=ids).values_list("concept_id", "name"))
    return [annotation_message(a, names) for a in rows]


def _visible(app: App, ctx: Context, owner: bool) -> QuerySet[Annotation]:
    """The owner sees every annotation of the app; a task's member sees those of their tasks."""
    rows = Annotation.objects.filter(app=app).select_related("input", "task")
    if not owner:
        rows = rows.filter(task__in=Task.objects.filter(app=app, members__user=ctx.user).values("pk"))
    return rows


# Posting


@rpc("PostAnnotations", scope="Annotations:Add")
def post_annotations(ctx: Context, request: service_pb2.PostAnnotationsRequest) -> service_pb2.MultiAnnotationResponse:
    """All or nothing: everything is checked before anything is written."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    if not request.annotations:
        raise invalid("Give at least one annotation in annotations.")
    with transaction.atomic():
        planned = [_plan(app, ctx, owner, given, f"annotations[{n}]") for n, given in enumerate(request.annotations)]
        ids = [p.annotation_id for p in planned if p._state.adding]
        taken = set(app.annotations.filter(annotation_id__in=ids).values_list("annotation_id", flat=True))
        if taken or len(set(ids)) != len(ids):
            raise ApiError(
                status.DATABASE_DUPLICATE_KEY,
                details=f"Annotation {', '.join(sorted(taken) or ids)} already exists or is given twice.",
            )
        for annotation in planned:
            annotation.save()
            if annotation.status_code == status.ANNOTATION_SUCCESS:
                labeling.apply_to_input(annotation)
    return service_pb2.MultiAnnotationResponse(annotations=_messages(app, planned))


def _plan(app: App, ctx: Context, owner: bool, given: resources_pb2.Annotation, where: str) -> Annotation:
    if not given.input_id:
        raise _refuse(f"{where} needs input_id.")
    item = Input.objects.filter(app=app, input_id=given.input_id).first()
    if item is None:
        raise ApiError(status.INPUT_DOES_NOT_EXIST, details=f"{where}: there is no input {given.input_id!r}.")
    data = read_data(given.data, where)
    info = struct_to_dict(given.annotation_info)
    if given.id:
        check_id(given.id, "Annotation id")
    if not given.task_id:
        if not owner:
            raise ApiError(
                status.ANNOTATION_PERMISSION_DENIED,
                details=f"{where}: only the app's owner annotates outside a task; give your task_id.",
            )
        _check_concepts(app, None, data, where)
        return Annotation(
            app=app,
            input=item,
            annotation_id=given.id or Input.new_id(),
            user=ctx.user,
            data=data,
            annotation_info=info,
            status_code=status.ANNOTATION_SUCCESS,
        )
    task = labeling.get_task(app, given.task_id, ctx, owner)
    labeling.check_in_progress(task)
    assignment = TaskAssignment.objects.filter(task=task, input=item, worker=ctx.user).first()
    if assignment is None:
        raise ApiError(
            status.ANNOTATION_PERMISSION_DENIED,
            details=f"{where}: input {item.input_id!r} is not assigned to you ({ctx.user.id!r}) in task "
            f"{task.task_id!r}; ask for your inputs with ListNextTaskAssignments.",
        )
    if assignment.status_code != status.TASK_ASSIGNMENT_PENDING:
        raise ApiError(
            status.TASK_CONFLICT,
            details=f"{where}: you submitted input {item.input_id!r} already "
            f"({status.description(assignment.status_code).lower()}); it cannot change now.",
        )
    _check_concepts(app, task, data, where)
    draft = Annotation.objects.filter(
        task=task, input=item, user=ctx.user, status_code=status.ANNOTATION_PENDING
    ).first()
    if draft is not None:  # posting again replaces the draft (the reviewer's reason stays until submitted)
        draft.data, draft.annotation_info = data, info or draft.annotation_info
        draft.app = app
        return draft
    return Annotation(
        app=app,
        input=item,
        annotation_id=given.id or Input.new_id(),
        task=task,
        user=ctx.user,
        data=data,
        annotation_info=info,
        status_code=status.ANNOTATION_PENDING,
    )


# Reading


def _status_codes(request: service_pb2.ListAnnotationsRequest) -> list[int]:
    return [s.code for s in request.statuses if s.code]


@rpc("ListAnnotations", scope="Annotations:Get")
def list_annotations(ctx: Context, request: service_pb2.ListAnnotationsRequest) -> service_pb2.MultiAnnotationResponse:
    """Newest first, by ids, input_ids, user_ids, statuses and task_id (all given filters apply)."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    rows = _visible(app, ctx, owner)
    if request.ids:
        rows = rows.filter(annotation_id__in=list(request.ids))
    if request.input_ids:
        rows = rows.filter(input__input_id__in=list(request.input_ids))
    if request.user_ids:
        rows = rows.filter(user_id__in=[ctx.resolve_user_id(u) for u in request.user_ids])
    codes = _status_codes(request)
    if codes:
        rows = rows.filter(status_code__in=codes)
    if request.task_id:
        task = labeling.get_task(app, request.task_id, ctx, owner)
        rows = rows.filter(task=task)
    page = paginate(rows.order_by("-id"), request.page, request.per_page)
    return service_pb2.MultiAnnotationResponse(annotations=_messages(app, page))


def _one(app: App, ctx: Context, owner: bool, input_id: str, annotation_id: str) -> Annotation:
    found = _visible(app, ctx, owner).filter(annotation_id=annotation_id, input__input_id=input_id).first()
    if found is None:
        raise ApiError(
            status.CONN_DOES_NOT_EXIST,
            details=f"There is no annotation {annotation_id!r} of input {input_id!r} in app {app.app_id!r}.",
        )
    return found


@rpc("GetAnnotation", scope="Annotations:Get")
def get_annotation(ctx: Context, request: service_pb2.GetAnnotationRequest) -> service_pb2.SingleAnnotationResponse:
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    found = _one(app, ctx, owner, request.input_id, request.annotation_id)
    return service_pb2.SingleAnnotationResponse(annotation=_messages(app, [found])[0])


# Changing


def _may_change(annotation: Annotation, ctx: Context, owner: bool) -> str:
    """Who the caller is to this annotation: "owner" of the app, its "labeler" (while a draft), or a
    "reviewer" of its task (while it awaits review; never their own work)."""
    if owner:
        return "owner"
    mine = annotation.user_id == ctx.user.id
    if mine and annotation.status_code in EDITABLE_BY_LABELER:
        return "labeler"
    task = annotation.task
    if task is not None and labeling.is_member(task, ctx.user, TaskMember.REVIEWER):
        if mine:
            raise ApiError(status.TASK_PERMISSION_DENIED, details="You cannot review your own work.")
        if annotation.status_code in labeling.ANNOTATION_AWAITING:
            return "reviewer"
    raise ApiError(
        status.ANNOTATION_PERMISSION_DENIED,
        details=f"You ({ctx.user.id!r}) cannot change annotation {annotation.annotation_id!r} now "
        f"({status.description(annotation.status_code).lower()}).",
    )


def _merge(stored: dict[str, Any], given: dict[str, Any], action: str) -> dict[str, Any]:
    if action == "overwrite":
        return given
    concepts = {c["id"]: c for c in stored.get("concepts", [])}
    for concept in given.get("concepts", []):
        if action == "remove":
            concepts.pop(concept["id"], None)
        else:
            concepts[concept["id"]] = concept
    merged = {**stored, "concepts": list(concepts.values())}
    if action == "merge" and given.get("regions"):
        merged["regions"] = [*stored.get("regions", []), *given["regions"]]
    return merged


@rpc("PatchAnnotations", scope="Annotations:Patch")
def patch_annotations(
    ctx: Context, request: service_pb2.PatchAnnotationsRequest
) -> service_pb2.MultiAnnotationResponse:
    """Change annotations' data (`merge`: concepts given replace those of the same id, regions are added;
    `overwrite`: the data given replaces all; `remove`: the concepts given go) and, for the app's owner
    and reviewers, their status. All or nothing."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    action = request.action or "merge"
    if action not in ("merge", "overwrite", "remove"):
        raise invalid(f"action must be merge, overwrite or remove, not {request.action!r}.")
    if not request.annotations:
        raise invalid("Give at least one annotation in annotations.")
    changed = []
    with transaction.atomic():
        for n, given in enumerate(request.annotations):
            where = f"annotations[{n}]"
            if not given.id:
                raise _refuse(f"{where} needs id.")
            found = _visible(app, ctx, owner).filter(annotation_id=given.id)
            if given.input_id:
                found = found.filter(input__input_id=given.input_id)
            annotation = found.first()
            if annotation is None:
                raise ApiError(status.CONN_DOES_NOT_EXIST, details=f"{where}: there is no annotation {given.id!r}.")
            role = _may_change(annotation, ctx, owner)
            if given.HasField("data"):
                data = read_data(given.data, where)
                _check_concepts(app, annotation.task, data, where)
                annotation.data = _merge(annotation.data, data, action)
                if request.delete_if_empty_data and not concept_ids_of(annotation.data):
                    annotation.delete()
                    continue
            if given.HasField("annotation_info"):
                annotation.annotation_info = struct_to_dict(given.annotation_info)
            if given.status.code and given.status.code != annotation.status_code:
                if role == "labeler":
                    raise ApiError(
                        status.ANNOTATION_PERMISSION_DENIED,
                        details=f"{where}: a labeler submits work with PutTaskAssignments, not by its status.",
                    )
                if given.status.code not in STATUSES:
                    raise _refuse(f"{where}: status {status.name(given.status.code)} is not an annotation status.")
                annotation.status_code = given.status.code
                annotation.status_details = given.status.details
                annotation.reviewed_by = ctx.user.id
                if annotation.task is not None:
                    labeling.sync_assignments(annotation.task, [annotation], given.status.code, ctx.user.id)
            annotation.save()
            if annotation.status_code == status.ANNOTATION_SUCCESS:
                labeling.apply_to_input(annotation)
            changed.append(annotation)
    return service_pb2.MultiAnnotationResponse(annotations=_messages(app, changed))


@rpc("PatchAnnotationsStatus", scope="Annotations:Patch")
def patch_annotations_status(
    ctx: Context, request: service_pb2.PatchAnnotationsStatusRequest
) -> service_pb2.PatchAnnotationsStatusResponse:
    """Set the status of a task's annotations by the given labelers (user_ids) that are in one of
    status_codes (any, when none are given) to status_code: approve or reject a labeler's work at once.
    The task's reviewers and the app's owner may; nobody for their own annotations."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    task = labeling.get_task(app, request.task_id, ctx, owner)
    labeling.may_review(task, ctx, owner)
    if request.status_code not in STATUSES:
        raise _refuse(f"status_code must be an annotation status, not {status.name(request.status_code)}.")
    users = [ctx.resolve_user_id(u) for u in request.user_ids]
    if not users:
        raise invalid("Give the labelers whose annotations change in user_ids.")
    if ctx.user.id in users:
        raise ApiError(status.TASK_PERMISSION_DENIED, details="You cannot review your own work.")
    with transaction.atomic():
        rows = Annotation.objects.select_for_update().filter(task=task, user_id__in=users)
        if request.status_codes:
            rows = rows.filter(status_code__in=list(request.status_codes))
        changed = list(rows)
        Annotation.objects.filter(pk__in=[a.pk for a in changed]).update(
            status_code=request.status_code, reviewed_by=ctx.user.id, modified_at=timezone.now()
        )
        labeling.sync_assignments(task, changed, request.status_code, ctx.user.id)
        if request.status_code == status.ANNOTATION_SUCCESS:
            for annotation in Annotation.objects.filter(pk__in=[a.pk for a in changed]):
                labeling.apply_to_input(annotation)
    return service_pb2.PatchAnnotationsStatusResponse(
        user_ids=sorted({a.user_id for a in changed}), updated_count=len(changed)
    )


# Deleting


def _may_delete(annotation: Annotation, ctx: Context, owner: bool) -> None:
    if owner or (annotation.user_id == ctx.user.id and annotation.status_code == status.ANNOTATION_PENDING):
        return
    raise ApiError(
        status.ANNOTATION_PERMISSION_DENIED,
        details=f"You ({ctx.user.id!r}) may delete only your own drafts, not annotation {annotation.annotation_id!r}.",
    )


@rpc("DeleteAnnotation", scope="Annotations:Delete")
def delete_annotation(ctx: Context, request: service_pb2.DeleteAnnotationRequest) -> status_pb2.BaseResponse:
    """Delete one annotation; the labels an approved one gave its input stay."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    with transaction.atomic():
        found = _one(app, ctx, owner, request.input_id, request.annotation_id)
        _may_delete(found, ctx, owner)
        found.delete()
    return status_pb2.BaseResponse()


@rpc("DeleteAnnotations", scope="Annotations:Delete")
def delete_annotations(ctx: Context, request: service_pb2.DeleteAnnotationsRequest) -> status_pb2.BaseResponse:
    """Delete annotations by id (with input_ids beside them: each of its input), or every annotation the
    caller may delete of the inputs given. All or nothing."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    if not request.ids and not request.input_ids:
        raise invalid("Give the annotations to delete in ids, or their inputs in input_ids.")
    with transaction.atomic():
        rows = _visible(app, ctx, owner)
        if request.ids:
            rows = rows.filter(annotation_id__in=list(request.ids))
            found = list(rows)
            missing = set(request.ids) - {a.annotation_id for a in found}
            if missing:
                raise ApiError(
                    status.CONN_DOES_NOT_EXIST, details=f"There is no annotation {', '.join(sorted(missing))}."
                )
        else:
            found = list(rows.filter(input__input_id__in=list(request.input_ids)))
            if not owner:
                found = [a for a in found if a.user_id == ctx.user.id]
        for annotation in found:
            _may_delete(annotation, ctx, owner)
        Annotation.objects.filter(pk__in=[a.pk for a in found]).delete()
    return status_pb2.BaseResponse()


@rpc("ListAnnotationWorkers", scope="Annotations:Get")
def list_annotation_workers(
    ctx: Context, request: service_pb2.ListAnnotationWorkersRequest
) -> service_pb2.MultiWorkerResponse:
    """The users who annotated inputs of the app (the owner sees all; a task's member those of their
    tasks), those with the most annotations first."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    ids = (
        _visible(app, ctx, owner)
        .order_by()
        .values("user")
        .annotate(n=Count("id"))
        .order_by("-n", "user")
        .values_list("user", flat=True)
    )
    page = list(ids[page_slice(request.page, request.per_page)])
    users = User.objects.in_bulk(page)
    response = service_pb2.MultiWorkerResponse()
    for user_id in page:
        if user_id in users:
            response.workers.add().user.CopyFrom(user_message(users[user_id]))
    return response

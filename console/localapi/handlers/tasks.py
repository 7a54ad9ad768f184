"""Labeling tasks and their work: PostTasks, ListTasks, GetTask, PatchTasks, DeleteTasks,
ListNextTaskAssignments, PutTaskAssignments, GetTaskAnnotationCount, GetTaskInputCount.

The rules of the work (who gets which input, what submitting and reviewing do) are in
console.localapi.labeling. A task's labelers and reviewers reach it in the owner's app by naming the
owner in `user_app_id.user_id`; only the owner creates, changes or deletes tasks.
"""

from collections import defaultdict

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.db import transaction
from django.db.models import Count

from console.localapi import labeling, status
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.handlers import rpc
from console.localapi.handlers.common import check_id, paginate, struct_to_dict
from console.localapi.messages import INPUT_RELATIONS, TaskCounts, assignment_message, input_message, task_message
from console.localapi.models import (
    Annotation,
    App,
    Dataset,
    Input,
    Task,
    TaskAssignment,
    TaskMember,
    User,
)

TaskPb = resources_pb2.Task
Action = service_pb2.PutTaskAssignmentsRequestAction
SETTABLE_STATUSES = (status.TASK_IN_PROGRESS, status.TASK_IDLE, status.TASK_DONE, status.TASK_WONT_DO)


# Reading a task from a request


def _worker_ids(worker: resources_pb2.TaskWorker) -> list[str]:
    ids = [w.user.id for w in worker.workers if w.WhichOneof("worker") == "user"]
    if any(w.WhichOneof("worker") not in (None, "user") for w in worker.workers):
        raise invalid("The local API's tasks are labelled by people: give workers[].user.id, not models or workflows.")
    return list(dict.fromkeys([*ids, *worker.user_ids, *(u.id for u in worker.users)]))


def _reviewer_ids(review: resources_pb2.TaskReview) -> list[str]:
    return list(dict.fromkeys([*(u.id for u in review.users), *review.user_ids]))


def _known_users(ids: list[str], what: str) -> None:
    found = set(User.objects.filter(id__in=ids).values_list("id", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise not_found(f"{what} {', '.join(repr(m) for m in missing)} (no such user)")


def _concept_ids(app: App, given: resources_pb2.Task) -> list[str]:
    ids = list(dict.fromkeys([*(c.concept.id for c in given.concepts), *given.concept_ids]))
    if not ids:
        raise invalid("A task needs at least one concept: give concepts[].concept.id.")
    found = set(app.concepts.filter(concept_id__in=ids).values_list("concept_id", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise not_found(f"Concept {', '.join(repr(m) for m in missing)} in app {app.app_id!r}")
    return ids


def _source(app: App, given: resources_pb2.TaskInputSource) -> tuple[int, Dataset | None, str]:
    kind = given.type or labeling.DATASET
    if kind == labeling.ALL_INPUTS:
        if not Input.objects.filter(app=app, status_code=status.INPUT_SUCCESS).exists():
            raise invalid(f"App {app.app_id!r} has no processed inputs to label.")
        return kind, None, ""
    if kind != labeling.DATASET:
        name = resources_pb2.TaskInputSource.TaskInputSourceType.Name(
            resources_pb2.TaskInputSource.TaskInputSourceType.ValueType(kind)
        )
        raise invalid(f"The local API's tasks label a dataset (DATASET) or the whole app (ALL_INPUTS), not {name}.")
    if not given.id:
        raise invalid("A task over a dataset needs its id: give input_source.id.")
    dataset = app.datasets.filter(dataset_id=given.id).first()
    if dataset is None:
        raise not_found(f"Dataset {given.id!r} in app {app.app_id!r}")
    if not Input.objects.filter(datasets=dataset, status_code=status.INPUT_SUCCESS).exists():
        raise invalid(f"Dataset {given.id!r} has no processed inputs to label: add inputs to it first.")
    return kind, dataset, given.id


def _worker_strategy(given: resources_pb2.TaskWorker, workers: list[str]) -> tuple[int, int]:
    strategy = given.strategy or labeling.FULL
    if strategy not in (labeling.FULL, labeling.PARTITIONED):
        name = resources_pb2.TaskWorker.TaskWorkerStrategy.Name(
            resources_pb2.TaskWorker.TaskWorkerStrategy.ValueType(strategy)
        )
        raise invalid(f"worker.strategy must be FULL or PARTITIONED, not {name}.")
    if not workers:
        raise invalid("A task needs at least one labeler: give worker.workers[].user.id.")
    if strategy == labeling.FULL:
        return strategy, 1
    info = given.partitioned_strategy_info
    if info.type == resources_pb2.TaskWorkerPartitionedStrategyInfo.WEIGHTED:
        raise invalid("Partitioning by weights (WEIGHTED) is not supported by the local API; use EVENLY.")
    per_input = info.workers_per_input or 1
    if not 1 <= per_input <= len(workers):
        raise invalid(
            f"workers_per_input must be between 1 and the number of labelers ({len(workers)}), not {per_input}."
        )
    return strategy, per_input


def _review(given: resources_pb2.TaskReview, reviewers: list[str], labelers_per_input: int) -> tuple[int, int]:
    strategy = given.strategy or labeling.REVIEW_NONE
    if strategy not in (labeling.REVIEW_NONE, labeling.REVIEW_MANUAL, labeling.REVIEW_CONSENSUS):
        raise invalid(f"review.strategy must be NONE, MANUAL or CONSENSUS, not {strategy}.")
    if strategy != labeling.REVIEW_NONE and not reviewers:
        raise invalid("MANUAL and CONSENSUS review need at least one reviewer: give review.users[].id.")
    if strategy != labeling.REVIEW_CONSENSUS:
        return strategy, 0
    info = given.consensus_strategy_info
    threshold = info.approval_threshold_labelers or info.approval_threshold
    if not 1 <= threshold <= labelers_per_input:
        raise invalid(
            "CONSENSUS needs consensus_strategy_info.approval_threshold_labelers between 1 and the labelers of "
            f"each input ({labelers_per_input}), not {threshold}."
        )
    return strategy, threshold


def _set_members(task: Task, workers: list[str], reviewers: list[str]) -> None:
    task.members.all().delete()
    TaskMember.objects.bulk_create(
        [TaskMember(task=task, user_id=u, role=TaskMember.WORKER, position=n) for n, u in enumerate(workers)]
        + [TaskMember(task=task, user_id=u, role=TaskMember.REVIEWER, position=n) for n, u in enumerate(reviewers)]
    )


def _task_type(given: resources_pb2.Task) -> int:
    kind = given.type or labeling.CONCEPTS_CLASSIFICATION
    if kind not in (labeling.CONCEPTS_CLASSIFICATION, labeling.BOUNDING_BOX_DETECTION):
        raise invalid(
            "type must be CONCEPTS_CLASSIFICATION or BOUNDING_BOX_DETECTION, "
            f"not {TaskPb.TaskType.Name(TaskPb.TaskType.ValueType(kind))}."
        )
    return kind


# Answers


def counts(task: Task) -> TaskCounts:
    total = labeling.source_inputs(task).count() if task.dataset_id or task.input_source_type != labeling.DATASET else 0
    done = (
        TaskAssignment.objects.filter(task=task)
        .exclude(status_code=status.TASK_ASSIGNMENT_PENDING)
        .values("input")
        .annotate(n=Count("id"))
        .filter(n__gte=labeling.labelers_per_input(task))
        .count()
    )
    decided = TaskAssignment.objects.filter(
        task=task, status_code__in=[status.TASK_ASSIGNMENT_SUCCESS, status.TASK_ASSIGNMENT_REJECTED]
    )
    per_reviewer = dict(
        decided.exclude(reviewed_by="")
        .values("reviewed_by")
        .annotate(n=Count("input", distinct=True))
        .values_list("reviewed_by", "n")
    )
    return TaskCounts(
        inputs=total,
        labeled=done,
        reviewed=decided.values("input").distinct().count(),
        per_reviewer=per_reviewer,
    )


def _messages(app: App, tasks: list[Task]) -> list[resources_pb2.Task]:
    members: dict[int, dict[str, list[str]]] = defaultdict(lambda: {TaskMember.WORKER: [], TaskMember.REVIEWER: []})
    for task_pk, user_id, role in (
        TaskMember.objects.filter(task__in=tasks).order_by("position").values_list("task", "user", "role")
    ):
        members[int(task_pk)][str(role)].append(str(user_id))
    ids = {c for t in tasks for c in t.concept_ids}
    names = dict(app.concepts.filter(concept_id__in=ids).values_list("concept_id", "name"))
    out = []
    for task in tasks:
        task.app = app
        roles = members[task.pk]
        out.append(task_message(task, roles[TaskMember.WORKER], roles[TaskMember.REVIEWER], names, counts(task)))
    return out


# Tasks


@rpc("PostTasks", scope="Tasks:Add")
def post_tasks(ctx: Context, request: service_pb2.PostTasksRequest) -> service_pb2.MultiTaskResponse:
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    if not owner:
        raise ApiError(status.TASK_PERMISSION_DENIED, details="Only the app's owner creates its tasks.")
    if not request.tasks:
        raise invalid("Give at least one task in tasks.")
    planned = []
    for given in request.tasks:
        task_id = given.id or Input.new_id()
        check_id(task_id, "Task id")
        workers = _worker_ids(given.worker)
        reviewers = _reviewer_ids(given.review)
        _known_users(workers, "Labeler")
        _known_users(reviewers, "Reviewer")
        worker_strategy, per_input = _worker_strategy(given.worker, workers)
        kind, dataset, source_id = _source(app, given.input_source)
        review_strategy, threshold = _review(
            given.review, reviewers, per_input if worker_strategy == labeling.PARTITIONED else len(workers)
        )
        task = Task(
            app=app,
            task_id=task_id,
            name=given.name,
            description=given.description,
            task_type=_task_type(given),
            input_source_type=kind,
            dataset=dataset,
            input_source_id=source_id,
            concept_ids=_concept_ids(app, given),
            worker_strategy=worker_strategy,
            workers_per_input=per_input,
            review_strategy=review_strategy,
            approval_threshold=threshold,
            priority=given.priority,
            metadata=struct_to_dict(given.metadata),
            created_by=ctx.user.id,
        )
        planned.append((task, workers, reviewers))
    ids = [t.task_id for t, _, _ in planned]
    taken = list(app.tasks.filter(task_id__in=ids).values_list("task_id", flat=True))
    if taken or len(set(ids)) != len(ids):
        raise ApiError(
            status.DATABASE_DUPLICATE_KEY,
            details=f"Task {', '.join(sorted(taken) or ids)} already exists or is given twice.",
        )
    with transaction.atomic():
        for task, workers, reviewers in planned:
            task.save()
            _set_members(task, workers, reviewers)
    return service_pb2.MultiTaskResponse(tasks=_messages(app, [t for t, _, _ in planned]))


@rpc("ListTasks", scope="Tasks:Get")
def list_tasks(ctx: Context, request: service_pb2.ListTasksRequest) -> service_pb2.MultiTaskResponse:
    """Newest first. The owner sees every task of the app; a labeler or reviewer the tasks they are in."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    tasks = app.tasks.order_by("-id")
    if not owner:
        tasks = tasks.filter(pk__in=TaskMember.objects.filter(user=ctx.user).values("task"))
    if request.ids:
        tasks = tasks.filter(task_id__in=list(request.ids))
    worker_ids = [*request.worker_user_ids, *(w.user_id for w in request.worker_ids if w.user_id)]
    if worker_ids:
        tasks = tasks.filter(
            pk__in=TaskMember.objects.filter(role=TaskMember.WORKER, user_id__in=worker_ids).values("task")
        )
    if request.review_user_ids:
        tasks = tasks.filter(
            pk__in=TaskMember.objects.filter(
                role=TaskMember.REVIEWER, user_id__in=list(request.review_user_ids)
            ).values("task")
        )
    if request.input_source_type:
        tasks = tasks.filter(input_source_type=request.input_source_type)
    if request.input_source_ids:
        tasks = tasks.filter(input_source_id__in=list(request.input_source_ids))
    return service_pb2.MultiTaskResponse(tasks=_messages(app, paginate(tasks, request.page, request.per_page)))


@rpc("GetTask", scope="Tasks:Get")
def get_task(ctx: Context, request: service_pb2.GetTaskRequest) -> service_pb2.SingleTaskResponse:
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    task = labeling.get_task(app, request.task_id, ctx, owner)
    return service_pb2.SingleTaskResponse(task=_messages(app, [task])[0])


@rpc("PatchTasks", scope="Tasks:Patch")
def patch_tasks(ctx: Context, request: service_pb2.PatchTasksRequest) -> service_pb2.MultiTaskResponse:
    """Change what is given of each task (`overwrite`, the real API's only action, and `merge` both leave
    out what is not given): name, description, status (pause with TASK_IDLE, finish with TASK_DONE),
    concepts, labelers, reviewers and review, metadata. Labelers taken off give back the inputs they had
    not submitted. The input source and worker strategy can change only before any work was given out."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    if not owner:
        raise ApiError(status.TASK_PERMISSION_DENIED, details="Only the app's owner changes its tasks.")
    if (request.action or "overwrite") not in ("overwrite", "merge"):
        raise invalid(f"action must be overwrite or merge, not {request.action!r}.")
    if not request.tasks:
        raise invalid("Give at least one task in tasks.")
    changed = []
    with transaction.atomic():
        for given in request.tasks:
            task = labeling.get_task(app, given.id, ctx, owner, lock=True)
            _patch(app, task, given)
            changed.append(task)
    return service_pb2.MultiTaskResponse(tasks=_messages(app, changed))


def _patch(app: App, task: Task, given: resources_pb2.Task) -> None:
    task.name = given.name or task.name
    task.description = given.description or task.description
    if given.HasField("metadata"):
        task.metadata = struct_to_dict(given.metadata)
    if given.priority:
        task.priority = given.priority
    if given.status.code:
        if given.status.code not in SETTABLE_STATUSES:
            raise invalid(
                "status.code must be TASK_IN_PROGRESS, TASK_IDLE (paused), TASK_DONE or TASK_WONT_DO, "
                f"not {status.name(given.status.code)}."
            )
        task.status_code = given.status.code
    if given.concepts or given.concept_ids:
        task.concept_ids = _concept_ids(app, given)
    started = task.assignments.exists()
    if given.HasField("input_source"):
        kind, dataset, source_id = _source(app, given.input_source)
        if (kind, source_id) != (task.input_source_type, task.input_source_id):
            if started:
                raise ApiError(
                    status.TASK_CONFLICT, details="The input source cannot change once inputs were given out."
                )
            task.input_source_type, task.dataset, task.input_source_id = kind, dataset, source_id
    workers = labeling.member_ids(task, TaskMember.WORKER)
    reviewers = labeling.member_ids(task, TaskMember.REVIEWER)
    if given.HasField("worker"):
        new_workers = _worker_ids(given.worker) or workers
        _known_users(new_workers, "Labeler")
        strategy, per_input = (
            _worker_strategy(given.worker, new_workers)
            if given.worker.strategy
            else (
                task.worker_strategy,
                task.workers_per_input,
            )
        )
        if (strategy, per_input) != (task.worker_strategy, task.workers_per_input) and started:
            raise ApiError(
                status.TASK_CONFLICT, details="How inputs are split cannot change once inputs were given out."
            )
        task.worker_strategy, task.workers_per_input = strategy, per_input
        gone = set(workers) - set(new_workers)
        if gone:
            released = TaskAssignment.objects.filter(
                task=task, worker_id__in=gone, status_code=status.TASK_ASSIGNMENT_PENDING
            )
            Annotation.objects.filter(
                task=task, user_id__in=gone, status_code=status.ANNOTATION_PENDING, input__in=released.values("input")
            ).delete()
            released.delete()
        workers = new_workers
    if given.HasField("review"):
        reviewers = _reviewer_ids(given.review) or reviewers
        _known_users(reviewers, "Reviewer")
        review_given = given.review
        if not review_given.strategy:
            review_given = resources_pb2.TaskReview()
            review_given.CopyFrom(given.review)
            review_given.strategy = resources_pb2.TaskReview.TaskReviewStrategy.ValueType(task.review_strategy)
            if task.review_strategy == labeling.REVIEW_CONSENSUS and not (
                review_given.consensus_strategy_info.approval_threshold_labelers
            ):
                review_given.consensus_strategy_info.approval_threshold_labelers = task.approval_threshold
        task.review_strategy, task.approval_threshold = _review(
            review_given, reviewers, labeling.labelers_per_input(task, len(workers))
        )
    task.save()
    _set_members(task, workers, reviewers)


@rpc("DeleteTasks", scope="Tasks:Delete")
def delete_tasks(ctx: Context, request: service_pb2.DeleteTasksRequest) -> status_pb2.BaseResponse:
    """Delete tasks with their assignments and the annotations not yet approved; approved annotations stay
    (without a task), as do the labels they gave their inputs. All or nothing."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    if not owner:
        raise ApiError(status.TASK_PERMISSION_DENIED, details="Only the app's owner deletes its tasks.")
    if not request.ids:
        raise invalid("Give the ids of the tasks to delete in ids.")
    with transaction.atomic():
        found = list(app.tasks.select_for_update().filter(task_id__in=list(request.ids)))
        missing = set(request.ids) - {t.task_id for t in found}
        if missing:
            raise ApiError(status.TASK_MISSING, details=f"There is no task {', '.join(sorted(missing))} in this app.")
        Annotation.objects.filter(task__in=found).exclude(status_code=status.ANNOTATION_SUCCESS).delete()
        Task.objects.filter(pk__in=[t.pk for t in found]).delete()
    return status_pb2.BaseResponse()


# Assignments


@rpc("ListNextTaskAssignments", scope="Tasks:Get")
def list_next_task_assignments(
    ctx: Context, request: service_pb2.ListNextTaskAssignmentsRequest
) -> service_pb2.MultiInputResponse:
    """The caller's next inputs to label in the task (work sent back first, then new inputs)."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    task = labeling.get_task(app, request.task_id, ctx, owner)
    assignments = labeling.next_assignments(task, ctx.user)
    return service_pb2.MultiInputResponse(inputs=_inputs(ctx, assignments))


def _inputs(ctx: Context, assignments: list[TaskAssignment]) -> list[resources_pb2.Input]:
    loaded = Input.objects.filter(pk__in=[a.input_id for a in assignments]).prefetch_related(*INPUT_RELATIONS)
    by_pk = {i.pk: i for i in loaded}
    return [input_message(by_pk[a.input_id], ctx.origin) for a in assignments if a.input_id in by_pk]


def _assignment_messages(ctx: Context, assignments: list[TaskAssignment]) -> list[resources_pb2.TaskAssignment]:
    loaded = Input.objects.filter(pk__in=[a.input_id for a in assignments]).prefetch_related(*INPUT_RELATIONS)
    by_pk = {i.pk: i for i in loaded}
    out = []
    for assignment in assignments:
        if assignment.input_id in by_pk:
            assignment.input = by_pk[assignment.input_id]
            out.append(assignment_message(assignment, ctx.origin))
    return out


_CONFIG = {
    Action.LABEL_SUBMIT: "label_submit_config",
    Action.REVIEW_START: "review_start_config",
    Action.REVIEW_APPROVE: "review_approve_config",
    Action.REVIEW_REQUEST_CHANGES: "review_request_changes_config",
    Action.REVIEW_REJECT: "review_reject_config",
}
_VERDICTS = {
    Action.REVIEW_APPROVE: "approve",
    Action.REVIEW_REJECT: "reject",
    Action.REVIEW_REQUEST_CHANGES: "request_changes",
}


@rpc("PutTaskAssignments", scope="Tasks:Patch")
def put_task_assignments(
    ctx: Context, request: service_pb2.PutTaskAssignmentsRequest
) -> service_pb2.MultiTaskAssignmentResponse:
    """The labeling and review actions:

    - LABEL_START: the caller's next assignments (as ListNextTaskAssignments, with the assignments' ids);
    - LABEL_SUBMIT: the caller is done with the assignments given (label_submit_config.task_assignments,
      or the one of input_id): their annotations (PostAnnotations with the task_id) enter review;
    - REVIEW_START: the assignments awaiting review, not the caller's own (review_start_config.workers
      narrows them to some labelers, input_id to one input);
    - REVIEW_APPROVE, REVIEW_REJECT, REVIEW_REQUEST_CHANGES: decide the assignments given in the config's
      task_assignments (each may carry its reason in status.details), or all those awaiting review of the
      config's workers (of input_id, when given). A request for changes gives the input back to its
      labeler with the reason.
    """
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    action = request.action
    config_name = request.WhichOneof("action_config")
    expected = _CONFIG.get(action)
    if config_name and config_name != expected:
        raise invalid(f"{config_name} does not go with action {Action.Name(action)}.")
    with transaction.atomic():
        task = labeling.get_task(app, request.task_id, ctx, owner, lock=True)
        if action == Action.LABEL_START:
            rows = labeling.next_assignments(task, ctx.user)
            if request.input_id:
                rows = [a for a in rows if a.input.input_id == request.input_id] or labeling.assignments_named(
                    task, ctx.user, [], request.input_id
                )
        elif action == Action.LABEL_SUBMIT:
            given = request.label_submit_config.task_assignments
            rows = labeling.assignments_named(
                task, ctx.user, [a.id for a in given], request.input_id, [status.TASK_ASSIGNMENT_PENDING]
            )
            labeling.submit(task, rows)
        elif action == Action.REVIEW_START:
            labeling.may_review(task, ctx, owner)
            workers = [w.user.id for w in request.review_start_config.workers if w.user.id]
            rows = labeling.awaiting_review(task, ctx.user, workers, request.input_id)
        elif action in _VERDICTS:
            labeling.may_review(task, ctx, owner)
            labeling.check_in_progress(task)
            config = getattr(request, expected or "")
            reasons = {a.id: a.status.details for a in config.task_assignments if a.id}
            if reasons or (request.input_id and not config.workers):
                rows = labeling.assignments_named(task, None, list(reasons), request.input_id, labeling.AWAITING)
            elif config.workers:
                workers = [w.user.id for w in config.workers if w.user.id]
                rows = list(
                    TaskAssignment.objects.select_for_update()
                    .select_related("input")
                    .filter(task=task, worker_id__in=workers, status_code__in=labeling.AWAITING)
                )
                if request.input_id:
                    rows = [a for a in rows if a.input.input_id == request.input_id]
            else:
                raise invalid(
                    f"Give the assignments to decide in {expected}.task_assignments, or the labelers in "
                    f"{expected}.workers."
                )
            labeling.review(task, ctx.user, rows, _VERDICTS[action], reasons)
        else:
            raise invalid(
                "action must be LABEL_START, LABEL_SUBMIT, REVIEW_START, REVIEW_APPROVE, REVIEW_REQUEST_CHANGES "
                "or REVIEW_REJECT."
            )
        fresh = {a.pk: a for a in TaskAssignment.objects.filter(pk__in=[a.pk for a in rows]).select_related("input")}
        rows = [fresh[a.pk] for a in rows if a.pk in fresh]
    return service_pb2.MultiTaskAssignmentResponse(task_assignments=_assignment_messages(ctx, rows))


# Counts


def _per_user(
    task: Task, rows: list[tuple[str, int, int]], user_ids: list[str]
) -> list[resources_pb2.TaskStatusCountPerUser]:
    fields: dict[int, str] = {
        status.ANNOTATION_PENDING: "pending",
        status.ANNOTATION_AWAITING_REVIEW: "awaiting_review",
        status.ANNOTATION_SUCCESS: "success",
        status.ANNOTATION_REVIEW_DENIED: "review_denied",
        status.ANNOTATION_AWAITING_CONSENSUS_REVIEW: "awaiting_consensus_review",
    }
    users = labeling.member_ids(task, TaskMember.WORKER)
    users += sorted({u for u, _, _ in rows} - set(users))
    if user_ids:
        users = [u for u in users if u in user_ids]
    counts: dict[str, resources_pb2.TaskStatusCountPerUser] = {}
    for user_id in users:
        entry = resources_pb2.TaskStatusCountPerUser(user_id=user_id)
        entry.worker.user.id = user_id
        counts[user_id] = entry
    for user_id, code, n in rows:
        if user_id in counts and code in fields:
            setattr(counts[user_id], fields[code], getattr(counts[user_id], fields[code]) + n)
    return list(counts.values())


@rpc("GetTaskAnnotationCount", scope="Tasks:Get")
def get_task_annotation_count(
    ctx: Context, request: service_pb2.GetTaskCountRequest
) -> service_pb2.SingleTaskCountResponse:
    """Each labeler's annotations in the task, by status."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    task = labeling.get_task(app, request.task_id, ctx, owner)
    rows = list(
        Annotation.objects.filter(task=task)
        .values("user", "status_code")
        .annotate(n=Count("id"))
        .values_list("user", "status_code", "n")
    )
    return service_pb2.SingleTaskCountResponse(
        app_id=app.app_id, task_id=task.task_id, counts=_per_user(task, rows, list(request.user_ids))
    )


@rpc("GetTaskInputCount", scope="Tasks:Get")
def get_task_input_count(ctx: Context, request: service_pb2.GetTaskCountRequest) -> service_pb2.SingleTaskCountResponse:
    """Each labeler's inputs in the task, by where their work on it stands (pending: given and not yet
    submitted; success: approved; review_denied: rejected)."""
    app, owner = labeling.labeling_app(ctx, request.user_app_id)
    task = labeling.get_task(app, request.task_id, ctx, owner)
    rows = [
        (user_id, labeling.ASSIGNMENT_AS_ANNOTATION.get(code, 0), n)
        for user_id, code, n in TaskAssignment.objects.filter(task=task)
        .values("worker", "status_code")
        .annotate(n=Count("id"))
        .values_list("worker", "status_code", "n")
    ]
    return service_pb2.SingleTaskCountResponse(
        app_id=app.app_id, task_id=task.task_id, counts=_per_user(task, rows, list(request.user_ids))
    )

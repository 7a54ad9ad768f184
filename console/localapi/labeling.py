"""Labeling tasks at work: who may reach a task, which inputs a labeler gets next, what submitting and
reviewing do to assignments and annotations, and how an approved annotation reaches its input's labels.

The handlers (handlers/tasks.py, handlers/annotations.py) read requests and print answers; the rules live
here, so both (and the seeding of the demo) follow the same ones.

- Access: the app's owner may do everything; a labeler or reviewer of a task (TaskMember) reaches the
  owner's app through the task RPCs, naming the owner's user id in `user_app_id`.
- FULL: every labeler gets every input. PARTITIONED (EVENLY): each input goes to `workers_per_input`
  labelers; inputs are claimed a batch at a time in input order, and no labeler holds more than an even
  share (ceil(inputs x workers_per_input / labelers)), so fast labelers cannot take everything. A claim
  runs in one transaction that locks the task row (PostgreSQL; SQLite's IMMEDIATE transactions serialize
  writers anyway), and the (task, input, slot) unique constraint refuses a second holder whatever happens.
- Review: NONE approves on submit; MANUAL waits for a reviewer; CONSENSUS approves the input by itself
  when `approval_threshold` labelers gave the same answer (the same set of positive concepts) and the
  others' answers are denied; when every labeler of the input has answered without such agreement, all
  answers wait for a reviewer.
- An annotation that becomes ANNOTATION_SUCCESS is merged into the input's own labels (InputConcept):
  each concept it names gets its value (1 positive, 0 negative); concepts it does not name stay.
  Deleting it later leaves the input's labels as they are.
"""

import math
from collections import defaultdict
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from console.localapi import status
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.handlers.common import get_app
from console.localapi.models import (
    Annotation,
    App,
    Concept,
    Input,
    InputConcept,
    Task,
    TaskAssignment,
    TaskMember,
    User,
)

# clarifai-grpc's enum numbers (resources_pb2.Task.TaskType etc.), named once.
CONCEPTS_CLASSIFICATION = 1
BOUNDING_BOX_DETECTION = 2
ALL_INPUTS = 1
DATASET = 3
PARTITIONED = 2
FULL = 3
REVIEW_NONE = 1
REVIEW_MANUAL = 2
REVIEW_CONSENSUS = 3

BATCH = 10  # inputs a labeler is given at a time
REVIEW_BATCH = 50  # assignments a reviewer is shown at a time
CONSENSUS = "consensus"  # reviewed_by of what the labelers decided by agreeing

SUBMITTED_ASSIGNMENT = {
    REVIEW_NONE: status.TASK_ASSIGNMENT_SUCCESS,
    REVIEW_MANUAL: status.TASK_ASSIGNMENT_AWAITING_REVIEW,
    REVIEW_CONSENSUS: status.TASK_ASSIGNMENT_AWAITING_CONSENSUS_REVIEW,
}
SUBMITTED_ANNOTATION = {
    REVIEW_NONE: status.ANNOTATION_SUCCESS,
    REVIEW_MANUAL: status.ANNOTATION_AWAITING_REVIEW,
    REVIEW_CONSENSUS: status.ANNOTATION_AWAITING_CONSENSUS_REVIEW,
}
# An assignment's status as the annotation status of the same meaning (GetTaskInputCount's columns).
ASSIGNMENT_AS_ANNOTATION: dict[int, int] = {
    status.TASK_ASSIGNMENT_PENDING: status.ANNOTATION_PENDING,
    status.TASK_ASSIGNMENT_AWAITING_REVIEW: status.ANNOTATION_AWAITING_REVIEW,
    status.TASK_ASSIGNMENT_AWAITING_CONSENSUS_REVIEW: status.ANNOTATION_AWAITING_CONSENSUS_REVIEW,
    status.TASK_ASSIGNMENT_SUCCESS: status.ANNOTATION_SUCCESS,
    status.TASK_ASSIGNMENT_REJECTED: status.ANNOTATION_REVIEW_DENIED,
}
ANNOTATION_AS_ASSIGNMENT = {annotation: assignment for assignment, annotation in ASSIGNMENT_AS_ANNOTATION.items()}
AWAITING = (status.TASK_ASSIGNMENT_AWAITING_REVIEW, status.TASK_ASSIGNMENT_AWAITING_CONSENSUS_REVIEW)
ANNOTATION_AWAITING = (status.ANNOTATION_AWAITING_REVIEW, status.ANNOTATION_AWAITING_CONSENSUS_REVIEW)


# Who may reach what


def labeling_app(ctx: Context, user_app_id: object) -> tuple[App, bool]:
    """The app of a task or annotation request, and whether the caller owns it. A labeler or reviewer of
    one of its tasks reaches another user's app; anyone else is told it does not exist."""
    app_id = getattr(user_app_id, "app_id", "")
    user_id = ctx.resolve_user_id(getattr(user_app_id, "user_id", ""))
    if user_id == ctx.user.id or not app_id or ctx.token.app_id is not None:  # a key reaches its app only
        return get_app(ctx, user_app_id), True  # type: ignore[arg-type]
    app = App.objects.select_related("user").filter(user_id=user_id, app_id=app_id, deleted=False).first()
    if app is None or not TaskMember.objects.filter(task__app=app, user=ctx.user).exists():
        raise not_found(f"App {user_id}/{app_id}")
    return app, False


def get_task(app: App, task_id: str, ctx: Context, owner: bool, lock: bool = False) -> Task:
    if not task_id:
        raise invalid("Give the task's id in task_id.")
    tasks = Task.objects.filter(app=app, task_id=task_id)
    if lock:
        tasks = tasks.select_for_update()
    task = tasks.first()
    if task is None or (not owner and not task.members.filter(user=ctx.user).exists()):
        raise ApiError(status.TASK_MISSING, details=f"There is no task {task_id!r} in app {app.app_id!r}.")
    task.app = app
    return task


def member_ids(task: Task, role: str) -> list[str]:
    return list(task.members.filter(role=role).order_by("position").values_list("user_id", flat=True))


def is_member(task: Task, user: User, role: str) -> bool:
    return task.members.filter(user=user, role=role).exists()


def may_review(task: Task, ctx: Context, owner: bool) -> None:
    if not owner and not is_member(task, ctx.user, TaskMember.REVIEWER):
        raise ApiError(
            status.TASK_PERMISSION_DENIED,
            details=f"User {ctx.user.id!r} is not a reviewer of task {task.task_id!r}.",
        )


def check_in_progress(task: Task) -> None:
    if task.status_code != status.TASK_IN_PROGRESS:
        word: dict[int, str] = {status.TASK_IDLE: "paused", status.TASK_DONE: "done", status.TASK_WONT_DO: "closed"}
        raise ApiError(
            status.TASK_CONFLICT,
            details=f"Task {task.task_id!r} is {word.get(task.status_code, 'not in progress')}: "
            "it takes no work until it is in progress again.",
        )


# The inputs of a task


def source_inputs(task: Task) -> QuerySet[Input]:
    """The inputs a task labels: its dataset's (or the app's) inputs that were processed."""
    inputs = Input.objects.filter(app_id=task.app_id, status_code=status.INPUT_SUCCESS)
    if task.input_source_type == DATASET:
        if task.dataset_id is None:
            raise ApiError(
                status.CONN_DOES_NOT_EXIST,
                details=f"The dataset {task.input_source_id!r} of task {task.task_id!r} was deleted.",
            )
        inputs = inputs.filter(datasets=task.dataset_id)
    return inputs


def labelers_per_input(task: Task, workers: int | None = None) -> int:
    if task.worker_strategy == PARTITIONED:
        return task.workers_per_input
    return workers if workers is not None else task.members.filter(role=TaskMember.WORKER).count()


# Labeling


def pending_assignments(task: Task, worker: User) -> QuerySet[TaskAssignment]:
    return TaskAssignment.objects.filter(task=task, worker=worker, status_code=status.TASK_ASSIGNMENT_PENDING).order_by(
        "id"
    )


def next_assignments(task: Task, worker: User, count: int = BATCH) -> list[TaskAssignment]:
    """The labeler's next inputs: those given to them and not yet submitted (work sent back included),
    topped up to `count` with new ones. Claiming is atomic (see the module's notes)."""
    check_in_progress(task)
    if not is_member(task, worker, TaskMember.WORKER):
        raise ApiError(
            status.TASK_PERMISSION_DENIED, details=f"User {worker.id!r} is not a labeler of task {task.task_id!r}."
        )
    mine = list(pending_assignments(task, worker).select_related("input")[:count])
    if len(mine) < count:
        with transaction.atomic():
            locked = Task.objects.select_for_update().get(pk=task.pk)
            locked.app = task.app
            _claim(locked, worker, count - len(mine))
        mine = list(pending_assignments(task, worker).select_related("input")[:count])
    return mine


def _claim(task: Task, worker: User, wanted: int) -> None:
    source = source_inputs(task)
    held_by_me = TaskAssignment.objects.filter(task=task, worker=worker, input=OuterRef("pk"))
    candidates = source.exclude(Exists(held_by_me))
    if task.worker_strategy == PARTITIONED:
        workers = task.members.filter(role=TaskMember.WORKER).count()
        share = math.ceil(source.count() * task.workers_per_input / max(workers, 1))
        wanted = min(wanted, share - TaskAssignment.objects.filter(task=task, worker=worker).count())
        if wanted <= 0:
            return
        taken = (
            TaskAssignment.objects.filter(task=task, input=OuterRef("pk"))
            .values("input")
            .annotate(n=Count("id"))
            .values("n")
        )
        candidates = candidates.annotate(taken=Coalesce(Subquery(taken, output_field=IntegerField()), Value(0))).filter(
            taken__lt=task.workers_per_input
        )
    claimed = 0
    for item in candidates.order_by("id")[: wanted * 2]:
        slot = None
        if task.worker_strategy == PARTITIONED:  # the lowest free slot (one may have been given back)
            used = set(TaskAssignment.objects.filter(task=task, input=item).values_list("slot", flat=True))
            slot = min(set(range(task.workers_per_input)) - used, default=None)
            if slot is None:
                continue
        try:
            with transaction.atomic():  # a savepoint: a refused row leaves the rest of the claim alone
                TaskAssignment.objects.create(
                    task=task, input=item, worker=worker, slot=slot, assignment_id=Input.new_id()
                )
        except IntegrityError:
            continue  # someone else holds that slot (or this labeler, from a request racing this one)
        claimed += 1
        if claimed >= wanted:
            return


def assignments_named(
    task: Task, worker: User | None, ids: Iterable[str], input_id: str, statuses: Iterable[int] | None = None
) -> list[TaskAssignment]:
    """Assignments by id, or the one(s) of `input_id`; each must exist (and be the worker's, when given)."""
    ids = [i for i in ids if i]
    found = TaskAssignment.objects.select_for_update().select_related("input", "worker").filter(task=task)
    if ids:
        rows = list(found.filter(assignment_id__in=ids))
        missing = set(ids) - {a.assignment_id for a in rows}
        if missing:
            raise ApiError(
                status.TASK_PERMISSION_DENIED if worker else status.CONN_DOES_NOT_EXIST,
                details=f"Task {task.task_id!r} has no assignment {', '.join(sorted(missing))}"
                + (" of yours." if worker else "."),
            )
    elif input_id:
        rows = list(found.filter(input__input_id=input_id))
    else:
        raise invalid("Give the assignments (task_assignments[].id) or the input (input_id) to act on.")
    if worker is not None:
        if (ids and any(a.worker_id != worker.pk for a in rows)) or not any(a.worker_id == worker.pk for a in rows):
            what = f"input {input_id!r} is" if input_id and not ids else "these assignments are"
            raise ApiError(
                status.TASK_PERMISSION_DENIED,
                details=f"In task {task.task_id!r}, {what} not assigned to you ({worker.id!r}).",
            )
        rows = [a for a in rows if a.worker_id == worker.pk]
    if statuses is not None:
        allowed = set(statuses)
        wrong = [a for a in rows if a.status_code not in allowed]
        if wrong:
            a = wrong[0]
            raise ApiError(
                status.TASK_CONFLICT,
                details=f"The assignment of input {a.input.input_id!r} to {a.worker_id!r} is "
                f"{status.description(a.status_code).lower()}, so it cannot be {_verb(allowed)}.",
            )
    return rows


def _verb(allowed: set[int]) -> str:
    return "submitted" if allowed == {status.TASK_ASSIGNMENT_PENDING} else "reviewed"


def submit(task: Task, assignments: list[TaskAssignment]) -> None:
    """The labeler is done with these inputs: their draft annotations enter review (or are approved)."""
    check_in_progress(task)
    for assignment in assignments:
        drafts = Annotation.objects.filter(
            task=task, input=assignment.input, user_id=assignment.worker_id, status_code=status.ANNOTATION_PENDING
        )
        if not drafts.exists():  # submitting nothing says "none of the task's concepts"
            Annotation.objects.create(
                app_id=task.app_id,
                input=assignment.input,
                annotation_id=Input.new_id(),
                task=task,
                user_id=assignment.worker_id,
                data={"concepts": []},
                status_code=status.ANNOTATION_PENDING,
            )
        annotation_status = SUBMITTED_ANNOTATION[task.review_strategy]
        drafts.update(status_code=annotation_status, status_details="", modified_at=timezone.now())
        assignment.status_code = SUBMITTED_ASSIGNMENT[task.review_strategy]
        assignment.status_details = ""
        assignment.save(update_fields=["status_code", "status_details", "modified_at"])
        if annotation_status == status.ANNOTATION_SUCCESS:
            for annotation in Annotation.objects.filter(
                task=task, input=assignment.input, user_id=assignment.worker_id, status_code=status.ANNOTATION_SUCCESS
            ):
                apply_to_input(annotation)
        if task.review_strategy == REVIEW_CONSENSUS:
            decide_by_consensus(task, assignment.input)


def answer_key(data: dict[str, object]) -> frozenset[str]:
    """What two labelers must share to agree: the concepts they marked as present."""
    concepts = data.get("concepts") or []
    assert isinstance(concepts, list)
    return frozenset(str(c["id"]) for c in concepts if float(c.get("value", 0.0) or 0.0) > 0)


def decide_by_consensus(task: Task, item: Input) -> None:
    answers = list(
        Annotation.objects.select_for_update().filter(
            task=task, input=item, status_code=status.ANNOTATION_AWAITING_CONSENSUS_REVIEW
        )
    )
    groups: dict[frozenset[str], list[Annotation]] = defaultdict(list)
    decided = Annotation.objects.filter(
        task=task, input=item, status_code=status.ANNOTATION_SUCCESS, reviewed_by=CONSENSUS
    ).first()
    for answer in answers:
        groups[answer_key(answer.data)].append(answer)
    if decided is not None:  # a late answer to an input already agreed on: it agrees, or it is denied
        best = groups.get(answer_key(decided.data), [])
        agreeing = Annotation.objects.filter(
            task=task, input=item, status_code=status.ANNOTATION_SUCCESS, reviewed_by=CONSENSUS
        ).count()
    else:
        best = max(groups.values(), key=len, default=[])
        agreeing = 0
    assignments = TaskAssignment.objects.filter(task=task, input=item)
    if decided is not None or (best and len(best) >= task.approval_threshold):
        agreed = {a.user_id for a in best}
        details = f"{len(best) + agreeing} labelers agreed (the task needs {task.approval_threshold})."
        for answer in answers:
            won = answer.user_id in agreed
            answer.status_code = status.ANNOTATION_SUCCESS if won else status.ANNOTATION_REVIEW_DENIED
            answer.status_details = details if won else f"{details} This answer differs from theirs."
            answer.reviewed_by = CONSENSUS
            answer.save(update_fields=["status_code", "status_details", "reviewed_by", "modified_at"])
            if won:
                apply_to_input(answer)
        assignments.filter(worker_id__in=agreed).update(
            status_code=status.TASK_ASSIGNMENT_SUCCESS, reviewed_by=CONSENSUS, modified_at=timezone.now()
        )
        assignments.filter(status_code=status.TASK_ASSIGNMENT_AWAITING_CONSENSUS_REVIEW).update(
            status_code=status.TASK_ASSIGNMENT_REJECTED,
            status_details="The other labelers agreed on a different answer.",
            reviewed_by=CONSENSUS,
            modified_at=timezone.now(),
        )
        return
    if len(answers) >= labelers_per_input(task):
        details = "The labelers did not agree; a reviewer decides."
        Annotation.objects.filter(pk__in=[a.pk for a in answers]).update(
            status_code=status.ANNOTATION_AWAITING_REVIEW, status_details=details, modified_at=timezone.now()
        )
        assignments.filter(status_code=status.TASK_ASSIGNMENT_AWAITING_CONSENSUS_REVIEW).update(
            status_code=status.TASK_ASSIGNMENT_AWAITING_REVIEW, status_details=details, modified_at=timezone.now()
        )


# Review


def review(
    task: Task, reviewer: User, assignments: list[TaskAssignment], verdict: str, reasons: dict[str, str]
) -> None:
    """Approve, reject or send back the work of these assignments (none may be the reviewer's own)."""
    own = [a for a in assignments if a.worker_id == reviewer.pk]
    if own:
        raise ApiError(
            status.TASK_PERMISSION_DENIED,
            details=f"You cannot review your own work (input {own[0].input.input_id!r} of task {task.task_id!r}).",
        )
    now = timezone.now()
    for assignment in assignments:
        reason = reasons.get(assignment.assignment_id, "")
        answers = Annotation.objects.filter(
            task=task, input=assignment.input, user_id=assignment.worker_id, status_code__in=ANNOTATION_AWAITING
        )
        if verdict == "approve":
            changed = list(answers)
            answers.update(
                status_code=status.ANNOTATION_SUCCESS, status_details=reason, reviewed_by=reviewer.id, modified_at=now
            )
            for annotation in Annotation.objects.filter(pk__in=[a.pk for a in changed]):
                apply_to_input(annotation)
            assignment.status_code = status.TASK_ASSIGNMENT_SUCCESS
        elif verdict == "reject":
            answers.update(
                status_code=status.ANNOTATION_REVIEW_DENIED,
                status_details=reason,
                reviewed_by=reviewer.id,
                modified_at=now,
            )
            assignment.status_code = status.TASK_ASSIGNMENT_REJECTED
        else:  # request changes: back to the labeler, with the reason
            answers.update(
                status_code=status.ANNOTATION_PENDING, status_details=reason, reviewed_by=reviewer.id, modified_at=now
            )
            assignment.status_code = status.TASK_ASSIGNMENT_PENDING
        assignment.status_details = reason
        assignment.reviewed_by = reviewer.id
        assignment.save(update_fields=["status_code", "status_details", "reviewed_by", "modified_at"])


def awaiting_review(task: Task, reviewer: User, worker_ids: list[str], input_id: str) -> list[TaskAssignment]:
    rows = (
        TaskAssignment.objects.filter(task=task, status_code=status.TASK_ASSIGNMENT_AWAITING_REVIEW)
        .exclude(worker=reviewer)
        .select_related("input", "worker")
        .order_by("id")
    )
    if worker_ids:
        rows = rows.filter(worker_id__in=worker_ids)
    if input_id:
        rows = rows.filter(input__input_id=input_id)
    return list(rows[:REVIEW_BATCH])


def sync_assignments(task: Task, annotations: list[Annotation], code: int, reviewer_id: str) -> None:
    """Annotations of the task got status `code` directly (PatchAnnotations, PatchAnnotationsStatus): their
    assignments follow, so the queues and counts agree with them."""
    if not annotations:
        return
    which = Q()
    for annotation in annotations:
        which |= Q(input_id=annotation.input_id, worker_id=annotation.user_id)
    TaskAssignment.objects.filter(which, task=task).update(
        status_code=ANNOTATION_AS_ASSIGNMENT[code], reviewed_by=reviewer_id, modified_at=timezone.now()
    )


# Annotations and the input's own labels


def apply_to_input(annotation: Annotation) -> None:
    """Merge an approved annotation's concepts (and its regions' concepts, as positive) into its input's
    labels."""
    values: dict[str, float] = {}
    for concept in annotation.data.get("concepts") or []:
        values[str(concept["id"])] = 1.0 if float(concept.get("value", 0.0) or 0.0) > 0 else 0.0
    for region in annotation.data.get("regions") or []:
        for concept in (region.get("data") or {}).get("concepts") or []:
            values[str(concept["id"])] = 1.0
    if not values:
        return
    concepts = {c.concept_id: c for c in Concept.objects.filter(app_id=annotation.app_id, concept_id__in=values)}
    for concept_id, value in values.items():
        if concept_id in concepts:
            InputConcept.objects.update_or_create(
                input_id=annotation.input_id, concept=concepts[concept_id], defaults={"value": value}
            )
    Input.objects.filter(pk=annotation.input_id).update(modified_at=timezone.now())

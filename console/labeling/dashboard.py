"""A task's own pages: its dashboard (where the task stands, who is doing what) and its activity (what the audit
trail recorded about it).

The dashboard reads with the connection's token (the owner sees every annotation of the task), in few calls:
GetTask (its settings and metrics), GetTaskAnnotationCount (each labeler's answers by status) and the first page
of ListAnnotations at the same time; then, for a task with more than one page of answers, the other pages at
the same time. From the answers come each labeler's median time per input, each reviewer's decisions and the
chart of progress over time (console.labeling.progress).
"""

import math
from functools import partial

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from console.audit.access import may_read_audit
from console.audit.models import AuditEvent
from console.audit.queries import events_of, history
from console.clarifai import ClarifaiClient, ClarifaiStatusError, concurrently
from console.connections.clients import client_for, ids
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.paging import Page, int_param
from console.core.rendering import render_page
from console.labeling import progress
from console.labeling.models import ConnectionMember
from console.teams.policy import LABEL, REVIEW, may

PER_PAGE = 1000  # the most answers ListAnnotations gives a page
ACTIVITY_PER_PAGE = 50
# Asking for inputs (opening the workspace or the review queue) changes little worth reading on the task's page.
STARTS = ("LABEL_START", "REVIEW_START")
TaskPb = resources_pb2.Task


def _task(client: ClarifaiClient, user_app_id: resources_pb2.UserAppIDSet, task_id: str) -> TaskPb:
    task: TaskPb = client.call("GetTask", service_pb2.GetTaskRequest(user_app_id=user_app_id, task_id=task_id)).task
    return task


def _counts(
    client: ClarifaiClient, user_app_id: resources_pb2.UserAppIDSet, task_id: str
) -> list[resources_pb2.TaskStatusCountPerUser]:
    request = service_pb2.GetTaskCountRequest(user_app_id=user_app_id, task_id=task_id)
    return list(client.call("GetTaskAnnotationCount", request).counts)


def _page(
    client: ClarifaiClient, user_app_id: resources_pb2.UserAppIDSet, task_id: str, number: int
) -> list[resources_pb2.Annotation]:
    request = service_pb2.ListAnnotationsRequest(
        user_app_id=user_app_id, task_id=task_id, page=number, per_page=PER_PAGE
    )
    return list(client.list_annotations(request).annotations)


def load(
    client: ClarifaiClient, connection: Connection, app_id: str, task_id: str
) -> tuple[TaskPb, list[resources_pb2.TaskStatusCountPerUser], list[resources_pb2.Annotation]]:
    """The task, its answers counted by labeler and status, and every answer of it."""
    user_app_id = ids(connection, app_id)
    task, counts, first = concurrently(
        partial(_task, client, user_app_id, task_id),
        partial(_counts, client, user_app_id, task_id),
        partial(_page, client, user_app_id, task_id, 1),
    )
    answers = list(first)
    if len(first) == PER_PAGE:
        total = sum(progress.answers_of(c) for c in counts)
        pages = max(2, math.ceil(total / PER_PAGE))
        for found in concurrently(*(partial(_page, client, user_app_id, task_id, n) for n in range(2, pages + 1))):
            answers += found
        number = pages
        while len(answers) >= number * PER_PAGE:  # more came meanwhile
            number += 1
            answers += _page(client, user_app_id, task_id, number)
    unique = {a.id: a for a in answers}  # answers added while paging shift the pages: each once
    return task, counts, list(unique.values())


def _names(connection: Connection, user_ids: set[str]) -> dict[str, str]:
    """The console's names of Clarifai users, for those who attached their identity to this connection."""
    names = {}
    for member in ConnectionMember.objects.filter(connection=connection, clarifai_user_id__in=user_ids).select_related(
        "user"
    ):
        user: User = member.user
        name = user.get_full_name() or user.get_username()
        names[member.clarifai_user_id] = name
    return names


def _links(request: HttpRequest, connection: Connection, app_id: str, task_id: str) -> dict[str, str]:
    args = [connection.pk, app_id, task_id]
    links = {"dashboard_url": reverse("labeling_work:task", args=args)}
    if may(request.user, LABEL, connection):
        links["work_url"] = reverse("labeling_work:work", args=args)
    if may(request.user, REVIEW, connection):
        links["review_url"] = reverse("labeling_work:review", args=args)
    if may_read_audit(request.user, connection):
        links["activity_url"] = reverse("labeling_work:activity", args=args)
    return links


@require_GET
@connection_page("Loading the task")
def task(request: HttpRequest, connection: Connection, app_id: str, task_id: str) -> HttpResponse:
    """Where the task stands: its settings, progress, each labeler's and reviewer's numbers, and a chart."""
    found, counts, answers = load(client_for(connection), connection, app_id, task_id)
    board = progress.board(found, counts, answers, timezone.now())
    names = _names(connection, {row.user_id for row in board.labelers} | {row.user_id for row in board.reviewers})
    for labeler in board.labelers:
        labeler.name = names.get(labeler.user_id, "")
    for reviewer in board.reviewers:
        reviewer.name = names.get(reviewer.user_id, "")
    context = {
        "connection": connection,
        "app_id": app_id,
        "task_id": task_id,
        "section": "tasks",
        "task": found,
        "facts": progress.facts(found),
        "board": board,
        "chart": progress.chart(board.timeline, board.unit),
        "break_minutes": int(progress.BREAK.total_seconds() // 60),
        "history": history(request.user, connection, app_id, "task", task_id),
        **_links(request, connection, app_id, task_id),
    }
    return render_page(request, "labeling/dashboard.html", context)


def _task_or_none(client: ClarifaiClient, connection: Connection, app_id: str, task_id: str) -> TaskPb | None:
    try:
        return _task(client, ids(connection, app_id), task_id)
    except ClarifaiStatusError as e:
        if e.code == status_code_pb2.TASK_MISSING:
            return None
        raise


VERDICTS = {"REVIEW_APPROVE": "Approved", "REVIEW_REJECT": "Rejected", "REVIEW_REQUEST_CHANGES": "Sent back"}
TASK_STATUSES = {
    "TASK_IN_PROGRESS": "resumed",
    "TASK_IDLE": "paused",
    "TASK_DONE": "finished",
    "TASK_WONT_DO": "closed",
}


def in_words(event: AuditEvent) -> str:
    """What an event did to the task, in words (the recorded summary stays beside it)."""
    after = event.after if isinstance(event.after, dict) else {}
    action = str(after.get("action", ""))
    if event.action == "PostAnnotations":
        inputs = [a.get("input_id", "") for a in after.get("annotations", []) if isinstance(a, dict)]
        return f"Saved an answer for input {', '.join(inputs)}" if inputs else "Saved answers"
    if event.action == "PatchAnnotations":
        inputs = [a.get("input_id", "") for a in after.get("annotations", []) if isinstance(a, dict)]
        return f"Corrected the answer for input {', '.join(inputs)}" if inputs else "Corrected answers"
    if event.action == "PutTaskAssignments":
        if action == "LABEL_SUBMIT":
            return f"Submitted input {after.get('input_id', '')}".strip()
        if action in VERDICTS:
            config = after.get(f"{action.lower()}_config", {})
            decided = config.get("task_assignments", []) if isinstance(config, dict) else []
            reasons = {str(a.get("status", {}).get("details", "")) for a in decided if isinstance(a, dict)} - {""}
            count = f"{len(decided)} answer{'s' if len(decided) != 1 else ''}"
            return f"{VERDICTS[action]} {count}" + (f": {'; '.join(sorted(reasons))}" if reasons else "")
    if event.action == "PatchTasks":
        tasks = after.get("tasks", [])
        code = str(tasks[0].get("status", {}).get("code", "")) if tasks and isinstance(tasks[0], dict) else ""
        return f"Task {TASK_STATUSES[code]}" if code in TASK_STATUSES else "Task changed"
    if event.action == "PostTasks":
        return "Task made"
    if event.action in ("DeleteTasks", "DeleteTask"):
        return "Task deleted"
    return event.label


@require_GET
@connection_page("Loading the task's activity")
def activity(request: HttpRequest, connection: Connection, app_id: str, task_id: str) -> HttpResponse:
    """What the audit trail recorded about the task (its creation, edits, pausing and finishing, the labeling
    and review done in it through the console), newest first; for who may read the connection's log."""
    target = f"task:{task_id}"
    events = (
        events_of(connection)
        .filter(app_id=app_id, targets__kind="task", targets__key=task_id)
        .exclude(action="PutTaskAssignments", after__action__in=STARTS)  # (a JSON key absent elsewhere)
        .distinct()
    )
    number = int_param(request, "page", 1)
    shown = list(events[(number - 1) * ACTIVITY_PER_PAGE : number * ACTIVITY_PER_PAGE])
    for event in shown:
        event.words = in_words(event)  # type: ignore[attr-defined]
    total = events.count()
    found = _task_or_none(client_for(connection), connection, app_id, task_id)
    if found is None and not total:
        raise Http404(f"There is no task {task_id} in app {app_id}.")
    context = {
        "connection": connection,
        "app_id": app_id,
        "task_id": task_id,
        "section": "tasks",
        "task": found,
        "events": shown,
        "page": Page(number, ACTIVITY_PER_PAGE, len(shown), total),
        "log_url": reverse("audit:log", args=[connection.pk]) + "?" + urlencode({"app": app_id, "target": target}),
        **_links(request, connection, app_id, task_id),
    }
    return render_page(request, "labeling/activity.html", context, partial="results")

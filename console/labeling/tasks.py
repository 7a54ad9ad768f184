"""An app's labeling tasks: the list with where each stands, making a task, changing one, pausing,
resuming, finishing and deleting it. All through the connection's token (the app's owner makes and
changes tasks); a task's own pages, done as the member's own user, are in console.labeling.work.

The list's numbers come from ListTasks' metrics (the inputs of the task's source, the inputs labeled, the
inputs reviewed) and, for what was approved, GetTaskInputCount (each labeler's approved inputs), one call
per task of the page, all at once.
"""

from dataclasses import dataclass
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.audit import context as audit
from console.clarifai import ClarifaiClient, ClarifaiError, concurrently
from console.connections.clients import client_for, ids
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.paging import Page, page_params
from console.core.rendering import http_status_for, render_page, write_failed
from console.labeling.forms import Choices, TaskEditForm, TaskForm, reviewer_ids, set_concepts, set_people, worker_ids
from console.labeling.identity import member_of

TaskPb = resources_pb2.Task
TASKS_PER_PAGE = 20
LISTED = 1000  # datasets, concepts and collaborators offered in a form
# What ListTasks of the real API leaves out unless asked.
ADDITIONAL_FIELDS = [
    "worker.users",
    "review.users",
    "metrics.input_source.inputs_count_estimated",
    "metrics.work.inputs_count_estimated",
    "metrics.review.inputs_count_estimated",
]
STATUS_WORDS = {
    status_code_pb2.TASK_IN_PROGRESS: ("In progress", "progress"),
    status_code_pb2.TASK_IDLE: ("Paused", "paused"),
    status_code_pb2.TASK_DONE: ("Done", "done"),
    status_code_pb2.TASK_WONT_DO: ("Closed", "done"),
}
# The status form's verbs: (the status they set, what the message says was done).
STATUS_CHANGES = {
    "pause": (status_code_pb2.TASK_IDLE, "paused"),
    "resume": (status_code_pb2.TASK_IN_PROGRESS, "resumed"),
    "finish": (status_code_pb2.TASK_DONE, "finished"),
}
# Which field of the form a refusal of the API is about, by the words of its message (first match).
REFUSAL_FIELDS = (
    ("workers_per_input", "workers_per_input"),
    ("approval_threshold", "approval_threshold"),
    ("already exists", "id"),
    ("Task id", "id"),
    ("eviewer", "reviewers"),
    ("abeler", "labelers"),
    ("oncept", "concepts"),
    ("ataset", "dataset"),
)


def _base(connection: Connection, app_id: str) -> dict[str, Any]:
    return {"connection": connection, "app_id": app_id, "section": "tasks"}


def _list_url(connection: Connection, app_id: str) -> str:
    return reverse("labeling:list", args=[connection.pk, app_id])


# The list


@dataclass
class Bar:
    label: str
    value: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.value / self.total) if self.total else 0


@dataclass
class TaskRow:
    task: resources_pb2.Task
    status: str
    state: str  # progress, paused or done: what the status form offers
    bars: list[Bar]
    labels: bool  # the viewer is one of its labelers
    reviews: bool  # or its reviewers


def labelers_per_answer(task: resources_pb2.Task) -> int:
    """How many approved answers make one approved input: the consensus threshold, or each input's labelers."""
    if task.review.strategy == resources_pb2.TaskReview.CONSENSUS:
        info = task.review.consensus_strategy_info
        return info.approval_threshold_labelers or info.approval_threshold or 1
    if task.worker.strategy == resources_pb2.TaskWorker.PARTITIONED:
        return task.worker.partitioned_strategy_info.workers_per_input or 1
    return max(1, len(worker_ids(task)))


def approved_inputs(task: resources_pb2.Task, counts: list[resources_pb2.TaskStatusCountPerUser]) -> int:
    """Inputs approved, from each labeler's approved inputs (the API counts none per task)."""
    total = task.metrics.input_source.inputs_count_estimated
    return min(total, sum(c.success for c in counts) // labelers_per_answer(task))


def _row(task: resources_pb2.Task, counts: list[Any], user_id: str) -> TaskRow:
    words, state = STATUS_WORDS.get(task.status.code, (task.status.description or "Unknown", "progress"))
    metrics = task.metrics
    total = metrics.input_source.inputs_count_estimated
    bars = [
        Bar("Labeled", metrics.work.inputs_count_estimated, total),
        Bar("Reviewed", metrics.review.inputs_count_estimated, total),
        Bar("Approved", approved_inputs(task, counts), total),
    ]
    labels = bool(user_id) and user_id in worker_ids(task)
    reviews = bool(user_id) and user_id in reviewer_ids(task)
    return TaskRow(task, words, state, bars, labels, reviews)


@require_GET
@connection_page("Loading the tasks")
def task_list(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    number, per_page = page_params(request, TASKS_PER_PAGE, (TASKS_PER_PAGE,))
    client, app_ids = client_for(connection), ids(connection, app_id)
    listing = service_pb2.ListTasksRequest(
        user_app_id=app_ids, page=number, per_page=per_page, additional_fields=ADDITIONAL_FIELDS
    )
    tasks = list(client.call("ListTasks", listing).tasks)
    counts = concurrently(*(_input_counts(client, app_ids, t.id) for t in tasks)) if tasks else []
    assert isinstance(request.user, User)
    member = member_of(request.user, connection)
    user_id = member.clarifai_user_id if member else ""
    rows = [_row(t, c, user_id) for t, c in zip(tasks, counts, strict=True)]
    context = {**_base(connection, app_id), "rows": rows, "page": Page(number, per_page, len(rows))}
    return render_page(request, "labeling/tasks/list.html", context, partial="results")


def _input_counts(client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, task_id: str) -> Any:
    request = service_pb2.GetTaskCountRequest(user_app_id=app_ids, task_id=task_id)
    return lambda: list(client.call("GetTaskInputCount", request).counts)


# Making and changing a task


def _person(user: resources_pb2.User, note: str = "") -> tuple[str, str]:
    name = f"{user.first_name} {user.last_name}".strip()
    label = f"{name} ({user.id})" if name else user.id
    return user.id, f"{label} · {note}" if note else label


def _choices(connection: Connection, app_id: str) -> Choices:
    """The app's datasets and concepts, and the people who may label: its owner and collaborators, and
    whoever already labels or reviews one of its tasks."""
    client, app_ids = client_for(connection), ids(connection, app_id)
    datasets, concepts, collaborators, tasks = concurrently(
        lambda: client.call("ListDatasets", service_pb2.ListDatasetsRequest(user_app_id=app_ids, per_page=LISTED)),
        lambda: client.call("ListConcepts", service_pb2.ListConceptsRequest(user_app_id=app_ids, per_page=LISTED)),
        lambda: client.call(
            "ListCollaborators", service_pb2.ListCollaboratorsRequest(user_app_id=app_ids, per_page=LISTED)
        ),
        lambda: client.call("ListTasks", service_pb2.ListTasksRequest(user_app_id=app_ids, per_page=LISTED)),
    )
    owner = collaborators.app_owner if collaborators.app_owner.id else resources_pb2.User(id=connection.user_id)
    people = dict([_person(owner, "owner")])
    for collaborator in collaborators.collaborators:
        people.setdefault(*_person(collaborator.user))
    for task in tasks.tasks:
        for user_id in [*worker_ids(task), *reviewer_ids(task)]:
            people.setdefault(user_id, user_id)
    return Choices(
        datasets=sorted((d.id, d.id) for d in datasets.datasets),
        concepts=[(c.id, c.name or c.id) for c in concepts.concepts],
        people=list(people.items()),
    )


def _refused(form: TaskEditForm, error: ClarifaiError, check_url: str, refused: str) -> None:
    """The API's refusal at the field it is about (else at the top), in its own words."""
    message = write_failed(error, check_url, "See the tasks as the API has them now", refused=refused)
    where = None
    if not error.outcome_unknown:
        where = next((name for words, name in REFUSAL_FIELDS if words in error.message and name in form.fields), None)
    form.add_error(where, message)


@require_http_methods(["GET", "POST"])
@connection_page("Creating the task")
def task_new(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    form = TaskForm(_choices(connection, app_id), request.POST or None)
    if request.method == "POST" and form.is_valid():
        task = form.task()
        post = service_pb2.PostTasksRequest(user_app_id=ids(connection, app_id), tasks=[task])
        try:
            client_for(connection).call("PostTasks", post)
        except ClarifaiError as e:
            _refused(form, e, _list_url(connection, app_id), "Nothing was created: ")
        else:
            messages.success(request, f"Task {task.name} created.")
            return redirect("labeling:list", connection.pk, app_id)
    context = {**_base(connection, app_id), "form": form}
    return render(request, "labeling/tasks/new.html", context, status=400 if form.errors else 200)


def _get_task(connection: Connection, app_id: str, task_id: str) -> resources_pb2.Task:
    request = service_pb2.GetTaskRequest(user_app_id=ids(connection, app_id), task_id=task_id)
    task: resources_pb2.Task = client_for(connection).call("GetTask", request).task
    return task


def _patch(connection: Connection, app_id: str, task: resources_pb2.Task) -> None:
    """Send the whole task back (PatchTasks `overwrite`), less what only the API fills."""
    task.ClearField("metrics")
    task.ClearField("created_at")
    task.ClearField("modified_at")
    patch = service_pb2.PatchTasksRequest(user_app_id=ids(connection, app_id), tasks=[task], action="overwrite")
    client_for(connection).call("PatchTasks", patch)


@require_http_methods(["GET", "POST"])
@connection_page("Saving the task")
def task_edit(request: HttpRequest, connection: Connection, app_id: str, task_id: str) -> HttpResponse:
    """Name, concepts, labelers, reviewers and instructions; how inputs are split and reviewed stays."""
    # One after the other: the choices' own calls run at once, which they would not inside a pool thread.
    task = _get_task(connection, app_id, task_id)
    choices = _choices(connection, app_id)
    initial = {
        "name": task.name,
        "concepts": [c.concept.id for c in task.concepts] or list(task.concept_ids),
        "labelers": worker_ids(task),
        "reviewers": reviewer_ids(task),
        "instructions": task.description,
    }
    form = TaskEditForm(choices, request.POST or None, initial=initial)
    if task.review.strategy in (0, resources_pb2.TaskReview.NONE):
        del form.fields["reviewers"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        task.name, task.description = data["name"], data["instructions"]
        set_concepts(task, data["concepts"], dict(choices.concepts))
        set_people(task, data["labelers"], data.get("reviewers", initial["reviewers"]))
        audit.before("PatchTasks", initial)
        try:
            _patch(connection, app_id, task)
        except ClarifaiError as e:
            _refused(form, e, _list_url(connection, app_id), "Nothing was saved: ")
        else:
            messages.success(request, f"Task {data['name']} saved.")
            return redirect("labeling:list", connection.pk, app_id)
    context = {**_base(connection, app_id), "task": task, "form": form}
    return render(request, "labeling/tasks/edit.html", context, status=400 if form.errors else 200)


@require_POST
@connection_page("Changing the task's status")
def task_status(request: HttpRequest, connection: Connection, app_id: str, task_id: str) -> HttpResponse:
    """Pause, resume or finish a task; back to the list with what happened."""
    change = STATUS_CHANGES.get(request.POST.get("status", ""))
    if change is None:
        messages.error(request, "Choose pause, resume or finish; nothing was changed.")
        return redirect("labeling:list", connection.pk, app_id)
    code, done = change
    task = _get_task(connection, app_id, task_id)
    name = task.name or task.id
    task.status.Clear()
    task.status.code = code
    try:
        _patch(connection, app_id, task)
    except ClarifaiError as e:
        messages.error(
            request, write_failed(e, _list_url(connection, app_id), "See the tasks", refused="Nothing was changed: ")
        )
    else:
        messages.success(request, f"Task {name} {done}.")
    return redirect("labeling:list", connection.pk, app_id)


@require_http_methods(["GET", "POST"])
@connection_page("Deleting the task")
def task_delete(request: HttpRequest, connection: Connection, app_id: str, task_id: str) -> HttpResponse:
    """Ask first; then delete the task with the work not yet approved (approved labels stay on the inputs)."""
    task = _get_task(connection, app_id, task_id)
    problem = None
    status = 200
    if request.method == "POST":
        delete = service_pb2.DeleteTasksRequest(user_app_id=ids(connection, app_id), ids=[task_id])
        try:
            client_for(connection).call("DeleteTasks", delete)
        except ClarifaiError as e:
            problem = write_failed(e, _list_url(connection, app_id), "See the tasks", refused="Nothing was deleted: ")
            status = http_status_for(e)
        else:
            messages.success(request, f"Task {task.name or task.id} deleted.")
            return redirect("labeling:list", connection.pk, app_id)
    context = {**_base(connection, app_id), "task": task, "problem": problem}
    return render(request, "labeling/tasks/delete.html", context, status=status)

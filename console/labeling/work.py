"""Labeling and review in the console, as the member doing them (their own token: `client_as`).

- The labeler's workspace (`work`): their assigned inputs, one large on screen, the task's concepts as
  toggles; the whole batch the API gave (PutTaskAssignments LABEL_START) is in the page, each picture
  loaded ahead, so moving on after a submit shows the next input at once while the submit (`submit`:
  PostAnnotations with the task, then LABEL_SUBMIT) runs; more is fetched (`?more=1`, a partial) before
  the batch runs out. Work sent back shows the reviewer's reason and the labeler's earlier answer.
- The review queue (`review`): what awaits review (REVIEW_START), grouped by input, each labeler's
  answer side by side, inputs where labelers disagree first; approve, reject or send back each answer
  with a reason (`decide`), after correcting its concepts if need be (PatchAnnotations, as the reviewer);
  or decide everything of one labeler at once (`decide_labeler`).
- A person with no identity on the connection is shown how to attach one (`identity`).

The API refuses what the person may not do (an input not assigned to them, their own work, concepts
outside the task); its reason is shown as it is.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.clarifai import ClarifaiClient, ClarifaiError
from console.connections.clients import ids, make_client
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.rendering import render_page, write_failed
from console.inputs.display import InputView, Urls, present
from console.labeling.identity import client_as, member_of
from console.labeling.models import ConnectionMember

Action = service_pb2.PutTaskAssignmentsRequestAction
AWAITING = (status_code_pb2.ANNOTATION_AWAITING_REVIEW, status_code_pb2.ANNOTATION_AWAITING_CONSENSUS_REVIEW)
VERDICTS = {
    "approve": (Action.REVIEW_APPROVE, "review_approve_config", "Approved"),
    "reject": (Action.REVIEW_REJECT, "review_reject_config", "Rejected"),
    "send_back": (Action.REVIEW_REQUEST_CHANGES, "review_request_changes_config", "Sent back"),
}
MAX_REASON = 500

type View = Callable[..., HttpResponseBase]


def member_page(what: str) -> Callable[[View], View]:
    """connection_page, then the member's own identity on the connection (or the page saying how to
    attach one); the view gets (request, connection, member, client, app_id, task_id)."""

    def decorate(view: View) -> View:
        @wraps(view)
        @connection_page(what)
        def wrapped(request: HttpRequest, connection: Connection, **kwargs: Any) -> HttpResponseBase:
            assert isinstance(request.user, User)
            member = member_of(request.user, connection)
            if member is None:
                context = {**_base(connection, kwargs["app_id"], kwargs["task_id"]), "what": what}
                # Not a refusal (their role allows labeling): a step to take first. A write without
                # one is a conflict with the state of things, not a page to show.
                code = 200 if request.method == "GET" else 409
                return render(request, "labeling/work_no_identity.html", context, status=code)
            return view(request, connection, member, client_as(member), **kwargs)

        return wrapped

    return decorate


def _base(connection: Connection, app_id: str, task_id: str) -> dict[str, Any]:
    args = [connection.pk, app_id, task_id]
    return {
        "connection": connection,
        "app_id": app_id,
        "task_id": task_id,
        "section": "tasks",
        "work_url": reverse("labeling_work:work", args=args),
        "review_url": reverse("labeling_work:review", args=args),
        "identity_url": reverse("labeling_work:identity", args=args),
    }


@dataclass
class Concept:
    id: str
    name: str
    key: str  # the number key that toggles it ("" past 9)


def _task(client: ClarifaiClient, connection: Connection, app_id: str, task_id: str) -> resources_pb2.Task:
    request = service_pb2.GetTaskRequest(user_app_id=ids(connection, app_id), task_id=task_id)
    task: resources_pb2.Task = client.call("GetTask", request).task
    return task


def _concepts(task: resources_pb2.Task) -> list[Concept]:
    out = []
    for n, tc in enumerate(task.concepts):
        out.append(Concept(tc.concept.id, tc.concept.name or tc.concept.id, str(n + 1) if n < 9 else ""))
    return out


def _positives(annotation: resources_pb2.Annotation) -> list[str]:
    return sorted(c.id for c in annotation.data.concepts if c.value > 0)


# The labeler's workspace


@dataclass
class WorkItem:
    input: InputView
    assignment_id: str
    reason: str  # the reviewer's, when the work was sent back
    checked: list[str] = field(default_factory=list)


def _work_items(
    client: ClarifaiClient, connection: Connection, member: ConnectionMember, app_id: str, task_id: str
) -> list[WorkItem]:
    start = service_pb2.PutTaskAssignmentsRequest(
        user_app_id=ids(connection, app_id), task_id=task_id, action=Action.LABEL_START
    )
    assignments = list(client.put_task_assignments(start).task_assignments)
    if not assignments:
        return []
    drafts = client.list_annotations(
        service_pb2.ListAnnotationsRequest(
            user_app_id=ids(connection, app_id),
            task_id=task_id,
            user_ids=[member.clarifai_user_id],
            input_ids=[a.input.id for a in assignments],
            per_page=len(assignments) * 4,  # their drafts and what they submitted before, if sent back
        )
    ).annotations  # (statuses cannot travel in a GET's query string: filtered here)
    checked = {d.input_id: _positives(d) for d in drafts if d.status.code == status_code_pb2.ANNOTATION_PENDING}
    urls = Urls.of(connection, app_id)
    return [
        WorkItem(present(connection, a.input, urls, full=True), a.id, a.status.details, checked.get(a.input.id, []))
        for a in assignments
    ]


@require_GET
@member_page("Loading your work")
def work(
    request: HttpRequest,
    connection: Connection,
    member: ConnectionMember,
    client: ClarifaiClient,
    app_id: str,
    task_id: str,
) -> HttpResponse:
    task = _task(client, connection, app_id, task_id)
    items = _work_items(client, connection, member, app_id, task_id)
    context = {
        **_base(connection, app_id, task_id),
        "task": task,
        "member": member,
        "concepts": _concepts(task),
        "items": items,
        "submit_url": reverse("labeling_work:submit", args=[connection.pk, app_id, task_id]),
    }
    return render_page(request, "labeling/work.html", context, partial="items" if request.GET.get("more") else None)


@require_POST
@member_page("Submitting your labels")
def submit(
    request: HttpRequest,
    connection: Connection,
    member: ConnectionMember,
    client: ClarifaiClient,
    app_id: str,
    task_id: str,
) -> HttpResponse:
    """The labeler's answer for one input: their draft annotation (the concepts checked, as present), then
    LABEL_SUBMIT. Through fetch (HX-Request): 204, or the reason in a 4xx/5xx fragment; else a redirect
    to the workspace with the outcome as a message."""
    input_id = request.POST.get("input_id", "").strip()
    concept_ids = list(dict.fromkeys(c for c in request.POST.getlist("concept") if c))
    user_app_id = ids(connection, app_id)
    problem = "" if input_id else "Say which input this answer is for."
    code = 400
    if not problem:
        annotation = resources_pb2.Annotation(input_id=input_id, task_id=task_id)
        annotation.data.SetInParent()
        for concept_id in concept_ids:
            annotation.data.concepts.add(id=concept_id, value=1.0)
        try:
            client.post_annotations(
                service_pb2.PostAnnotationsRequest(user_app_id=user_app_id, annotations=[annotation])
            )
            client.put_task_assignments(
                service_pb2.PutTaskAssignmentsRequest(
                    user_app_id=user_app_id, task_id=task_id, input_id=input_id, action=Action.LABEL_SUBMIT
                )
            )
        except ClarifaiError as e:
            code = 502 if e.outcome_unknown else 400
            problem = write_failed(
                e,
                reverse("labeling_work:work", args=[connection.pk, app_id, task_id]),
                "See your work as the API has it now",
                refused=f"Input {input_id} was not submitted: ",
            )
    return _answer(
        request,
        problem,
        f"Input {input_id} submitted.",
        lambda: (
            render(request, "labeling/work.html#problem", {"problem": problem}, status=code)
            if problem
            else HttpResponse(status=204)
        ),
        reverse("labeling_work:work", args=[connection.pk, app_id, task_id]),
    )


def _answer(
    request: HttpRequest, problem: str, success: str, fragment: Callable[[], HttpResponse], back: str
) -> HttpResponse:
    """How a labeling or review POST answers: through fetch (HX-Request) with `fragment()`, the outcome in
    place; otherwise with the outcome as a message (`problem`, else `success`) and a redirect to `back`."""
    if getattr(request, "htmx", False):
        return fragment()
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, success)
    return redirect(back)


# The review queue


@dataclass
class Answer:
    assignment_id: str
    worker: str
    concepts: list[str]
    annotation_id: str


@dataclass
class ReviewItem:
    input: InputView
    answers: list[Answer]

    @property
    def disagree(self) -> bool:
        return len({tuple(a.concepts) for a in self.answers}) > 1


def _review_items(client: ClarifaiClient, connection: Connection, app_id: str, task_id: str) -> list[ReviewItem]:
    start = service_pb2.PutTaskAssignmentsRequest(
        user_app_id=ids(connection, app_id), task_id=task_id, action=Action.REVIEW_START
    )
    assignments = list(client.put_task_assignments(start).task_assignments)
    if not assignments:
        return []
    annotations = client.list_annotations(
        service_pb2.ListAnnotationsRequest(
            user_app_id=ids(connection, app_id),
            task_id=task_id,
            input_ids=list(dict.fromkeys(a.input.id for a in assignments)),
            per_page=1000,
        )
    ).annotations
    by_answer = {(a.input_id, a.user_id): a for a in annotations if a.status.code in AWAITING}
    urls = Urls.of(connection, app_id)
    items: dict[str, ReviewItem] = {}
    for a in assignments:
        worker = a.worker.user.id
        found = by_answer.get((a.input.id, worker))
        item = items.setdefault(a.input.id, ReviewItem(present(connection, a.input, urls, full=True), []))
        item.answers.append(Answer(a.id, worker, _positives(found) if found else [], found.id if found else ""))
    ordered = list(items.values())
    ordered.sort(key=lambda i: not i.disagree)  # disagreements first; otherwise the API's order
    return ordered


@require_GET
@member_page("Loading the review queue")
def review(
    request: HttpRequest,
    connection: Connection,
    member: ConnectionMember,
    client: ClarifaiClient,
    app_id: str,
    task_id: str,
) -> HttpResponse:
    task = _task(client, connection, app_id, task_id)
    items = _review_items(client, connection, app_id, task_id)
    workers = sorted({a.worker for i in items for a in i.answers})
    context = {
        **_base(connection, app_id, task_id),
        "task": task,
        "member": member,
        "concepts": _concepts(task),
        "items": items,
        "workers": workers,
        "decide_url": reverse("labeling_work:decide", args=[connection.pk, app_id, task_id]),
        "decide_labeler_url": reverse("labeling_work:decide_labeler", args=[connection.pk, app_id, task_id]),
    }
    return render_page(request, "labeling/review.html", context)


def _verdict(request: HttpRequest) -> tuple[str, str, str]:
    """(verdict, reason, problem)."""
    verdict = request.POST.get("verdict", "")
    reason = request.POST.get("reason", "").strip()[:MAX_REASON]
    if verdict not in VERDICTS:
        return verdict, reason, "Choose approve, reject or send back."
    if verdict != "approve" and not reason:
        return verdict, reason, "Say why: the labeler sees the reason."
    return verdict, reason, ""


@require_POST
@member_page("Reviewing the answer")
def decide(
    request: HttpRequest,
    connection: Connection,
    member: ConnectionMember,
    client: ClarifaiClient,
    app_id: str,
    task_id: str,
) -> HttpResponse:
    """One labeler's answer to one input: approve (after correcting its concepts, when the reviewer
    changed them), reject, or send back, with a reason. Answers the decided card (or the card again with
    the problem)."""
    verdict, reason, problem = _verdict(request)
    assignment_id = request.POST.get("assignment_id", "")
    input_id = request.POST.get("input_id", "")
    worker = request.POST.get("worker", "")
    annotation_id = request.POST.get("annotation_id", "")
    given = sorted(dict.fromkeys(c for c in request.POST.getlist("concept") if c))
    was = sorted(c for c in request.POST.get("was", "").split(",") if c)
    user_app_id = ids(connection, app_id)
    corrected = False
    code = 400
    if not problem and not assignment_id:
        problem = "Say which answer this is about."
    if not problem:
        try:
            if verdict == "approve" and annotation_id and given != was:
                # With its task, which the API keeps anyway: the audit trail then has the change in the task's activity.
                annotation = resources_pb2.Annotation(id=annotation_id, input_id=input_id, task_id=task_id)
                annotation.data.SetInParent()
                for concept_id in given:
                    annotation.data.concepts.add(id=concept_id, value=1.0)
                client.patch_annotations(
                    service_pb2.PatchAnnotationsRequest(
                        user_app_id=user_app_id, annotations=[annotation], action="overwrite"
                    )
                )
                corrected = True
            action, config_name, _ = VERDICTS[verdict]
            put = service_pb2.PutTaskAssignmentsRequest(user_app_id=user_app_id, task_id=task_id, action=action)
            config = getattr(put, config_name)
            config.task_assignments.add(id=assignment_id).status.details = reason
            client.put_task_assignments(put)
        except ClarifaiError as e:
            code = 502 if e.outcome_unknown else 400
            review_url = reverse("labeling_work:review", args=[connection.pk, app_id, task_id])
            problem = write_failed(
                e, review_url, "See the queue as the API has it now", refused="Nothing was decided: "
            )
    context = {
        "review_url": reverse("labeling_work:review", args=[connection.pk, app_id, task_id]),
        "answer": Answer(assignment_id, worker, given, annotation_id),
        "input_id": input_id,
        "verdict": verdict,
        "done": VERDICTS.get(verdict, ("", "", ""))[2],
        "reason": reason,
        "corrected": corrected,
        "problem": problem,
    }
    return _answer(
        request,
        problem,
        f"{context['done']}: {worker}'s answer for {input_id}.",
        lambda: render(request, "labeling/review.html#decided", context, status=code if problem else 200),
        str(context["review_url"]),
    )


@require_POST
@member_page("Reviewing a labeler's work")
def decide_labeler(
    request: HttpRequest,
    connection: Connection,
    member: ConnectionMember,
    client: ClarifaiClient,
    app_id: str,
    task_id: str,
) -> HttpResponse:
    """Approve or reject everything of one labeler that awaits review."""
    verdict, reason, problem = _verdict(request)
    worker = request.POST.get("worker", "").strip()
    if not problem and verdict == "send_back":
        problem = "Send work back one answer at a time."
    if not problem and not worker:
        problem = "Choose the labeler."
    if not problem:
        action, config_name, done = VERDICTS[verdict]
        user_app_id = ids(connection, app_id)
        try:
            # What awaits review of this labeler, so that each answer carries the reason.
            start = service_pb2.PutTaskAssignmentsRequest(
                user_app_id=user_app_id, task_id=task_id, action=Action.REVIEW_START
            )
            start.review_start_config.workers.add().user.id = worker
            waiting = [a.id for a in client.put_task_assignments(start).task_assignments]
            decided = []
            if waiting:
                put = service_pb2.PutTaskAssignmentsRequest(user_app_id=user_app_id, task_id=task_id, action=action)
                config = getattr(put, config_name)
                for assignment_id in waiting:
                    config.task_assignments.add(id=assignment_id).status.details = reason
                decided = client.put_task_assignments(put).task_assignments
        except ClarifaiError as e:
            review_url = reverse("labeling_work:review", args=[connection.pk, app_id, task_id])
            problem = write_failed(
                e, review_url, "See the queue as the API has it now", refused="Nothing was decided: "
            )
        else:
            messages.success(request, f"{done}: {len(decided)} answer{'s' if len(decided) != 1 else ''} of {worker}.")
    if problem:
        messages.error(request, problem)
    return redirect("labeling_work:review", connection.pk, app_id, task_id)


# Attaching one's own identity


class IdentityForm(forms.Form):
    clarifai_user_id = forms.CharField(label="Your Clarifai user id", max_length=255)
    token = forms.CharField(
        label="Your personal access token",
        widget=forms.PasswordInput(render_value=False),
        help_text="Kept encrypted, never shown again. The console labels and reviews with it, as you.",
    )


@require_http_methods(["GET", "POST"])
@connection_page("Attaching your identity")
def identity(request: HttpRequest, connection: Connection, app_id: str, task_id: str) -> HttpResponse:
    """A member's own Clarifai user and token on this connection, checked by one call (GetUser) before it
    is kept."""
    assert isinstance(request.user, User)
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user_id = form.cleaned_data["clarifai_user_id"].strip()
        token = form.cleaned_data["token"].strip()
        try:
            with make_client(connection.base_url, token, user_id, builtin=connection.builtin) as probe:
                found = probe.call(
                    "GetUser", service_pb2.GetUserRequest(user_app_id=resources_pb2.UserAppIDSet(user_id="me"))
                ).user.id
        except (ClarifaiError, ValueError) as e:
            form.add_error(None, f"The API did not accept this token: {e}")
        else:
            if found != user_id:
                form.add_error("clarifai_user_id", f"This token belongs to another user ({found}).")
            else:
                member = member_of(request.user, connection) or ConnectionMember(
                    user=request.user, connection=connection
                )
                member.clarifai_user_id = user_id
                member.set_token(token)
                member.save()
                messages.success(request, f"You now label and review on {connection.name} as {user_id}.")
                return redirect("labeling_work:work", connection.pk, app_id, task_id)
    context = {**_base(connection, app_id, task_id), "form": form}
    return render(request, "labeling/work_identity.html", context, status=400 if form.errors else 200)

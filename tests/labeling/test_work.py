"""The labeler's workspace and the review queue against the local API, each person signed in as themselves:
seed_demo's labelers maya and noah and reviewer rita, on its task "shape-check" (PARTITIONED between the
two labelers, reviewed by hand)."""

import re
from typing import Any

import pytest
from django.test import Client

from console.connections.models import Connection
from console.labeling.models import ConnectionMember
from console.localapi import demo, status
from console.localapi.models import Annotation, TaskAssignment, TaskMember
from console.teams.models import Membership, Role
from tests.faults import FaultServer
from tests.markup import find

HX = {"HX-Request": "true"}
TASK = demo.DEMO_TASK


def as_(client: Client, django_user_model: Any, name: str) -> Client:
    client.force_login(django_user_model.objects.get(username=name))
    return client


def base(conn: Connection) -> str:
    return f"/c/{conn.pk}/apps/{demo.SHAPES_APP}/tasks/{TASK}/"


def pending_of(user_id: str) -> list[str]:
    return list(
        TaskAssignment.objects.filter(task__task_id=TASK, worker_id=user_id, status_code=status.TASK_ASSIGNMENT_PENDING)
        .order_by("id")
        .values_list("input__input_id", flat=True)
    )


def awaiting_of(user_id: str) -> list[TaskAssignment]:
    return list(
        TaskAssignment.objects.filter(
            task__task_id=TASK, worker_id=user_id, status_code=status.TASK_ASSIGNMENT_AWAITING_REVIEW
        )
        .select_related("input")
        .order_by("id")
    )


@pytest.mark.django_db
def test_the_workspace_shows_the_labelers_inputs_and_the_tasks_concepts_with_keys(
    client: Client, django_user_model: Any, conn: Connection
) -> None:
    page = as_(client, django_user_model, "maya").get(base(conn) + "work/").content.decode()
    mine = pending_of("maya")
    assert mine, "maya has work left"
    forms = re.findall(r'<form class="work-item[^>]*data-input-id="([^"]+)"', page)
    assert forms == mine, "the whole batch is in the page, in order"
    assert "Labeling as <strong>maya</strong>" in page
    for n, shape in enumerate(demo.SHAPES, start=1):
        assert f'value="{shape}" data-key="{n}"' in page
    assert page.count(" hidden>") >= len(mine) - 1, "only the first input shows"
    assert "/static/js/labeling.js" in page and "<kbd>Enter</kbd>" in page


@pytest.mark.django_db
def test_submitting_records_the_answer_as_the_labeler_and_refuses_what_is_not_theirs(
    client: Client, django_user_model: Any, conn: Connection
) -> None:
    maya = as_(client, django_user_model, "maya")
    first = pending_of("maya")[0]
    response = maya.post(base(conn) + "work/submit", {"input_id": first, "concept": ["circle"]}, headers=HX)
    assert response.status_code == 204
    answer = Annotation.objects.get(task__task_id=TASK, input__input_id=first, user_id="maya")
    assert answer.status_code == status.ANNOTATION_AWAITING_REVIEW
    assert answer.data["concepts"] == [{"id": "circle", "value": 1.0}]

    noahs = pending_of("noah")[0]
    refused = maya.post(base(conn) + "work/submit", {"input_id": noahs, "concept": ["circle"]}, headers=HX)
    assert refused.status_code == 400
    assert "is not assigned to you" in refused.content.decode() and "was not submitted" in refused.content.decode()

    second = pending_of("maya")[0]
    outside = maya.post(base(conn) + "work/submit", {"input_id": second, "concept": ["red"]}, headers=HX)
    assert outside.status_code == 400
    assert "is not one of task" in outside.content.decode()
    assert second in pending_of("maya"), "nothing was submitted"

    again = maya.post(base(conn) + "work/submit", {"input_id": first, "concept": ["star"]}, headers=HX)
    assert again.status_code == 400 and "submitted input" in again.content.decode()

    plain = maya.post(base(conn) + "work/submit", {"input_id": second, "concept": ["square"]})
    assert plain.status_code == 302
    assert f"Input {second} submitted." in maya.get(base(conn) + "work/").content.decode()


@pytest.mark.django_db
def test_the_review_queue_puts_each_answer_beside_the_others_and_decides_them(
    client: Client, django_user_model: Any, conn: Connection
) -> None:
    rita = as_(client, django_user_model, "rita")
    page = rita.get(base(conn) + "review/").content.decode()
    waiting = awaiting_of("maya") + awaiting_of("noah")
    assert len(waiting) == 5
    for assignment in waiting:
        assert f'name="assignment_id" value="{assignment.assignment_id}"' in page
    assert '<option value="maya">' in page and '<option value="noah">' in page

    # Approve with a correction: the reviewer's concepts replace the labeler's.
    target = awaiting_of("maya")[0]
    was = Annotation.objects.get(task__task_id=TASK, input=target.input, user_id="maya")
    other = next(s for s in demo.SHAPES if s != was.data["concepts"][0]["id"])
    decided = rita.post(
        base(conn) + "review/decide",
        {
            "assignment_id": target.assignment_id,
            "annotation_id": was.annotation_id,
            "input_id": target.input.input_id,
            "worker": "maya",
            "was": was.data["concepts"][0]["id"],
            "concept": [other],
            "verdict": "approve",
        },
        headers=HX,
    )
    assert decided.status_code == 200
    assert "Approved" in decided.content.decode() and f"corrected to {other}" in decided.content.decode()
    was.refresh_from_db()
    assert was.status_code == status.ANNOTATION_SUCCESS and was.data["concepts"] == [{"id": other, "value": 1.0}]

    # A rejection needs a reason; with one, the labeler's answer is denied with it.
    second = awaiting_of("maya")[0]
    fields = {"assignment_id": second.assignment_id, "input_id": second.input.input_id, "worker": "maya"}
    no_reason = rita.post(base(conn) + "review/decide", {**fields, "verdict": "reject"}, headers=HX)
    assert no_reason.status_code == 400 and "Say why" in no_reason.content.decode()
    rejected = rita.post(base(conn) + "review/decide", {**fields, "verdict": "reject", "reason": "Blurry."}, headers=HX)
    assert rejected.status_code == 200 and "Rejected" in rejected.content.decode()
    second.refresh_from_db()
    assert (second.status_code, second.status_details) == (status.TASK_ASSIGNMENT_REJECTED, "Blurry.")

    # Everything of one labeler at once.
    response = rita.post(base(conn) + "review/labeler", {"worker": "noah", "verdict": "approve"})
    assert response.status_code == 302
    assert not awaiting_of("noah")
    assert "Approved: 3 answers of noah." in rita.get(base(conn) + "review/").content.decode()


@pytest.mark.django_db
def test_work_sent_back_shows_the_reviewers_reason_and_the_earlier_answer(
    client: Client, django_user_model: Any, conn: Connection
) -> None:
    target = awaiting_of("noah")[0]
    answer = Annotation.objects.get(task__task_id=TASK, input=target.input, user_id="noah").data["concepts"][0]["id"]
    rita = as_(client, django_user_model, "rita")
    rita.post(
        base(conn) + "review/decide",
        {
            "assignment_id": target.assignment_id,
            "input_id": target.input.input_id,
            "worker": "noah",
            "verdict": "send_back",
            "reason": "Check the <corners>.",
        },
    )
    page = as_(client, django_user_model, "noah").get(base(conn) + "work/").content.decode()
    form = find(rf'<form class="work-item[^>]*data-input-id="{target.input.input_id}".*?</form>', page, flags=re.S)
    assert "Sent back by the reviewer:</strong> Check the &lt;corners&gt;." in form.group(0)
    key = list(demo.SHAPES).index(answer) + 1
    assert f'value="{answer}" data-key="{key}" checked' in form.group(0), "their earlier answer is checked"


@pytest.mark.django_db
def test_a_reviewer_cannot_review_their_own_work(client: Client, django_user_model: Any, conn: Connection) -> None:
    task = TaskAssignment.objects.filter(task__task_id=TASK).select_related("task").first()
    assert task is not None
    TaskMember.objects.create(task=task.task, user_id="maya", role=TaskMember.REVIEWER, position=1)
    Membership.objects.filter(team=conn.team, user__username="maya").update(role=Role.REVIEWER)  # the console lets her
    own = awaiting_of("maya")[0]
    maya = as_(client, django_user_model, "maya")
    assert f'value="{own.assignment_id}"' not in maya.get(base(conn) + "review/").content.decode()
    response = maya.post(
        base(conn) + "review/decide",
        {"assignment_id": own.assignment_id, "input_id": own.input.input_id, "worker": "maya", "verdict": "approve"},
        headers=HX,
    )
    assert response.status_code == 400 and "You cannot review your own work" in response.content.decode()
    own.refresh_from_db()
    assert own.status_code == status.TASK_ASSIGNMENT_AWAITING_REVIEW


@pytest.mark.django_db
def test_a_person_without_an_identity_is_told_how_to_attach_one(
    client: Client, django_user_model: Any, conn: Connection, tokens: dict[str, str]
) -> None:
    ada = django_user_model.objects.create_user("ada", password="x-long-enough-42")
    Membership.objects.create(team=conn.team, user=ada, role=Role.LABELER)
    client.force_login(ada)
    page = client.get(base(conn) + "work/")
    assert page.status_code == 200, "a step to take, not a refusal"
    assert client.post(base(conn) + "work/submit", {"input_id": "x"}).status_code == 409
    assert (
        "You have not attached one yet" in page.content.decode() and "Attach my Clarifai token" in page.content.decode()
    )
    assert tokens["noah"] not in page.content.decode()

    wrong = client.post(base(conn) + "identity", {"clarifai_user_id": "maya", "token": tokens["noah"]})
    assert wrong.status_code == 400 and "This token belongs to another user (noah)." in wrong.content.decode()
    bad = client.post(base(conn) + "identity", {"clarifai_user_id": "noah", "token": "not-a-token"})
    assert bad.status_code == 400 and "did not accept this token" in bad.content.decode()
    assert not ConnectionMember.objects.filter(user=ada).exists()

    attached = client.post(base(conn) + "identity", {"clarifai_user_id": "noah", "token": tokens["noah"]})
    assert attached.status_code == 302 and attached["Location"] == base(conn) + "work/"
    member = ConnectionMember.objects.get(user=ada)
    assert member.clarifai_user_id == "noah" and tokens["noah"] not in member.token_encrypted
    assert "Labeling as <strong>noah</strong>" in client.get(base(conn) + "work/").content.decode()


@pytest.mark.parametrize("kind", ["close", "refuse"])
def test_a_write_with_no_answer_may_have_been_saved_and_a_refused_one_was_not(
    client: Client, django_user_model: Any, faulty: tuple[FaultServer, Connection], kind: str
) -> None:
    """A member's write that got no answer says it may have been applied (the connection closed after
    the request went out); one the API refused says nothing was done, with the reason."""
    server, connection = faulty
    person = django_user_model.objects.create_user("lee", password="x-long-enough-42")
    Membership.objects.create(team=connection.team, user=person, role=Role.REVIEWER)
    member = ConnectionMember(user=person, connection=connection, clarifai_user_id="lee")
    member.set_token("lee-own-token")
    member.save()
    client.force_login(person)
    server.fault("POST", kind)  # PostAnnotations
    server.fault("PUT", kind)  # PutTaskAssignments
    where = f"/c/{connection.pk}/apps/shapes/tasks/t1/"

    submitted = client.post(where + "work/submit", {"input_id": "in-1", "concept": ["cat"]}, headers=HX)
    decided = client.post(
        where + "review/decide",
        {"assignment_id": "a1", "input_id": "in-1", "worker": "sam", "verdict": "reject", "reason": "No."},
        headers=HX,
    )
    for response, refused in ((submitted, "Input in-1 was not submitted"), (decided, "Nothing was decided")):
        html = response.content.decode()
        if kind == "close":
            assert "may have been saved" in html and refused not in html
        else:
            assert response.status_code == 400 and refused in html
        assert "lee-own-token" not in html and "fault-test-token" not in html
        assert response.status_code == (502 if kind == "close" else 400)


@pytest.mark.django_db
def test_inputs_where_the_labelers_disagree_come_first_with_the_answers_side_by_side(
    client: Client, django_user_model: Any, conn: Connection
) -> None:
    from console.localapi import labeling
    from console.localapi.models import App, Task

    app = App.objects.get(user_id=demo.DEMO_USER, app_id=demo.SHAPES_APP)
    task = Task.objects.create(
        app=app,
        task_id="both",
        name="Both label everything",
        input_source_type=labeling.DATASET,
        dataset=app.datasets.get(dataset_id="test"),
        input_source_id="test",
        concept_ids=list(demo.SHAPES),
        worker_strategy=labeling.FULL,
        review_strategy=labeling.REVIEW_MANUAL,
        created_by=app.user_id,
    )
    TaskMember.objects.bulk_create(
        [
            TaskMember(task=task, user_id="maya", role=TaskMember.WORKER, position=0),
            TaskMember(task=task, user_id="noah", role=TaskMember.WORKER, position=1),
            TaskMember(task=task, user_id="rita", role=TaskMember.REVIEWER, position=0),
        ]
    )
    where = f"/c/{conn.pk}/apps/{demo.SHAPES_APP}/tasks/both/"
    answers = {"maya": ["circle", "star"], "noah": ["circle", "square"]}  # agree on the first, not the second
    inputs: list[str] = []
    for name, shapes in answers.items():
        person = as_(client, django_user_model, name)
        page = person.get(where + "work/").content.decode()
        inputs = re.findall(r'<form class="work-item[^>]*data-input-id="([^"]+)"', page)[:2]
        for input_id, shape in zip(inputs, shapes, strict=True):
            response = person.post(where + "work/submit", {"input_id": input_id, "concept": [shape]}, headers=HX)
            assert response.status_code == 204
    agreed, disputed = inputs

    page = as_(client, django_user_model, "rita").get(where + "review/").content.decode()
    sections = re.findall(r'<section class="review-item card" aria-label="Input ([^"]+)">(.*?)</section>', page, re.S)
    assert [s[0] for s in sections] == [disputed, agreed], "the disagreement first"
    disputed_html = sections[0][1]
    assert "Labelers disagree" in disputed_html and "Labelers disagree" not in sections[1][1]
    cards = re.findall(r'aria-label="(\w+)\'s answer for', disputed_html)
    assert cards == ["maya", "noah"], "each labeler's answer side by side"
    assert (
        'value="star" data-key="4" checked' in disputed_html and 'value="square" data-key="2" checked' in disputed_html
    )

"""A task's dashboard and activity against the local API: seed_demo's task "shape-check" (PARTITIONED between
labelers maya and noah, reviewed by rita), more work done through the console as each of them, then the
numbers the dashboard shows; the task's activity for its team's admins."""

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from console.audit.context import Scope, acting, before
from console.connections.clients import client_for, ids
from console.connections.models import Connection
from console.labeling import progress
from console.localapi import demo, status
from console.localapi.models import Annotation, Concept, Task, TaskAssignment
from console.teams.models import Membership, Role

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}
TASK = demo.DEMO_TASK


@pytest.fixture
def lead(conn: Connection, django_user_model: Any) -> User:
    user: User = django_user_model.objects.create_user("lena", first_name="Lena", last_name="Lead")
    Membership.objects.create(team=conn.team, user=user, role=Role.ADMIN)
    return user


def as_(name: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=name))
    return client


def base(conn: Connection, task_id: str = TASK) -> str:
    return f"/c/{conn.pk}/apps/{demo.SHAPES_APP}/tasks/{task_id}/"


def pending_of(user_id: str) -> list[str]:
    return list(
        TaskAssignment.objects.filter(task__task_id=TASK, worker_id=user_id, status_code=status.TASK_ASSIGNMENT_PENDING)
        .order_by("id")
        .values_list("input__input_id", flat=True)
    )


def submit(conn: Connection, who: str, count: int) -> list[str]:
    client = as_(who)
    client.get(base(conn) + "work/")  # LABEL_START: their next inputs
    done = []
    for input_id in pending_of(who)[:count]:
        response = client.post(base(conn) + "work/submit", {"input_id": input_id, "concept": ["circle"]}, headers=HX)
        assert response.status_code == 204, response.content
        done.append(input_id)
    return done


def decide(conn: Connection, who: str, input_id: str, worker: str, verdict: str, reason: str = "", **more: Any) -> None:
    assignment = TaskAssignment.objects.get(task__task_id=TASK, input__input_id=input_id, worker_id=worker)
    as_(who).get(base(conn) + "review/")  # REVIEW_START
    response = as_(who).post(
        base(conn) + "review/decide",
        {
            "assignment_id": assignment.assignment_id,
            "input_id": input_id,
            "worker": worker,
            "verdict": verdict,
            "reason": reason,
            **more,
        },
        headers=HX,
    )
    assert response.status_code == 200, response.content


def cell(page: str, row: str, column: str) -> str:
    found = re.search(rf'<tr data-labeler="{row}">.*?<td class="num" data-{column}(?: [^>]*)?>([^<]*)</td>', page, re.S)
    assert found, f"no {column} for {row}"
    return found.group(1).strip()


def count(page: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">(\d+)<', page)
    assert found, f"no count {name}"
    return int(found.group(1))


def series(page: str, name: str) -> list[int]:
    found = re.search(rf'data-series="{name}" data-values="([^"]*)"', page)
    assert found, f"no series {name}"
    return [int(v) for v in found.group(1).split(",")]


@pytest.fixture
def worked(conn: Connection) -> dict[str, list[str]]:
    """On top of the demo's work (maya: 3 approved, 1 rejected, 2 awaiting; noah: 2 approved, 3 awaiting),
    maya submits two more and noah one, through the console as themselves; rita approves one of maya's (a
    square, not a circle: corrected) and rejects noah's."""
    mine = submit(conn, "maya", 2)
    his = submit(conn, "noah", 1)
    answer = Annotation.objects.get(task__task_id=TASK, input__input_id=mine[0], user_id="maya")
    corrected: dict[str, Any] = {"annotation_id": answer.annotation_id, "was": "circle", "concept": ["square"]}
    decide(conn, "rita", mine[0], "maya", "approve", **corrected)
    decide(conn, "rita", his[0], "noah", "reject", "Not a circle.")
    return {"maya": mine, "noah": his}


def test_the_dashboard_counts_each_labelers_work_and_the_tasks_progress(
    conn: Connection, worked: dict[str, list[str]]
) -> None:
    response = as_("maya").get(base(conn))  # a labeler may look too
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Check the shapes</h1>" in page
    assert "Mark the shape in each picture" in page  # the instructions
    for shape in demo.SHAPES:
        assert f'<span class="badge">{shape}</span>' in page
    assert "Partitioned: each input to 1 of the 2 labelers" in page and "By hand (rita)" in page
    assert 'href="?dataset=test"' not in page and "?dataset=test" in page
    assert f'href="{base(conn)}work/"' in page and f'href="{base(conn)}review/"' not in page  # maya: no review
    assert "activity/" not in page  # the task's activity is for the team's admins

    expected = {"maya": (8, 4, 1, 3), "noah": (6, 2, 1, 3)}
    for who, (labeled, approved, rejected, awaiting) in expected.items():
        assert cell(page, who, "labeled") == str(labeled), who
        assert cell(page, who, "approved") == str(approved), who
        assert cell(page, who, "rejected") == str(rejected), who
        assert cell(page, who, "awaiting") == str(awaiting), who

    inputs = Task.objects.get(task_id=TASK).dataset.inputs.count()  # type: ignore[union-attr]
    assert count(page, "inputs") == inputs
    assert count(page, "labeled") == 14  # PARTITIONED, one labeler an input: an answer an input
    assert (count(page, "approved"), count(page, "rejected"), count(page, "awaiting")) == (6, 2, 6)
    assert f'<progress class="ok" max="{inputs}" value="6"' in page
    assert (count(page, "reviewed"), count(page, "to-review")) == (8, 6)
    assert re.search(r'<tr data-reviewer="rita">.*?<td class="num" data-decided[^>]*>8</td>', page, re.S)
    assert "a gap over 10 minutes counts as a break" in page


def test_the_median_time_and_the_chart_come_from_when_the_answers_were_given(
    conn: Connection, worked: dict[str, list[str]]
) -> None:
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    day0 = today - timedelta(days=3)
    Task.objects.filter(task_id=TASK).update(created_at=day0 + timedelta(hours=12))
    # maya's eight answers: gaps of 30, 20, 70 s, a break of an hour, then 40, 60, 10 s: median 35 s.
    offsets = [0, 30, 50, 120, 3720, 3760, 3820, 3830]
    mayas = list(Annotation.objects.filter(task__task_id=TASK, user_id="maya").order_by("id"))
    assert len(mayas) == len(offsets)
    for answer, seconds in zip(mayas, offsets, strict=True):
        Annotation.objects.filter(pk=answer.pk).update(created_at=day0 + timedelta(hours=13, seconds=seconds))
    # noah's six the next day, a minute apart; every approval the day after.
    for n, answer in enumerate(Annotation.objects.filter(task__task_id=TASK, user_id="noah").order_by("id")):
        Annotation.objects.filter(pk=answer.pk).update(created_at=day0 + timedelta(days=1, hours=10, minutes=n))
    Annotation.objects.filter(task__task_id=TASK, status_code=status.ANNOTATION_SUCCESS).update(
        modified_at=day0 + timedelta(days=2, hours=9)
    )

    page = as_("rita").get(base(conn)).content.decode()
    assert cell(page, "maya", "median") == "35 s"
    assert cell(page, "noah", "median") == "1 min"
    assert 'data-unit="day"' in page  # three days old: by day
    # The start of day 0 (the task's), the ends of days 0, 1 and 2, then now.
    assert series(page, "labeled") == [0, 8, 14, 14, 14]
    assert series(page, "approved") == [0, 0, 0, 6, 6]
    assert '<title id="chart-title">Progress over time</title>' in page
    assert "14 labeled and 6 approved by now" in page  # the chart's description
    assert "<td>" + (day0 + timedelta(days=1)).strftime("%b %-d") + '</td><td class="num">8</td>' in page


def test_the_median_leaves_out_breaks() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.get_current_timezone())
    times = [start + timedelta(seconds=s) for s in (0, 10, 30, 2000, 2004)]
    assert progress.median_seconds(times) == (10, 3)  # 10, 20, 4: 20 is not one (the break of 1970 s left out)
    assert progress.median_seconds(times[:1]) == (None, 0)
    assert (
        progress.duration(None) == "—" and progress.duration(4.25) == "4.2 s" and progress.duration(3700) == "1 h 1 min"
    )


def test_a_young_task_is_charted_by_the_hour(conn: Connection, worked: dict[str, list[str]]) -> None:
    page = as_("rita").get(base(conn)).content.decode()
    assert 'data-unit="hour"' in page
    assert series(page, "labeled")[-1] == 14 and series(page, "approved")[-1] == 6


def test_the_activity_lists_who_changed_the_task_for_the_teams_admins(
    conn: Connection, lead: User, worked: dict[str, list[str]]
) -> None:
    task = resources_pb2.Task(id=TASK, name="Check the shapes again")
    with acting(Scope(user_id=lead.pk, connection_id=conn.pk)):
        before("PatchTasks", {"name": "Check the shapes"})
        client_for(conn).call(
            "PatchTasks",
            service_pb2.PatchTasksRequest(user_app_id=ids(conn, demo.SHAPES_APP), tasks=[task], action="overwrite"),
        )
        paused = resources_pb2.Task(id=TASK)
        paused.status.code = status.TASK_IDLE
        client_for(conn).call(
            "PatchTasks",
            service_pb2.PatchTasksRequest(user_app_id=ids(conn, demo.SHAPES_APP), tasks=[paused], action="overwrite"),
        )
    admin = as_("lena")
    dashboard = admin.get(base(conn)).content.decode()
    assert f'href="{base(conn)}activity/"' in dashboard
    assert "Latest activity" in dashboard and "PatchTasks: task shape-check" in dashboard

    response = admin.get(base(conn) + "activity/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Activity: Check the shapes again</h1>" in page
    edit = page.index("Task changed")
    row = page[page.rindex("<tr>", 0, edit) : page.index("</tr>", edit)]
    assert "<td>lena</td>" in row and "<strong>Task changed</strong>" in row
    assert re.search(r"<td>lena</td>\s*<td><strong>Task paused</strong>", page)
    assert "Check the shapes again" in row and "&quot;name&quot;: &quot;Check the shapes&quot;" in row  # after, before
    # The labeling and review done through the console, as each person, in words.
    mine, his = worked["maya"], worked["noah"]
    assert re.search(rf"<td>maya</td>\s*<td><strong>Submitted input {mine[1]}</strong>", page)
    assert re.search(rf"<td>maya</td>\s*<td><strong>Saved an answer for input {mine[0]}</strong>", page)
    assert re.search(rf"<td>noah</td>\s*<td><strong>Submitted input {his[0]}</strong>", page)
    assert re.search(r"<td>rita</td>\s*<td><strong>Approved 1 answer</strong>", page)
    assert re.search(rf"<td>rita</td>\s*<td><strong>Corrected the answer for input {mine[0]}</strong>", page)
    assert re.search(r"<td>rita</td>\s*<td><strong>Rejected 1 answer: Not a circle.</strong>", page)
    assert "LABEL_START" not in page and "REVIEW_START" not in page
    assert as_("rita").get(base(conn) + "activity/").status_code == 403


def test_markup_in_a_tasks_name_and_concepts_is_shown_as_text(conn: Connection) -> None:
    Task.objects.filter(task_id=TASK).update(name="<script>alert(1)</script>", description="<b>bold</b>")
    Concept.objects.filter(app__app_id=demo.SHAPES_APP, concept_id="circle").update(name="<img src=x onerror=alert(2)>")
    page = as_("rita").get(base(conn)).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<b>bold" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_a_task_that_does_not_exist_is_not_found(conn: Connection) -> None:
    response = as_("rita").get(base(conn, "no-such-task"))
    assert response.status_code == 404
    page = response.content.decode()
    assert "Loading the task failed" in page and "no-such-task" in page and "Back to the app" in page


def test_an_api_failure_says_what_failed(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.clarifai import ClarifaiStatusError

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ClarifaiStatusError(code=status.INTERNAL_SERVER_ISSUE, details="The database is down")

    monkeypatch.setattr(type(client_for(conn)), "list_annotations", refuse)
    response = as_("rita").get(base(conn))
    assert response.status_code == 502
    page = response.content.decode()
    assert "Loading the task failed" in page and "The database is down" in page and "Try again" in page

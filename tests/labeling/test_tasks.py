"""The tasks pages against the local API over real HTTP: seed_demo's shapes app with its task "shape-check"
(PARTITIONED between the labelers maya and noah, reviewed by rita), an editor who makes and changes tasks,
and a viewer who only looks."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from django.contrib.auth.models import User
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.clients import client_for, ids
from console.connections.models import Connection
from console.labeling.tasks import TASKS_PER_PAGE, approved_inputs
from console.localapi import demo
from console.teams.models import Membership, Role
from tests.faults import FaultServer, fault_server

HX = {"HX-Request": "true"}
pytestmark = pytest.mark.django_db(transaction=True)  # the pages call the API from several threads at once
APP = demo.SHAPES_APP
TASK = demo.DEMO_TASK


@pytest.fixture
def api(conn: Connection) -> ClarifaiClient:
    return client_for(conn)


def person(conn: Connection, client: Client, django_user_model: type[User], name: str, role: str) -> Client:
    user = django_user_model.objects.create_user(name, password="x-long-enough-42")
    Membership.objects.create(team=conn.team, user=user, role=role)
    client.force_login(user)
    return client


@pytest.fixture
def editor(conn: Connection, client: Client, django_user_model: type[User]) -> Client:
    return person(conn, client, django_user_model, "eve", Role.EDITOR)


def as_(client: Client, django_user_model: type[User], name: str) -> Client:
    client.force_login(django_user_model.objects.get(username=name))
    return client


def tasks_url(conn: Connection) -> str:
    return f"/c/{conn.pk}/apps/{APP}/tasks/"


def get_task(api: ClarifaiClient, conn: Connection, task_id: str) -> resources_pb2.Task:
    task: resources_pb2.Task = api.call(
        "GetTask", service_pb2.GetTaskRequest(user_app_id=ids(conn, APP), task_id=task_id)
    ).task
    return task


def card(page: str, task_id: str) -> str:
    start = page.index(f'data-task="{task_id}"')
    return page[start : page.index("</li>", start)]


def box(page: str, name: str, value: str) -> re.Match[str] | None:
    """The check box or radio button of `name` with `value`, and its label's text (group 2)."""
    return re.search(rf'<input type="(?:checkbox|radio)" name="{name}" value="{value}"([^>]*)>\s*([^<]*)</label>', page)


def checked(page: str, name: str, value: str) -> bool:
    found = box(page, name, value)
    return found is not None and " checked" in found.group(1)


def form_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Find the stars",
        "id": "",
        "dataset": "test",
        "concepts": ["star", "circle"],
        "type": "1",
        "labelers": ["maya", "noah"],
        "split": "PARTITIONED",
        "workers_per_input": "1",
        "review": "MANUAL",
        "reviewers": ["rita"],
        "approval_threshold": "1",
        "instructions": "Tick star when there is one.",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_list_shows_each_tasks_numbers_as_the_api_counts_them(
    editor: Client, api: ClarifaiClient, conn: Connection
) -> None:
    page = editor.get(tasks_url(conn)).content.decode()
    task = api.call("ListTasks", service_pb2.ListTasksRequest(user_app_id=ids(conn, APP))).tasks[0]
    counts = api.call(
        "GetTaskInputCount", service_pb2.GetTaskCountRequest(user_app_id=ids(conn, APP), task_id=TASK)
    ).counts
    total = task.metrics.input_source.inputs_count_estimated
    expected = {
        "labeled": task.metrics.work.inputs_count_estimated,
        "reviewed": task.metrics.review.inputs_count_estimated,
        "approved": approved_inputs(task, list(counts)),
    }
    assert expected == {"labeled": 11, "reviewed": 6, "approved": 5}, "the demo: 11 submitted, 6 decided, 5 approved"
    shown = card(page, TASK)
    assert "Check the shapes" in shown and "In progress" in shown
    for name, value in expected.items():
        assert f'data-bar="{name}"' in shown
        assert f'value="{value}" aria-labelledby' in shown
        assert f'aria-valuetext="{value} of {total} inputs"' in shown
        assert f'<span class="task-bar-count" data-count>{value} / {total}</span>' in shown
    assert f"/tasks/{TASK}/work/" in shown and f"/tasks/{TASK}/review/" in shown, "an editor sees every link"
    assert f"/tasks/{TASK}/edit/" in shown and "New task" in page


def test_the_list_is_one_partial_to_htmx_and_a_whole_page_otherwise(editor: Client, conn: Connection) -> None:
    whole = editor.get(tasks_url(conn)).content.decode()
    part = editor.get(tasks_url(conn), headers=HX).content.decode()
    assert "<html" in whole and '<nav class="subnav"' in whole
    assert "<html" not in part and part.lstrip().startswith("<title>") and 'data-task="shape-check"' in part


def test_labelers_see_label_and_reviewers_review_on_their_tasks_only(
    client: Client, django_user_model: type[User], conn: Connection
) -> None:
    maya = card(as_(client, django_user_model, "maya").get(tasks_url(conn)).content.decode(), TASK)
    assert ">Label</a>" in maya and ">Review</a>" not in maya and "Edit" not in maya
    rita = card(as_(client, django_user_model, "rita").get(tasks_url(conn)).content.decode(), TASK)
    assert ">Review</a>" in rita and ">Label</a>" not in rita
    page = as_(client, django_user_model, "rita").get(tasks_url(conn)).content.decode()
    assert 'aria-current="page">Tasks</a>' in page, "the Tasks tab is everyone's"


def test_a_viewer_sees_no_way_to_change_tasks_and_is_refused_when_trying(
    client: Client, django_user_model: type[User], conn: Connection, api: ClarifaiClient
) -> None:
    viewer = person(conn, client, django_user_model, "vic", Role.VIEWER)
    page = viewer.get(tasks_url(conn)).content.decode()
    shown = card(page, TASK)
    assert "New task" not in page and "/edit/" not in shown and "Pause" not in shown and "Delete" not in shown
    assert ">Label</a>" not in shown, "not a labeler of it"
    base = tasks_url(conn)
    for path, data in (
        ("new/", form_data()),
        (f"{TASK}/status/", {"status": "pause"}),
        (f"{TASK}/delete/", {}),
        (f"{TASK}/edit/", {"name": "Mine"}),
    ):
        assert viewer.post(base + path, data).status_code == 403, path
    assert get_task(api, conn, TASK).status.code == status_code_pb2.TASK_IN_PROGRESS
    assert get_task(api, conn, TASK).name == "Check the shapes"


def test_an_editor_creates_a_task_from_the_apps_datasets_concepts_and_people(
    editor: Client, conn: Connection, api: ClarifaiClient
) -> None:
    form = editor.get(tasks_url(conn) + "new/").content.decode()
    assert '<option value="test">test</option>' in form
    star = api.call("GetConcept", service_pb2.GetConceptRequest(user_app_id=ids(conn, APP), concept_id="star")).concept
    found = box(form, "concepts", "star")
    assert found and found.group(2) == star.name, "concepts by name"
    for user_id in ("demo", "maya", "noah", "rita"):
        assert box(form, "labelers", user_id) and box(form, "reviewers", user_id), user_id
    response = editor.post(tasks_url(conn) + "new/", form_data())
    assert response.status_code == 302 and response["Location"] == tasks_url(conn)
    task = get_task(api, conn, "find-the-stars")  # the id made from the name
    assert task.name == "Find the stars" and task.description == "Tick star when there is one."
    assert [c.concept.id for c in task.concepts] == ["star", "circle"]
    assert list(task.worker.user_ids) == ["maya", "noah"] and list(task.review.user_ids) == ["rita"]
    assert task.worker.strategy == resources_pb2.TaskWorker.PARTITIONED
    assert task.worker.partitioned_strategy_info.workers_per_input == 1
    assert task.review.strategy == resources_pb2.TaskReview.MANUAL
    assert task.input_source.id == "test"
    page = editor.get(tasks_url(conn)).content.decode()
    assert "Task Find the stars created." in page
    shown = card(page, "find-the-stars")
    assert shown.count('value="0" aria-labelledby') == 3, "nothing done yet"

    consensus = form_data(name="Agree", split="FULL", review="CONSENSUS", approval_threshold="2", type="2")
    assert editor.post(tasks_url(conn) + "new/", consensus).status_code == 302
    agreed = get_task(api, conn, "agree")
    assert agreed.review.consensus_strategy_info.approval_threshold_labelers == 2
    assert agreed.type == resources_pb2.Task.BOUNDING_BOX_DETECTION
    assert "bounding boxes" in card(editor.get(tasks_url(conn)).content.decode(), "agree")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"dataset": "empty"}, "dataset", "Dataset 'empty' has no processed inputs to label"),
        ({"dataset": "gone"}, "dataset", "Dataset 'gone' in app 'shapes' does not exist"),
        ({"labelers": None, "split": "FULL"}, "labelers", "A task needs at least one labeler"),
        ({"concepts": ["star", "unicorn"]}, "concepts", "Concept 'unicorn' in app 'shapes' does not exist"),
        ({"id": TASK}, "id", f"Task {TASK} already exists"),
        ({"reviewers": None}, "reviewers", "need at least one reviewer"),
        ({"workers_per_input": "3"}, "workers_per_input", "workers_per_input must be between 1 and"),
    ],
)
def test_each_refusal_of_the_api_is_shown_at_its_field_and_keeps_the_form(
    editor: Client, conn: Connection, api: ClarifaiClient, changes: dict[str, Any], field: str, words: str
) -> None:
    api.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(user_app_id=ids(conn, APP), datasets=[resources_pb2.Dataset(id="empty")]),
    )
    response = editor.post(tasks_url(conn) + "new/", form_data(**changes))
    assert response.status_code == 400
    page = response.content.decode().replace("&#x27;", "'")
    assert "Nothing was created: " in page and words in page
    group = page[page.index(f'name="{field}"') :]
    assert group.index(words) < group.index('class="field"'), "the refusal is at its field"
    assert 'value="Find the stars"' in page and "Tick star when there is one.</textarea>" in page
    assert checked(page, "labelers", "maya") or "labelers" in changes
    assert checked(page, "split", changes.get("split", "PARTITIONED"))
    listed = api.call("ListTasks", service_pb2.ListTasksRequest(user_app_id=ids(conn, APP))).tasks
    assert [t.id for t in listed] == [TASK], "nothing was created"


def test_pause_resume_finish_and_delete_each_say_what_happened(
    editor: Client, conn: Connection, api: ClarifaiClient
) -> None:
    url = tasks_url(conn) + f"{TASK}/status/"
    for verb, code, said, offered in (
        ("pause", status_code_pb2.TASK_IDLE, "paused", "Resume"),
        ("resume", status_code_pb2.TASK_IN_PROGRESS, "resumed", "Pause"),
        ("finish", status_code_pb2.TASK_DONE, "finished", "Reopen"),
    ):
        response = editor.post(url, {"status": verb})
        assert response.status_code == 302 and response["Location"] == tasks_url(conn)
        assert get_task(api, conn, TASK).status.code == code
        page = editor.get(tasks_url(conn)).content.decode()
        assert f"Task Check the shapes {said}." in page
        assert f'value="{"resume" if offered in ("Resume", "Reopen") else "pause"}"' in card(page, TASK)
        assert f">{offered}</button>" in card(page, TASK)
    assert editor.post(url, {"status": "explode"}).status_code == 302
    assert "Choose pause, resume or finish" in editor.get(tasks_url(conn)).content.decode()

    confirm = editor.get(tasks_url(conn) + f"{TASK}/delete/").content.decode()
    assert "Delete the task Check the shapes?" in confirm and ">Delete the task</button>" in confirm
    deleted = editor.post(tasks_url(conn) + f"{TASK}/delete/")
    assert deleted.status_code == 302
    page = editor.get(tasks_url(conn)).content.decode()
    assert "Task Check the shapes deleted." in page and "data-empty" in page and "Create a task" in page
    assert not api.call("ListTasks", service_pb2.ListTasksRequest(user_app_id=ids(conn, APP))).tasks


def test_editing_shows_the_task_as_it_is_and_saves_what_changed(
    editor: Client, conn: Connection, api: ClarifaiClient
) -> None:
    url = tasks_url(conn) + f"{TASK}/edit/"
    form = editor.get(url).content.decode()
    assert 'value="Check the shapes"' in form
    assert "Mark the shape in each picture" in form
    assert checked(form, "labelers", "maya") and checked(form, "labelers", "noah")
    assert checked(form, "reviewers", "rita") and not checked(form, "labelers", "rita")
    assert all(checked(form, "concepts", shape) for shape in demo.SHAPES)
    data = {
        "name": "Check the shapes again",
        "concepts": ["circle", "square"],
        "labelers": ["maya"],
        "reviewers": ["rita"],
        "instructions": "Only circles and squares.",
    }
    assert editor.post(url, data).status_code == 302
    task = get_task(api, conn, TASK)
    assert task.name == "Check the shapes again" and task.description == "Only circles and squares."
    assert [c.concept.id for c in task.concepts] == ["circle", "square"]
    assert list(task.worker.user_ids) == ["maya"]
    assert task.worker.strategy == resources_pb2.TaskWorker.PARTITIONED, "how inputs are split stays"

    empty = editor.post(url, {**data, "labelers": []})
    assert (
        empty.status_code == 400 and "A task needs at least one labeler; nothing was saved." in empty.content.decode()
    )
    refused = editor.post(url, {**data, "concepts": ["unicorn"]})
    assert refused.status_code == 400
    assert "Nothing was saved: " in refused.content.decode() and "unicorn" in refused.content.decode()


def test_a_tasks_name_is_shown_as_text(editor: Client, conn: Connection, api: ClarifaiClient) -> None:
    name = '<script>alert("x")</script>'
    response = editor.post(tasks_url(conn) + "new/", form_data(name=name, id="evil"))
    assert response.status_code == 302
    page = editor.get(tasks_url(conn)).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in card(page, "evil")
    assert "&lt;script&gt;" in editor.get(tasks_url(conn) + "evil/delete/").content.decode()


@pytest.fixture
def faulty(settings: Any, db: None) -> Iterator[tuple[FaultServer, Connection]]:
    settings.CONSOLE_CLARIFAI_DEADLINE = 1
    with fault_server() as server:
        connection = Connection(name="Faulty", user_id="u", base_url=server.url)
        connection.set_token("fault-test-token")
        connection.save()
        yield server, connection


def test_a_create_with_no_answer_says_it_may_have_been_made(
    client: Client, django_user_model: type[User], faulty: tuple[FaultServer, Connection]
) -> None:
    server, connection = faulty
    editor = person(connection, client, django_user_model, "eve", Role.EDITOR)
    server.fault("POST", "close")
    response = editor.post(f"/c/{connection.pk}/apps/{APP}/tasks/new/", form_data())
    assert response.status_code == 400
    page = response.content.decode()
    assert "The API did not confirm this change; it may have been saved." in page
    assert 'value="Find the stars"' in page
    assert any(path.endswith("/tasks") for method, path, _ in server.received if method == "POST")


def test_the_list_pages_as_the_api_does(editor: Client, conn: Connection, api: ClarifaiClient) -> None:
    made = []
    for n in range(TASKS_PER_PAGE):
        task = resources_pb2.Task(id=f"more-{n:02}", name=f"More {n}", concept_ids=["circle"])
        task.input_source.type = resources_pb2.TaskInputSource.DATASET
        task.input_source.id = "test"
        task.worker.workers.add().user.id = "maya"
        made.append(task)
    api.call("PostTasks", service_pb2.PostTasksRequest(user_app_id=ids(conn, APP), tasks=made))
    first = editor.get(tasks_url(conn)).content.decode()
    assert first.count('class="card task-card"') == TASKS_PER_PAGE
    assert 'rel="next" href="?page=2"' in first
    second = editor.get(tasks_url(conn) + "?page=2").content.decode()
    assert second.count('class="card task-card"') == 1 and 'data-task="shape-check"' in second, "the oldest last"
    assert 'rel="prev" href="?page=1"' in second

"""Selecting inputs on the grid and changing them as a job: ticked tiles, this page, all that match
(a snapshot counted page by page), and the bulk actions."""

import re
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.inputs import selection
from console.jobs.models import Job
from console.localapi.models import Input
from console.teams.models import Membership, Role
from tests.markup import find

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}
APP = resources_pb2.UserAppIDSet(app_id="shapes")


def bulk(local: Connection) -> str:
    return f"/c/{local.pk}/apps/shapes/inputs/bulk"


def concepts_of(api: ClarifaiClient, input_id: str) -> dict[str, float]:
    request = service_pb2.GetInputRequest(user_app_id=APP, input_id=input_id)
    response: service_pb2.SingleInputResponse = api.call("GetInput", request)
    return {c.id: c.value for c in response.input.data.concepts}


@pytest.fixture
def shapes(make_app: Callable[..., str], api: ClarifaiClient) -> str:
    make_app(texts=5)
    api.call(
        "PostConcepts",
        service_pb2.PostConceptsRequest(user_app_id=APP, concepts=[resources_pb2.Concept(id="star", name="Star")]),
    )
    return "shapes"


def test_the_grid_is_a_form_that_selects_without_javascript(console: Client, local: Connection, shapes: str) -> None:
    page = console.get(f"/c/{local.pk}/apps/shapes/inputs/?type=text").content.decode()
    form = find(r'<form method="post" action="[^"]*/inputs/bulk"[^>]*id="bulk".*?</form>', page, re.S).group(0)
    assert 'name="csrfmiddlewaretoken"' in form
    assert form.count('name="page_ids"') == 5
    assert '<input type="radio" name="scope" value="page">' in form
    assert 'name="back" value="type=text"' in form
    # Each tile's checkbox belongs to that form.
    assert page.count('<input type="checkbox" name="ids" value="text-') == 5
    assert 'form="bulk" data-pick' in page


def test_a_bulk_action_on_nothing_selected_says_so_and_starts_nothing(
    console: Client, local: Connection, shapes: str
) -> None:
    response = console.post(
        bulk(local), {"kind": "add_concepts", "concept": "Star", "back": "type=text", "scope": "selected"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/c/{local.pk}/apps/shapes/inputs/?type=text"
    assert "No input is selected, so nothing was started" in response.content.decode()
    assert not Job.objects.exists()


def test_adding_a_concept_by_name_to_ticked_tiles_runs_a_job_and_shows_it(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str
) -> None:
    response = console.post(
        bulk(local),
        {
            "kind": "add_concepts",
            "concept": "star",
            "label": "no",
            "scope": "selected",
            "ids": ["text-001", "text-003"],
        },
    )
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/c/{local.pk}/jobs/{job.pk}/"
    assert (job.kind, job.params, job.total) == ("add_concepts", {"concepts": ["star"], "value": 0}, 2)
    job.refresh_from_db()
    assert job.state == Job.DONE
    assert concepts_of(api, "text-001") == {"star": 0.0}
    assert concepts_of(api, "text-000") == {}


def test_this_page_selects_every_input_shown(console: Client, local: Connection, shapes: str) -> None:
    console.post(
        bulk(local),
        {"kind": "set_metadata", "meta": 'a.b = "x"', "scope": "page", "page_ids": ["text-000", "text-002"]},
    )
    job = Job.objects.get()
    assert job.params == {"metadata": {"a.b": "x"}}
    assert job.total == 2
    assert Input.objects.get(input_id="text-002").metadata == {"a": {"b": "x"}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "add_concepts", "concept": "nothing-like-it"}, "This app has no concept “nothing-like-it”"),
        ({"kind": "set_metadata", "meta": "split = test"}, "write text in double quotes"),
        ({"kind": "add_to_dataset"}, "Give the dataset"),
        ({"kind": "launch"}, "Choose what to do"),
    ],
)
def test_a_bulk_action_that_cannot_start_says_why(
    console: Client, local: Connection, shapes: str, fields: dict[str, str], message: str
) -> None:
    response = console.post(bulk(local), {**fields, "scope": "selected", "ids": ["text-000"]}, follow=True)
    assert message in response.content.decode()
    assert "Nothing was started." in response.content.decode()
    assert not Job.objects.exists()


def test_deleting_asks_first_with_the_count(console: Client, local: Connection, shapes: str) -> None:
    fields = {"kind": "delete_inputs", "scope": "selected", "ids": ["text-000", "text-004"], "back": "page=1"}
    confirm = console.post(bulk(local), fields).content.decode()
    assert "<h1>Delete 2 inputs?</h1>" in confirm
    assert not Job.objects.exists()
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', confirm)
    assert ("ids", "text-000") in hidden and ("ids", "text-004") in hidden and ("confirmed", "yes") in hidden
    response = console.post(bulk(local), {**fields, "confirmed": "yes"})
    assert response.status_code == 302
    assert Job.objects.get().kind == "delete_inputs"
    assert sorted(Input.objects.values_list("input_id", flat=True)) == ["text-001", "text-002", "text-003"]


def test_every_bulk_post_needs_the_csrf_token(local: Connection, shapes: str, staff: object) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)  # type: ignore[arg-type]
    response = client.post(bulk(local), {"kind": "delete_inputs", "scope": "selected", "ids": ["text-000"]})
    assert response.status_code == 403
    response = client.post(f"/c/{local.pk}/apps/shapes/inputs/snapshot", {"back": ""})
    assert response.status_code == 403


def test_all_that_match_is_counted_page_by_page_and_changed_exactly(
    console: Client, local: Connection, api: ClarifaiClient, shapes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selection, "SNAPSHOT_PAGE", 2)
    url = f"/c/{local.pk}/apps/shapes/inputs/snapshot"
    answer = console.post(url, {"back": "type=text&id="}, headers=HX).content.decode()
    steps = 1
    while "Counting…" in answer:
        assert f"Counting… {2 * steps} so far" in answer
        step = find(r'hx-post="([^"]+)" hx-trigger="load"', answer).group(1).replace("&amp;", "&")
        answer = console.post(step, headers=HX).content.decode()
        steps += 1
    assert steps == 3  # 2, 4, then 5: the last page is short
    assert '<input type="radio" name="scope" value="all" form="bulk" checked> All 5 that match' in answer
    token = find(r'name="snapshot" value="(\w+)"', answer).group(1)
    # An input added after the count is not changed: what was counted is what changes.
    api.call(
        "PostInputs",
        service_pb2.PostInputsRequest(
            user_app_id=APP,
            inputs=[resources_pb2.Input(id="late", data=resources_pb2.Data(text=resources_pb2.Text(raw="x")))],
        ),
    )
    console.post(bulk(local), {"kind": "add_concepts", "concept": "Star", "scope": "all", "snapshot": token})
    job = Job.objects.get()
    assert job.total == 5
    assert all(concepts_of(api, f"text-{n:03}") == {"star": 1.0} for n in range(5))
    assert concepts_of(api, "late") == {}


def test_a_snapshot_is_only_for_whoever_took_it(
    console: Client, local: Connection, shapes: str, django_user_model: object
) -> None:
    answer = console.post(f"/c/{local.pk}/apps/shapes/inputs/snapshot", {"back": ""}, headers=HX).content.decode()
    token = find(r'name="snapshot" value="(\w+)"', answer).group(1)
    someone = django_user_model.objects.create_user("someone", password="x-long-password-1")  # type: ignore[attr-defined]
    Membership.objects.create(team=local.team, user=someone, role=Role.EDITOR)  # another editor of the team
    other = Client()
    other.force_login(someone)
    response = other.post(
        bulk(local), {"kind": "delete_inputs", "scope": "all", "snapshot": token, "confirmed": "yes"}, follow=True
    )
    assert "count again" in response.content.decode()
    assert not Job.objects.exists()


def test_all_that_match_without_htmx_goes_back_to_the_grid_and_says_why(
    console: Client, local: Connection, shapes: str
) -> None:
    url = f"/c/{local.pk}/apps/shapes/inputs/snapshot"
    response = console.post(url, {"back": "type=text"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/c/{local.pk}/apps/shapes/inputs/?type=text"
    assert "Selecting all that match needs JavaScript" in response.content.decode()

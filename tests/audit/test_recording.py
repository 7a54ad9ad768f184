"""Every change made through the console is recorded with who made it, what, and the API's request id:
an input edit, a bulk job (as the person who started it), a concept rename, app and connection changes,
sign-ins (and failed ones) and refused actions."""

import html
import re
from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.contrib.auth.models import User
from django.test import Client

from console.audit.models import AuditEvent
from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.jobs.models import Job
from console.localapi.models import Token
from console.localapi.models import User as LocalUser
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shapes(make_app: Callable[..., str]) -> str:
    return make_app("shapes", texts=5, images=1)


def was_field(page: bytes) -> str:
    """The signed old values a page's edit form carries."""
    found = re.search(r'name="was" value="([^"]+)"', page.decode())
    assert found, "the form has no was field"
    return html.unescape(found.group(1))


def writes() -> list[AuditEvent]:
    """The API writes recorded (not the sign-ins and connection events around them), oldest first."""
    return list(AuditEvent.objects.filter(api_status__isnull=False).order_by("at", "pk"))


def test_an_input_edit_is_recorded_with_who_what_before_after_and_the_request_id(
    console: Client, local: Connection, shapes: str, staff: User
) -> None:
    AuditEvent.objects.all().delete()
    was = was_field(console.get(f"/c/{local.pk}/apps/shapes/inputs/image-000/").content)
    response = console.post(
        f"/c/{local.pk}/apps/shapes/inputs/image-000/edit",
        {"concept": ["red"], "value": ["no"], "metadata": '{"split": "train"}', "was": was},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    (event,) = writes()
    assert event.action == "PatchInputs"
    assert (event.user, event.username, event.address) == (staff, "ada", "10.1.2.3")
    assert event.connection == local and event.app_id == "shapes"
    assert (event.target_kind, event.target_id) == ("input", "image-000")
    assert event.req_id and event.api_status == 10000
    assert event.before == {"concepts": {"red": 1.0}, "metadata": {}}
    after = event.after or {}
    (sent,) = after["inputs"]
    assert sent["data"]["metadata"] == {"split": "train"}
    assert sent["data"]["concepts"] == [{"id": "red"}]  # value 0: "no", left out of the JSON as a default
    assert "user_app_id" not in after


def test_a_bulk_job_records_its_writes_as_done_by_the_person_who_started_it(
    console: Client, local: Connection, shapes: str, staff: User
) -> None:
    ids = ["text-000", "text-001", "text-002"]
    response = console.post(
        f"/c/{local.pk}/apps/shapes/inputs/bulk",
        {"kind": "add_concepts", "concept": "red", "scope": "selected", "ids": ids},
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.state == Job.DONE
    patches = [e for e in writes() if e.action == "PatchInputs"]
    assert patches
    for event in patches:
        assert (event.user, event.username, event.job_id) == (staff, "ada", job.pk)
        assert event.req_id and event.connection == local and event.app_id == "shapes"
    touched = {t.key for e in patches for t in e.targets.filter(kind="input")}
    assert touched == set(ids)
    assert "3 inputs" in patches[-1].summary


def test_a_concept_rename_keeps_the_old_name_as_before(console: Client, local: Connection, shapes: str) -> None:
    was = was_field(console.get(f"/c/{local.pk}/apps/shapes/concepts/red/").content)
    console.post(f"/c/{local.pk}/apps/shapes/concepts/red/rename", {"name": "Rouge", "was": was})
    (event,) = [e for e in writes() if e.action == "PatchConcepts"]
    assert event.before == {"name": "red"}
    assert (event.after or {})["concepts"] == [{"id": "red", "name": "Rouge"}]
    assert (event.target_kind, event.target_id, event.username) == ("concept", "red", "ada")


def test_an_altered_was_field_is_not_taken_as_the_old_values(console: Client, local: Connection, shapes: str) -> None:
    console.post(f"/c/{local.pk}/apps/shapes/concepts/red/rename", {"name": "Rouge", "was": "forged:value"})
    (event,) = [e for e in writes() if e.action == "PatchConcepts"]
    assert event.before == {"unknown": "the page's old values were out of date or altered"}


def test_app_settings_keep_the_old_name_and_description(console: Client, local: Connection, shapes: str) -> None:
    console.post(f"/c/{local.pk}/apps/shapes/settings", {"name": "Formes", "description": "<b>new</b>"})
    (event,) = [e for e in writes() if e.action == "PatchApps"]
    assert event.before == {"name": "Shapes", "description": ""}
    assert event.app_id == "shapes" and (event.after or {})["apps"][0]["name"] == "Formes"


def test_a_refused_write_is_recorded_with_its_status(
    console: Client, local: Connection, shapes: str, api: ClarifaiClient
) -> None:
    console.post(f"/c/{local.pk}/apps/shapes/inputs/ghost/edit", {"metadata": "{}"})
    (event,) = [e for e in writes() if e.action == "PatchInputs"]
    assert event.succeeded is False and event.api_status != 10000
    assert "failed" in event.summary


def test_reads_record_nothing(console: Client, local: Connection, shapes: str) -> None:
    before = AuditEvent.objects.count()
    assert console.get(f"/c/{local.pk}/apps/shapes/inputs/").status_code == 200
    assert console.get(f"/c/{local.pk}/apps/shapes/inputs/image-000/").status_code == 200
    assert AuditEvent.objects.count() == before


def test_sign_ins_failed_sign_ins_and_sign_outs_are_recorded(client: Client, staff: User) -> None:
    client.post("/accounts/login/", {"username": "ada", "password": "wrong"}, REMOTE_ADDR="10.9.8.7")
    client.post("/accounts/login/", {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="10.9.8.7")
    client.post("/accounts/logout/", REMOTE_ADDR="10.9.8.7")
    events = list(AuditEvent.objects.order_by("at", "pk"))
    assert [(e.action, e.username, e.address) for e in events] == [
        ("sign_in_failed", "ada", "10.9.8.7"),
        ("sign_in", "ada", "10.9.8.7"),
        ("sign_out", "ada", "10.9.8.7"),
    ]
    assert events[0].user is None and events[1].user == staff
    assert "wrong" not in str([e.__dict__ for e in events])


def test_a_token_change_is_said_never_shown(console: Client, local: Connection) -> None:
    _, secret = Token.issue(LocalUser.objects.get(id="demo"))
    response = console.post(f"/connections/{local.pk}/edit", {"name": "Renamed", "user_id": "demo", "token": secret})
    assert response.status_code == 302
    actions = {e.action: e for e in AuditEvent.objects.filter(connection=local)}
    assert actions["connection_changed"].after == {"name": "Renamed"}
    assert actions["connection_changed"].before == {"name": "Local demo"}
    assert actions["token_changed"].summary == "The token of connection Renamed changed"
    assert actions["token_changed"].username == "ada"
    assert secret not in str(list(AuditEvent.objects.values()))


def test_a_refused_page_is_recorded(client: Client, member: User, local: Connection) -> None:
    client.force_login(member)
    assert client.get("/connections/new").status_code == 403
    event = AuditEvent.objects.get(action="refused")
    assert event.username == "bob" and "GET /connections/new" in event.summary


def test_the_history_of_an_input_is_on_its_page(console: Client, local: Connection, shapes: str) -> None:
    url = f"/c/{local.pk}/apps/shapes/inputs/text-001/"
    console.post(f"{url}edit", {"metadata": '{"a": 1}'})
    page = console.get(url).content.decode()
    assert "History" in page and "PatchInputs" in page and "ada" in page
    assert f"/c/{local.pk}/audit/?app=shapes&amp;target=input%3Atext-001" in page


def test_the_history_is_not_shown_to_who_may_not_read_the_log(
    client: Client, member: User, local: Connection, shapes: str
) -> None:
    client.force_login(member)
    page = client.get(f"/c/{local.pk}/apps/shapes/inputs/text-001/").content.decode()
    assert "History" not in page


def test_a_write_outside_any_request_is_recorded_without_a_person(
    local: Connection, shapes: str, api: ClarifaiClient
) -> None:
    AuditEvent.objects.all().delete()
    item = resources_pb2.Input(id="text-004", data=resources_pb2.Data(metadata=None))
    api.call(
        "PatchInputs",
        service_pb2.PatchInputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="demo", app_id="shapes"), inputs=[item], action="merge"
        ),
    )
    (event,) = writes()
    assert event.username == "" and event.user is None and event.connection == local

"""An app's settings (name, description), deleting it with its id typed, and the apps list's counts."""

from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.jobs.models import Job
from console.localapi.models import App, Input

pytestmark = pytest.mark.django_db(transaction=True)


def app_ids(app_id: str) -> resources_pb2.UserAppIDSet:
    return resources_pb2.UserAppIDSet(user_id="demo", app_id=app_id)


def test_the_list_shows_each_apps_input_count(console: Client, local: Connection, make_app: Callable[..., str]) -> None:
    make_app("notes", texts=3)
    html = console.get(f"/c/{local.pk}/apps/").content.decode()
    assert '<td data-inputs="notes">3</td>' in html
    assert "Last change" in html


def test_it_renames_an_app_and_changes_its_description(console: Client, local: Connection, api: ClarifaiClient) -> None:
    api.call("PostApps", service_pb2.PostAppsRequest(apps=[resources_pb2.App(id="pets", name="Pets")]))
    form = console.get(f"/c/{local.pk}/apps/pets/settings").content.decode()
    assert 'value="Pets"' in form
    response = console.post(
        f"/c/{local.pk}/apps/pets/settings", {"name": "Cats & dogs", "description": "<b>furry</b>"}, follow=True
    )
    html = response.content.decode()
    assert "App pets saved." in html
    assert "Cats &amp; dogs" in html and "&lt;b&gt;furry&lt;/b&gt;" in html  # escaped
    app = api.call("GetApp", service_pb2.GetAppRequest(user_app_id=app_ids("pets"))).app
    assert (app.name, app.description) == ("Cats & dogs", "<b>furry</b>")


def test_a_wrong_id_deletes_nothing(console: Client, local: Connection, make_app: Callable[..., str]) -> None:
    make_app("notes", texts=2)
    page = console.get(f"/c/{local.pk}/apps/notes/delete").content.decode()
    assert 'data-count="inputs">2<' in page
    response = console.post(f"/c/{local.pk}/apps/notes/delete", {"confirm": "note"})
    assert response.status_code == 400
    assert "is not this app&#x27;s id" in response.content.decode()
    assert not Job.objects.exists()
    assert App.objects.filter(app_id="notes", deleted=False).exists()


def test_the_right_id_deletes_the_app_as_a_job(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app("notes", texts=2)
    response = console.post(f"/c/{local.pk}/apps/notes/delete", {"confirm": "notes"})
    job = Job.objects.get()
    assert response["Location"] == f"/c/{local.pk}/jobs/{job.pk}/"
    job.refresh_from_db()
    assert (job.kind, job.state, job.describe()) == (Job.DELETE_APP, Job.DONE, "Delete app notes")
    assert not App.objects.filter(app_id="notes").exists()  # gone for clients, its id free
    assert not Input.objects.exists()  # purged by the worker (eager here)
    assert "Delete app notes" in console.get(f"/c/{local.pk}/jobs/").content.decode()


def test_deleting_an_app_that_is_already_gone_is_skipped(
    console: Client, local: Connection, api: ClarifaiClient
) -> None:
    api.call("PostApps", service_pb2.PostAppsRequest(apps=[resources_pb2.App(id="pets")]))
    App.objects.filter(app_id="pets").update(app_id="moved")  # the app went away after the page was shown
    console.post(f"/c/{local.pk}/apps/pets/delete", {"confirm": "pets"})
    job = Job.objects.get()
    assert (job.state, job.progress().skipped) == (Job.DONE, 1)

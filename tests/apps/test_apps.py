"""The apps of a connection: the list (search, pages, HTMX partial), creating one, the overview."""

import threading
from collections.abc import Callable
from datetime import date

import httpx
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.test import Client, override_settings

from console.clarifai import ClarifaiClient
from console.connections import clients
from console.connections.models import Connection
from console.localapi.transport import LocalAPITransport

# Pages make calls from several threads at once, each with its own database connection: data must be
# committed for them to see it.
pytestmark = pytest.mark.django_db(transaction=True)

HX = {"HX-Request": "true"}


def test_the_list_is_a_full_page_opened_directly(console: Client, local: Connection, api: ClarifaiClient) -> None:
    api.call(
        "PostApps", service_pb2.PostAppsRequest(apps=[resources_pb2.App(id="pets", name="Pets", description="Cats")])
    )
    response = console.get(f"/c/{local.pk}/apps/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert 'id="results"' in html
    assert "Pets" in html and "Cats" in html
    assert f">{date.today():%Y-%m-%d} " in html  # last change
    assert "HX-Request" in response["Vary"]


def test_it_returns_only_the_partial_to_htmx(console: Client, local: Connection, api: ClarifaiClient) -> None:
    api.call("PostApps", service_pb2.PostAppsRequest(apps=[resources_pb2.App(id="pets", name="Pets")]))
    response = console.get(f"/c/{local.pk}/apps/", headers=HX)
    html = response.content.decode()
    # The tab's title comes first: htmx sets it from a <title> at the top of a partial.
    assert html.lstrip().startswith('<title>Apps · Local demo · Clarifai console</title>\n<div id="results">')
    assert "<html" not in html
    assert "Pets" in html


def test_a_history_restore_gets_the_full_page(console: Client, local: Connection) -> None:
    response = console.get(f"/c/{local.pk}/apps/?q=x", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_it_searches_apps_by_name(console: Client, local: Connection, api: ClarifaiClient) -> None:
    api.call(
        "PostApps",
        service_pb2.PostAppsRequest(
            apps=[resources_pb2.App(id="pets", name="Pets"), resources_pb2.App(id="cars", name="Cars")]
        ),
    )
    html = console.get(f"/c/{local.pk}/apps/?q=pet", headers=HX).content.decode()
    assert "Pets" in html
    assert "Cars" not in html
    assert "No app matches" in console.get(f"/c/{local.pk}/apps/?q=zebra", headers=HX).content.decode()


def test_it_pages_through_apps_with_real_links(console: Client, local: Connection, api: ClarifaiClient) -> None:
    api.call(
        "PostApps",
        service_pb2.PostAppsRequest(apps=[resources_pb2.App(id=f"app-{n:02}", name=f"App {n:02}") for n in range(25)]),
    )
    first = console.get(f"/c/{local.pk}/apps/").content.decode()
    assert "App 00" in first and "App 19" in first and "App 20" not in first
    assert 'href="?page=2"' in first
    assert 'hx-get="?page=2"' in first and 'hx-push-url="true"' in first
    second = console.get(f"/c/{local.pk}/apps/?page=2", headers=HX).content.decode()
    assert "App 20" in second and "App 24" in second and "App 19" not in second
    assert 'href="?page=1"' in second


def test_it_creates_an_app(console: Client, local: Connection, api: ClarifaiClient) -> None:
    response = console.post(f"/c/{local.pk}/apps/new", {"id": "birds", "name": "Birds", "description": "Feathers"})
    assert response.status_code == 302
    assert response["Location"] == f"/c/{local.pk}/apps/birds/"
    app = api.call("GetApp", service_pb2.GetAppRequest(user_app_id=resources_pb2.UserAppIDSet(app_id="birds"))).app
    assert (app.name, app.description) == ("Birds", "Feathers")


def test_creating_an_app_with_a_taken_id_shows_why(console: Client, local: Connection, api: ClarifaiClient) -> None:
    api.call("PostApps", service_pb2.PostAppsRequest(apps=[resources_pb2.App(id="birds")]))
    response = console.post(f"/c/{local.pk}/apps/new", {"id": "birds"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_an_invalid_app_id_is_refused_before_anything_is_sent(
    console: Client, local: Connection, api: ClarifaiClient
) -> None:
    response = console.post(f"/c/{local.pk}/apps/new", {"id": "no spaces please"})
    assert "Use letters, digits" in response.content.decode()
    assert list(api.call("ListApps", service_pb2.ListAppsRequest()).apps) == []


def test_the_overview_shows_counts_concepts_datasets_and_latest_inputs(
    console: Client, local: Connection, api: ClarifaiClient, make_app: Callable[..., str]
) -> None:
    make_app("shapes", texts=3, images=2)
    ids = resources_pb2.UserAppIDSet(app_id="shapes")
    api.call(
        "PostDatasets", service_pb2.PostDatasetsRequest(user_app_id=ids, datasets=[resources_pb2.Dataset(id="train")])
    )
    html = console.get(f"/c/{local.pk}/apps/shapes/").content.decode()
    assert '<div class="value">5</div><div class="label">inputs</div>' in html
    assert '<div class="value">5</div><div class="label"><span class="badge ok">Processed' in html
    # The concept and the dataset, each a link to the inputs filtered by it.
    assert f'href="/c/{local.pk}/apps/shapes/inputs/?concept=red">red</a>' in html
    assert f'href="/c/{local.pk}/apps/shapes/inputs/?dataset=train" title="Inputs in train">train</a>' in html
    assert "image-001" in html and "text-002" in html


class _Gathering(LocalAPITransport):
    """Holds every call until five are in flight at once: only concurrent calls get through."""

    barrier = threading.Barrier(5, timeout=10)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.barrier.wait()
        return super().handle_request(request)


def test_the_overview_makes_its_upstream_calls_at_the_same_time(
    console: Client, local: Connection, api: ClarifaiClient
) -> None:
    api.call("PostApps", service_pb2.PostAppsRequest(apps=[resources_pb2.App(id="shapes")]))
    clients._clients.clear()
    with override_settings(CONSOLE_BUILTIN_TRANSPORT="tests.apps.test_apps._Gathering"):
        response = console.get(f"/c/{local.pk}/apps/shapes/")
    clients._clients.clear()
    assert response.status_code == 200, response.content.decode()[:500]
    assert "upstream;dur=" in response["Server-Timing"]
    assert 'desc="5 calls"' in response["Server-Timing"]

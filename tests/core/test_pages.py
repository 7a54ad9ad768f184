"""The console's own behaviour around every page: no caching of signed-in pages, sign-in that leaves
HTMX as a full page, a CSRF failure explained, and 403/404/405/500 in the console's layout."""

import html
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from console.connections.models import Connection
from console.teams import policy
from console.urls import urlpatterns as console_urls
from tests.markup import find

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}


def refuses(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("Only staff accounts may manage connections.")


def breaks(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [
    path("test/refuses", refuses, name="test_refuses"),
    path("test/breaks", breaks, name="test_breaks"),
    *console_urls,
]


@pytest.fixture(autouse=True)
def _test_pages_are_classified(monkeypatch: pytest.MonkeyPatch) -> None:
    """These pages exist only here; every page needs a rule in the one permission table."""
    monkeypatch.setitem(policy.URL_ACTIONS, "test_refuses", policy.SIGNED_IN)
    monkeypatch.setitem(policy.URL_ACTIONS, "test_breaks", policy.SIGNED_IN)


handler403 = "console.core.views.forbidden"
handler404 = "console.core.views.not_found"
handler500 = "console.core.views.server_error"


def test_signed_in_pages_are_never_cached(console: Client, local: Connection) -> None:
    response = console.get(f"/c/{local.pk}/apps/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_a_picture_keeps_the_cache_control_its_view_set(
    console: Client, local: Connection, make_app: Callable[..., str]
) -> None:
    make_app(images=1)
    grid = console.get(f"/c/{local.pk}/apps/shapes/inputs/").content.decode()
    picture = html.unescape(find(r'src="(/c/[^"]+/media\?u=[^"]+)"', grid).group(1))
    response = console.get(picture)
    assert response["Content-Type"].startswith("image/")
    assert response["Cache-Control"] == "private, max-age=86400, immutable"


def test_the_sign_in_page_is_not_marked_private(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.get("Cache-Control", "") != "private, no-store"


def test_an_htmx_request_without_a_session_sends_the_browser_to_sign_in_as_a_full_page(
    client: Client, local: Connection
) -> None:
    grid = f"/c/{local.pk}/apps/shapes/inputs/?page=2"
    response = client.get(grid, headers={**HX, "HX-Current-URL": f"http://testserver{grid}"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/accounts/login/?next=/c/{local.pk}/apps/shapes/inputs/%3Fpage%3D2"
    assert not response.content


def test_an_htmx_save_without_a_session_comes_back_to_the_page_it_was_on(client: Client, local: Connection) -> None:
    page = f"/c/{local.pk}/apps/shapes/inputs/one/?back=page%3D2"
    response = client.post(
        f"/c/{local.pk}/apps/shapes/inputs/one/edit", headers={**HX, "HX-Current-URL": f"http://testserver{page}"}
    )
    assert response["HX-Redirect"].startswith("/accounts/login/?next=/c/")
    assert response["HX-Redirect"].endswith("/inputs/one/%3Fback%3Dpage%253D2")


def test_it_never_sends_the_browser_back_to_another_site(client: Client, local: Connection) -> None:
    response = client.get(f"/c/{local.pk}/apps/", headers={**HX, "HX-Current-URL": "https://evil.example/c/1/apps/"})
    assert "evil" not in response["HX-Redirect"]
    assert response["HX-Redirect"] == f"/accounts/login/?next=/c/{local.pk}/apps/"


def test_without_htmx_a_missing_session_is_the_usual_redirect(client: Client, local: Connection) -> None:
    response = client.get(f"/c/{local.pk}/apps/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/c/{local.pk}/apps/"


def csrf_client(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_csrf_failure_inside_htmx_is_a_notice_in_place(staff: User, local: Connection) -> None:
    page = f"/c/{local.pk}/apps/shapes/inputs/one/"
    response = csrf_client(staff).post(f"{page}edit", headers={**HX, "HX-Current-URL": f"http://testserver{page}"})
    html = response.content.decode()
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#alerts"
    assert response["HX-Reswap"].startswith("innerHTML")
    assert "<html" not in html
    assert "This page is out of date" in html
    assert "Reload the page" in html
    assert f'href="{page}"' in html


def test_a_csrf_failure_without_htmx_is_a_styled_page(staff: User, local: Connection) -> None:
    response = csrf_client(staff).post(f"/c/{local.pk}/apps/new", headers={"Referer": "http://testserver/x?y=1"})
    html = response.content.decode()
    assert response.status_code == 403
    assert '<header class="topbar">' in html
    assert "This page is out of date" in html
    assert 'href="http://testserver/x?y=1"' in html


def test_a_page_that_does_not_exist_is_in_the_console_layout(console: Client) -> None:
    response = console.get("/no/such/page")
    html = response.content.decode()
    assert response.status_code == 404
    assert '<header class="topbar">' in html
    assert "Page not found" in html
    assert 'href="/"' in html


def test_a_404_inside_htmx_is_a_notice(console: Client) -> None:
    response = console.get("/no/such/page", headers=HX)
    assert response.status_code == 404
    assert "<html" not in response.content.decode()
    assert response["HX-Retarget"] == "#alerts"


@override_settings(ROOT_URLCONF=__name__)
def test_a_403_keeps_its_reason(console: Client) -> None:
    response = console.get("/test/refuses")
    html = response.content.decode()
    assert response.status_code == 403
    assert '<header class="topbar">' in html
    assert "Only staff accounts may manage connections." in html


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_in_the_console_layout(console: Client) -> None:
    console.raise_request_exception = False
    response = console.get("/test/breaks")
    html = response.content.decode()
    assert response.status_code == 500
    assert '<header class="topbar">' in html
    assert "Something went wrong" in html
    assert "a bug" not in html


def test_a_method_a_view_does_not_take_is_a_styled_405(console: Client, local: Connection) -> None:
    response = console.post(f"/c/{local.pk}/apps/")
    html = response.content.decode()
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert '<header class="topbar">' in html
    assert "does not answer a POST request" in html


def test_the_local_api_keeps_its_own_answers_for_unknown_methods(client: Client) -> None:
    response = client.put("/v2/users/me/apps")
    assert response["Content-Type"].startswith("application/json")

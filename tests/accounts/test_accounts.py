"""Signing in and out, changing the password; every console page needs a signed-in person."""

import pytest
from django.test import Client

from console.connections.models import Connection
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/connections/",
        "/connections/new",
        "/c/1/apps/",
        "/c/1/apps/x/",
        "/c/1/apps/x/inputs/",
        "/c/1/media?u=x",
        "/accounts/password/",
    ],
)
def test_every_page_sends_an_anonymous_visitor_to_sign_in(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_local_api_and_the_health_check_need_no_console_account(client: Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/v2/users/me/apps").status_code == 401  # its own token, not a console session


def test_it_signs_in_and_goes_where_it_was_going(client: Client, staff: object, local: Connection) -> None:
    response = client.post(
        "/accounts/login/?next=/connections/", {"username": "ada", "password": PASSWORD, "next": "/connections/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/connections/"
    assert client.get("/connections/").status_code == 200


def test_a_wrong_password_is_refused(client: Client, staff: object) -> None:
    response = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert client.get("/connections/").status_code == 302


def test_it_does_not_redirect_to_another_site_after_sign_in(client: Client, staff: object) -> None:
    response = client.post(
        "/accounts/login/", {"username": "ada", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_signing_out_takes_a_post(console: Client) -> None:
    assert console.get("/accounts/logout/").status_code == 405
    response = console.post("/accounts/logout/")
    assert response.status_code == 302
    assert console.get("/connections/").status_code == 302


def test_it_changes_the_password(client: Client, staff: object) -> None:
    client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    client.post("/accounts/logout/")
    assert client.login(username="ada", password="a-new-long-passphrase-42")
    assert not client.login(username="ada", password=PASSWORD)


def test_home_goes_to_the_first_connection_or_explains_what_to_do(console: Client, db: None) -> None:
    assert "Add a connection" in console.get("/").content.decode()
    local = Connection.objects.create(name="x", user_id="u", builtin=True)
    assert console.get("/")["Location"] == f"/c/{local.pk}/apps/"

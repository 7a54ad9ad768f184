"""Signing in and out, changing the password; every console page needs a signed-in person."""

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

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
        "/accounts/password/",
    ],
)
def test_every_page_sends_an_anonymous_visitor_to_sign_in(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_a_picture_answers_an_anonymous_visitor_401_not_the_sign_in_page(client: Client) -> None:
    # A redirect would make the browser fetch the sign-in page as a picture, using up the page's messages.
    response = client.get("/c/1/media?u=x")
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


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


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1", forwarded: str = "") -> Any:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, headers=headers, REMOTE_ADDR=address
    )


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client: Client, staff: object) -> None:
    for _ in range(4):
        assert sign_in(client, "ada", "wrong").status_code == 200
    refused = sign_in(client, "ada", "wrong")
    assert refused.status_code == 429
    right = sign_in(client, "ada", PASSWORD, address="10.0.0.2")  # from another address too
    assert right.status_code == 429
    html = right.content.decode()
    assert "Too many failed sign-ins" in html and "Wait 15 minutes" in html
    assert 'role="alert"' in html and "<form" in html  # the sign-in page, with the reason
    assert client.get("/connections/").status_code == 302  # not signed in
    # The count lives in the database, where every web process sees it.
    assert AccessAttempt.objects.filter(username="ada", failures_since_start__gte=5).exists()


def test_five_failures_from_one_address_lock_that_address(client: Client, staff: object, member: object) -> None:
    for name in ("x1", "x2", "x3", "x4", "x5"):
        sign_in(client, name, "wrong", address="10.0.0.9")
    assert sign_in(client, "bob", PASSWORD, address="10.0.0.9").status_code == 429
    assert sign_in(client, "bob", PASSWORD, address="10.0.0.10").status_code == 302


def test_the_lock_ends_after_the_cool_off(client: Client, staff: object) -> None:
    for _ in range(5):
        sign_in(client, "ada", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, "ada", PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(client: Client, staff: object) -> None:
    for _ in range(3):
        for _ in range(4):
            assert sign_in(client, "ada", "wrong").status_code == 200
        assert sign_in(client, "ada", PASSWORD).status_code == 302
        client.post("/accounts/logout/")


def test_signing_in_many_times_with_the_right_password_is_never_throttled(client: Client, staff: object) -> None:
    for _ in range(12):
        assert sign_in(client, "ada", PASSWORD).status_code == 302
        client.post("/accounts/logout/")
    assert client.login(username="ada", password=PASSWORD)  # the test client's own sign-in still works


PROXY = "10.0.0.100"


def test_behind_a_proxy_failures_count_against_the_client_not_the_proxy(
    client: Client, staff: object, member: object, settings: Any
) -> None:
    settings.TRUSTED_PROXY_HOPS = 1
    # What the client wrote itself (left of what the proxy appended) changes nothing.
    for name, forged in (("x1", "1.1.1.1"), ("x2", "2.2.2.2"), ("x3", ""), ("x4", "4.4.4.4"), ("x5", "5.5.5.5")):
        sign_in(client, name, "wrong", address=PROXY, forwarded=f"{forged}, 203.0.113.7".lstrip(", "))
    assert sign_in(client, "bob", PASSWORD, address=PROXY, forwarded="9.9.9.9, 203.0.113.7").status_code == 429
    # Another person behind the same proxy is not locked out by them.
    assert sign_in(client, "bob", PASSWORD, address=PROXY, forwarded="198.51.100.2").status_code == 302


def test_without_trusted_proxies_a_forwarded_for_header_is_not_believed(
    client: Client, staff: object, member: object
) -> None:
    for n in range(5):
        sign_in(client, f"x{n}", "wrong", address="10.0.0.9", forwarded=f"198.51.100.{n}")
    assert sign_in(client, "bob", PASSWORD, address="10.0.0.9", forwarded="198.51.100.77").status_code == 429

"""Connections: adding one checks it against the API and shows the real error; the token is encrypted
at rest, accepted under rotated keys, and never shown again."""

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db
from django.test import Client, override_settings

from console.connections import crypto
from console.connections.models import Connection
from console.localapi.models import Token
from console.localapi.models import User as LocalUser
from tests.servers import QuietHandler, serving

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice_token(db: None) -> str:
    _, secret = Token.issue(LocalUser.objects.create(id="alice"))
    return secret


def add(client: Client, **fields: str) -> Any:
    return client.post("/connections/new", {"name": "Team", "user_id": "alice", **fields})


def test_adding_a_connection_checks_it_over_http(console: Client, live_server: Any, alice_token: str) -> None:
    response = add(console, base_url=live_server.url, token=alice_token)
    assert response.status_code == 302
    saved = Connection.objects.get(name="Team")
    assert response["Location"] == f"/c/{saved.pk}/apps/"
    assert saved.token() == alice_token
    assert saved.token_last4 == alice_token[-4:]
    assert console.get(response["Location"]).status_code == 200


def test_a_wrong_token_is_refused_with_the_apis_own_error(console: Client, live_server: Any, alice_token: str) -> None:
    response = add(console, base_url=live_server.url, token="not-the-token")
    html = response.content.decode()
    assert "Could not check the connection: " in html
    assert "refused" not in html.split("Could not check the connection")[1][:20]
    assert "API key not found" in html and "CONN_KEY_INVALID" in html
    assert not Connection.objects.exists()
    assert "not-the-token" not in html  # the field is never filled back in
    # ... and the page says so beside it.
    beside = r'id="id_token"[^>]*>\s*<ul class="errorlist"[^>]*><li>The token was not kept: enter it again\.'
    assert re.search(beside, html)


def test_an_unreachable_host_is_refused(console: Client) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    response = add(console, base_url=f"http://127.0.0.1:{port}", token="abc")
    assert "Could not reach 127.0.0.1" in response.content.decode()
    assert not Connection.objects.exists()


@pytest.fixture
def html_server() -> Iterator[str]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>Not here</body></html>")

    with serving(Handler) as url:
        yield url


def test_a_server_that_is_not_a_clarifai_api_is_refused(console: Client, html_server: str) -> None:
    response = add(console, base_url=html_server, token="abc")
    assert "did not answer like a Clarifai API" in response.content.decode()
    assert not Connection.objects.exists()


def test_the_token_is_not_stored_in_clear(console: Client, live_server: Any, alice_token: str) -> None:
    add(console, base_url=live_server.url, token=alice_token)
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM connections_connection")
        rows = cursor.fetchall()
    assert rows
    assert alice_token not in repr(rows)


def test_editing_shows_only_the_last_four_and_keeps_the_token_when_left_empty(
    console: Client, live_server: Any, alice_token: str
) -> None:
    add(console, base_url=live_server.url, token=alice_token)
    saved = Connection.objects.get()
    form = console.get(f"/connections/{saved.pk}/edit").content.decode()
    assert f"ending in …{alice_token[-4:]}" in form
    assert alice_token not in form
    response = console.post(
        f"/connections/{saved.pk}/edit",
        {"name": "Renamed", "base_url": live_server.url, "user_id": "alice", "token": ""},
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.name, saved.token()) == ("Renamed", alice_token)


def test_old_keys_still_decrypt_and_rotation_moves_tokens_to_the_new_key(settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CONSOLE_TOKEN_KEYS = [old]
    saved = Connection(name="x", user_id="u")
    saved.set_token("secret-token-1234")
    saved.save()
    settings.CONSOLE_TOKEN_KEYS = [new, old]
    saved.refresh_from_db()
    assert saved.token() == "secret-token-1234"
    call_command("rotate_token_keys")
    settings.CONSOLE_TOKEN_KEYS = [new]
    saved.refresh_from_db()
    assert saved.token() == "secret-token-1234"


def test_a_token_under_a_removed_key_is_reported_not_crashed(console: Client, local: Connection, settings: Any) -> None:
    settings.CONSOLE_TOKEN_KEYS = [Fernet.generate_key().decode()]
    from console.connections import clients

    clients._clients.clear()
    response = console.get(f"/c/{local.pk}/apps/")
    assert response.status_code == 502
    assert "enter the token again" in response.content.decode()
    with pytest.raises(crypto.TokenUnreadable):
        local.token()


def test_only_team_admins_manage_connections(client: Client, member: Any, local: Connection) -> None:
    client.force_login(member)
    assert client.get("/connections/").status_code == 200
    assert client.get("/connections/new").status_code == 403
    assert client.post("/connections/new", {"name": "x"}).status_code == 403
    assert client.get(f"/connections/{local.pk}/edit").status_code == 403
    assert "Add a connection" not in client.get("/connections/").content.decode()


def test_the_builtin_connection_cannot_be_deleted(console: Client, local: Connection) -> None:
    assert console.post(f"/connections/{local.pk}/delete").status_code == 404
    assert Connection.objects.filter(pk=local.pk).exists()


def test_deleting_a_connection_asks_first(console: Client, local: Connection) -> None:
    other = Connection(name="Other", user_id="u", base_url="https://api.clarifai.com")
    other.set_token("abcdef")
    other.save()
    assert "Delete the connection Other?" in console.get(f"/connections/{other.pk}/delete").content.decode()
    assert Connection.objects.filter(pk=other.pk).exists()
    assert console.post(f"/connections/{other.pk}/delete").status_code == 302
    assert not Connection.objects.filter(pk=other.pk).exists()


@override_settings(CONSOLE_CLARIFAI_DEADLINE=1)
def test_a_slow_api_times_out_into_an_error_with_a_retry(console: Client) -> None:
    """A real server that accepts the connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        slow = Connection(name="Slow", user_id="u", base_url=f"http://127.0.0.1:{listener.getsockname()[1]}")
        slow.set_token("abcdef")
        slow.save()
        response = console.get(f"/c/{slow.pk}/apps/", headers={"HX-Request": "true"})
        assert response.status_code == 504
        html = response.content.decode()
        assert "Loading the apps failed" in html
        assert "did not answer ListApps in time" in html
        assert "Try again" in html
    finally:
        listener.close()


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A server that answers ListApps like a Clarifai API and records every Authorization header it gets."""
    seen: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            body = json.dumps({"status": {"code": 10000, "description": "Ok"}, "apps": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(Handler) as url:
        yield url, seen


@pytest.fixture
def team(console: Client, live_server: Any, alice_token: str) -> Connection:
    assert add(console, base_url=live_server.url, token=alice_token).status_code == 302
    return Connection.objects.get(name="Team")


@pytest.mark.parametrize("changed", ["base_url", "user_id"])
def test_moving_a_connection_asks_for_the_token_and_never_sends_the_stored_one(
    console: Client, team: Connection, alice_token: str, recorder: tuple[str, list[str]], changed: str
) -> None:
    url, seen = recorder
    if changed == "base_url":  # the recorder is the new host
        fields = {"name": "Team", "base_url": url, "user_id": "alice", "token": ""}
    else:  # the recorder is the connection's own host, asked about another user
        Connection.objects.filter(pk=team.pk).update(base_url=url)
        fields = {"name": "Team", "base_url": url, "user_id": "mallory", "token": ""}
    response = console.post(f"/connections/{team.pk}/edit", fields)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The base URL or user id changed: enter the token again." in html
    assert seen == []  # nothing was sent at all, least of all the stored token
    team.refresh_from_db()
    assert team.token() == alice_token and team.user_id == "alice"
    # With a token typed in, the check goes ahead, with that token only.
    fields["token"] = "a-new-token-9876"
    assert console.post(f"/connections/{team.pk}/edit", fields).status_code == 302
    assert seen == ["Key a-new-token-9876"]
    assert all(alice_token not in header for header in seen)


def test_keeping_host_and_user_rechecks_with_the_stored_token(
    console: Client, team: Connection, alice_token: str, live_server: Any
) -> None:
    fields = {"name": "Renamed", "base_url": live_server.url + "/", "user_id": "alice", "token": ""}
    assert console.post(f"/connections/{team.pk}/edit", fields).status_code == 302
    team.refresh_from_db()
    assert (team.name, team.token()) == ("Renamed", alice_token)


def test_only_team_admins_see_the_end_of_a_token(client: Client, member: Any, staff: Any, local: Connection) -> None:
    ending = f"…{local.token_last4}"
    client.force_login(member)
    assert ending not in client.get("/connections/").content.decode()
    client.force_login(staff)
    assert ending in client.get("/connections/").content.decode()


def test_a_form_refused_for_another_reason_says_the_token_was_not_kept(
    console: Client, team: Connection, live_server: Any, alice_token: str
) -> None:
    html = add(console, base_url=live_server.url, token=alice_token).content.decode()  # "Team" is taken
    assert "Connection with this Name already exists." in html
    assert "The token was not kept: enter it again." in html
    assert alice_token not in html

"""An app's Access area, against the local API: who can do what, collaborators added, changed and removed
(and what the collaborator then reaches with their own key), app keys listed with their age, made with the
secret shown once, and deleted; all for the team's admins alone."""

import json
import logging
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from console.audit.models import AuditEvent
from console.connections.models import Connection
from console.labeling.models import ConnectionMember
from console.localapi.models import Collaborator, Token
from console.localapi.models import User as LocalUser

# Transactional: the app's overview calls the API from a thread pool, whose database connections must see
# the test's token.
pytestmark = pytest.mark.django_db(transaction=True)

MARKUP = '<b id="x">bold</b>'


@pytest.fixture
def shapes(make_app: Callable[..., str]) -> str:
    return make_app("shapes", texts=2)


@pytest.fixture
def carol(db: None) -> LocalUser:
    """A Clarifai user of the local API, not yet a collaborator."""
    return LocalUser.objects.create(id="carol", first_name="Carol", last_name="Ng", email="carol@example.com")


@pytest.fixture
def labeler_identity(local: Connection, people: dict[str, User], carol: LocalUser) -> ConnectionMember:
    """The team's labeler, who attached the Clarifai user carol on the connection."""
    member = ConnectionMember(user=people["labeler"], connection=local, clarifai_user_id="carol")
    member.set_token("carols-token")
    member.save()
    return member


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def access_url(local: Connection, rest: str = "") -> str:
    return f"/c/{local.pk}/apps/shapes/access/{rest}"


def row_of(html: str, text: str) -> str:
    """The table row that holds `text`."""
    start = html.index(text)
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def add_collaborator(admin: Client, local: Connection, who: str, preset: str = "labeler", **more: object) -> str:
    response = admin.post(access_url(local, "collaborators"), {"who": who, "preset": preset, **more}, follow=True)
    return str(response.content.decode())


def test_who_can_do_what_joins_console_roles_and_clarifai_scopes(
    sign_in: Callable[..., Client], local: Connection, shapes: str, labeler_identity: ConnectionMember
) -> None:
    admin = sign_in("admin")
    add_collaborator(admin, local, "carol", "labeler")
    LocalUser.objects.create(id="zed", first_name="Zed")
    add_collaborator(admin, local, "zed", "viewer")
    html = page(admin, access_url(local))
    carol_row = row_of(html, "<strong>labeler</strong>")
    assert "Labeler" in carol_row and "view, label" in carol_row and "review" not in carol_row.split("carol")[0]
    assert "<code>carol</code>" in carol_row
    assert "see the app, inputs, concepts, annotations, datasets and tasks; add annotations; change annotations" in (
        carol_row
    )
    # A console member without a Clarifai identity; a collaborator who is no member; the owner.
    assert "no Clarifai identity on this connection" in row_of(html, "<strong>editor</strong>")
    assert "view, label, review, edit, manage" in row_of(html, "<strong>admin</strong>")
    zed_row = row_of(html, "Zed")
    assert "Clarifai only" in zed_row and "not a member" in zed_row and "see the app" in zed_row
    assert "add annotations" not in zed_row
    assert "everything: owns the app" in row_of(html, "<code>demo</code>")


def test_add_change_and_remove_a_collaborator_who_then_reaches_the_app_so(
    sign_in: Callable[..., Client], local: Connection, shapes: str, carol: LocalUser, live_server: object
) -> None:
    admin = sign_in("admin")
    _, carols_key = Token.issue(carol)
    base = str(live_server.url)  # type: ignore[attr-defined]
    inputs_url = f"{base}/v2/users/demo/apps/shapes/inputs"
    headers = {"Authorization": f"Key {carols_key}"}
    assert httpx.get(inputs_url, headers=headers).status_code == 404  # not yet a collaborator

    html = add_collaborator(admin, local, "carol@example.com", "viewer")
    assert "carol is now" not in html and "carol@example.com is now a collaborator of shapes." in html
    row = row_of(html, "<code>carol</code>")
    assert "Carol" in row and "Apps:Get, Inputs:Get" in row and timezone.now().strftime("%Y-%m-%d") in row
    listed = httpx.get(inputs_url, headers=headers)
    assert listed.status_code == 200 and len(listed.json()["inputs"]) == 2
    posted = httpx.post(inputs_url, headers=headers, json={"inputs": [{"data": {"text": {"raw": "from carol"}}}]})
    assert posted.status_code != 200  # a viewer adds nothing

    collaborator = Collaborator.objects.get(user=carol)
    edit = access_url(local, f"collaborators/{collaborator.collaborator_id}/edit")
    assert "On app shapes." in page(admin, edit)
    changed = admin.post(edit, {"preset": "custom", "scopes": ["Inputs:Get", "Inputs:Add"]}, follow=True)
    assert "Scopes of carol changed." in changed.content.decode()
    collaborator.refresh_from_db()
    assert collaborator.scopes == ["Inputs:Get", "Inputs:Add"]
    posted = httpx.post(inputs_url, headers=headers, json={"inputs": [{"data": {"text": {"raw": "from carol"}}}]})
    assert posted.status_code == 200, posted.text
    empty = admin.post(edit, {"preset": "custom"})
    assert empty.status_code == 400 and "Tick at least one scope" in empty.content.decode()

    remove = access_url(local, f"collaborators/{collaborator.collaborator_id}/remove")
    assert "Remove <code>carol</code>?" in page(admin, remove)
    assert Collaborator.objects.filter(user=carol).exists()  # asking removed nothing
    removed = admin.post(remove, follow=True).content.decode()
    assert "carol is no longer a collaborator of shapes." in removed
    assert "No collaborators yet." in removed
    assert httpx.get(inputs_url, headers=headers).status_code == 404


def test_the_apis_refusals_are_shown_in_its_words(
    sign_in: Callable[..., Client], local: Connection, shapes: str, carol: LocalUser
) -> None:
    admin = sign_in("admin")
    response = admin.post(access_url(local, "collaborators"), {"who": "nobody-here", "preset": "viewer"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not done: Resource does not exist: collaborators[0]: user &#x27;nobody-here&#x27; does not exist." in html
    assert "(CONN_DOES_NOT_EXIST, 11101)" in html
    assert 'value="nobody-here"' in html  # what was typed stays
    add_collaborator(admin, local, "carol")
    again = admin.post(access_url(local, "collaborators"), {"who": "carol", "preset": "viewer"})
    assert again.status_code == 400
    assert "Already collaborators on app &#x27;shapes&#x27;" in again.content.decode()
    assert "(DATABASE_DUPLICATE_KEY, 40010)" in again.content.decode()
    owner = admin.post(access_url(local, "collaborators"), {"who": "demo", "preset": "viewer"})
    assert "owns app" in owner.content.decode()


def test_keys_are_made_with_the_secret_shown_once_listed_with_their_age_and_deleted(
    sign_in: Callable[..., Client],
    local: Connection,
    shapes: str,
    live_server: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = sign_in("admin")
    caplog.set_level(logging.DEBUG)
    made = admin.post(access_url(local, "keys"), {"description": "nightly export", "preset": "read"})
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    token = Token.objects.get(description="nightly export")
    assert token.app is not None and token.app.app_id == "shapes" and "Inputs:Get" in token.scopes
    html = made.content.decode()
    secret = html.split('<textarea id="new-key"')[1].split(">")[1].split("</textarea")[0]
    assert token.key_id == secret[: len(token.key_id)] and len(secret) > len(token.key_id)
    assert html.count(secret) == 1
    assert html.count(token.key_id) == 1  # its public part only inside the secret itself
    # Nowhere else: not in the audit, not in any log line, not in the session, not on the list.
    events = AuditEvent.objects.filter(action="PostKeys")
    assert events.count() == 1
    saved = json.dumps([list(e.__dict__.values()) for e in AuditEvent.objects.all()], default=str)
    assert token.key_id not in saved and secret not in saved
    assert "nightly export" in saved
    assert all(secret not in r.getMessage() and token.key_id not in r.getMessage() for r in caplog.records)
    assert secret not in str(dict(admin.session))
    listing = admin.get(access_url(local, "keys"))
    assert "no-store" in listing["Cache-Control"]
    listed = listing.content.decode()
    assert token.key_id not in listed and secret not in listed
    row = row_of(listed, "nightly export")
    assert "see the app, inputs, concepts, annotations, datasets and tasks" in row and "Inputs:Get" in row
    assert f"key …{token.key_id[-4:]}" in row and "0\xa0minutes ago" in row and "shapes" in row

    # The key works on the short routes, for this app.
    base = str(live_server.url)  # type: ignore[attr-defined]
    short = httpx.get(f"{base}/v2/inputs", headers={"Authorization": f"Key {secret}"})
    assert short.status_code == 200 and len(short.json()["inputs"]) == 2

    Token.objects.filter(pk=token.pk).update(created_at=timezone.now() - timedelta(days=3, hours=2))
    assert "3\xa0days, 2\xa0hours ago" in row_of(page(admin, access_url(local, "keys")), "nightly export")

    ref = row.split("/access/keys/")[1].split("/delete")[0]
    confirm = page(admin, access_url(local, f"keys/{ref}/delete"))
    assert "Delete the key “nightly export”?" in confirm and secret not in confirm
    assert Token.objects.filter(pk=token.pk).exists()
    gone = admin.post(access_url(local, f"keys/{ref}/delete"), follow=True).content.decode()
    assert "Key “nightly export” deleted" in gone and "No keys for this app yet." in gone
    assert httpx.get(f"{base}/v2/inputs", headers={"Authorization": f"Key {secret}"}).status_code == 401
    assert admin.get(access_url(local, f"keys/{ref}/delete")).status_code == 404


def test_a_bad_key_form_keeps_what_was_typed(sign_in: Callable[..., Client], local: Connection, shapes: str) -> None:
    response = sign_in("admin").post(access_url(local, "keys"), {"description": "half done", "preset": "custom"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="half done"' in html and "Tick at least one scope" in html
    assert not Token.objects.filter(description="half done").exists()


def test_only_admins_see_and_use_the_access_area(
    sign_in: Callable[..., Client], local: Connection, shapes: str
) -> None:
    admin_overview = page(sign_in("admin"), f"/c/{local.pk}/apps/shapes/")
    assert f'href="{access_url(local)}"' in admin_overview
    editor = sign_in("editor")
    assert f'href="{access_url(local)}"' not in page(editor, f"/c/{local.pk}/apps/shapes/")
    for rest in ("", "collaborators", "keys"):
        assert editor.get(access_url(local, rest)).status_code == 403, rest
    assert editor.post(access_url(local, "keys"), {"description": "x", "preset": "all"}).status_code == 403
    assert not Token.objects.filter(description="x").exists()


def test_user_text_is_escaped(
    sign_in: Callable[..., Client], local: Connection, shapes: str, labeler_identity: ConnectionMember
) -> None:
    LocalUser.objects.create(id="mal", first_name=MARKUP, email="mal@example.com")
    admin = sign_in("admin")
    add_collaborator(admin, local, "mal", "viewer")
    made = admin.post(access_url(local, "keys"), {"description": MARKUP, "preset": "read"}).content.decode()
    for html in (made, page(admin, access_url(local)), page(admin, access_url(local, "collaborators"))):
        assert MARKUP not in html
    assert "&lt;b id=&quot;x&quot;&gt;bold&lt;/b&gt;" in page(admin, access_url(local, "keys"))
    typed = admin.post(access_url(local, "collaborators"), {"who": MARKUP, "preset": "viewer"}).content.decode()
    assert MARKUP not in typed


def test_a_token_that_may_not_list_collaborators_still_shows_the_console_side(
    sign_in: Callable[..., Client], local: Connection, shapes: str, labeler_identity: ConnectionMember
) -> None:
    assert sign_in("admin").get(f"/c/{local.pk}/apps/no-such-app/access/").status_code == 404
    _, narrow = Token.issue(LocalUser.objects.get(id="demo"), scopes=["Apps:Get", "Inputs:Get"])
    local.set_token(narrow)
    local.save()
    html = page(sign_in("admin"), access_url(local))
    assert "The app's collaborators could not be read" in html and "CONN_INSUFFICIENT_SCOPES" in html
    row = row_of(html, "<strong>labeler</strong>")
    assert "view, label" in row and "unknown: the collaborators could not be read" in row

"""A team's members: invite links (single use, expiring, stored hashed), roles, removal, the last admin,
ending a member's sessions, and sessions that end without activity."""

import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from console.audit.models import AuditEvent
from console.teams.models import Invite, Membership, Role, Team
from tests.conftest import PASSWORD


def invite_link(admin: Client, team: Team, role: str = "labeler") -> str:
    page = admin.post(f"/teams/{team.pk}/invites/new", {"role": role}).content.decode()
    found = re.search(r'value="https?://testserver(/teams/join/[^"]+)"', page)
    assert found, "the new link is shown"
    return found.group(1)


def test_an_invite_link_joins_a_signed_in_person_once(sign_in: Callable[..., Client], team: Team) -> None:
    link = invite_link(sign_in("admin"), team)
    newcomer = User.objects.create(username="newcomer")
    client = Client()
    client.force_login(newcomer)
    assert "Join Team" in client.get(link).content.decode()
    assert client.post(link)["Location"] == f"/teams/{team.pk}/"
    assert Membership.objects.get(user=newcomer).role == Role.LABELER
    other = Client()
    other.force_login(User.objects.create(username="latecomer"))
    assert other.get(link).status_code == 404
    assert other.post(link).status_code == 404
    assert not Membership.objects.filter(user__username="latecomer").exists()


def test_an_invite_link_makes_an_account_for_someone_new(sign_in: Callable[..., Client], team: Team) -> None:
    link = invite_link(sign_in("admin"), team, "editor")
    client = Client()
    assert "Make my account and join" in client.get(link).content.decode()
    fields = {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD}
    assert client.post(link, fields)["Location"] == f"/teams/{team.pk}/"
    assert Membership.objects.get(user__username="newcomer").role == Role.EDITOR
    assert client.get(f"/teams/{team.pk}/").status_code == 200  # signed in
    assert Client().post(link, {**fields, "username": "another"}).status_code == 404
    assert not User.objects.filter(username="another").exists()


def test_an_expired_invite_link_does_not_work(sign_in: Callable[..., Client], team: Team) -> None:
    link = invite_link(sign_in("admin"), team)
    Invite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get(link)
    assert response.status_code == 404
    assert "This invite link no longer works" in response.content.decode()


def test_an_invite_keeps_only_the_hash_of_its_secret(sign_in: Callable[..., Client], team: Team) -> None:
    secret = invite_link(sign_in("admin"), team).rsplit("/", 1)[1]
    invite = Invite.objects.get()
    assert secret not in invite.secret_hash and len(invite.secret_hash) == 64
    page = sign_in("admin").get(f"/teams/{team.pk}/").content.decode()
    assert secret not in page  # shown once, when made


def test_a_withdrawn_invite_link_does_not_work(sign_in: Callable[..., Client], team: Team) -> None:
    admin = sign_in("admin")
    link = invite_link(admin, team)
    admin.post(f"/teams/{team.pk}/invites/{Invite.objects.get().pk}/revoke")
    assert Client().get(link).status_code == 404


def test_an_admin_changes_a_role_and_removes_a_member(
    sign_in: Callable[..., Client], team: Team, people: dict[str, User]
) -> None:
    admin = sign_in("admin")
    viewer = Membership.objects.get(user=people["viewer"])
    admin.post(f"/teams/{team.pk}/members/{viewer.pk}/role", {"role": "reviewer"})
    viewer.refresh_from_db()
    assert viewer.role == Role.REVIEWER
    admin.post(f"/teams/{team.pk}/members/{viewer.pk}/remove")
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert sign_in("viewer").get(f"/teams/{team.pk}/").status_code == 404
    # Both are in the audit trail, by the admin, the role change with what it was and became.
    changed, removed = AuditEvent.objects.filter(action__in=["role_changed", "member_removed"]).order_by("pk")
    assert (changed.username, changed.before, changed.after) == ("admin", {"role": "viewer"}, {"role": "reviewer"})
    assert changed.summary == f"viewer in {team.name}: viewer → reviewer"
    assert (removed.username, removed.summary) == ("admin", f"viewer removed from {team.name}")


def test_a_team_keeps_its_last_admin(sign_in: Callable[..., Client], team: Team, people: dict[str, User]) -> None:
    admin = sign_in("admin")
    Membership.objects.filter(team=team, role=Role.ADMIN).exclude(user=people["admin"]).delete()  # ada, if any
    mine = Membership.objects.get(user=people["admin"])
    page = admin.post(f"/teams/{team.pk}/members/{mine.pk}/role", {"role": "editor"}, follow=True).content.decode()
    assert escape("Team needs at least one admin.") in page
    page = admin.post(f"/teams/{team.pk}/members/{mine.pk}/remove", follow=True).content.decode()
    assert escape("admin was not removed") in page
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN
    # With a second admin, the first may step down.
    Membership.objects.filter(user=people["editor"]).update(role=Role.ADMIN)
    admin.post(f"/teams/{team.pk}/members/{mine.pk}/role", {"role": "editor"})
    mine.refresh_from_db()
    assert mine.role == Role.EDITOR


def test_the_team_page_hides_what_a_member_may_not_do(sign_in: Callable[..., Client], team: Team) -> None:
    viewer_page = sign_in("viewer").get(f"/teams/{team.pk}/").content.decode()
    admin_page = sign_in("admin").get(f"/teams/{team.pk}/").content.decode()
    for control in ("Make an invite link", "End sessions", "Remove"):
        assert control not in viewer_page and control in admin_page


def test_an_admin_ends_a_members_sessions(sign_in: Callable[..., Client], team: Team, people: dict[str, User]) -> None:
    people["viewer"].set_password(PASSWORD)
    people["viewer"].save()
    browser = Client()
    assert browser.login(username="viewer", password=PASSWORD)
    assert browser.get(f"/teams/{team.pk}/").status_code == 200
    viewer = Membership.objects.get(user=people["viewer"])
    page = sign_in("admin").post(f"/teams/{team.pk}/members/{viewer.pk}/end-sessions", follow=True)
    assert "Ended 1 session of viewer" in page.content.decode()
    assert browser.get(f"/teams/{team.pk}/")["Location"].startswith("/accounts/login/")
    assert sign_in("admin").get(f"/teams/{team.pk}/").status_code == 200  # the admin's own go on


def test_a_session_ends_after_the_idle_time(sign_in: Callable[..., Client], team: Team) -> None:
    client = sign_in("viewer")
    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    session = client.session
    session["_seen"] = 0  # last seen long ago, and ending in ten seconds
    session.save()
    Session.objects.filter(pk=session.session_key).update(expire_date=timezone.now() + timedelta(seconds=10))
    assert client.get(f"/teams/{team.pk}/").status_code == 200
    # The request moved the end on: SESSION_COOKIE_AGE from now.
    assert Session.objects.get(pk=session.session_key).expire_date > timezone.now() + age - timedelta(minutes=2)
    Session.objects.filter(pk=session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/teams/{team.pk}/")["Location"].startswith("/accounts/login/")

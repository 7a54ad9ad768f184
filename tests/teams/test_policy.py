"""Every URL of the project against every role and someone of no team: the one table in
console/teams/policy.py decides, before any view runs."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.html import escape

from console.connections.models import Connection
from console.teams import policy
from console.teams.models import Invite, Membership, Role, Team
from tests.teams.conftest import NON_MEMBER, ROLES, Pattern, all_patterns, fill

PATTERNS = all_patterns()
TEAM_PATTERNS = [p for p in PATTERNS if "conn_id" in p.params or "team_id" in p.params]
UNSAFE = [p for p in PATTERNS if p.name != "console.localapi.views.api"]


def test_every_url_pattern_of_the_project_is_classified() -> None:
    names = {p.name for p in PATTERNS}
    assert sorted(names - set(policy.URL_ACTIONS)) == [], "URLs without a rule in policy.URL_ACTIONS"
    assert sorted(set(policy.URL_ACTIONS) - names) == [], "rules for URLs that do not exist"


def test_every_rule_names_a_known_action() -> None:
    known = {*policy.NEEDS, policy.PUBLIC, policy.SIGNED_IN, policy.CREATE_TEAM}
    for name in policy.URL_ACTIONS:
        for method in ("GET", "POST"):
            assert policy.action_for(name, method) in known, name


def test_each_role_includes_the_ones_before_it() -> None:
    for action in policy.NEEDS:
        allowed = [policy.allows(role, action) for role in ROLES]
        assert allowed == sorted(allowed), action  # once allowed, allowed for every higher role
    assert [policy.allows(role, policy.EDIT) for role in ROLES] == [False, False, False, True, True]
    assert not policy.allows(None, policy.READ)


@pytest.fixture
def values(local: Connection, team: Team, people: dict[str, User]) -> dict[str, object]:
    """URL parameters: the team's connection and objects of it (a member and an invite of the team)."""
    target = User.objects.create(username="zoe")
    membership = Membership.objects.create(team=team, user=target, role=Role.VIEWER)
    invite, _ = Invite.issue(team, Role.VIEWER, people["admin"])
    return {
        "conn_id": local.pk,
        "team_id": team.pk,
        "member_id": membership.pk,
        "invite_id": invite.pk,
        "app_id": "shapes",
        "concept_id": "red",
        "input_id": "image-000",
        "dataset_id": "ds",
        "version_id": "v1",
        "relation_id": "r1",
        "fmt": "csv",
        "task_id": "no-such-task",
        "job_id": 999999,
        "upload_id": 999999,
        "secret": "not-an-invite",
        "collaborator_id": "no-such-collaborator",
        "key_ref": "no-such-key",
    }


@pytest.mark.parametrize("pattern", TEAM_PATTERNS, ids=lambda p: p.name)
def test_a_team_url_answers_each_role_as_the_table_says(
    pattern: Pattern, values: dict[str, object], sign_in: Callable[..., Client]
) -> None:
    path = fill(pattern.route, values)
    for role in [*ROLES, NON_MEMBER]:
        client = sign_in(role)
        for method in ("GET", "POST", "DELETE"):
            action = policy.action_for(pattern.name, method)
            assert action in policy.NEEDS
            response = client.generic(method, path)
            allowed = policy.was_allowed(response.wsgi_request)
            where = f"{role} {method} {path}"
            if role == NON_MEMBER:
                assert (response.status_code, allowed) == (404, False), where
            elif not policy.allows(role, action):
                assert (response.status_code, allowed) == (403, False), where
                assert escape(policy.REFUSALS[action]) in response.content.decode(), where
            else:
                assert allowed, where
                assert response.status_code != 403, where


def test_a_connection_of_another_team_is_not_found(sign_in: Callable[..., Client]) -> None:
    other = Connection.objects.create(name="Theirs", user_id="u", team=Team.objects.create(name="Theirs"))
    for path in (f"/c/{other.pk}/apps/", f"/connections/{other.pk}/edit", f"/teams/{other.team_id}/"):
        assert sign_in("admin").get(path).status_code == 404, path


def test_pages_of_no_team_are_for_anyone_signed_in(sign_in: Callable[..., Client], local: Connection) -> None:
    for role in [*ROLES, NON_MEMBER]:
        client = sign_in(role)
        for path in ("/teams/", "/connections/", "/accounts/password/"):
            assert client.get(path).status_code == 200, (role, path)
    assert sign_in("viewer").get("/")["Location"] == f"/c/{local.pk}/apps/"
    assert sign_in(NON_MEMBER).get("/").status_code == 200  # no connection of theirs: a page saying so


def test_only_a_teams_admin_adds_a_connection(sign_in: Callable[..., Client]) -> None:
    for role in [*ROLES, NON_MEMBER]:
        expected = 200 if role == "admin" else 403
        assert sign_in(role).get("/connections/new").status_code == expected, role
        assert sign_in(role).post("/connections/new").status_code == expected, role


def test_only_superusers_make_teams(sign_in: Callable[..., Client], people: dict[str, User]) -> None:
    assert sign_in("admin").get("/teams/new").status_code == 403
    people["viewer"].is_superuser = True
    people["viewer"].save()
    client = sign_in("viewer")
    response = client.post("/teams/new", {"name": "Second"})
    team = Team.objects.get(name="Second")
    assert response["Location"] == f"/teams/{team.pk}/"
    assert team.memberships.get().role == Role.ADMIN


def test_the_connections_page_lists_only_the_persons_teams(sign_in: Callable[..., Client], local: Connection) -> None:
    Connection.objects.create(name="Theirs", user_id="u", team=Team.objects.create(name="Theirs"))
    page = sign_in("viewer").get("/connections/").content.decode()
    assert local.name in page and "Theirs" not in page
    assert "Theirs" not in sign_in(NON_MEMBER).get("/connections/").content.decode()


def test_every_unsafe_request_needs_the_csrf_token(values: dict[str, object], sign_in: Callable[..., Client]) -> None:
    client = sign_in("admin", enforce_csrf_checks=True)
    for pattern in UNSAFE:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = client.generic(method, fill(pattern.route, values))
            assert response.status_code == 403, (method, pattern.name)
            assert "This page is out of date" in response.content.decode(), (method, pattern.name)

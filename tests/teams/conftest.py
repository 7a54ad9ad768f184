"""A team with one person of each role, and someone of no team; the URL patterns of the whole project."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from console.connections.models import Connection
from console.teams.models import Membership, Role, Team, default_team

ROLES = [role.value for role in Role]
NON_MEMBER = "non-member"


@pytest.fixture
def team(local: Connection) -> Team:
    """The built-in connection's team."""
    return local.team


@pytest.fixture
def people(db: None, local: Connection) -> dict[str, User]:
    """One person of each role in the built-in connection's team, and one in no team."""
    made = {}
    for role in [*ROLES, NON_MEMBER]:
        made[role] = User.objects.create(username=role.replace("-", ""))  # signed in by force_login
        if role != NON_MEMBER:
            Membership.objects.create(team=default_team(), user=made[role], role=role)
    return made


@pytest.fixture
def sign_in(people: dict[str, User]) -> Callable[..., Client]:
    def make(role: str, enforce_csrf_checks: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        client.force_login(people[role])
        return client

    return make


@dataclass
class Pattern:
    name: str  # the URL name policy.URL_ACTIONS knows it by (namespace:name, or the view's dotted path)
    route: str  # the whole route, e.g. "c/<int:conn_id>/apps/"
    params: list[str]


def _walk(patterns: list[URLPattern | URLResolver], prefix: str, namespace: str) -> Iterator[Pattern]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, route, inner)
        else:
            name = f"{namespace}{entry.name}" if entry.name else entry.lookup_str
            params = [part.split(">")[0].split(":")[-1] for part in route.split("<")[1:]]
            yield Pattern(name, route, params)


def all_patterns() -> list[Pattern]:
    return list(_walk(get_resolver().url_patterns, "", ""))


def fill(route: str, values: dict[str, object]) -> str:
    """The path of a route with its parameters replaced by `values`."""
    path = route
    for part in route.split("<")[1:]:
        spec = part.split(">")[0]
        path = path.replace(f"<{spec}>", str(values[spec.split(":")[-1]]))
    return "/" + path.lstrip("^")

"""Who may do what: the one place that decides.

Roles rise viewer < labeler < reviewer < editor < admin, each allowed what the ones before it are
(models.RANK). An action needs at least one role (NEEDS). `may(user, action, target)` answers for a
connection or a team (a connection's rights are its team's). Every URL of the project is classified in
URL_ACTIONS, and PolicyMiddleware enforces it before any view runs: a non-member asking for anything of a
team gets 404, a member without the right 403, an unclassified URL 403 (tests/teams checks that none is).
Templates ask the same function (context processor `can`, template tag `may`).
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from console.connections.models import Connection
from console.teams.models import RANK, Membership, Role, Team

logger = logging.getLogger(__name__)

type AnyUser = AbstractBaseUser | AnonymousUser

# Actions on a connection or a team, each needing at least a role.
READ = "read"  # see apps, inputs, concepts, datasets, jobs, the team's members
LABEL = "label"  # label the inputs of a task one is assigned to
REVIEW = "review"  # review the labels of a task one reviews
EDIT = "edit"  # change inputs, datasets, concepts, apps, tasks; run jobs, uploads, bulk changes
MANAGE = "manage"  # members, invites, sessions, connections, collaborators, keys
NEEDS: dict[str, str] = {
    READ: Role.VIEWER,
    LABEL: Role.LABELER,
    REVIEW: Role.REVIEWER,
    EDIT: Role.EDITOR,
    MANAGE: Role.ADMIN,
}
# Classifications of URLs that are no team's: open to anyone (the view authenticates, or needs no one),
# open to anyone signed in, and making a team (superusers: a team's admin may point connections anywhere).
PUBLIC = "public"
SIGNED_IN = "signed_in"
CREATE_TEAM = "create_team"

# What each URL needs, by URL name (or, for a URL without a name, its view's dotted path). A value is one
# action for every method, or a mapping with "GET" (also HEAD and OPTIONS) and "POST" (every unsafe
# method). The URL's `conn_id` or `team_id` names the target; without one, MANAGE means "admin of some
# team" (the view then offers only those teams).
type Rule = str | Mapping[str, str]
URL_ACTIONS: dict[str, Rule] = {
    # No team's
    "health": PUBLIC,
    "console.localapi.views.api": PUBLIC,  # the local API: its own tokens, no console session
    "accounts:login": PUBLIC,
    "teams:join": PUBLIC,  # an invite's link: signed in to accept, or to make an account
    "home": SIGNED_IN,
    "accounts:logout": SIGNED_IN,
    "accounts:password_change": SIGNED_IN,
    "connections:list": SIGNED_IN,  # lists only the connections of one's teams
    "teams:list": SIGNED_IN,  # lists only one's teams
    "teams:new": CREATE_TEAM,
    # The audit trail: a connection's, for its team's admins; the whole console's (sign-ins of no
    # connection included), for the console's administrators (console.audit.access decides).
    "audit:log": MANAGE,
    "audit:csv": MANAGE,
    "audit:all": SIGNED_IN,
    "audit:all_csv": SIGNED_IN,
    # Labeling tasks: everyone sees them (labelers find theirs there); making and changing them is editing.
    "labeling:list": READ,
    "labeling:new": EDIT,
    "labeling:edit": EDIT,
    "labeling:status": EDIT,
    "labeling:delete": EDIT,
    # Labeling and review, as the person's own Clarifai user (the API checks they are the task's
    # labeler or reviewer); attaching that identity is part of labeling.
    "labeling_work:task": READ,  # a task's dashboard: where it stands, for every member
    # A task's activity: the audit trail's events about it, for who reads the log (as an input's history).
    "labeling_work:activity": MANAGE,
    "labeling_work:work": LABEL,
    "labeling_work:submit": LABEL,
    "labeling_work:identity": LABEL,
    "labeling_work:review": REVIEW,
    "labeling_work:decide": REVIEW,
    "labeling_work:decide_labeler": REVIEW,
    # Connections
    "connections:new": MANAGE,
    "connections:edit": MANAGE,
    "connections:delete": MANAGE,
    # Apps
    "apps:list": READ,
    "apps:overview": READ,
    "apps:new": EDIT,
    "apps:settings": EDIT,
    "apps:delete": EDIT,
    # An app's access: who can do what, its Clarifai collaborators and API keys
    "apps:access": MANAGE,
    "apps:collaborators": MANAGE,
    "apps:collaborator_edit": MANAGE,
    "apps:collaborator_remove": MANAGE,
    "apps:keys": MANAGE,
    "apps:key_delete": MANAGE,
    # Concepts
    "concepts:list": READ,
    "concepts:options": READ,
    "concepts:detail": READ,
    "concepts:new": EDIT,
    "concepts:rename": EDIT,
    "concepts:relation_add": EDIT,
    "concepts:relation_delete": EDIT,
    "concepts:remove_everywhere": EDIT,
    # Inputs
    "inputs:grid": READ,
    "inputs:poll": READ,
    "inputs:choices": READ,
    "inputs:detail": READ,
    "inputs:media": READ,
    "inputs:snapshot": EDIT,  # "select all that match", for a bulk change
    "inputs:bulk": EDIT,
    "inputs:edit": EDIT,
    "inputs:delete": EDIT,
    # Datasets
    "datasets:list": READ,
    "datasets:versions": READ,
    "datasets:download": READ,
    "datasets:new": EDIT,
    "datasets:edit": EDIT,
    "datasets:delete": EDIT,
    "datasets:version_new": EDIT,
    "datasets:export": EDIT,
    # Jobs and uploads
    "jobs:list": READ,
    "jobs:remote": READ,
    "jobs:detail": READ,
    "jobs:new": EDIT,
    "jobs:cancel": EDIT,
    "jobs:retry": EDIT,
    "jobs:resume": EDIT,
    "uploads:detail": READ,
    "uploads:new": EDIT,
    # Teams
    "teams:detail": READ,
    "teams:invite": MANAGE,
    "teams:invite_revoke": MANAGE,
    "teams:member_role": MANAGE,
    "teams:member_remove": MANAGE,
    "teams:member_sessions": MANAGE,
}

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def action_for(url_name: str, method: str) -> str | None:
    """The action a request needs, or None when the URL is not classified."""
    rule = URL_ACTIONS.get(url_name)
    if rule is None or isinstance(rule, str):
        return rule
    return rule.get("GET" if method in SAFE_METHODS else "POST")


def role_in(user: AnyUser, team: Team | int | None) -> str | None:
    """The user's role in the team (a Team or its id), None when not a member."""
    if team is None or not user.is_authenticated:
        return None
    team_id = team if isinstance(team, int) else team.pk
    # order_by(): the model's ordering (by user name) would join the users for nothing.
    return Membership.objects.filter(user_id=user.pk, team_id=team_id).order_by().values_list("role", flat=True).first()


def allows(role: str | None, action: str) -> bool:
    """Whether a role (None: not a member) is enough for an action on its team."""
    return role is not None and action in NEEDS and RANK[role] >= RANK[NEEDS[action]]


def may(user: AnyUser, action: str, target: Connection | Team | None) -> bool:
    """May this person do this action on this connection or team? Without a target: in some team of theirs."""
    if not user.is_authenticated:
        return False
    if action == SIGNED_IN:
        return True
    if action == CREATE_TEAM:
        return bool(getattr(user, "is_superuser", False))
    if target is None:
        roles = Membership.objects.filter(user_id=user.pk).values_list("role", flat=True)
        return any(allows(role, action) for role in roles)
    team_id = target.team_id if isinstance(target, Connection) else target.pk
    return allows(role_in(user, team_id), action)


def visible_connections(user: AnyUser) -> "QuerySet[Connection]":
    """The connections of the teams the user belongs to."""
    if not user.is_authenticated:
        return Connection.objects.none()
    return Connection.objects.filter(team__memberships__user_id=user.pk)


def manageable_teams(user: AnyUser) -> "QuerySet[Team]":
    """The teams the user is an admin of."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user_id=user.pk, memberships__role=Role.ADMIN)


# What the middleware found for a request: its connection or team, the person's role there, and that it
# let the request through.
TARGET_ATTR = "_policy_target"
ROLE_ATTR = "_policy_role"
ALLOWED_ATTR = "_policy_allowed"


def was_allowed(request: HttpRequest) -> bool:
    """Whether PolicyMiddleware checked this request and let it through."""
    return getattr(request, ALLOWED_ATTR, False) is True


def checked_target(request: HttpRequest) -> Connection | Team | None:
    target: Connection | Team | None = getattr(request, TARGET_ATTR, None)
    return target


def checked_role(request: HttpRequest) -> str | None:
    role: str | None = getattr(request, ROLE_ATTR, None)
    return role


_CONNECTION_WITH_ROLE = f"""
    SELECT c.*, (SELECT m.role FROM {Membership._meta.db_table} m WHERE m.team_id = c.team_id AND m.user_id = %s)
        AS member_role
    FROM {Connection._meta.db_table} c WHERE c.id = %s
"""  # noqa: S608 (table names from the models; the values are parameters)


def _target(kwargs: dict[str, Any], user: AnyUser) -> tuple[Connection | Team | None, str | None]:
    """The connection or team the URL names, and the user's role in its team (None: not a member);
    Http404 when there is none such. A connection comes with the role in the same query: every
    thumbnail of a grid is a request checked here."""
    user_id = int(user.pk or 0)  # signed in here: check() turned the anonymous away
    if "conn_id" in kwargs:
        # Raw SQL: the ORM spends longer building this query than the database answering it.
        found = Connection.objects.raw(_CONNECTION_WITH_ROLE, [user_id, kwargs["conn_id"]])
        connection = next(iter(found), None)
        if connection is None:
            raise Http404("There is no such connection.")
        role: str | None = getattr(connection, "member_role", None)
        return connection, role
    if "team_id" in kwargs:
        team = Team.objects.filter(pk=kwargs["team_id"]).first()
        if team is None:
            raise Http404("There is no such team.")
        return team, role_in(user, team)
    return None, None


def check(request: HttpRequest, url_name: str, kwargs: dict[str, Any]) -> None:
    """Raise Http404 or PermissionDenied unless the request's user may make this request."""
    action = action_for(url_name, request.method or "GET")
    if action is None:
        logger.error("URL %s has no rule in console.teams.policy.URL_ACTIONS: refused", url_name)
        raise PermissionDenied("This page has no permission rule yet.")
    if action == PUBLIC:
        setattr(request, ALLOWED_ATTR, True)
        return
    user = request.user
    if not user.is_authenticated:
        # Only a view that does its own sign-in check gets here (LoginRequiredMiddleware turned the
        # others away); it answers an anonymous request itself (a 401 for a picture).
        return
    # SIGNED_IN and CREATE_TEAM are of no team; a team's action without a team in the URL: of some team.
    target, role = _target(kwargs, user) if action in NEEDS else (None, None)
    if target is None:
        if not may(user, action, None):
            raise PermissionDenied(_refusal(action))
        setattr(request, ALLOWED_ATTR, True)
        return
    if role is None:
        raise Http404("Not a member of this team.")
    setattr(request, TARGET_ATTR, target)
    setattr(request, ROLE_ATTR, role)
    if not allows(role, action):
        raise PermissionDenied(_refusal(action))
    setattr(request, ALLOWED_ATTR, True)


REFUSALS = {
    LABEL: "Labeling needs the labeler role or higher in this team.",
    REVIEW: "Reviewing needs the reviewer role or higher in this team.",
    EDIT: "Changing this needs the editor role or higher in this team; your role lets you look only.",
    MANAGE: "Only the team's admins may do this.",
    CREATE_TEAM: "Only the console's administrators may make a team.",
}


def _refusal(action: str) -> str:
    return REFUSALS.get(action, "Your role in this team does not allow this.")


class PolicyMiddleware:
    """Checks every request against URL_ACTIONS before its view runs (after sign-in is checked)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        match = request.resolver_match
        check(request, match.view_name if match else "", kwargs)

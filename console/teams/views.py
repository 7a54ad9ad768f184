"""The team pages: one's teams, a team's members and invites (admins change roles, remove members, end
their sessions, invite by link), making a team, and the page an invite link opens.

Who may open each of these is decided by console.teams.policy before the view runs; the views only find
their objects inside the team the URL names.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.audit import recorder as audit
from console.teams import policy
from console.teams.forms import RoleForm, SignUpForm, TeamForm
from console.teams.models import Invite, LastAdmin, Membership, Role, Team
from console.teams.sessions import end_sessions


def _person(request: HttpRequest) -> User:
    """The signed-in person (the policy middleware lets no one else reach the views that ask)."""
    assert isinstance(request.user, User)
    return request.user


@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    memberships = Membership.objects.filter(user=_person(request)).select_related("team")
    can_create = policy.may(request.user, policy.CREATE_TEAM, None)
    return render(request, "teams/list.html", {"memberships": memberships, "can_create": can_create})


@require_http_methods(["GET", "POST"])
def team_new(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            team = form.save()
            Membership.objects.create(team=team, user=_person(request), role=Role.ADMIN)
        audit.record(
            "team_created", connection=None, targets=[("team", str(team.pk))], summary=f"Team {team.name} made"
        )
        messages.success(request, f"Team {team.name} made; you are its admin.")
        return redirect("teams:detail", team.pk)
    return render(request, "teams/new.html", {"form": form})


def _team_page(request: HttpRequest, team: Team, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "team": team,
        "members": team.memberships.select_related("user"),
        "team_connections": team.connections.all(),
        "invites": team.invites.usable().select_related("created_by"),
        "invite_form": RoleForm(initial={"role": Role.VIEWER}),
        "roles": Role.choices,
        "is_admin": policy.allows(policy.checked_role(request), policy.MANAGE),
        **extra,
    }
    return render(request, "teams/detail.html", context, status=status)


@require_GET
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    return _team_page(request, get_object_or_404(Team, pk=team_id))


@require_POST
def invite_new(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _team_page(request, team, status=400, invite_form=form)
    invite, secret = Invite.issue(team, form.cleaned_data["role"], _person(request))
    audit.record(
        "invite_created",
        connection=None,
        targets=[("team", str(team.pk))],
        summary=f"Invite {invite.pk} to {team.name} as {invite.get_role_display().lower()}",
    )
    # Shown in this answer only: the link's secret is not stored (only its hash) and cannot be shown again.
    link = request.build_absolute_uri(reverse("teams:join", args=[secret]))
    return _team_page(request, team, new_invite=invite, new_link=link)


@require_POST
def invite_revoke(request: HttpRequest, team_id: int, invite_id: int) -> HttpResponse:
    invite = get_object_or_404(Invite, pk=invite_id, team_id=team_id)
    invite.delete()
    audit.record(
        "invite_revoked", connection=None, targets=[("team", str(team_id))], summary=f"Invite {invite_id} withdrawn"
    )
    messages.success(request, "The invite link no longer works.")
    return redirect("teams:detail", team_id)


@require_POST
def member_role(request: HttpRequest, team_id: int, member_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("team", "user"), pk=member_id, team_id=team_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return redirect("teams:detail", team_id)
    was = membership.get_role_display().lower()
    try:
        membership.team.set_role(membership, form.cleaned_data["role"])
    except LastAdmin as e:
        messages.error(request, f"{membership.user} is still an admin: {e} Make someone else an admin first.")
    else:
        now = membership.get_role_display().lower()
        audit.record(
            "role_changed",
            connection=None,
            targets=[("team", str(team_id)), ("user", membership.user.get_username())],
            summary=f"{membership.user} in {membership.team}: {was} → {now}",
            before={"role": was},
            after={"role": now},
        )
        messages.success(request, f"{membership.user} is now {now}.")
    return redirect("teams:detail", team_id)


@require_POST
def member_remove(request: HttpRequest, team_id: int, member_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("team", "user"), pk=member_id, team_id=team_id)
    try:
        membership.team.remove(membership)
    except LastAdmin as e:
        messages.error(request, f"{membership.user} was not removed: {e} Make someone else an admin first.")
        return redirect("teams:detail", team_id)
    audit.record(
        "member_removed",
        connection=None,
        targets=[("team", str(team_id)), ("user", membership.user.get_username())],
        summary=f"{membership.user} removed from {membership.team}",
    )
    messages.success(request, f"{membership.user} is no longer in {membership.team}.")
    if membership.user_id == request.user.pk:
        return redirect("teams:list")
    return redirect("teams:detail", team_id)


@require_POST
def member_sessions(request: HttpRequest, team_id: int, member_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=member_id, team_id=team_id)
    ended = end_sessions(membership.user)
    audit.record(
        "sessions_ended",
        connection=None,
        targets=[("team", str(team_id)), ("user", membership.user.get_username())],
        summary=f"Ended {ended} session(s) of {membership.user}",
    )
    plural = "" if ended == 1 else "s"
    messages.success(request, f"Ended {ended} session{plural} of {membership.user}; they must sign in again.")
    if membership.user_id == request.user.pk:
        return redirect("accounts:login")
    return redirect("teams:detail", team_id)


@never_cache
@login_not_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, secret: str) -> HttpResponse:
    """An invite link: a signed-in person joins; someone without an account makes one, then joins."""
    invite = Invite.find(secret)
    if invite is None:
        return render(request, "teams/join.html", {"invite": None}, status=404)
    if request.user.is_authenticated:
        if request.method == "POST":
            return _joined(request, invite, invite.accept(_person(request)))
        return render(request, "teams/join.html", {"invite": invite})
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            membership = invite.accept(user)
            if membership is None:
                transaction.set_rollback(True)  # the link was used meanwhile: no account either
        if membership is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return _joined(request, invite, membership)
    return render(request, "teams/join.html", {"invite": invite, "form": form})


def _joined(request: HttpRequest, invite: Invite, membership: Membership | None) -> HttpResponse:
    if membership is None:
        return render(request, "teams/join.html", {"invite": None}, status=404)
    audit.record(
        "member_joined",
        connection=None,
        targets=[("team", str(invite.team_id)), ("user", membership.user.get_username())],
        summary=f"{membership.user} joined {invite.team} as {membership.get_role_display()} (invite {invite.pk})",
    )
    messages.success(request, f"You joined {invite.team} as {membership.get_role_display().lower()}.")
    return redirect("teams:detail", invite.team_id)

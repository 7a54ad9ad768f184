"""Teams: the people who share connections, each with a role; and the links that invite a new member.

A connection belongs to one team (Connection.team). What a role allows is decided in console/teams/policy.py,
nowhere else. An invite's secret is shown once, in its link; only its SHA-256 is stored.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone


class Role(models.TextChoices):
    # In rising order: each role may do everything the ones before it may (policy.RANK).
    VIEWER = "viewer", "Viewer"
    LABELER = "labeler", "Labeler"
    REVIEWER = "reviewer", "Reviewer"
    EDITOR = "editor", "Editor"
    ADMIN = "admin", "Admin"


# A role's place in the order: a role may do what any role of a lower rank may.
RANK: dict[str, int] = {role.value: n for n, role in enumerate(Role)}


class LastAdmin(Exception):
    """A change that would leave a team without an admin."""


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def admins(self) -> "models.QuerySet[Membership]":
        return self.memberships.filter(role=Role.ADMIN)

    def set_role(self, membership: "Membership", role: str) -> None:
        """Change a member's role; refused (LastAdmin) when it would take away the team's last admin."""
        with transaction.atomic():
            # Lock the team's admins so that two admins demoting each other at once cannot both succeed.
            admins = list(self.admins().select_for_update().values_list("pk", flat=True))
            if role != Role.ADMIN and admins == [membership.pk]:
                raise LastAdmin(f"{self.name} needs at least one admin.")
            membership.role = role
            membership.save(update_fields=["role"])

    def remove(self, membership: "Membership") -> None:
        with transaction.atomic():
            admins = list(self.admins().select_for_update().values_list("pk", flat=True))
            if admins == [membership.pk]:
                raise LastAdmin(f"{self.name} needs at least one admin.")
            membership.delete()


def default_team() -> Team:
    """The team a connection goes to when none is named: the oldest one, made on first use. A console with
    one team (the usual case, and `make run`'s) never has to choose."""
    team = Team.objects.order_by("pk").first()
    if team is None:
        team, _ = Team.objects.get_or_create(name="Team")
    return team


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team_and_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.team}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class InviteQuerySet(models.QuerySet["Invite"]):
    def usable(self) -> "InviteQuerySet":
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now())


class Invite(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = InviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invite to {self.team} as {self.role}"

    @classmethod
    def issue(cls, team: Team, role: str, created_by: "User") -> tuple["Invite", str]:
        """A new invite and its secret, which is in the link only: it is not stored and cannot be shown again."""
        secret = secrets.token_urlsafe(32)
        invite = cls.objects.create(
            team=team,
            role=role,
            secret_hash=hash_secret(secret),
            created_by=created_by,
            expires_at=timezone.now() + timedelta(seconds=settings.TEAM_INVITE_SECONDS),
        )
        return invite, secret

    @classmethod
    def find(cls, secret: str) -> "Invite | None":
        return cls.objects.usable().select_related("team").filter(secret_hash=hash_secret(secret)).first()

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()

    def accept(self, user: "User") -> Membership | None:
        """Join the team as the invite's role (once: a used or expired invite gives None). A member
        already keeps their role if it is higher."""
        with transaction.atomic():
            claimed = Invite.objects.usable().filter(pk=self.pk).update(used_at=timezone.now(), used_by=user)
            if not claimed:
                return None
            membership, created = Membership.objects.get_or_create(
                team=self.team, user=user, defaults={"role": self.role}
            )
            if not created and RANK[self.role] > RANK[membership.role]:
                membership.role = self.role
                membership.save(update_fields=["role"])
            return membership

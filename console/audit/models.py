"""One row per thing done through the console: an API write, a sign-in, a connection changed, a refusal.

A row outlives what it names: the person and the connection are kept as text beside their keys, which
become null when the user or the connection is deleted. No row ever holds a token (the recorder strips
anything token-like before saving: console.audit.recorder.scrub).
"""

import json

from django.conf import settings
from django.db import models
from django.utils import timezone

from console.connections.models import Connection


class AuditEvent(models.Model):
    # Actions of the console itself; a write to the API is recorded under its RPC's name ("PatchInputs").
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    CONNECTION_CREATED = "connection_created"
    CONNECTION_CHANGED = "connection_changed"
    TOKEN_CHANGED = "token_changed"  # noqa: S105 (an action's name, not a token)
    CONNECTION_DELETED = "connection_deleted"
    REFUSED = "refused"
    LABELS = {
        SIGN_IN: "Signed in",
        SIGN_IN_FAILED: "Sign-in failed",
        SIGN_OUT: "Signed out",
        CONNECTION_CREATED: "Connection created",
        CONNECTION_CHANGED: "Connection changed",
        TOKEN_CHANGED: "Token changed",
        CONNECTION_DELETED: "Connection deleted",
        REFUSED: "Refused",
        "team_created": "Team made",
        "invite_created": "Invite made",
        "invite_revoked": "Invite withdrawn",
        "member_joined": "Member joined",
        "role_changed": "Role changed",
        "member_removed": "Member removed",
        "sessions_ended": "Sessions ended",
    }

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    username = models.CharField(max_length=150, blank=True)  # kept when the user is deleted
    action = models.CharField(max_length=80)
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    connection_name = models.CharField(max_length=100, blank=True)
    app_id = models.CharField(max_length=255, blank=True)
    # The one thing changed ("input", "image-001"); with several, the first, and all of them in `targets`.
    target_kind = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=255, blank=True)
    summary = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # The Clarifai status code of the answer (None: none came, or not an API call) and its request id.
    api_status = models.IntegerField(null=True, blank=True)
    req_id = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=45, blank=True)  # of the console request; blank for a job
    job_id = models.PositiveBigIntegerField(null=True, blank=True)  # the job that made the call, if one did

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["connection", "-at"], name="audit_event_conn_at"),
            models.Index(fields=["-at"], name="audit_event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '?'} {self.action}"

    @property
    def label(self) -> str:
        return self.LABELS.get(self.action, self.action)

    @property
    def before_json(self) -> str:
        return json.dumps(self.before, indent=2, ensure_ascii=False, sort_keys=True)

    @property
    def after_json(self) -> str:
        return json.dumps(self.after, indent=2, ensure_ascii=False, sort_keys=True)

    @property
    def succeeded(self) -> bool | None:
        """For an API write: whether the API accepted it (10000, or 10010 mixed); None otherwise."""
        if self.api_status is None:
            return None
        return self.api_status in (10000, 10010)


class AuditTarget(models.Model):
    """Each thing one event touched (a bulk call touches many inputs), for the history of each."""

    event = models.ForeignKey(AuditEvent, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=255)

    class Meta:
        indexes = [models.Index(fields=["kind", "key"], name="audit_target_kind_key")]
        constraints = [models.UniqueConstraint(fields=["event", "kind", "key"], name="audit_target_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

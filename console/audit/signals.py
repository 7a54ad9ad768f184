"""Events the console records without an API call: sign-ins (and failed ones), sign-outs, and connections
created, changed (their token above all, never showing it) or deleted."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.http import HttpRequest

from console.audit.models import AuditEvent
from console.audit.recorder import record
from console.connections.models import Connection

# What a change of a connection shows, before and after (the token is said to have changed, never shown).
SHOWN = ("name", "base_url", "user_id", "rate_limit")


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="audit-signed-in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
    user_logged_out.connect(_signed_out, dispatch_uid="audit-signed-out")
    pre_save.connect(_keep_old, sender=Connection, dispatch_uid="audit-connection-old")
    post_save.connect(_connection_saved, sender=Connection, dispatch_uid="audit-connection-saved")
    post_delete.connect(_connection_deleted, sender=Connection, dispatch_uid="audit-connection-deleted")


def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(AuditEvent.SIGN_IN, user=user, summary="Signed in")


def _sign_in_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any) -> None:
    # Django has already replaced the password in `credentials`; only the user name is kept, as typed.
    username = str(credentials.get("username", ""))[:150]
    record(AuditEvent.SIGN_IN_FAILED, username=username, summary=f"A sign-in as “{username}” failed")


def _signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(AuditEvent.SIGN_OUT, user=user, summary="Signed out")


def _keep_old(sender: Any, instance: Connection, **kwargs: Any) -> None:
    old = None
    if instance.pk is not None:
        old = Connection.objects.filter(pk=instance.pk).values(*SHOWN, "token_encrypted").first()
    instance._audit_old = old  # type: ignore[attr-defined]


def _connection_saved(sender: Any, instance: Connection, created: bool, **kwargs: Any) -> None:
    old = getattr(instance, "_audit_old", None)
    now = {name: getattr(instance, name) for name in SHOWN}
    if created or old is None:
        record(
            AuditEvent.CONNECTION_CREATED,
            connection=instance,
            targets=[("connection", str(instance.pk))],
            summary=f"Connection {instance.name} created ({instance.user_id} on {instance.base_url})",
            after=now,
        )
        return
    changed = [name for name in SHOWN if old[name] != now[name]]
    if changed:
        record(
            AuditEvent.CONNECTION_CHANGED,
            connection=instance,
            targets=[("connection", str(instance.pk))],
            summary=f"Connection {instance.name} changed: {', '.join(changed)}",
            before={name: old[name] for name in changed},
            after={name: now[name] for name in changed},
        )
    if old["token_encrypted"] != instance.token_encrypted:
        record(
            AuditEvent.TOKEN_CHANGED,
            connection=instance,
            targets=[("connection", str(instance.pk))],
            summary=f"The token of connection {instance.name} changed",
        )


def _connection_deleted(sender: Any, instance: Connection, **kwargs: Any) -> None:
    record(
        AuditEvent.CONNECTION_DELETED,
        connection=None,
        connection_name=instance.name,
        targets=[("connection", str(instance.pk))],
        summary=f"Connection {instance.name} deleted ({instance.user_id} on {instance.base_url})",
    )

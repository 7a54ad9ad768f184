"""Recording events: `record` for anything, `hook` for the Clarifai client's writes, `scrub` for secrets.

Never a token: every text and JSON value goes through `scrub` before it is saved. It drops the values of
keys that name a secret (token, password, api_key, authorization...), masks `Key <...>`-style headers
and secret-looking URL parameters, masks the ids of API keys (an API key's id is its secret), and
replaces any known secret (the connection's token, handed to `hook`) wherever it appears.
"""

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.db import DatabaseError, transaction
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from console.audit.context import current
from console.audit.models import AuditEvent, AuditTarget
from console.clarifai.client import CallReport

log = logging.getLogger(__name__)

REMOVED = "[removed]"
MAX_JSON_CHARS = 32_000  # a before/after larger than this is kept as a note of its size
MAX_TARGETS = 1000
_SECRET_KEY = re.compile(r"token|secret|passw|authoriz|api_?key|^key$|key_id|credential|^pat$|signature", re.I)
_AUTH_VALUE = re.compile(r"\b(Key|Bearer|Token|Basic)(\s+)[A-Za-z0-9._~+/=:-]{6,}", re.I)
_URL_SECRET = re.compile(r"([?&;][^=&#\s]*(?:token|key|secret|sig|signature|passw|credential)[^=&#\s]*=)[^&#\s]*", re.I)
_KEY_RPC = re.compile(r"Keys?$")  # PostKeys, PatchKeys, DeleteKey: an API key's id is its secret


class Secrets:
    """Values that must never be saved, with a repr that shows none of them (tracebacks print locals)."""

    __slots__ = ("_values",)

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values = tuple(v for v in values if v and len(v) >= 4)

    def __repr__(self) -> str:
        return "<Secrets>"

    def strip(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REMOVED)
        return text


NO_SECRETS = Secrets()
FROM_SCOPE: Any = object()  # `record`'s connection when not given: the one the request or job is about


def scrub_text(text: str, secrets: Secrets = NO_SECRETS) -> str:
    text = secrets.strip(text)
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REMOVED}", text)
    return _URL_SECRET.sub(lambda m: f"{m.group(1)}{REMOVED}", text)


def scrub(value: Any, secrets: Secrets = NO_SECRETS) -> Any:
    """`value` (JSON-like) with everything token-like removed."""
    if isinstance(value, dict):
        return {
            scrub_text(str(k), secrets): REMOVED if _SECRET_KEY.search(str(k)) else scrub(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value


def mask(secret: str) -> str:
    """An API key's id as the log shows it: its last four characters."""
    return f"…{secret[-4:]}" if len(secret) > 4 else "…"


def _bounded(value: Any) -> Any:
    if value is None:
        return None
    size = len(json.dumps(value, default=str))
    return value if size <= MAX_JSON_CHARS else {"omitted": f"{size} characters, too large to keep"}


def record(
    action: str,
    *,
    connection: Any = FROM_SCOPE,
    app_id: str = "",
    targets: Iterable[tuple[str, str]] = (),
    summary: str = "",
    before: Any = None,
    after: Any = None,
    api_status: int | None = None,
    req_id: str = "",
    user: Any = None,
    username: str | None = None,
    connection_name: str = "",
    secrets: Secrets = NO_SECRETS,
) -> AuditEvent | None:
    """Save one event. Who, from where and (unless given, None for none) on which connection come from the
    audit scope; `user` (and `username`, for a failed sign-in) override it. Never raises: a failure is
    logged. A connection given by id is looked up for its name (and dropped if it no longer exists)."""
    scope = current()
    if user is not None or username is not None:
        user_id, name = (user.pk if user is not None else None), (username or (user.get_username() if user else ""))
    else:
        user_id, name = scope.who()
    if connection is FROM_SCOPE:
        connection = scope.connection_id
    connection_id = connection if isinstance(connection, int) or connection is None else connection.pk
    if not connection_name and connection is not None and not isinstance(connection, int):
        connection_name = connection.name
    kept = list(dict.fromkeys((k[:40], scrub_text(v, secrets)[:255]) for k, v in targets if v))[:MAX_TARGETS]
    event = AuditEvent(
        user_id=user_id,
        username=scrub_text(name, secrets)[:150],
        action=action[:80],
        connection_id=connection_id,
        connection_name=connection_name[:100],
        app_id=scrub_text(app_id, secrets)[:255],
        target_kind=kept[0][0] if kept else "",
        target_id=kept[0][1] if kept else "",
        summary=scrub_text(summary, secrets),
        before=_bounded(scrub(before, secrets)),
        after=_bounded(scrub(after, secrets)),
        api_status=api_status,
        req_id=scrub_text(req_id, secrets)[:200],
        address=scope.address[:45],
        job_id=scope.job_id,
    )
    try:
        with transaction.atomic():
            if connection_id is not None and not connection_name:
                from console.connections.models import Connection

                event.connection_name = (
                    Connection.objects.filter(pk=connection_id).values_list("name", flat=True).first() or ""
                )
                if not event.connection_name:
                    event.connection_id = None  # gone meanwhile
            event.save()
            AuditTarget.objects.bulk_create([AuditTarget(event=event, kind=k, key=v) for k, v in kept])
    except DatabaseError:
        log.exception("An audit event (%s) could not be saved", action)
        return None
    return event


# --- The client's writes ------------------------------------------------------------------------------


def hook(connection_id: int | None, secrets: Secrets) -> Callable[[CallReport], None]:
    """The `on_call` of a connection's client: records its writes (reads return at once, no query)."""

    def on_call(report: CallReport) -> None:
        if report.write:
            record_call(report, connection_id, secrets)

    return on_call


def record_call(report: CallReport, connection_id: int | None, secrets: Secrets) -> AuditEvent | None:
    scope = current()
    keys = bool(_KEY_RPC.search(report.rpc))
    targets = [
        (kind, mask(key) if kind == "key" or keys else key) for kind, key in targets_of(report.rpc, report.request)
    ]
    after = message_json(report.request)
    if keys:
        after = _mask_ids(after)
    outcome = "" if report.error is None else f" — failed: {report.error.message}"
    return record(
        report.rpc,
        connection=FROM_SCOPE if connection_id is None else connection_id,
        app_id=app_of(report.request),
        targets=targets,
        summary=describe(report.rpc, targets) + outcome,
        before=scope.befores.pop(report.rpc, None),
        after=after,
        api_status=report.code,
        req_id=report.req_id,
        secrets=secrets,
    )


def message_json(message: Message) -> dict[str, Any]:
    """What was asked, as JSON: without the caller's ids and without any bytes (pictures sent inline)."""
    copy = type(message)()
    copy.CopyFrom(message)
    _drop_bytes(copy)
    if "user_app_id" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("user_app_id")
    data: dict[str, Any] = json_format.MessageToDict(copy, preserving_proto_field_name=True)
    return data


def _drop_bytes(message: Message) -> None:
    for descriptor, value in message.ListFields():
        if descriptor.type == FieldDescriptor.TYPE_BYTES:
            message.ClearField(descriptor.name)
        elif descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            if descriptor.message_type.GetOptions().map_entry:
                continue
            for item in value if _repeated(descriptor) else [value]:
                _drop_bytes(item)


def _repeated(descriptor: FieldDescriptor) -> bool:
    return bool(getattr(descriptor, "is_repeated", descriptor.label == FieldDescriptor.LABEL_REPEATED))


def _mask_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (mask(v) if isinstance(v, str) else [mask(x) for x in v] if isinstance(v, list) else _mask_ids(v))
            if k in ("id", "ids", "key_id")
            else _mask_ids(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_ids(v) for v in value]
    return value


def app_of(message: Message) -> str:
    fields = message.DESCRIPTOR.fields_by_name
    if "user_app_id" in fields:
        app_id = str(getattr(message, "user_app_id").app_id)  # noqa: B009
        if app_id:
            return app_id
    if "apps" in fields:
        apps = getattr(message, "apps")  # noqa: B009
        return str(apps[0].id) if len(apps) == 1 else ""
    return str(getattr(message, "app_id", "")) if "app_id" in fields else ""


# Parts of a request that name no thing it changes: skipped when looking for what it targets.
_NOT_TARGETS = frozenset({"user_app_id", "data", "metadata", "status", "pagination", "visibility"})


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _singular(name: str) -> str:
    if name.endswith(("ches", "ses")):
        return name[:-2]
    return name[:-1] if name.endswith("s") else name


def targets_of(rpc: str, message: Message, kind: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """What a request changes, as (kind, id): `PatchInputs` with two inputs gives two ("input", id)."""
    noun = _singular(_snake(re.sub(r"^(Post|Patch|Put|Delete)", "", rpc)))
    found: list[tuple[str, str]] = []
    for descriptor, value in message.ListFields():
        name = descriptor.name
        if name in _NOT_TARGETS or depth > 3:
            continue
        if descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            if descriptor.message_type.GetOptions().map_entry or descriptor.message_type.full_name.startswith(
                "google.protobuf"
            ):
                continue
            for item in value if _repeated(descriptor) else [value]:
                found += targets_of(rpc, item, _singular(name), depth + 1)
        elif descriptor.type == FieldDescriptor.TYPE_STRING:
            values = list(value) if _repeated(descriptor) else [value]
            if name == "id" and kind:
                found += [(kind, v) for v in values]
            elif name == "ids" and depth == 0:
                found += [(noun, v) for v in values]
            elif (name.endswith("_id") and name != "app_id") or name.endswith("_ids"):
                found += [(name.rsplit("_", 1)[0], v) for v in values]
    return found


def describe(rpc: str, targets: list[tuple[str, str]]) -> str:
    """ "PatchInputs: input image-001", "PatchInputs: 100 inputs", "DeleteConceptRelations: concept cat, …"."""
    if not targets:
        return rpc
    kinds: dict[str, list[str]] = {}
    for kind, key in targets:
        kinds.setdefault(kind, []).append(key)
    parts = [
        f"{kind} {keys[0]}"
        if len(keys) == 1
        else f"{len(keys)} {kind}s ({', '.join(keys[:3])}{', …' if len(keys) > 3 else ''})"
        for kind, keys in kinds.items()
    ]
    return f"{rpc}: {'; '.join(parts)}"


def record_refused(request: Any, reason: str) -> None:
    """A refused action (the 403 page): what was asked, by whom; never the query string (it may carry ids
    of snapshots and such), only the method and path."""
    record(
        "refused",
        summary=f"{request.method} {request.path}: {reason or 'not allowed'}",
        targets=[("page", request.path)],
    )

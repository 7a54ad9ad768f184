"""Lookups and checks that many handlers share: the app a request is about, pages, ids, metadata."""

import logging
import re
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.db.models import Model, QuerySet
from google.protobuf import json_format, struct_pb2

from console.localapi import status, wire
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.models import App, Collaborator

log = logging.getLogger(__name__)

DEFAULT_PER_PAGE = 128
MAX_PER_PAGE = 1000
ID_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")


# What only an app's owner may do there: a collaborator's scopes never reach these.
OWNER_ONLY_SCOPES = frozenset(
    {"Apps:Patch", "Apps:Delete"}
    | {f"{what}:{verb}" for what in ("Collaborators", "Keys") for verb in ("Add", "Get", "Patch", "Delete")}
)


def caller_user_id(ctx: Context, user_app_id: resources_pb2.UserAppIDSet) -> str:
    """The user a user-level request is about; only the caller's own account is reachable, and only with
    a personal access token (an app-specific key reaches its app alone)."""
    user_id = ctx.resolve_user_id(user_app_id.user_id)
    if user_id != ctx.user.id:
        raise ApiError(
            status.CONN_INSUFFICIENT_SCOPES,
            details=f"This token belongs to user {ctx.user.id!r} and cannot act for user {user_id!r}.",
        )
    if ctx.token.app_id is not None:
        raise ApiError(
            status.CONN_INSUFFICIENT_SCOPES,
            details=f"This key is for one app only: {ctx.rpc or 'this call'} needs a personal access token.",
        )
    return user_id


def get_app(ctx: Context, user_app_id: resources_pb2.UserAppIDSet) -> App:
    """The app a request is about: the caller's own, or one they collaborate on within its scopes. An
    app-specific key reaches its own app only, and gives it to requests that name no app (the short
    routes such as /v2/inputs). The caller's own app costs no query with such a key, one with a PAT."""
    app_id = user_app_id.app_id
    key_app = ctx.token.app if ctx.token.app_id is not None else None  # fetched with the token
    if key_app is not None:
        user_id = ctx.resolve_user_id(user_app_id.user_id)
        if (app_id or key_app.app_id) != key_app.app_id or user_id != ctx.user.id:
            raise ApiError(
                status.CONN_INSUFFICIENT_SCOPES,
                details=f"This key is for app {ctx.user.id}/{key_app.app_id} only, not {user_id}/{app_id}.",
            )
        if key_app.deleted:
            raise not_found(f"App {user_id}/{key_app.app_id}")
        key_app.user = ctx.user
        return key_app
    if not app_id:
        raise invalid(
            "This request needs an app: give user_app_id.app_id or use the /users/{user_id}/apps/{app_id}/ route."
        )
    user_id = ctx.resolve_user_id(user_app_id.user_id)
    if user_id != ctx.user.id:
        return _collaborated_app(ctx, user_id, app_id)
    try:
        return App.objects.select_related("user").get(user_id=user_id, app_id=app_id, deleted=False)
    except App.DoesNotExist:
        raise not_found(f"App {user_id}/{app_id}") from None


def _collaborated_app(ctx: Context, user_id: str, app_id: str) -> App:
    """Another user's app the caller is a collaborator of, if this call is within the collaborator's scopes
    and endpoints. Any other app of another user is answered as if it did not exist."""
    found = (
        Collaborator.objects.select_related("app__user")
        .filter(app__user_id=user_id, app__app_id=app_id, app__deleted=False, user_id=ctx.user.id)
        .first()
    )
    if found is None:
        raise not_found(f"App {user_id}/{app_id}")
    if ctx.scope in OWNER_ONLY_SCOPES or not found.allows(ctx.scope, ctx.rpc):
        raise ApiError(
            status.CONN_INSUFFICIENT_SCOPES,
            details=f"As a collaborator on app {user_id}/{app_id}, you ({ctx.user.id!r}) may not call "
            f"{ctx.rpc or 'this'}{f' (scope {ctx.scope})' if ctx.scope else ''}.",
        )
    return found.app


def page_slice(page: int, per_page: int) -> slice:
    """Rows of a 1-based page; per_page defaults to 128 and may not exceed 1000."""
    if per_page > MAX_PER_PAGE:
        raise invalid(f"per_page must be at most {MAX_PER_PAGE}, not {per_page}.")
    per_page = per_page or DEFAULT_PER_PAGE
    page = max(page, 1)
    start = (page - 1) * per_page
    return slice(start, start + per_page)


def paginate[M: Model](queryset: QuerySet[M], page: int, per_page: int) -> list[M]:
    return list(queryset[page_slice(page, per_page)])


def check_id(value: str, what: str) -> None:
    if not ID_PATTERN.match(value):
        raise invalid(
            f"{what} {value!r} is not a valid id: use 1 to 255 letters, digits, '_', '-' or '.', "
            "not starting with '-' or '.'."
        )


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def dict_to_struct(data: object, target: struct_pb2.Struct, owner: str = "") -> None:
    """Stored metadata into a message. Metadata that no client could read (a row written before it was
    checked, or by hand) is left out and logged, so one row never takes a whole list down."""
    target.Clear()
    if not data:
        return
    problem: str | None
    if not isinstance(data, dict):
        problem = "is not a JSON object"
    elif (problem := wire.metadata_problem(data)) is None:
        try:
            target.update(data)
            return
        except (TypeError, ValueError) as e:
            problem = f"cannot be read: {e}"
    target.Clear()
    log.warning("left out the stored metadata of %s: it %s", owner or "a row", problem)


def merge_metadata(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge like the real API: nested objects merge key by key, a null value removes the key."""
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_metadata(merged[key], value)
        else:
            merged[key] = value
    return merged


def remove_metadata(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Remove the keys named in `patch`; a nested object removes only its own keys."""
    result = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and value and isinstance(result.get(key), dict):
            result[key] = remove_metadata(result[key], value)
        else:
            result.pop(key, None)
    return result


def patch_action(action: str, allowed: tuple[str, ...] = ("merge", "overwrite", "remove")) -> str:
    action = action or "merge"
    if action not in allowed:
        raise invalid(f"action must be one of {', '.join(allowed)}, not {action!r}.")
    return action


def check_scopes(scopes: list[str], endpoints: list[str], what: str) -> None:
    """Scope names and RPC names must be ones the local API knows ("All" is every scope)."""
    from console.localapi.handlers import HANDLERS  # filled once every handler module is loaded

    known = {"All"} | {h.scope for h in HANDLERS.values() if h.scope}
    unknown = [s for s in scopes if s not in known]
    if unknown:
        raise invalid(
            f"{what}: unknown scopes {', '.join(map(repr, unknown))}; known ones: {', '.join(sorted(known))}."
        )
    rpcs = service_pb2.DESCRIPTOR.services_by_name["V2"].methods_by_name
    unknown = [e for e in endpoints if e not in rpcs]
    if unknown:
        raise invalid(f"{what}: unknown endpoints {', '.join(map(repr, unknown))}; give RPC names such as ListInputs.")


def apply_list_action(current: list[str], given: list[str], action: str) -> list[str]:
    """Scopes or endpoints after a Patch: overwrite replaces, merge adds, remove takes away."""
    if action == "overwrite":
        return list(dict.fromkeys(given))
    if action == "merge":
        return list(dict.fromkeys([*current, *given]))
    return [item for item in current if item not in given]

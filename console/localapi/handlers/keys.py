"""Keys: PostKeys, ListKeys, ListAppKeys, GetKey, PatchKeys, DeleteKey.

A key is a personal access token (no app) or an app-specific key (one app of its owner; it reaches that
app only, and requests that name no app, the short routes, go to it). Its secret is shown once, as the
`id` of the key in the PostKeys answer, which is what the official clients send as `Key <id>`; only its
SHA-256 is stored. Afterwards the key is named by its public id, the first 12 characters of the secret,
which ListKeys and GetKey show. Managing keys takes a personal access token; a key's scopes may not go
beyond those of the token that creates or changes it.
"""

from datetime import UTC, datetime

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from console.localapi import status
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid
from console.localapi.handlers import rpc
from console.localapi.handlers.common import (
    apply_list_action,
    caller_user_id,
    check_scopes,
    get_app,
    page_slice,
    patch_action,
)
from console.localapi.messages import timestamp
from console.localapi.models import APP_SPECIFIC_KEY, KEY_ID_LENGTH, PERSONAL_ACCESS_TOKEN, App, Token, hash_token

KINDS = (PERSONAL_ACCESS_TOKEN, APP_SPECIFIC_KEY)


def key_message(token: Token, secret: str = "") -> resources_pb2.Key:
    """A key as clients see it; `secret` only in the PostKeys answer."""
    message = resources_pb2.Key(
        id=secret or token.key_id,
        type=token.kind,
        description=token.description,
        scopes=token.scopes,
        endpoints=token.endpoints,
        created_at=timestamp(token.created_at),
    )
    if token.app is not None:
        message.apps.append(resources_pb2.App(id=token.app.app_id, user_id=token.user_id))
    if token.expires_at:
        message.expires_at.CopyFrom(timestamp(token.expires_at))
    return message


def _keys(ctx: Context) -> QuerySet[Token]:
    return Token.objects.filter(user=ctx.user).select_related("app").order_by("-created_at", "-pk")


def _find(ctx: Context, key_id: str) -> Token:
    """One of the caller's keys, by its public id or by its whole secret."""
    if not key_id:
        raise invalid("Give the key's id in key_id.")
    keys = _keys(ctx)
    found = (
        keys.filter(key_id=key_id) if len(key_id) <= KEY_ID_LENGTH else keys.filter(key_hash=hash_token(key_id))
    ).first()
    if found is None:
        raise ApiError(
            status.CONN_KEY_NOT_FOUND, details=f"You ({ctx.user.id!r}) have no key {key_id[:KEY_ID_LENGTH]!r}."
        )
    return found


def _check_within_caller(ctx: Context, scopes: list[str], what: str) -> None:
    """A key gets no scope its creator's token lacks."""
    beyond = [s for s in scopes if not ctx.token.allows(s)]
    if beyond:
        raise ApiError(
            status.CONN_INSUFFICIENT_SCOPES,
            details=f"{what}: this token cannot give scopes it does not have: {', '.join(beyond)}.",
        )


def _expiry(given: resources_pb2.Key, what: str) -> datetime | None:
    if not given.HasField("expires_at"):
        return None
    expires_at = given.expires_at.ToDatetime(tzinfo=UTC)
    if expires_at <= timezone.now():
        raise invalid(f"{what}: expires_at {expires_at.isoformat()} is not in the future.")
    return expires_at


def _key_app(ctx: Context, given: resources_pb2.Key, what: str) -> App | None:
    if given.type and given.type not in KINDS:
        raise invalid(f"{what}: type must be one of {', '.join(KINDS)}, not {given.type!r}.")
    if len(given.apps) > 1:
        raise invalid(f"{what}: a key is for one app at most, not {len(given.apps)}.")
    if given.type == APP_SPECIFIC_KEY and not given.apps:
        raise invalid(f"{what}: an app_specific_key needs its app in apps.")
    if given.type == PERSONAL_ACCESS_TOKEN and given.apps:
        raise invalid(f"{what}: a personal_access_token is for no app in particular; leave apps empty.")
    if not given.apps:
        return None
    named = given.apps[0]
    if not named.id:
        raise invalid(f"{what}: give the app's id in apps[0].id.")
    user_id = ctx.resolve_user_id(named.user_id)
    if user_id != ctx.user.id:
        raise ApiError(
            status.CONN_INSUFFICIENT_SCOPES,
            details=f"{what}: you ({ctx.user.id!r}) can make keys for your own apps only, "
            f"not for {user_id}/{named.id}.",
        )
    return get_app(ctx, resources_pb2.UserAppIDSet(user_id=user_id, app_id=named.id))


@rpc("PostKeys", scope="Keys:Add")
def post_keys(ctx: Context, request: service_pb2.PostKeysRequest) -> service_pb2.MultiKeyResponse:
    caller_user_id(ctx, request.user_app_id)
    if not request.keys:
        raise invalid("Give at least one key in keys.")
    planned = []
    for number, given in enumerate(request.keys):
        what = f"keys[{number}]"
        scopes, endpoints = list(dict.fromkeys(given.scopes)), list(dict.fromkeys(given.endpoints))
        if not scopes:
            raise invalid(f'{what}: give its scopes, such as ["Inputs:Get"] or ["All"].')
        check_scopes(scopes, endpoints, what)
        _check_within_caller(ctx, scopes, what)
        planned.append((given.description, scopes, endpoints, _key_app(ctx, given, what), _expiry(given, what)))
    answer = service_pb2.MultiKeyResponse()
    with transaction.atomic():
        for description, scopes, endpoints, app, expires_at in planned:
            token, secret = Token.issue(
                ctx.user, description[:200], scopes, endpoints=endpoints, app=app, expires_at=expires_at
            )
            answer.keys.append(key_message(token, secret))
    return answer


@rpc("ListKeys", scope="Keys:Get")
def list_keys(ctx: Context, request: service_pb2.ListKeysRequest) -> service_pb2.MultiKeyResponse:
    """Newest first. A user has few keys, so the filters on scopes and endpoints run here, then the page."""
    caller_user_id(ctx, request.user_app_id)
    if request.type and request.type not in KINDS:
        raise invalid(f"type must be one of {', '.join(KINDS)}, not {request.type!r}.")
    keys = _keys(ctx)
    if request.not_expired:
        keys = keys.exclude(expires_at__lte=timezone.now())
    if request.type:
        keys = keys.filter(app__isnull=request.type == PERSONAL_ACCESS_TOKEN)
    rows = [
        k for k in keys if all(k.allows(s) for s in request.scopes) and all(k.allows_rpc(e) for e in request.endpoints)
    ]
    return service_pb2.MultiKeyResponse(keys=[key_message(k) for k in rows[page_slice(request.page, request.per_page)]])


@rpc("ListAppKeys", scope="Keys:Get")
def list_app_keys(ctx: Context, request: service_pb2.ListAppKeysRequest) -> service_pb2.MultiKeyResponse:
    caller_user_id(ctx, request.user_app_id)
    app = get_app(ctx, request.user_app_id)
    rows = _keys(ctx).filter(app=app)[page_slice(request.page, request.per_page)]
    return service_pb2.MultiKeyResponse(keys=[key_message(k) for k in rows])


@rpc("GetKey", scope="Keys:Get")
def get_key(ctx: Context, request: service_pb2.GetKeyRequest) -> service_pb2.SingleKeyResponse:
    caller_user_id(ctx, request.user_app_id)
    return service_pb2.SingleKeyResponse(key=key_message(_find(ctx, request.key_id)))


@rpc("PatchKeys", scope="Keys:Patch")
def patch_keys(ctx: Context, request: service_pb2.PatchKeysRequest) -> service_pb2.MultiKeyResponse:
    """Changes the description, expiry, scopes and endpoints (those given are merged, overwritten or
    removed by `action`, overwrite when not given). A key's app cannot change: make a new key."""
    caller_user_id(ctx, request.user_app_id)
    action = patch_action(request.action or "overwrite")
    if not request.keys:
        raise invalid("Give at least one key in keys.")
    answer = service_pb2.MultiKeyResponse()
    with transaction.atomic():
        for number, given in enumerate(request.keys):
            what = f"keys[{number}]"
            token = _find(ctx, given.id)
            if given.apps and [(a.id, ctx.resolve_user_id(a.user_id)) for a in given.apps] != (
                [(token.app.app_id, ctx.user.id)] if token.app else []
            ):
                raise invalid(f"{what}: a key's app cannot change; make a new key instead.")
            check_scopes(list(given.scopes), list(given.endpoints), what)
            if given.scopes:
                scopes = apply_list_action(token.scopes, list(given.scopes), action)
                if not scopes:
                    raise invalid(f"{what}: a key needs at least one scope.")
                _check_within_caller(ctx, [s for s in scopes if s not in token.scopes], what)
                token.scopes = scopes
            if given.endpoints:
                token.endpoints = apply_list_action(token.endpoints, list(given.endpoints), action)
            if given.description:
                token.description = given.description[:200]
            expires_at = _expiry(given, what)
            if expires_at is not None:
                token.expires_at = expires_at
            token.save(update_fields=["scopes", "endpoints", "description", "expires_at"])
            answer.keys.append(key_message(token))
    return answer


@rpc("DeleteKey", scope="Keys:Delete")
def delete_key(ctx: Context, request: service_pb2.DeleteKeyRequest) -> status_pb2.BaseResponse:
    caller_user_id(ctx, request.user_app_id)
    _find(ctx, request.key_id).delete()
    return status_pb2.BaseResponse()

"""One request to the local API, from raw HTTP parts to a reply; every transport goes through here.

Route, authenticate, build the request message, call the handler, print the response message. Every
answer, errors included, is JSON with a `status` {code, description, details, req_id}, with an HTTP
status that fits the code; unexpected failures are logged with the req_id and never shown.
"""

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from clarifai_grpc.grpc.api import service_pb2
from clarifai_grpc.grpc.api.status.status_pb2 import BaseResponse, Status
from django.db import DatabaseError, connection
from django.utils import timezone
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from console.localapi import exports, media, routes, status, wire
from console.localapi.context import Context
from console.localapi.errors import ApiError
from console.localapi.handlers import HANDLERS, load_all
from console.localapi.models import App, Input, Token, hash_token

log = logging.getLogger(__name__)
load_all()

MAX_PK = 2**63 - 1  # the largest primary key any supported database stores


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def new_req_id(request_id_prefix: str = "") -> str:
    return f"{request_id_prefix}-{uuid.uuid4().hex}" if request_id_prefix else uuid.uuid4().hex


def too_large(limit: int, request_id_prefix: str = "") -> Reply:
    """The answer to a body over `limit` bytes, which is not read any further."""
    req_id = new_req_id(request_id_prefix)
    details = f"The request body is over the limit of {limit:,} bytes (LOCALAPI_MAX_REQUEST_BYTES)."
    return _reply(BaseResponse(status=status.make(status.REQUEST_TOO_LARGE, details)), req_id)


def handle(
    verb: str,
    path: str,
    query: list[tuple[str, str]],
    authorization: str | None,
    body: bytes,
    origin: str,
    request_id_prefix: str = "",
) -> Reply:
    req_id = new_req_id(request_id_prefix)
    try:
        if media.HOSTED_PATH.match(path):
            return _hosted(verb, path, authorization)
        if exports.PATH.match(path):
            return _export(verb, path, authorization)
        found = routes.match(verb, path)
        if found is None:
            verbs = routes.verbs_for(path)
            if verbs:
                raise ApiError(
                    status.CONN_METHOD_NOT_ALLOWED, details=f"{path} accepts {', '.join(verbs)}, not {verb}."
                )
            raise ApiError(status.CONN_DOES_NOT_EXIST, details=f"There is no API route {verb} {path}.")
        route, params = found
    except Exception as e:  # every failure becomes an answer; unexpected ones are logged
        return _reply(failure(BaseResponse, e, req_id), req_id)

    def fill(request: Message) -> None:
        if verb == "GET":
            wire.parse_query(query, request)
        else:
            wire.parse_body(body, request)
        for name, value in params.items():
            wire.set_field_path(request, name, value)

    return _reply(call(route.rpc, fill, authorization, origin, req_id), req_id)


def method(rpc: str) -> MethodDescriptor | None:
    """The V2 service's method named `rpc`, or None."""
    found: MethodDescriptor | None = service_pb2.DESCRIPTOR.services_by_name["V2"].methods_by_name.get(rpc)
    return found


def response_class(rpc: str) -> type[Message]:
    found = method(rpc)
    return BaseResponse if found is None else GetMessageClass(found.output_type)


def failure(response_class: type[Message], error: Exception, req_id: str) -> Message:
    """The answer to a failed call: the API's own status for an ApiError; anything else is logged with the
    req_id and answered without its details."""
    if isinstance(error, ApiError):
        return response_class(status=Status(code=error.code, description=error.description, details=error.details))
    if isinstance(error, DatabaseError):
        log.error("local API request %s failed in the database", req_id, exc_info=error)
        return response_class(status=status.make(status.INTERNAL_SERVER_ISSUE, "The database failed; try again."))
    log.error("local API request %s failed", req_id, exc_info=error)
    return response_class(
        status=status.make(status.INTERNAL_SERVER_ISSUE, "Something went wrong; the error is logged.")
    )


def call(rpc: str, fill: Callable[[Message], None], authorization: str | None, origin: str, req_id: str) -> Message:
    """One call of the local API, whatever carried it: the RPC's name, a function that fills its request
    message (from JSON, a query string or protobuf bytes), the caller's `Key <token>`, and the origin
    hosted media URLs start with. Returns the RPC's response message, its status always set.

    REST and gRPC both call this, so the two answer alike: authentication comes before the request is
    read, then the scope, then the handler; a failure is the response class with only a status.
    """
    found = method(rpc)
    response_cls = response_class(rpc)
    try:
        if found is None:
            raise ApiError(status.CONN_DOES_NOT_EXIST, details=f"There is no RPC {rpc}.")
        token = authenticate(authorization)
        handler = HANDLERS.get(rpc)
        if handler is None:
            raise ApiError(status.NOT_IMPLEMENTED, details=f"{rpc} is not implemented by the local API.")
        if handler.scope and not token.allows(handler.scope):
            raise ApiError(status.CONN_INSUFFICIENT_SCOPES, details=f"{rpc} needs the scope {handler.scope}.")
        if not token.allows_rpc(rpc):
            raise ApiError(status.CONN_INSUFFICIENT_SCOPES, details=f"This key may not call {rpc}: see its endpoints.")
        request = GetMessageClass(found.input_type)()
        fill(request)
        ctx = Context(token=token, origin=origin, req_id=req_id, rpc=rpc, scope=handler.scope)
        response = handler.func(ctx, request)
        if not status_of(response).code:
            status_of(response).CopyFrom(status.make(status.SUCCESS))
    except Exception as e:  # every failure becomes an answer; unexpected ones are logged
        response = failure(response_cls, e, req_id)
    status_of(response).req_id = req_id
    return response


def status_of(response: Message) -> Status:
    """The `status` field every response message of the API has."""
    found = getattr(response, "status", None)
    assert isinstance(found, Status), f"{type(response).__name__} has no status"
    return found


def _reply(response: Message, req_id: str) -> Reply:
    status_of(response).req_id = req_id
    body = json.dumps(wire.message_to_dict(response), separators=(",", ":")).encode()
    return Reply(status.http_status(status_of(response).code), body, headers={"X-Clarifai-Request-ID": req_id})


def authenticate(authorization: str | None) -> Token:
    scheme, _, secret = (authorization or "").strip().partition(" ")
    if not authorization:
        raise ApiError(status.CONN_KEY_INVALID, details="Send your token in the header 'Authorization: Key <token>'.")
    if scheme.lower() != "key" or not secret.strip():
        raise ApiError(status.CONN_KEY_INVALID, details="The Authorization header must be 'Key <token>'.")
    # One query, whatever the key: an app-specific key's app comes in the same row.
    token = Token.objects.select_related("user", "app").filter(key_hash=hash_token(secret.strip())).first()
    if token is None:
        raise ApiError(status.CONN_KEY_INVALID, details="This token is not valid: it is wrong or was deleted.")
    if token.expires_at and token.expires_at <= timezone.now():
        raise ApiError(status.CONN_KEY_INVALID, details="This token has expired.")
    return token


# Table names from the models, values as parameters.
_HOSTED_SQL = (
    f"SELECT i.image_format, i.status_code, t.scopes FROM {Input._meta.db_table} i"  # noqa: S608
    f" JOIN {App._meta.db_table} a ON a.id = i.app_id JOIN {Token._meta.db_table} t ON t.user_id = a.user_id"
    " WHERE i.app_id = %s AND i.media_key = %s AND a.deleted = %s AND t.key_hash = %s"
    " AND (t.expires_at IS NULL OR t.expires_at > %s) AND (t.app_id IS NULL OR t.app_id = a.id)"
)


def _hosted_picture(app_pk: int, media_key: str, authorization: str | None) -> tuple[str, int, bool] | None:
    """A hosted picture's format and status, and whether the token may read it, in one query of raw SQL:
    the ORM took three quarters of a thumbnail's time building two queries. None when the token is not
    a live one of the app's owner (a personal one, or a key for this app), or there is no such picture;
    collaborators take the longer way."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    if scheme.lower() != "key" or not secret.strip():
        return None
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_HOSTED_SQL, [app_pk, media_key, False, hash_token(secret.strip()), now])
        row = cursor.fetchone()
    if row is None:
        return None
    image_format, status_code, scopes = row
    scopes = json.loads(scopes) if isinstance(scopes, str) else scopes  # SQLite gives the JSON's text
    return image_format, status_code, "All" in scopes or "Inputs:Get" in scopes


def _hosted(verb: str, path: str, authorization: str | None) -> Reply:
    """A hosted picture, for a caller who may read its app."""
    match = media.HOSTED_PATH.match(path)
    assert match is not None
    if verb not in ("GET", "HEAD"):
        raise ApiError(status.CONN_METHOD_NOT_ALLOWED, details="Hosted media can only be fetched with GET.")
    size, app = match["size"], match["app"]
    if len(app) > len(str(MAX_PK)) or int(app) > MAX_PK:  # no row has it; the database could not compare it
        authenticate(authorization)
        raise ApiError(status.CONN_DOES_NOT_EXIST, details="There is no hosted picture at this URL.")
    found = _hosted_picture(int(app), match["key"], authorization)
    if found is not None and found[1] == status.INPUT_SUCCESS and size in media.SIZES and found[2]:
        image_format = found[0]
        data = media.read(media.path(int(app), match["key"], size))
        return Reply(
            200,
            b"" if verb == "HEAD" else data,
            content_type=media.content_type(size, image_format),
            headers={"Cache-Control": "private, max-age=86400", "Content-Length": str(len(data))},
        )
    # Not served at once: the longer way, which says why (no token, an expired one, no such picture, no
    # scope), and lets a collaborator of the app in.
    token = authenticate(authorization)
    item = (
        Input.objects.filter(app_id=int(app), media_key=match["key"], app__deleted=False)
        .select_related("app")
        .only("image_format", "status_code", "app_id", "media_key", "app__user")
        .first()
    )
    if item is None or not token.reaches(item.app, "Inputs:Get"):
        item = None
    if item is None or item.status_code != status.INPUT_SUCCESS or size not in media.SIZES:
        raise ApiError(status.CONN_DOES_NOT_EXIST, details="There is no hosted picture at this URL.")
    if not token.allows("Inputs:Get"):
        raise ApiError(status.CONN_INSUFFICIENT_SCOPES, details="Hosted media needs the scope Inputs:Get.")
    data = media.read(media.path(item.app_id, item.media_key, size))
    return Reply(
        200,
        b"" if verb == "HEAD" else data,
        content_type=media.content_type(size, item.image_format),
        headers={"Cache-Control": "private, max-age=86400", "Content-Length": str(len(data))},
    )


def _export(verb: str, path: str, authorization: str | None) -> Reply:
    """A finished dataset version export, for the owner of its app (console.localapi.exports)."""
    if verb not in ("GET", "HEAD"):
        raise ApiError(status.CONN_METHOD_NOT_ALLOWED, details="An export can only be fetched with GET.")
    data, filename = exports.download(authenticate(authorization), path)
    return Reply(
        200,
        b"" if verb == "HEAD" else data,
        content_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(len(data)),
            "Cache-Control": "private, no-store",
        },
    )

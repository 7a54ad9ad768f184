"""The gRPC transport of the local API: the official clients (the `clarifai` SDK) speak only gRPC.

Every unary RPC of clarifai-grpc's V2 service is registered; each one goes through `dispatch.call`, as a
REST request does, so both channels answer alike (an RPC without a handler answers NOT_IMPLEMENTED in
its status). Application errors travel in `response.status` with the gRPC status OK, as the real API
does; an RPC that is not in the service at all gets gRPC's own UNIMPLEMENTED.

Requests are read as raw bytes so that one over LOCALAPI_MAX_REQUEST_BYTES gets the API's own
RPC_MAX_MESSAGE_SIZE_EXCEEDED status rather than a transport error; gRPC itself refuses only what is
over twice that. Database connections are handled per call as Django does per web request.
"""

import logging
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from clarifai_grpc.grpc.api import service_pb2
from django.conf import settings
from django.db import close_old_connections
from google.protobuf import json_format, struct_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from console.localapi import dispatch, status, wire
from console.localapi.errors import ApiError

log = logging.getLogger(__name__)

SERVICE = "clarifai.api.V2"


def receive_limit() -> int:
    """gRPC's own cap on a request: twice the local API's limit, so that a request between the two gets the
    API's status (with its req_id) and only a far larger one is cut off by the transport."""
    limit: int = settings.LOCALAPI_MAX_REQUEST_BYTES
    return 2 * limit + 1024 * 1024


def metadata_value(context: grpc.ServicerContext, name: str) -> str | None:
    for key, value in context.invocation_metadata():
        if key == name:
            return value if isinstance(value, str) else value.decode(errors="replace")
    return None


def read_request(raw: bytes, request: Message) -> None:
    """Fill `request` from protobuf bytes, refusing what REST's JSON reader refuses too: undecodable bytes
    and metadata (Structs) that no response could carry back."""
    try:
        request.MergeFromString(raw)
    except (DecodeError, RecursionError) as e:
        details = f"The request is not a valid protobuf message: {e}"
        raise ApiError(status.CONN_BAD_REQUEST_FORMAT, details=details) from None
    _check_structs(request, "")


def _check_structs(message: Message, path: str) -> None:
    if isinstance(message, struct_pb2.Struct):
        problem = wire.metadata_problem(json_format.MessageToDict(message))
        if problem:
            raise ApiError(status.CONN_INVALID_REQUEST, details=f"{path or 'The request'} {problem}.")
        return
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE or field.message_type.GetOptions().map_entry:
            continue
        here = f"{path}.{field.name}" if path else field.name
        if field.is_repeated:
            for i, item in enumerate(value):
                _check_structs(item, f"{here}[{i}]")
        else:
            _check_structs(value, here)


def unary(rpc: str, origin: str) -> Callable[[bytes, grpc.ServicerContext], Message]:
    def serve(raw: bytes, context: grpc.ServicerContext) -> Message:
        limit: int = settings.LOCALAPI_MAX_REQUEST_BYTES
        req_id = dispatch.new_req_id((metadata_value(context, "x-clarifai-request-id-prefix") or "")[:64])
        started = time.perf_counter()
        close_old_connections()
        try:
            if len(raw) > limit:
                details = f"The request is over the limit of {limit:,} bytes (LOCALAPI_MAX_REQUEST_BYTES)."
                response = dispatch.failure(
                    dispatch.response_class(rpc), ApiError(status.REQUEST_TOO_LARGE, details=details), req_id
                )
                dispatch.status_of(response).req_id = req_id
            else:
                authorization = metadata_value(context, "authorization")
                response = dispatch.call(rpc, lambda request: read_request(raw, request), authorization, origin, req_id)
        finally:
            close_old_connections()
        context.set_trailing_metadata((("x-clarifai-request-id", req_id),))
        # One line a call, as gunicorn's access log has one a request (never the token).
        code = dispatch.status_of(response).code
        log.info("%s %s %d %d bytes %.1f ms", rpc, req_id, code, len(raw), (time.perf_counter() - started) * 1000)
        return response

    return serve


def handler(origin: str) -> grpc.GenericRpcHandler:
    """Every unary RPC of the V2 service, each read as bytes and answered by `dispatch.call`."""
    service = service_pb2.DESCRIPTOR.services_by_name["V2"]
    methods: dict[str, Any] = {}
    for method in service.methods:
        if method.client_streaming or method.server_streaming:
            continue  # they serve models, runners and pipelines; grpc answers UNIMPLEMENTED
        methods[method.name] = grpc.unary_unary_rpc_method_handler(
            unary(method.name, origin), request_deserializer=None, response_serializer=_serialize
        )
    return grpc.method_handlers_generic_handler(SERVICE, methods)


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def build(address: str, origin: str, threads: int) -> tuple[grpc.Server, int]:
    """A server answering on `address` (host:port; port 0 picks one), not started; and its port."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grpc"),
        handlers=[handler(origin)],
        options=[
            ("grpc.max_receive_message_length", receive_limit()),
            ("grpc.max_send_message_length", -1),
            ("grpc.so_reuseport", 0),
        ],
    )
    port = server.add_insecure_port(address)
    if not port:
        raise OSError(f"cannot listen on {address}")
    return server, port

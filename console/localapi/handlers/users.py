"""Users and status codes: GetUser, ListStatusCodes."""

from clarifai_grpc.grpc.api import service_pb2

from console.localapi import status
from console.localapi.context import Context
from console.localapi.handlers import rpc
from console.localapi.handlers.common import caller_user_id
from console.localapi.messages import user_message


@rpc("GetUser")
def get_user(ctx: Context, request: service_pb2.GetUserRequest) -> service_pb2.SingleUserResponse:
    caller_user_id(ctx, request.user_app_id)
    return service_pb2.SingleUserResponse(user=user_message(ctx.user))


@rpc("ListStatusCodes")
def list_status_codes(ctx: Context, request: service_pb2.ListStatusCodesRequest) -> service_pb2.MultiStatusCodeResponse:
    return service_pb2.MultiStatusCodeResponse(statuses=[status.make(code) for code in status.all_codes()])

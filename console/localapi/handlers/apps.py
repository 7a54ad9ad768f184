"""Apps: ListApps, GetApp, PostApps, PatchApps, PatchApp, DeleteApp."""

import re
from collections.abc import Iterable

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from console.localapi import status, tasks
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid
from console.localapi.handlers import rpc
from console.localapi.handlers.common import (
    caller_user_id,
    check_id,
    get_app,
    merge_metadata,
    paginate,
    patch_action,
    remove_metadata,
    struct_to_dict,
)
from console.localapi.messages import app_message
from console.localapi.models import ID_MAX, App, Dataset, InputCount

LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _add_counts(messages: list[resources_pb2.App], apps: list[App]) -> None:
    """`extra_info.counts` of each app: inputs from the counters the triggers keep (never a count of the
    inputs), datasets counted (an app has few)."""
    pks = [a.pk for a in apps]
    inputs = dict(
        InputCount.objects.filter(app_id__in=pks).values("app_id").annotate(n=Sum("inputs")).values_list("app_id", "n")
    )
    datasets = dict(
        Dataset.objects.filter(app_id__in=pks).values("app_id").annotate(n=Count("pk")).values_list("app_id", "n")
    )
    for message, app in zip(messages, apps, strict=True):
        counts = message.extra_info.counts
        counts.inputs = inputs.get(app.pk) or 0
        counts.datasets = datasets.get(app.pk) or 0


def _wants_counts(additional_fields: Iterable[str]) -> bool:
    return bool({"counts", "all"} & set(additional_fields))


@rpc("ListApps", scope="Apps:Get")
def list_apps(ctx: Context, request: service_pb2.ListAppsRequest) -> service_pb2.MultiAppResponse:
    user_id = caller_user_id(ctx, request.user_app_id)
    apps = App.objects.filter(user_id=user_id, deleted=False)
    search = request.search or request.query or request.name
    if search:
        apps = apps.filter(Q(name__icontains=search) | Q(app_id__icontains=search))
    if request.id:
        apps = apps.filter(app_id=request.id)
    order = {
        "sort_by_name": "name",
        "sort_by_id": "app_id",
        "sort_by_modified_at": "modified_at",
        "sort_by_created_at": "created_at",
    }.get(request.WhichOneof("sort_by") or "sort_by_created_at", "created_at")
    # Names and times ascend when asked; otherwise newest (or Z..A) first, as the real API lists them.
    direction = "" if request.sort_ascending else "-"
    apps = apps.order_by(f"{direction}{order}", f"{direction}id")
    page = paginate(apps, request.page, request.per_page)
    messages = [app_message(a) for a in page]
    if _wants_counts(request.additional_fields):
        _add_counts(messages, page)
    return service_pb2.MultiAppResponse(apps=messages)


@rpc("GetApp", scope="Apps:Get")
def get_app_handler(ctx: Context, request: service_pb2.GetAppRequest) -> service_pb2.SingleAppResponse:
    app = get_app(ctx, request.user_app_id)
    message = app_message(app)
    if _wants_counts(request.additional_fields):
        _add_counts([message], [app])
    return service_pb2.SingleAppResponse(app=message)


@rpc("PostApps", scope="Apps:Add")
def post_apps(ctx: Context, request: service_pb2.PostAppsRequest) -> service_pb2.MultiAppResponse:
    user_id = caller_user_id(ctx, request.user_app_id)
    if not request.apps:
        raise invalid("Give at least one app in apps.")
    seen = set()
    for app in request.apps:
        check_id(app.id, "App id")
        if app.id in seen:
            raise ApiError(status.DATABASE_DUPLICATE_KEY, details=f"App id {app.id!r} appears twice in this request.")
        seen.add(app.id)
    try:
        with transaction.atomic():
            created = [
                App.objects.create(
                    user_id=user_id,
                    app_id=app.id,
                    name=app.name or app.id,
                    description=app.description,
                    notes=app.notes,
                    default_language=app.default_language or "en",
                    default_workflow_id=app.default_workflow_id or app.default_workflow.id,
                    metadata=struct_to_dict(app.metadata),
                )
                for app in request.apps
            ]
    except IntegrityError:
        taken = App.objects.filter(user_id=user_id, app_id__in=seen).values_list("app_id", flat=True)
        raise ApiError(
            status.DATABASE_DUPLICATE_KEY, details=f"An app with id {', '.join(sorted(taken))} already exists."
        ) from None
    return service_pb2.MultiAppResponse(apps=[app_message(a) for a in created])


def _apply_patch(app: App, patch: resources_pb2.App, action: str, metadata_op: str) -> None:
    """`overwrite` replaces name, description and notes (an empty name falls back to the id), `merge` changes
    only those given, `remove` changes none of them; metadata follows `metadata_op` (merge, overwrite, or
    remove the keys given)."""
    if len(patch.name) > ID_MAX:
        raise invalid(f"An app's name may be at most {ID_MAX} characters, not {len(patch.name)}.")
    if patch.default_language and not LANGUAGE.match(patch.default_language):
        raise invalid(f"default_language {patch.default_language!r} is not a language code such as 'en' or 'pt-BR'.")
    if action == "overwrite":
        app.name = patch.name or app.app_id
        app.description = patch.description
        app.notes = patch.notes
    elif action == "merge":
        app.name = patch.name or app.name
        app.description = patch.description or app.description
        app.notes = patch.notes or app.notes
    app.default_language = patch.default_language or app.default_language
    if patch.HasField("metadata"):
        new = struct_to_dict(patch.metadata)
        if metadata_op == "overwrite":
            app.metadata = new
        elif metadata_op == "remove":
            app.metadata = remove_metadata(app.metadata, new)
        else:
            app.metadata = merge_metadata(app.metadata, new)
    app.save()


@rpc("PatchApps", scope="Apps:Patch")
def patch_apps(ctx: Context, request: service_pb2.PatchAppsRequest) -> service_pb2.MultiAppResponse:
    action = patch_action(request.action)
    metadata_op = patch_action(request.metadata_action.op or action)
    if not request.apps:
        raise invalid("Give at least one app in apps.")
    for patch in request.apps:
        if not patch.id:
            raise invalid("Every app in apps needs its id.")
    with transaction.atomic():
        apps = []
        for patch in request.apps:
            app = get_app(ctx, resources_pb2.UserAppIDSet(user_id=request.user_app_id.user_id, app_id=patch.id))
            _apply_patch(app, patch, action, metadata_op)
            apps.append(app)
    return service_pb2.MultiAppResponse(apps=[app_message(a) for a in apps])


@rpc("PatchApp", scope="Apps:Patch")
def patch_app(ctx: Context, request: service_pb2.PatchAppRequest) -> service_pb2.SingleAppResponse:
    action = patch_action(request.action)
    metadata_op = patch_action(request.metadata_action.op or action)
    with transaction.atomic():
        app = get_app(ctx, request.user_app_id)
        _apply_patch(app, request.app, action, metadata_op)
    return service_pb2.SingleAppResponse(app=app_message(app))


@rpc("DeleteApp", scope="Apps:Delete")
def delete_app(ctx: Context, request: service_pb2.DeleteAppRequest) -> status_pb2.BaseResponse:
    with transaction.atomic():
        app = get_app(ctx, request.user_app_id)
        # Gone for clients at once (and its id free again); a worker deletes its rows and media.
        App.objects.filter(pk=app.pk).update(deleted=True, app_id=f"~deleted~{app.pk}", modified_at=timezone.now())
        tasks.enqueue(tasks.purge_app, app.pk)
    return status_pb2.BaseResponse()

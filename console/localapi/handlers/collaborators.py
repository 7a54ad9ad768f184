"""Collaborators: ListCollaborators, PostCollaborators, PatchCollaborators, DeleteCollaborators, and
ListCollaborations (the apps the caller collaborates on).

The app's owner adds other local API users by user id or email, with scopes (and optionally endpoints,
RPC names). A collaborator reaches the app with their own personal access token, within both its scopes
and the collaborator's, and never the owner's other apps (handlers.common.get_app); changing or deleting
the app, its collaborators and keys stays with the owner.
"""

import operator
from functools import reduce

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.db import transaction
from django.db.models import Q

from console.localapi import status
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.handlers import rpc
from console.localapi.handlers.common import (
    OWNER_ONLY_SCOPES,
    apply_list_action,
    caller_user_id,
    check_id,
    check_scopes,
    get_app,
    paginate,
    patch_action,
)
from console.localapi.messages import app_message, timestamp, user_message
from console.localapi.models import App, Collaborator, Input, User


def collaborator_message(collaborator: Collaborator) -> resources_pb2.Collaborator:
    return resources_pb2.Collaborator(
        id=collaborator.collaborator_id,
        app=resources_pb2.App(id=collaborator.app.app_id, user_id=collaborator.app.user_id),
        user=user_message(collaborator.user),
        scopes=collaborator.scopes,
        endpoints=collaborator.endpoints,
        created_at=timestamp(collaborator.created_at),
        modified_at=timestamp(collaborator.modified_at),
    )


def _email(user: resources_pb2.User) -> str:
    return user.user_detail.primary_email or user.primary_email


def _user(given: resources_pb2.User, what: str) -> User:
    """The local API user a collaborator names, by id or else by email."""
    if given.id:
        found = User.objects.filter(id=given.id).first()
        if found is None:
            raise not_found(f"{what}: user {given.id!r}")
        return found
    email = _email(given)
    if not email:
        raise invalid(f"{what}: name the user in user.id or user.user_detail.primary_email.")
    matches = list(User.objects.filter(email__iexact=email)[:2])
    if len(matches) != 1:
        if matches:
            raise invalid(f"{what}: more than one user has the email {email!r}; give user.id instead.")
        raise not_found(f"{what}: a user with the email {email!r}")
    return matches[0]


def _check_collaborator_scopes(scopes: list[str], endpoints: list[str], what: str) -> None:
    check_scopes(scopes, endpoints, what)
    owner_only = sorted(OWNER_ONLY_SCOPES & set(scopes))
    if owner_only:
        raise invalid(f"{what}: only the app's owner has the scopes {', '.join(owner_only)}.")


@rpc("ListCollaborators", scope="Collaborators:Get")
def list_collaborators(
    ctx: Context, request: service_pb2.ListCollaboratorsRequest
) -> service_pb2.MultiCollaboratorsResponse:
    app = get_app(ctx, request.user_app_id)
    rows = Collaborator.objects.filter(app=app).select_related("user").order_by("created_at", "pk")
    found = paginate(rows, request.page, request.per_page)
    for row in found:
        row.app = app
    return service_pb2.MultiCollaboratorsResponse(
        collaborators=[collaborator_message(c) for c in found], app_owner=user_message(app.user)
    )


@rpc("PostCollaborators", scope="Collaborators:Add")
def post_collaborators(
    ctx: Context, request: service_pb2.PostCollaboratorsRequest
) -> service_pb2.MultiCollaboratorsResponse:
    app = get_app(ctx, request.user_app_id)
    if not request.collaborators:
        raise invalid("Give at least one collaborator in collaborators.")
    planned: list[Collaborator] = []
    for number, given in enumerate(request.collaborators):
        what = f"collaborators[{number}]"
        user = _user(given.user, what)
        if user.id == app.user_id:
            raise invalid(f"{what}: {user.id!r} owns app {app.app_id!r} and cannot also be its collaborator.")
        collaborator_id = given.id or Input.new_id()
        check_id(collaborator_id, f"{what}: collaborator id")
        scopes, endpoints = list(dict.fromkeys(given.scopes)), list(dict.fromkeys(given.endpoints))
        if not scopes:
            raise invalid(f'{what}: give the collaborator\'s scopes, such as ["Inputs:Get", "Concepts:Get"].')
        _check_collaborator_scopes(scopes, endpoints, what)
        if any(p.user_id == user.id or p.collaborator_id == collaborator_id for p in planned):
            raise ApiError(status.DATABASE_DUPLICATE_KEY, details=f"{what}: {user.id!r} appears twice in this request.")
        planned.append(
            Collaborator(app=app, user=user, collaborator_id=collaborator_id, scopes=scopes, endpoints=endpoints)
        )
    with transaction.atomic():
        taken = Collaborator.objects.filter(app=app).filter(
            Q(user_id__in=[p.user_id for p in planned]) | Q(collaborator_id__in=[p.collaborator_id for p in planned])
        )
        if taken.exists():
            names = sorted(f"{c.user_id} ({c.collaborator_id})" for c in taken)
            raise ApiError(
                status.DATABASE_DUPLICATE_KEY,
                details=f"Already collaborators on app {app.app_id!r}: {', '.join(names)}.",
            )
        Collaborator.objects.bulk_create(planned)
    saved = Collaborator.objects.filter(app=app, user_id__in=[p.user_id for p in planned]).select_related("user")
    by_user = {c.user_id: c for c in saved}
    for c in by_user.values():
        c.app = app
    return service_pb2.MultiCollaboratorsResponse(
        collaborators=[collaborator_message(by_user[p.user_id]) for p in planned], app_owner=user_message(app.user)
    )


def _find(app: App, given: resources_pb2.Collaborator, what: str) -> Collaborator:
    """A collaborator of the app by its id, or by its user's id or email."""
    rows = Collaborator.objects.filter(app=app).select_related("user")
    if given.id:
        rows = rows.filter(collaborator_id=given.id)
    elif given.user.id:
        rows = rows.filter(user_id=given.user.id)
    elif _email(given.user):
        rows = rows.filter(user__email__iexact=_email(given.user))
    else:
        raise invalid(f"{what}: name the collaborator by id, user.id or user.user_detail.primary_email.")
    found = rows.select_for_update().first()
    if found is None:
        raise not_found(
            f"{what}: collaborator {given.id or given.user.id or _email(given.user)!r} of app {app.app_id!r}"
        )
    found.app = app
    return found


@rpc("PatchCollaborators", scope="Collaborators:Patch")
def patch_collaborators(
    ctx: Context, request: service_pb2.PatchCollaboratorsRequest
) -> service_pb2.MultiCollaboratorsResponse:
    """Changes the scopes and endpoints given (overwrite when no action is given, or merge, or remove)."""
    app = get_app(ctx, request.user_app_id)
    action = patch_action(request.action or "overwrite")
    if not request.collaborators:
        raise invalid("Give at least one collaborator in collaborators.")
    answer = service_pb2.MultiCollaboratorsResponse(app_owner=user_message(app.user))
    with transaction.atomic():
        for number, given in enumerate(request.collaborators):
            what = f"collaborators[{number}]"
            found = _find(app, given, what)
            _check_collaborator_scopes(list(given.scopes), list(given.endpoints), what)
            if given.scopes:
                found.scopes = apply_list_action(found.scopes, list(given.scopes), action)
                if not found.scopes:
                    raise invalid(f"{what}: a collaborator needs at least one scope; delete it instead.")
            if given.endpoints:
                found.endpoints = apply_list_action(found.endpoints, list(given.endpoints), action)
            found.save(update_fields=["scopes", "endpoints", "modified_at"])
            answer.collaborators.append(collaborator_message(found))
    return answer


@rpc("DeleteCollaborators", scope="Collaborators:Delete")
def delete_collaborators(ctx: Context, request: service_pb2.DeleteCollaboratorsRequest) -> status_pb2.BaseResponse:
    """By collaborator id (or the collaborator's user id) and by email; all or nothing."""
    app = get_app(ctx, request.user_app_id)
    ids, emails = list(request.collaborator_ids), [e.lower() for e in request.user_emails]
    if not ids and not emails:
        raise invalid("Give the collaborators to remove in collaborator_ids or user_emails.")
    by_id = Q(collaborator_id__in=ids) | Q(user_id__in=ids)
    with transaction.atomic():
        rows = list(
            Collaborator.objects.filter(app=app)
            .filter(reduce(operator.or_, [Q(user__email__iexact=e) for e in emails], by_id))
            .select_related("user")
            .select_for_update()
        )
        missing = [i for i in ids if not any(i in (r.collaborator_id, r.user_id) for r in rows)]
        missing += [e for e in emails if not any(r.user.email.lower() == e for r in rows)]
        if missing:
            raise not_found(f"Collaborators {', '.join(map(repr, missing))} of app {app.app_id!r}")
        Collaborator.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return status_pb2.BaseResponse()


@rpc("ListCollaborations", scope="Apps:Get")
def list_collaborations(
    ctx: Context, request: service_pb2.ListCollaborationsRequest
) -> service_pb2.MultiCollaborationsResponse:
    """The other users' apps the caller collaborates on, oldest collaboration first."""
    caller_user_id(ctx, request.user_app_id)
    rows = (
        Collaborator.objects.filter(user=ctx.user, app__deleted=False)
        .select_related("app__user")
        .order_by("created_at", "pk")
    )
    return service_pb2.MultiCollaborationsResponse(
        collaborations=[
            resources_pb2.Collaboration(
                app=app_message(c.app),
                app_owner=user_message(c.app.user),
                scopes=c.scopes,
                endpoints=c.endpoints,
                created_at=timestamp(c.created_at),
            )
            for c in paginate(rows, request.page, request.per_page)
        ]
    )

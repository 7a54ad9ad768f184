"""An app's Access area, for the team's admins: who can do what (console roles and Clarifai collaborator
scopes together), the app's collaborators (add by user id or email, change scopes, remove) and its
app-specific API keys (list with scopes and age, create with the secret shown once, delete).

A new key's secret is on the page that answers the POST only: no redirect, message or session carries it,
the page is `no-store`, and the audit records the request (which has no secret), never the answer.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods

from console.apps.access_forms import CollaboratorForm, KeyForm, ScopesForm
from console.audit import context as audit
from console.audit.recorder import mask
from console.clarifai import ClarifaiError, ClarifaiStatusError
from console.connections.clients import client_for, ids
from console.connections.decorators import connection_page
from console.connections.models import Connection
from console.core.rendering import NOT_FOUND_CODES, write_failed
from console.labeling.models import ConnectionMember
from console.teams import policy
from console.teams.models import Membership

PER_PAGE = 1000  # collaborators and keys of one app: a few, listed on one page
CONSOLE_ACTIONS = [
    (policy.READ, "view"),
    (policy.LABEL, "label"),
    (policy.REVIEW, "review"),
    (policy.EDIT, "edit"),
    (policy.MANAGE, "manage"),
]
VERB_WORDS = {"Get": "see", "Add": "add", "Patch": "change", "Delete": "delete"}
VERB_ORDER = list(VERB_WORDS)
RESOURCE_WORDS = {"Annotations": "annotations", "Inputs": "inputs", "Apps": "the app"}


def scopes_in_words(scopes: Sequence[str], endpoints: Sequence[str] = ()) -> str:
    """e.g. ["Inputs:Get", "Annotations:Add"] -> "see inputs; add annotations". `All` is everything."""
    if "All" in scopes:
        words = "everything the API allows a collaborator"
    else:
        by_verb: dict[str, list[str]] = {}
        for scope in scopes:
            resource, _, verb = scope.partition(":")
            noun = RESOURCE_WORDS.get(resource, resource.lower())
            by_verb.setdefault(verb, []).append(noun)
        parts = [
            f"{VERB_WORDS.get(verb, verb.lower())} {_and(by_verb[verb])}"
            for verb in sorted(by_verb, key=lambda v: VERB_ORDER.index(v) if v in VERB_ORDER else len(VERB_ORDER))
        ]
        words = "; ".join(parts) or "nothing"
    if endpoints:
        words += f" (only the calls {', '.join(endpoints)})"
    return words


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def console_abilities(role: str | None) -> str:
    allowed = [word for action, word in CONSOLE_ACTIONS if policy.allows(role, action)]
    return ", ".join(allowed) if allowed else "nothing"


@dataclass
class Person:
    """One row of "who can do what"."""

    name: str  # the console user's name, or the Clarifai user's name
    console_role: str = ""  # the role's label; empty for one who is not a console member
    console_can: str = "nothing (not a member of the team)"
    clarifai_user: str = ""
    clarifai_can: str = ""
    notes: list[str] = field(default_factory=list)


def _display_name(user: resources_pb2.User) -> str:
    full = f"{user.first_name} {user.last_name}".strip()
    return full or user.user_detail.primary_email or user.id


def _access_context(connection: Connection, app_id: str, tab: str) -> dict[str, object]:
    return {"connection": connection, "app_id": app_id, "section": "access", "tab": tab}


def _collaborators(connection: Connection, app_id: str) -> service_pb2.MultiCollaboratorsResponse:
    request = service_pb2.ListCollaboratorsRequest(user_app_id=ids(connection, app_id), per_page=PER_PAGE)
    response: service_pb2.MultiCollaboratorsResponse = client_for(connection).call("ListCollaborators", request)
    return response


def people(connection: Connection, listed: service_pb2.MultiCollaboratorsResponse | None) -> list[Person]:
    """Every person with some access to the app: the team's members (with their Clarifai identity and its
    collaborator scopes, if any), the collaborators who are no member, and the app's owner. `listed`: the
    app's collaborators, None when the API would not list them (the members' scopes are then unknown)."""
    unknown = listed is None
    listed = listed or service_pb2.MultiCollaboratorsResponse()
    by_user = {c.user.id: c for c in listed.collaborators}
    owner_id = listed.app_owner.id or connection.user_id
    identities = dict(ConnectionMember.objects.filter(connection=connection).values_list("user_id", "clarifai_user_id"))
    rows: list[Person] = []
    seen: set[str] = set()
    for membership in Membership.objects.filter(team_id=connection.team_id).select_related("user"):
        clarifai_id = identities.get(membership.user_id, "")
        person = Person(
            name=membership.user.get_username(),
            console_role=membership.get_role_display(),
            console_can=console_abilities(membership.role),
            clarifai_user=clarifai_id,
        )
        if not clarifai_id:
            person.clarifai_can = "no Clarifai identity on this connection"
        elif clarifai_id == owner_id:
            person.clarifai_can = "everything: owns the app"
        elif unknown:
            person.clarifai_can = "unknown: the collaborators could not be read"
        elif clarifai_id in by_user:
            collaborator = by_user[clarifai_id]
            person.clarifai_can = scopes_in_words(list(collaborator.scopes), list(collaborator.endpoints))
        else:
            person.clarifai_can = "nothing: not a collaborator of this app"
        seen.add(clarifai_id)
        rows.append(person)
    for collaborator in listed.collaborators:
        if collaborator.user.id not in seen:
            rows.append(
                Person(
                    name=_display_name(collaborator.user),
                    clarifai_user=collaborator.user.id,
                    clarifai_can=scopes_in_words(list(collaborator.scopes), list(collaborator.endpoints)),
                    notes=["Clarifai only"],
                )
            )
    if owner_id not in seen:
        rows.append(
            Person(
                name=_display_name(listed.app_owner) if listed.app_owner.id else owner_id,
                clarifai_user=owner_id,
                clarifai_can="everything: owns the app",
                notes=["the app's owner; the console's connection acts as this user"],
            )
        )
    return rows


@require_GET
@connection_page("Loading who can do what")
def access(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """The table; when the API refuses to list the collaborators (a token without the scope), the console's
    side of it, with the API's words."""
    listed, error = None, None
    try:
        listed = _collaborators(connection, app_id)
    except ClarifaiStatusError as e:
        if e.code in NOT_FOUND_CODES:
            raise  # no such app: the error page
        error = e
    context = {**_access_context(connection, app_id, "who"), "people": people(connection, listed), "error": error}
    return render(request, "apps/access.html", context)


# --- Collaborators -------------------------------------------------------------------------------------


def _refusal(error: ClarifaiError, check_url: str, check_label: str) -> str:
    """The API's words for a refused change, or what to check when its outcome is unknown."""
    return write_failed(error, check_url, check_label, refused="Not done: ")


@require_http_methods(["GET", "POST"])
@connection_page("Loading the collaborators")
def collaborators(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """The app's collaborators, and a form to add one."""
    form = CollaboratorForm(request.POST or None, initial={"preset": "labeler"})
    url = reverse("apps:collaborators", args=[connection.pk, app_id])
    if request.method == "POST" and form.is_valid():
        who = form.cleaned_data["who"].strip()
        user = resources_pb2.User(id=who) if "@" not in who else resources_pb2.User()
        if "@" in who:
            user.user_detail.primary_email = who
        added = resources_pb2.Collaborator(user=user, scopes=form.cleaned_data["scopes"])
        try:
            client_for(connection).call(
                "PostCollaborators",
                service_pb2.PostCollaboratorsRequest(user_app_id=ids(connection, app_id), collaborators=[added]),
            )
        except ClarifaiError as e:
            form.add_error(None, _refusal(e, url, "See the collaborators now"))
        else:
            messages.success(request, f"{who} is now a collaborator of {app_id}.")
            return redirect(url)
    listed = _collaborators(connection, app_id)
    context = {
        **_access_context(connection, app_id, "collaborators"),
        "collaborators": [(c, scopes_in_words(list(c.scopes), list(c.endpoints))) for c in listed.collaborators],
        "owner": listed.app_owner,
        "form": form,
    }
    return render(request, "apps/collaborators.html", context, status=400 if form.errors else 200)


def _one_collaborator(connection: Connection, app_id: str, collaborator_id: str) -> resources_pb2.Collaborator:
    for collaborator in _collaborators(connection, app_id).collaborators:
        if collaborator.id == collaborator_id:
            return collaborator
    raise Http404(f"App {app_id} has no collaborator {collaborator_id}.")


@require_http_methods(["GET", "POST"])
@connection_page("Changing the collaborator")
def collaborator_edit(request: HttpRequest, connection: Connection, app_id: str, collaborator_id: str) -> HttpResponse:
    """Change a collaborator's scopes (PatchCollaborators, overwrite: what the form shows is what is kept)."""
    collaborator = _one_collaborator(connection, app_id, collaborator_id)
    form = ScopesForm(request.POST or None, initial=ScopesForm.initial_for(list(collaborator.scopes)))
    back = reverse("apps:collaborators", args=[connection.pk, app_id])
    if request.method == "POST" and form.is_valid():
        changed = resources_pb2.Collaborator(id=collaborator_id, scopes=form.cleaned_data["scopes"])
        audit.before("PatchCollaborators", {"user": collaborator.user.id, "scopes": list(collaborator.scopes)})
        try:
            client_for(connection).call(
                "PatchCollaborators",
                service_pb2.PatchCollaboratorsRequest(
                    user_app_id=ids(connection, app_id), collaborators=[changed], action="overwrite"
                ),
            )
        except ClarifaiError as e:
            form.add_error(None, _refusal(e, back, "See the collaborators now"))
        else:
            messages.success(request, f"Scopes of {collaborator.user.id} changed.")
            return redirect(back)
    context = {**_access_context(connection, app_id, "collaborators"), "collaborator": collaborator, "form": form}
    return render(request, "apps/collaborator_edit.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@connection_page("Removing the collaborator")
def collaborator_remove(
    request: HttpRequest, connection: Connection, app_id: str, collaborator_id: str
) -> HttpResponse:
    """Ask, then remove the collaborator (DeleteCollaborators)."""
    collaborator = _one_collaborator(connection, app_id, collaborator_id)
    back = reverse("apps:collaborators", args=[connection.pk, app_id])
    error = ""
    if request.method == "POST":
        audit.before("DeleteCollaborators", {"user": collaborator.user.id, "scopes": list(collaborator.scopes)})
        try:
            client_for(connection).call(
                "DeleteCollaborators",
                service_pb2.DeleteCollaboratorsRequest(
                    user_app_id=ids(connection, app_id), collaborator_ids=[collaborator_id]
                ),
            )
        except ClarifaiError as e:
            error = _refusal(e, back, "See the collaborators now")
        else:
            messages.success(request, f"{collaborator.user.id} is no longer a collaborator of {app_id}.")
            return redirect(back)
    context = {
        **_access_context(connection, app_id, "collaborators"),
        "collaborator": collaborator,
        "scopes_words": scopes_in_words(list(collaborator.scopes), list(collaborator.endpoints)),
        "error": error,
    }
    return render(request, "apps/collaborator_remove.html", context, status=400 if error else 200)


# --- Keys ----------------------------------------------------------------------------------------------


@dataclass
class ListedKey:
    """A key as the pages show it: never its id, which on Clarifai is the secret itself. `ref` (a hash of
    the id) names it in URLs; `tail`, the last four characters of its id, names it as the audit log does."""

    key: resources_pb2.Key
    ref: str
    tail: str
    scopes_words: str


def key_ref(key_id: str) -> str:
    return hashlib.sha256(key_id.encode()).hexdigest()[:16]


def _app_keys(connection: Connection, app_id: str) -> list[ListedKey]:
    request = service_pb2.ListAppKeysRequest(user_app_id=ids(connection, app_id), per_page=PER_PAGE)
    return [
        ListedKey(k, key_ref(k.id), mask(k.id), scopes_in_words(list(k.scopes)))
        for k in client_for(connection).call("ListAppKeys", request).keys
    ]


def _no_store(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, no_store=True, no_cache=True, private=True)
    return response


@require_http_methods(["GET", "POST"])
@connection_page("Loading the keys")
def keys(request: HttpRequest, connection: Connection, app_id: str) -> HttpResponse:
    """The app's keys, and a form to make one; a made key's secret is on the answer to the POST alone."""
    form = KeyForm(request.POST or None, initial={"preset": "read"})
    url = reverse("apps:keys", args=[connection.pk, app_id])
    context: dict[str, object] = _access_context(connection, app_id, "keys")
    if request.method == "POST" and form.is_valid():
        key = resources_pb2.Key(
            description=form.cleaned_data["description"].strip(),
            scopes=form.cleaned_data["scopes"],
            apps=[resources_pb2.App(id=app_id, user_id=connection.user_id)],
        )
        try:
            made = client_for(connection).call(
                "PostKeys", service_pb2.PostKeysRequest(user_app_id=ids(connection, ""), keys=[key])
            )
        except ClarifaiError as e:
            form.add_error(None, _refusal(e, url, "See the keys now"))
        else:
            created = made.keys[0]
            context |= {"key": created, "scopes_words": scopes_in_words(list(created.scopes))}
            return _no_store(render(request, "apps/key_created.html", context))
    context |= {
        "keys": _app_keys(connection, app_id),
        "form": form,
    }
    return _no_store(render(request, "apps/keys.html", context, status=400 if form.errors else 200))


@require_http_methods(["GET", "POST"])
@connection_page("Deleting the key")
def key_delete(request: HttpRequest, connection: Connection, app_id: str, key_ref: str) -> HttpResponse:
    """Ask, then delete one of this app's keys (DeleteKey); keys of no app or another are not offered."""
    listed = next((k for k in _app_keys(connection, app_id) if k.ref == key_ref), None)
    if listed is None:
        raise Http404(f"App {app_id} has no such key.")
    key = listed.key
    back = reverse("apps:keys", args=[connection.pk, app_id])
    error = ""
    if request.method == "POST":
        try:
            client_for(connection).call(
                "DeleteKey", service_pb2.DeleteKeyRequest(user_app_id=ids(connection, ""), key_id=key.id)
            )
        except ClarifaiError as e:
            error = _refusal(e, back, "See the keys now")
        else:
            messages.success(request, f"Key “{key.description or listed.tail}” deleted: it no longer works.")
            return redirect(back)
    context = {
        **_access_context(connection, app_id, "keys"),
        "listed": listed,
        "error": error,
    }
    return render(request, "apps/key_delete.html", context, status=400 if error else 200)

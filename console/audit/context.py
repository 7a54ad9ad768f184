"""Who is acting, for the audit trail: the signed-in person of a web request, or the person who started a job.

`AuditMiddleware` opens a scope for each web request (its user read lazily, only when something is
recorded, so a page of reads costs no query); the job runner opens one per chunk with the job's
`started_by`. `concurrently` copies the context, so calls made from its threads see the same scope.
A view that knows the old values of what it is about to change hands them to `before()` (or its form
carries them, signed, in a `was` field: `before_posted()`); the next write of that RPC takes them as its
"before". Neither costs an API call.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse


@dataclass
class Scope:
    request: HttpRequest | None = None
    user_id: int | None = None
    username: str | None = None  # looked up once, when first needed
    address: str = ""
    connection_id: int | None = None
    job_id: int | None = None
    befores: dict[str, Any] = field(default_factory=dict)

    def who(self) -> tuple[int | None, str]:
        """The acting console user's id and name (None and "" when nobody is signed in)."""
        if self.request is not None:
            user = getattr(self.request, "user", None)
            if user is None or not user.is_authenticated:
                return None, ""
            return user.pk, user.get_username()
        if self.user_id is not None and self.username is None:
            from django.contrib.auth import get_user_model

            found = get_user_model().objects.filter(pk=self.user_id).values_list("username", flat=True).first()
            self.username = found or ""
        return self.user_id, self.username or ""


_scope: ContextVar[Scope | None] = ContextVar("audit_scope", default=None)


def current() -> Scope:
    """The scope acting now; outside any (the shell, a management command), an empty one."""
    return _scope.get() or Scope()


@contextmanager
def acting(scope: Scope) -> Iterator[Scope]:
    reset = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(reset)


def acting_for_job(user_id: int | None, job_id: int, connection_id: int) -> Any:
    """What a job does is recorded as done by the person who started it."""
    return acting(Scope(user_id=user_id, job_id=job_id, connection_id=connection_id))


WAS_SALT = "console.audit.was"
WAS_MAX_AGE = 7 * 24 * 3600  # a page left open for a week still says what it showed


def sign_before(values: Any) -> str:
    """The old values a page shows, signed for a hidden `was` field of its form (tamper-proof, not secret:
    never put a token in it)."""
    from django.core import signing

    return signing.dumps(values, salt=WAS_SALT, compress=True)


def before_posted(request: HttpRequest, rpc: str) -> None:
    """The form's `was` field as the "before" of its `rpc` write: the old values as the page showed them
    when the person opened it (another change made since then shows in the log before this one)."""
    from django.core import signing

    text = request.POST.get("was", "")
    if not text:
        return
    try:
        values = signing.loads(text, salt=WAS_SALT, max_age=WAS_MAX_AGE)
    except signing.BadSignature:
        values = {"unknown": "the page's old values were out of date or altered"}
    before(rpc, values)


def before(rpc: str, values: Any) -> None:
    """The old values of what the next `rpc` call of this request changes, for its event's "before"."""
    scope = _scope.get()
    if scope is not None:
        scope.befores[rpc] = values


class AuditMiddleware:
    """Opens the audit scope of each web request: who (read lazily), from where, on which connection."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from console.accounts.addresses import client_address

        with acting(Scope(request=request, address=client_address(request))):
            return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        scope = _scope.get()
        conn_id = kwargs.get("conn_id")
        if scope is not None and isinstance(conn_id, int):
            scope.connection_id = conn_id


def edited_input(item: Any) -> dict[str, Any]:
    """What the input editor changes of an input (its concepts and metadata), as the "before" of an edit."""
    from google.protobuf import json_format

    return {
        "concepts": {c.id: c.value for c in item.data.concepts},
        "metadata": json_format.MessageToDict(item.data.metadata),
    }

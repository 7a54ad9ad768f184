"""Who is calling, and from where: what every handler receives beside its request message."""

from dataclasses import dataclass

from console.localapi.models import Token, User


@dataclass(frozen=True)
class Context:
    token: Token
    origin: str  # scheme://host[:port] the request came to; hosted media URLs start with it
    req_id: str
    # The RPC called and the scope its handler needs: a collaborator's own scopes are checked against
    # them when the app turns out to be another user's (handlers.common.get_app).
    rpc: str = ""
    scope: str | None = None

    @property
    def user(self) -> User:
        return self.token.user

    def resolve_user_id(self, user_id: str) -> str:
        """`me` (or nothing) is the caller."""
        return self.user.id if user_id in ("", "me") else user_id

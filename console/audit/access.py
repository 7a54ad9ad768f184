"""Who may read the audit trail: one function, so that the teams' policy can take it over."""

from typing import Any

from console.connections.models import Connection


def may_read_audit(user: Any, connection: Connection | None) -> bool:
    """Whether `user` may read the log of `connection` (None: the whole console's, sign-ins included).
    Staff only for now; teams will let a team's admins read their connections' logs."""
    del connection
    return bool(user is not None and user.is_authenticated and user.is_staff)

"""Who may read the audit trail: a connection's log is for its team's admins (console.teams.policy), the
whole console's (sign-ins, which belong to no connection, included) for the console's administrators."""

from typing import Any

from console.connections.models import Connection
from console.teams.policy import MANAGE, may


def may_read_audit(user: Any, connection: Connection | None) -> bool:
    """Whether `user` may read the log of `connection` (None: the whole console's)."""
    if user is None or not user.is_authenticated:
        return False
    if connection is None:
        return bool(user.is_superuser)
    return may(user, MANAGE, connection)

"""The teams' people and their signed-in clients, for the app pages only a role may use (Access)."""

from tests.teams.conftest import people, sign_in, team

__all__ = ["people", "sign_in", "team"]

"""The connections for the switcher in the top bar: those of the person's teams (a lazy query: run only where
the menu is shown)."""

from typing import Any

from django.http import HttpRequest

from console.teams.policy import visible_connections


def connections(request: HttpRequest) -> dict[str, Any]:
    return {"connections": visible_connections(request.user).only("pk", "name", "builtin")}

"""The connections for the switcher in the top bar (a lazy query: run only where the menu is shown)."""

from typing import Any

from django.http import HttpRequest

from console.connections.models import Connection


def connections(request: HttpRequest) -> dict[str, Any]:
    return {"connections": Connection.objects.only("pk", "name", "builtin")}

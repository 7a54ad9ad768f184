"""`can` in every template: what the person may do on the page's connection or team (policy.may's answers
for the target the policy middleware checked), so a page hides what its viewer may not do."""

from typing import Any

from django.http import HttpRequest

from console.teams import policy


class Can:
    """`can.edit`, `can.manage`, ...; all false on a page of no team."""

    def __init__(self, request: HttpRequest) -> None:
        self.role = policy.checked_role(request)

    def __getattr__(self, action: str) -> bool:
        if action not in policy.NEEDS:
            raise AttributeError(action)
        return policy.allows(self.role, action)


def permissions(request: HttpRequest) -> dict[str, Any]:
    return {"can": Can(request)}

"""Sign-in throttling: django-axes refuses a sign-in for an account or address with too many failures."""

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class SignInThrottle(AxesStandaloneBackend):  # type: ignore[misc]  # axes has no types
    """Axes' check, for sign-ins that come with a request: one without (the test client's `login`, a
    shell) is nobody guessing over the web, and is left to the next backend instead of refused."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return
        super().authenticate(request, username, password, **kwargs)  # raises when the sign-in is refused
        return

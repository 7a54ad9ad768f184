"""A connection: where a Clarifai API is (base URL), whose account (user id), and its token, encrypted.

The token is decrypted only to make requests; it is never rendered, logged or put in a URL. Pages
show only its last four characters.
"""

from typing import Any

from django.conf import settings
from django.db import models

from console.connections import crypto
from console.teams.models import Team, default_team

BUILTIN_BASE_URL = "http://localapi.internal"


class Connection(models.Model):
    name = models.CharField(max_length=100, unique=True)
    base_url = models.URLField(max_length=500, default="https://api.clarifai.com")
    user_id = models.CharField("Clarifai user id", max_length=255)
    token_encrypted = models.TextField(editable=False)
    token_last4 = models.CharField(max_length=4, editable=False)
    # The embedded local API, reached in-process rather than over a socket (see clients.py).
    builtin = models.BooleanField(default=False, editable=False)
    # Requests a second the console makes with this token, together in every process (0: no limit).
    # The real API allows about 15; the built-in connection is never limited.
    rate_limit = models.PositiveIntegerField(
        "requests a second",
        default=15,
        help_text="The most calls a second the console makes with this token, from every process together "
        "(0: no limit). The Clarifai API allows about 15.",
    )
    # Whose: its team's members reach it, each as far as their role allows (console/teams/policy.py).
    # Saved without one, it goes to the oldest team (teams.models.default_team).
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="connections")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-builtin", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.team_id:  # 0 is no id either
            self.team = default_team()
        super().save(*args, **kwargs)

    def set_token(self, token: str) -> None:
        self.token_encrypted = crypto.encrypt(token)
        self.token_last4 = token[-4:]

    def token(self) -> str:
        return crypto.decrypt(self.token_encrypted)

    @property
    def requests_per_second(self) -> int:
        """The rate limit that applies: none for the built-in connection."""
        return 0 if self.builtin else self.rate_limit

    @property
    def display_url(self) -> str:
        return "Built-in local API" if self.builtin else self.base_url

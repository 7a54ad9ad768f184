"""A console member's own identity on a connection: their Clarifai user and personal token.

A connection's token is the team's. Labeling and review must happen as the person doing them (the
Clarifai API records annotations and reviews by user), so a member may attach their own token to a
connection; the console then uses it for their labeling and review. Like Connection's, the token is
encrypted at rest (console.connections.crypto), never shown again, never sent to the browser or logged.
"""

from django.conf import settings
from django.db import models

from console.connections import crypto
from console.connections.models import Connection


class ConnectionMember(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connection_members")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="members")
    clarifai_user_id = models.CharField("Clarifai user id", max_length=255)
    token_encrypted = models.TextField(editable=False)
    token_last4 = models.CharField(max_length=4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "connection"], name="one_identity_per_member_and_connection")
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.clarifai_user_id} on {self.connection}"

    def set_token(self, token: str) -> None:
        self.token_encrypted = crypto.encrypt(token)
        self.token_last4 = token[-4:]

    def token(self) -> str:
        return crypto.decrypt(self.token_encrypted)

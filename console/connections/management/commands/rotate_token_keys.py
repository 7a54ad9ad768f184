"""`manage.py rotate_token_keys`: re-encrypt every stored token with the first key of CONSOLE_TOKEN_KEYS.

Rotate a key by putting a new key first in CONSOLE_TOKEN_KEYS (keeping the old one after it), running
this command, then removing the old key.
"""

from typing import Any

from django.core.management.base import BaseCommand

from console.connections import crypto
from console.connections.models import Connection


class Command(BaseCommand):
    help = "Re-encrypt every stored Clarifai token with the first key in CONSOLE_TOKEN_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        done, unreadable = 0, []
        for connection in Connection.objects.all():
            try:
                connection.token_encrypted = crypto.rotate(connection.token_encrypted)
            except crypto.TokenUnreadable:
                unreadable.append(connection.name)
                continue
            # update() rather than save(): the token is unchanged, the cached client stays valid.
            Connection.objects.filter(pk=connection.pk).update(token_encrypted=connection.token_encrypted)
            done += 1
        self.stdout.write(f"Re-encrypted {done} token(s) with the first key.")
        if unreadable:
            self.stderr.write(f"Not readable with any configured key (enter them again): {', '.join(unreadable)}")

"""`manage.py bootstrap_console`: the first console account and the built-in connection.

`make run` runs it every time. The first account comes from CONSOLE_ADMIN_USER and CONSOLE_ADMIN_PASSWORD
(settings) when set; otherwise an `admin` account is made once with a generated password, kept in
var/first-account (mode 600) and printed while it still works. It is an admin of the built-in
connection's team.
"""

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from console.connections.crypto import TokenUnreadable
from console.connections.models import BUILTIN_BASE_URL, Connection
from console.localapi.models import Token, hash_token
from console.localapi.models import User as LocalUser
from console.teams.models import Membership, Role

DEMO_USER = "demo"


class Command(BaseCommand):
    help = "Create the first console account and the built-in connection if they do not exist."

    def handle(self, *args: Any, **options: Any) -> None:
        first = self.ensure_first_account()
        self.ensure_builtin_connection()
        if first is not None:
            # The first account runs the built-in connection's team (and its connections, members, invites).
            team = Connection.objects.get(builtin=True).team
            Membership.objects.get_or_create(team=team, user=first, defaults={"role": Role.ADMIN})

    def ensure_builtin_connection(self) -> None:
        """A connection to the local API as its demo user, with a token only the console holds."""
        demo, _ = LocalUser.objects.get_or_create(id=DEMO_USER)
        connection = Connection.objects.filter(builtin=True).first()
        if connection is not None:
            try:
                if Token.objects.filter(user=demo, key_hash=hash_token(connection.token())).exists():
                    return
            except TokenUnreadable:
                pass  # the keys changed: issue a new token below
        _, secret = Token.issue(demo, description="the console's built-in connection")
        connection = connection or Connection(name="Local demo", builtin=True, base_url=BUILTIN_BASE_URL)
        connection.user_id = demo.id
        connection.set_token(secret)
        connection.save()
        self.stdout.write(f"Built-in connection {connection.name!r} to the local API as user {demo.id}.")

    def ensure_first_account(self) -> User | None:
        """The first account (None when it is not known: an earlier one whose password was not kept)."""
        users = get_user_model().objects
        username = settings.CONSOLE_ADMIN_USER
        password = settings.CONSOLE_ADMIN_PASSWORD
        if username and password:
            user, created = users.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
            if created or not user.check_password(password):
                user.set_password(password)
                user.save()
            self.stdout.write(f"Sign in as {username} (password from CONSOLE_ADMIN_PASSWORD).")
            return user
        saved = Path(settings.VAR_DIR) / "first-account"
        if not users.filter(is_superuser=True).exists():  # the demo's labelers are no first account
            password = secrets.token_urlsafe(12)
            users.create_superuser("admin", email="", password=password)
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.unlink(missing_ok=True)
            saved.touch(mode=0o600)
            saved.write_text(f"admin\n{password}\n")
        if saved.exists():
            username, password = saved.read_text().split()[:2]
            found = users.filter(username=username).first()
            if found is not None and found.check_password(password):
                self.stdout.write(f"Sign in as {username} with password {password}")
                return found
        self.stdout.write("Sign in with your console account.")
        return None

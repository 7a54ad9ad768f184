"""`manage.py bootstrap_console`: the first console account and the built-in connection.

`make run` runs it every time. The first account comes from CONSOLE_ADMIN_USER and
CONSOLE_ADMIN_PASSWORD when set; otherwise an `admin` account is made once with a generated
password, kept in var/first-account (mode 600) and printed while it still works.
"""

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the first console account and the built-in connection if they do not exist."

    def handle(self, *args: Any, **options: Any) -> None:
        self.ensure_first_account()

    def ensure_first_account(self) -> None:
        users = get_user_model().objects
        username = os.environ.get("CONSOLE_ADMIN_USER", "")
        password = os.environ.get("CONSOLE_ADMIN_PASSWORD", "")
        if username and password:
            user, created = users.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
            if created or not user.check_password(password):
                user.set_password(password)
                user.save()
            self.stdout.write(f"Sign in as {username} (password from CONSOLE_ADMIN_PASSWORD).")
            return
        saved = Path(settings.VAR_DIR) / "first-account"
        if not users.exists():
            password = secrets.token_urlsafe(12)
            users.create_superuser("admin", email="", password=password)
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.unlink(missing_ok=True)
            saved.touch(mode=0o600)
            saved.write_text(f"admin\n{password}\n")
        if saved.exists():
            username, password = saved.read_text().split()[:2]
            user = users.filter(username=username).first()
            if user and user.check_password(password):
                self.stdout.write(f"Sign in as {username} with password {password}")
                return
        self.stdout.write("Sign in with your console account.")

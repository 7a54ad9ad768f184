"""The console side of the labeling demo: an account for each labeler and reviewer of the local API's demo
task, attached to the built-in connection as their own local API user (ConnectionMember).

console.localapi.demo makes the local API users and gives their new tokens; `seed_demo` hands them here.
Passwords are new random ones each time (returned to be printed once, never stored in clear).
"""

import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from io import StringIO

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from console.connections.models import Connection
from console.labeling.models import ConnectionMember
from console.localapi.demo import REVIEWERS
from console.teams.models import Membership, Role


def builtin_connection() -> Connection:
    """The built-in connection, made now if `bootstrap_console` has not run yet (`make run` seeds first)."""
    from console.core.management.commands.bootstrap_console import Command as Bootstrap

    connection = Connection.objects.filter(builtin=True).first()
    if connection is None:
        Bootstrap(stdout=StringIO()).ensure_builtin_connection()
        connection = Connection.objects.get(builtin=True)
    return connection


# (password, its hash) by username
type Passwords = dict[str, tuple[str, str]]


def _new_passwords(usernames: list[str]) -> Passwords:
    passwords = {name: secrets.token_urlsafe(9) for name in usernames}
    return {name: (password, make_password(password)) for name, password in passwords.items()}


def start_passwords(usernames: list[str]) -> "Future[Passwords]":
    """New passwords, hashed in a thread: hashing takes about half a second each, which the seeding's
    picture rendering hides when they run side by side (hashlib lets go of the GIL)."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(_new_passwords, usernames)
    pool.shutdown(wait=False)  # the work carries on; nothing else is queued
    return future


def seed_accounts(tokens: dict[str, str], passwords: "Future[Passwords] | None" = None) -> list[tuple[str, str]]:
    """A console account per local API user in `tokens` (same name), with a new password, attached to the
    built-in connection as that user, and a labeler (or reviewer) of its team. Returns (username, password)
    pairs to print."""
    connection = builtin_connection()
    users = get_user_model().objects
    made = []
    hashed = passwords.result() if passwords is not None else {}
    missing = [name for name in tokens if name not in hashed]
    hashed |= _new_passwords(missing) if missing else {}
    with transaction.atomic():
        for user_id, token in tokens.items():
            password, password_hash = hashed[user_id]
            account, _ = users.get_or_create(username=user_id)
            account.password = password_hash
            account.save(update_fields=["password"])
            member, _ = ConnectionMember.objects.get_or_create(
                user=account, connection=connection, defaults={"clarifai_user_id": user_id}
            )
            member.clarifai_user_id = user_id
            member.set_token(token)
            member.save()
            # Their role in the built-in connection's team: as the demo task has them (reviewers review).
            role = Role.REVIEWER if user_id in REVIEWERS else Role.LABELER
            Membership.objects.update_or_create(team=connection.team, user=account, defaults={"role": role})
            made.append((user_id, password))
    return made

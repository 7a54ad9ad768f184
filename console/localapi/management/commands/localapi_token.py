"""`manage.py localapi_token USER`: print a new local API token for USER, creating the user if needed."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from console.localapi.handlers.common import ID_PATTERN
from console.localapi.models import Token, User


class Command(BaseCommand):
    help = "Create a local API user if needed and print a new personal access token for it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("user", help="the local API user id, e.g. demo")
        parser.add_argument("--description", default="created by manage.py localapi_token")
        parser.add_argument(
            "--scope", action="append", dest="scopes", help="limit the token to a scope (repeatable), e.g. Inputs:Get"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_id = options["user"]
        if not ID_PATTERN.match(user_id):
            raise CommandError(f"{user_id!r} is not a valid user id (letters, digits, '_', '-', '.').")
        user, _ = User.objects.get_or_create(id=user_id)
        _, secret = Token.issue(user, description=options["description"], scopes=options["scopes"])
        self.stdout.write(secret)

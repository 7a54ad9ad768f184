"""Who is in the built-in connection's team from the start: `make run`'s first account as its admin, the
labeling demo's people as labelers and a reviewer."""

from typing import Any

from django.core.management import call_command

from console.connections.models import Connection
from console.labeling.demo import seed_accounts
from console.teams.models import Membership, Role


def test_the_first_account_is_an_admin_of_the_builtin_connections_team(db: None, settings: Any) -> None:
    settings.CONSOLE_ADMIN_USER, settings.CONSOLE_ADMIN_PASSWORD = "first", "a-long-passphrase-31"
    call_command("bootstrap_console", verbosity=0)
    call_command("bootstrap_console", verbosity=0)  # `make run` runs it every time
    team = Connection.objects.get(builtin=True).team
    assert list(team.memberships.values_list("user__username", "role")) == [("first", Role.ADMIN)]


def test_the_demos_labelers_and_reviewer_get_their_roles(db: None) -> None:
    seed_accounts({"maya": "token-of-maya", "noah": "token-of-noah", "rita": "token-of-rita"})
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"maya": Role.LABELER, "noah": Role.LABELER, "rita": Role.REVIEWER}
    assert Membership.objects.filter(team=Connection.objects.get(builtin=True).team).count() == 3

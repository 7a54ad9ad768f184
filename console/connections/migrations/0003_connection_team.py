"""Connections belong to a team. Existing connections all go to one team, whose members become every
existing account: staff as admins, the others as editors (they could change everything but connections
before), so that no one loses anything they could do."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def to_one_team(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Connection = apps.get_model("connections", "Connection")
    Team = apps.get_model("teams", "Team")
    Membership = apps.get_model("teams", "Membership")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    if not Connection.objects.exists() and not User.objects.exists():
        return  # a new database: the first account and the built-in connection make the team
    team = Team.objects.order_by("pk").first() or Team.objects.create(name="Team")
    Connection.objects.filter(team__isnull=True).update(team=team)
    for user in User.objects.all():
        role = "admin" if user.is_staff or user.is_superuser else "editor"
        Membership.objects.get_or_create(team=team, user=user, defaults={"role": role})


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("connections", "0002_connection_rate_limit"),
        ("teams", "0001_teams_members_invites"),
    ]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="team",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="connections", to="teams.team"
            ),
        ),
        migrations.RunPython(to_one_team, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="connection",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="connections",
                to="teams.team",
            ),
        ),
    ]

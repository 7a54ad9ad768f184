"""Collaborators on apps, and keys (tokens) with a public id, endpoints and an optional app.

Tokens issued before this get a random public id: their secrets are not stored, so it cannot be the start
of the secret as it is for new keys.
"""

import secrets

import django.db.models.deletion
from django.db import migrations, models


def name_old_tokens(apps, schema_editor):
    Token = apps.get_model("localapi", "Token")
    for token in Token.objects.filter(key_id="").only("pk"):
        token.key_id = secrets.token_hex(8)
        token.save(update_fields=["key_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("localapi", "0007_tasks_and_annotations"),
    ]

    operations = [
        migrations.AddField(
            model_name="token",
            name="app",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="keys",
                to="localapi.app",
            ),
        ),
        migrations.AddField(
            model_name="token",
            name="endpoints",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="token",
            name="key_id",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(name_old_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="token",
            name="key_id",
            field=models.CharField(max_length=64, unique=True),
        ),
        migrations.CreateModel(
            name="Collaborator",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("collaborator_id", models.CharField(max_length=255)),
                ("scopes", models.JSONField(default=list)),
                ("endpoints", models.JSONField(blank=True, default=list)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("modified_at", models.DateTimeField(auto_now=True)),
                (
                    "app",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="collaborators", to="localapi.app"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="collaborations", to="localapi.user"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("app", "user"), name="one_collaborator_per_app_user"),
                    models.UniqueConstraint(fields=("app", "collaborator_id"), name="collaborator_id_unique_per_app"),
                ],
            },
        ),
    ]

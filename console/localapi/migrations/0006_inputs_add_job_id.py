"""The inputs_add_job_id a PostInputs gave (GetInputsAddJob reports on those inputs).

The column is nullable so that SQLite adds it in place: a not-null column with a default makes Django
rebuild the table, which drops the input-count triggers of 0003_fast_at_a_million.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("localapi", "0005_datasets_versions_exports"),
    ]

    operations = [
        migrations.AddField(
            model_name="input",
            name="inputs_add_job_id",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AddIndex(
            model_name="input",
            index=models.Index(fields=["app", "inputs_add_job_id"], name="input_app_add_job"),
        ),
    ]

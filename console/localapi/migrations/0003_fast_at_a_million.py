"""An index for hosted pictures, and per-app, per-status input counts kept by database triggers.

The triggers are written for each database the project runs on (SQLite and PostgreSQL); why triggers
rather than counting in Python is said on models.InputCount. The counts are filled from the inputs
already there in the same transaction, after the triggers exist (which locks writers out meanwhile).
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "localapi_input"
COUNTS = "localapi_inputcount"

# PostgreSQL: once per statement, over the statement's rows (transition tables); a statement that
# changes no input's status nets to nothing and touches no counter (HAVING). Rows are locked in one
# order (ORDER BY), so two statements cannot deadlock on them.
_PG_UPSERT = f"""
    INSERT INTO {COUNTS} (app_id, status_code, inputs)
    SELECT app_id, status_code, SUM(delta) FROM ({{changes}}) AS changes
    GROUP BY app_id, status_code HAVING SUM(delta) <> 0 ORDER BY app_id, status_code
    ON CONFLICT (app_id, status_code) DO UPDATE SET inputs = {COUNTS}.inputs + EXCLUDED.inputs
"""
_PG_DELETE = f"""
    UPDATE {COUNTS} SET inputs = {COUNTS}.inputs - gone.n
    FROM (SELECT app_id, status_code, COUNT(*) AS n FROM old_rows GROUP BY app_id, status_code) AS gone
    WHERE {COUNTS}.app_id = gone.app_id AND {COUNTS}.status_code = gone.status_code
"""
_ADDED = "SELECT app_id, status_code, 1 AS delta FROM new_rows"
_REMOVED = "SELECT app_id, status_code, -1 AS delta FROM old_rows"


def _pg_function(name: str, body: str) -> str:
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {body};
        RETURN NULL;
    END $$
    """


POSTGRESQL = [
    _pg_function("localapi_count_inserted_inputs", _PG_UPSERT.format(changes=_ADDED)),
    _pg_function("localapi_count_updated_inputs", _PG_UPSERT.format(changes=f"{_ADDED} UNION ALL {_REMOVED}")),
    # Deleting only subtracts: the counter rows exist (the insert made them), unless the app itself is
    # being deleted and its counters went first, and then there is nothing left to count.
    _pg_function("localapi_count_deleted_inputs", _PG_DELETE),
    f"""CREATE TRIGGER localapi_input_counted_insert AFTER INSERT ON {TABLE}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION localapi_count_inserted_inputs()""",
    f"""CREATE TRIGGER localapi_input_counted_update AFTER UPDATE ON {TABLE}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION localapi_count_updated_inputs()""",
    f"""CREATE TRIGGER localapi_input_counted_delete AFTER DELETE ON {TABLE}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION localapi_count_deleted_inputs()""",
]
POSTGRESQL_REVERSE = [
    f"DROP TRIGGER IF EXISTS localapi_input_counted_{verb} ON {TABLE}" for verb in ("insert", "update", "delete")
] + [f"DROP FUNCTION IF EXISTS localapi_count_{verb}_inputs()" for verb in ("inserted", "updated", "deleted")]

# SQLite has row triggers only; a write holds the database's one write lock, so nothing runs between.
_SQLITE_ADD = f"""INSERT INTO {COUNTS} (app_id, status_code, inputs) VALUES (NEW.app_id, NEW.status_code, 1)
    ON CONFLICT (app_id, status_code) DO UPDATE SET inputs = inputs + 1"""
_SQLITE_SUBTRACT = f"""UPDATE {COUNTS} SET inputs = inputs - 1
    WHERE app_id = OLD.app_id AND status_code = OLD.status_code"""
SQLITE = [
    f"CREATE TRIGGER localapi_input_counted_insert AFTER INSERT ON {TABLE} BEGIN {_SQLITE_ADD}; END",
    f"""CREATE TRIGGER localapi_input_counted_update AFTER UPDATE OF app_id, status_code ON {TABLE}
        WHEN OLD.app_id != NEW.app_id OR OLD.status_code != NEW.status_code
        BEGIN {_SQLITE_SUBTRACT}; {_SQLITE_ADD}; END""",
    f"CREATE TRIGGER localapi_input_counted_delete AFTER DELETE ON {TABLE} BEGIN {_SQLITE_SUBTRACT}; END",
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS localapi_input_counted_{verb}" for verb in ("insert", "update", "delete")]

FILL = f"""INSERT INTO {COUNTS} (app_id, status_code, inputs)
    SELECT app_id, status_code, COUNT(*) FROM {TABLE} GROUP BY app_id, status_code"""


def _statements(vendor: str, forward: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRESQL if forward else POSTGRESQL_REVERSE
    if vendor == "sqlite":
        return SQLITE if forward else SQLITE_REVERSE
    raise NotImplementedError(f"The input counts have triggers for SQLite and PostgreSQL only, not {vendor}.")


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, forward=True):
        schema_editor.execute(statement)
    schema_editor.execute(FILL)


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, forward=False):
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('localapi', '0002_searches_and_bulk'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='input',
            index=models.Index(fields=['app', 'media_key'], name='input_app_media_key'),
        ),
        migrations.CreateModel(
            name='InputCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status_code', models.PositiveIntegerField()),
                ('inputs', models.BigIntegerField(default=0)),
                ('app', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='input_counts', to='localapi.app')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('app', 'status_code'), name='one_count_per_app_status')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]

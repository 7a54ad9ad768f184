"""Concept counts kept by database triggers, and concept relations.

Per concept, the inputs labelled with it positively (value > 0) and negatively, kept by triggers on the
labels (InputConcept) the way 0003_fast_at_a_million keeps the input counts (why triggers: see
models.InputCount). Written for SQLite and PostgreSQL; the counts are filled from the labels already
there, after the triggers exist.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "localapi_inputconcept"
COUNTS = "localapi_conceptcount"
_POS = "CASE WHEN {row}.value > 0 THEN 1 ELSE 0 END"
_NEG = "CASE WHEN {row}.value > 0 THEN 0 ELSE 1 END"

# PostgreSQL: once per statement over its rows (transition tables), locking counter rows in one order.
_PG_UPSERT = f"""
    INSERT INTO {COUNTS} (concept_id, positive, negative)
    SELECT concept_id, SUM(pos), SUM(neg) FROM ({{changes}}) AS changes
    GROUP BY concept_id HAVING SUM(pos) <> 0 OR SUM(neg) <> 0 ORDER BY concept_id
    ON CONFLICT (concept_id) DO UPDATE
    SET positive = {COUNTS}.positive + EXCLUDED.positive, negative = {COUNTS}.negative + EXCLUDED.negative
"""
_PG_DELETE = f"""
    UPDATE {COUNTS} SET positive = {COUNTS}.positive - gone.pos, negative = {COUNTS}.negative - gone.neg
    FROM (SELECT concept_id, SUM({_POS.format(row="old_rows")}) AS pos, SUM({_NEG.format(row="old_rows")}) AS neg
          FROM old_rows GROUP BY concept_id) AS gone
    WHERE {COUNTS}.concept_id = gone.concept_id
"""
_ADDED = f"SELECT concept_id, {_POS.format(row='new_rows')} AS pos, {_NEG.format(row='new_rows')} AS neg FROM new_rows"
_REMOVED = f"SELECT concept_id, -{_POS.format(row='old_rows')} AS pos, -{_NEG.format(row='old_rows')} AS neg FROM old_rows"


def _pg_function(name: str, body: str) -> str:
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {body};
        RETURN NULL;
    END $$
    """


POSTGRESQL = [
    _pg_function("localapi_count_inserted_labels", _PG_UPSERT.format(changes=_ADDED)),
    _pg_function("localapi_count_updated_labels", _PG_UPSERT.format(changes=f"{_ADDED} UNION ALL {_REMOVED}")),
    # Deleting only subtracts: the counter row exists (the insert made it), unless the concept itself is
    # being deleted and its counter went first.
    _pg_function("localapi_count_deleted_labels", _PG_DELETE),
    f"""CREATE TRIGGER localapi_label_counted_insert AFTER INSERT ON {TABLE}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION localapi_count_inserted_labels()""",
    f"""CREATE TRIGGER localapi_label_counted_update AFTER UPDATE ON {TABLE}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION localapi_count_updated_labels()""",
    f"""CREATE TRIGGER localapi_label_counted_delete AFTER DELETE ON {TABLE}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION localapi_count_deleted_labels()""",
]
POSTGRESQL_REVERSE = [
    f"DROP TRIGGER IF EXISTS localapi_label_counted_{verb} ON {TABLE}" for verb in ("insert", "update", "delete")
] + [f"DROP FUNCTION IF EXISTS localapi_count_{verb}_labels()" for verb in ("inserted", "updated", "deleted")]

# SQLite: row triggers; a write holds the database's one write lock, so nothing runs between.
_SQLITE_ADD = f"""INSERT INTO {COUNTS} (concept_id, positive, negative)
    VALUES (NEW.concept_id, {_POS.format(row="NEW")}, {_NEG.format(row="NEW")})
    ON CONFLICT (concept_id) DO UPDATE
    SET positive = positive + excluded.positive, negative = negative + excluded.negative"""
_SQLITE_SUBTRACT = f"""UPDATE {COUNTS}
    SET positive = positive - {_POS.format(row="OLD")}, negative = negative - {_NEG.format(row="OLD")}
    WHERE concept_id = OLD.concept_id"""
SQLITE = [
    f"CREATE TRIGGER localapi_label_counted_insert AFTER INSERT ON {TABLE} BEGIN {_SQLITE_ADD}; END",
    f"""CREATE TRIGGER localapi_label_counted_update AFTER UPDATE OF concept_id, value ON {TABLE}
        WHEN OLD.concept_id != NEW.concept_id OR (OLD.value > 0) != (NEW.value > 0)
        BEGIN {_SQLITE_SUBTRACT}; {_SQLITE_ADD}; END""",
    f"CREATE TRIGGER localapi_label_counted_delete AFTER DELETE ON {TABLE} BEGIN {_SQLITE_SUBTRACT}; END",
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS localapi_label_counted_{verb}" for verb in ("insert", "update", "delete")]

FILL = f"""INSERT INTO {COUNTS} (concept_id, positive, negative)
    SELECT concept_id, SUM({_POS.format(row=TABLE)}), SUM({_NEG.format(row=TABLE)}) FROM {TABLE} GROUP BY concept_id"""


def _statements(vendor: str, forward: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRESQL if forward else POSTGRESQL_REVERSE
    if vendor == "sqlite":
        return SQLITE if forward else SQLITE_REVERSE
    raise NotImplementedError(f"The concept counts have triggers for SQLite and PostgreSQL only, not {vendor}.")


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, forward=True):
        schema_editor.execute(statement)
    schema_editor.execute(FILL)


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, forward=False):
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('localapi', '0003_fast_at_a_million'),
    ]

    operations = [
        migrations.CreateModel(
            name='ConceptCount',
            fields=[
                ('concept', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='count', serialize=False, to='localapi.concept')),
                ('positive', models.BigIntegerField(default=0)),
                ('negative', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='ConceptRelation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('relation_id', models.CharField(max_length=255)),
                ('predicate', models.CharField(choices=[('hyponym', 'hyponym'), ('synonym', 'synonym')], max_length=20)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('app', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='concept_relations', to='localapi.app')),
                ('object', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='relations_as_object', to='localapi.concept')),
                ('subject', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='relations_as_subject', to='localapi.concept')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('app', 'relation_id'), name='concept_relation_id_unique_per_app'), models.UniqueConstraint(fields=('subject', 'object', 'predicate'), name='concept_relation_once')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]

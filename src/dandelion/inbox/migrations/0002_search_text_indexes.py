"""Text search indexes, PostgreSQL only: trigram GIN indexes on the upper-cased texts that the conversation search
matches with ``icontains`` (``UPPER(col) LIKE UPPER('%word%')``), so a search reads the index, not every message.

Other databases keep the same queries without these indexes (the embedded SQLite default scans; see
docs/benchmarks.md for the sizes where that matters). ``pg_trgm`` ships with PostgreSQL and is a trusted extension
(PostgreSQL 13+): the database owner may create it."""

from django.db import migrations

INDEXES = [
    ("inbox_msg_text_trgm", "inbox_message", "text"),
    ("inbox_contact_name_trgm", "inbox_contact", "name"),
    ("inbox_identity_name_trgm", "inbox_authoridentity", "name"),
    ("inbox_identity_handle_trgm", "inbox_authoridentity", "handle"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

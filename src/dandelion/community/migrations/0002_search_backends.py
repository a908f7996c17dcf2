"""The search backends: a GIN index over the tsvector on PostgreSQL, an FTS5 table on SQLite (see search.py)."""

from django.db import migrations


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE INDEX IF NOT EXISTS community_searchentry_document_gin "
                              "ON community_searchentry USING gin (document)")
    elif vendor == "sqlite":
        schema_editor.execute("CREATE VIRTUAL TABLE IF NOT EXISTS community_search_fts USING fts5("
                              "title, body, tokenize = 'porter unicode61 remove_diacritics 2')")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS community_searchentry_document_gin")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS community_search_fts")


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]

"""Fill each conversation's search text from its stored messages, then on PostgreSQL build its trigram index and
drop the four of migration 0002 (message text, contact name, author name and handle: nothing else read them, and
each message written updated them).

Not atomic: each chunk of 500 conversations is its own short transaction (``inbox.search.rebuild_rows`` locks only
those rows), and the index is built ``CONCURRENTLY``, so a big inbox keeps receiving and answering while this runs;
progress is printed past 20,000 conversations. Conversations written meanwhile are kept up to date by the code
that writes them. Re-running it is harmless (a chunk is rebuilt whole; the index is created if missing)."""

import importlib
import sys

from django.db import migrations

#: migration 0002: the four trigram indexes it creates (``create``) and drops (``drop``)
OLD = importlib.import_module("dandelion.inbox.migrations.0002_search_text_indexes")


def fill(apps, schema_editor):
    from dandelion.inbox.search import rebuild

    conversation = apps.get_model("inbox", "Conversation")
    total = conversation.objects.count()

    def progress(done):
        if done % 20_000 < 500:
            sys.stdout.write(f"\n  search text: {done:,}/{total:,} conversations")
            sys.stdout.flush()

    rebuild(conversation_model=conversation, progress=progress if total > 20_000 else None)


def index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS "inbox_conv_search_trgm" ON "inbox_conversation" '
                          'USING gin ("search_text" gin_trgm_ops)')
    OLD.drop(apps, schema_editor)


def unindex(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute('DROP INDEX IF EXISTS "inbox_conv_search_trgm"')
    OLD.create(apps, schema_editor)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inbox", "0005_conversation_search_text")]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(index, unindex, elidable=False),
    ]

"""An index for retention on the database task backend's results (django-tasks-db has none on its finish time):
each hourly run finds the finished results past their days by ``(status, finished_at)`` instead of scanning the
table the workers poll. Built without blocking the queue on PostgreSQL (``CONCURRENTLY``)."""

from django.db import migrations

NAME = "dandelion_taskresult_retention"
TABLE = "django_tasks_database_dbtaskresult"


def create(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f'CREATE INDEX{concurrently} IF NOT EXISTS "{NAME}" ON "{TABLE}" ("status", "finished_at")')


def drop(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("core", "0002_config_generation"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]

"""Messages record their receiving account (the conversation's), filled for the messages stored so far.

The idempotency key becomes (account, external id) in 0009; the NOT NULL and the new key come in a migration of
their own, because PostgreSQL refuses to alter a table with pending deferred foreign-key checks from this fill."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_account(apps, schema_editor):
    Message = apps.get_model("inbox", "Message")
    Conversation = apps.get_model("inbox", "Conversation")
    # one UPDATE ... SET account_id = (SELECT account_id FROM conversation ...) on both databases
    Message.objects.filter(account__isnull=True).update(
        account_id=Subquery(Conversation.objects.filter(pk=OuterRef("conversation_id")).values("account_id")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("assets", "0001_initial"),
        ("inbox", "0007_delivery_state_processed_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="account",
            field=models.ForeignKey(
                db_index=False, null=True,
                help_text="The receiving account (the conversation's): with the external id, the idempotency key.",
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="assets.socialaccount"),
        ),
        migrations.RunPython(fill_account, migrations.RunPython.noop, elidable=True),
    ]

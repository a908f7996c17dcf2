"""The idempotency key of a message becomes (receiving account, external id): the same public post received by
two of the organisation's accounts is two messages, linked by (network, external id). The unique index leads with
the external id, so it also finds a post's copies in other accounts (no second index to write)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("inbox", "0008_message_account"),
    ]

    operations = [
        migrations.AlterField(
            model_name="message",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                help_text="The receiving account (the conversation's): with the external id, the idempotency key.",
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="assets.socialaccount"),
        ),
        migrations.RemoveConstraint(
            model_name="message",
            name="uniq_message_external",
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(condition=models.Q(("external_id__isnull", False)),
                                               fields=("external_id", "account"), name="uniq_message_external"),
        ),
        migrations.AlterField(
            model_name="conversationevent",
            name="kind",
            field=models.CharField(choices=[
                ("created", "Created"), ("routed", "Routed"), ("assigned", "Assigned"), ("taken", "Taken over"),
                ("handover", "Handed over"), ("status", "Status changed"), ("priority", "Priority changed"),
                ("tagged", "Tagged"), ("escalated", "Escalated"), ("sla_breached", "SLA breached"),
                ("moderated", "Moderated"), ("replied", "Replied"), ("swept", "Put back in front of a team"),
                ("answered_elsewhere", "Answered from a linked account")], max_length=20),
        ),
    ]

"""Retention counts a delivery's age from when its processing ended (``processed_at``: done, or failed for good),
not from its receipt: a delivery retried weeks after it arrived, then processed, keeps its full retention. Failed
deliveries stored before this had no ``processed_at``: their receipt stands in for it."""

from django.db import migrations, models
from django.db.models import F


def failed_since_receipt(apps, schema_editor):
    InboundDelivery = apps.get_model("inbox", "InboundDelivery")
    InboundDelivery.objects.filter(state="failed", processed_at__isnull=True).update(processed_at=F("received_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("assets", "0001_initial"),
        ("inbox", "0006_fill_search_text"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inbounddelivery",
            name="processed_at",
            field=models.DateTimeField(
                blank=True, help_text="When processing ended: done, or failed for good (retention counts the age "
                                      "from it).", null=True),
        ),
        migrations.AddIndex(
            model_name="inbounddelivery",
            index=models.Index(fields=["state", "processed_at"], name="inbox_delivery_state_processed"),
        ),
        migrations.RunPython(failed_since_receipt, migrations.RunPython.noop, elidable=True),
    ]

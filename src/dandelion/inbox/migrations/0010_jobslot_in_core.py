# JobSlot moved to core (dandelion.core.jobs.enqueue_once): a slot only lives until its job starts, so the old
# table is dropped, not copied (at worst one run is enqueued twice, which jobs allow).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0009_message_account_key'),
    ]

    operations = [
        migrations.DeleteModel(
            name='JobSlot',
        ),
    ]

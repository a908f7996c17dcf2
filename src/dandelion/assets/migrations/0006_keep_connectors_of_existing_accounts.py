"""Facebook, Instagram and X now default to their API connectors (``facebook``, ``instagram``, ``x``) for accounts
connected from now on. Accounts registered before keep the connector they were registered with: the ``generic``
webhook connector, then those networks' default. Every such account already stores its connector key; this pins the
few that store none (rows written outside the services), so that the new defaults never move an existing account.
The network keys are named here as the historical fact they are (a migration is frozen history)."""

from django.db import migrations

#: The networks whose default connector changed, and the default they had before.
PREVIOUS_DEFAULTS = {"facebook": "generic", "instagram": "generic", "x": "generic"}


def pin_previous_defaults(apps, schema_editor):
    SocialAccount = apps.get_model("assets", "SocialAccount")
    for network, connector in PREVIOUS_DEFAULTS.items():
        SocialAccount.objects.filter(network=network, connector="").update(connector=connector)


class Migration(migrations.Migration):

    dependencies = [
        ("assets", "0005_credentials_version"),
    ]

    operations = [
        migrations.RunPython(pin_previous_defaults, migrations.RunPython.noop),
    ]

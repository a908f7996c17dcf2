"""The corporate template, version 2: its home page must show the hero and the official accounts, and every site
keeps a contact page that shows its contact links (``governance``). Sites built from v1 show as outdated."""

from django.db import migrations


def forwards(apps, schema_editor):
    from dandelion.sites.defaults import CORPORATE  # plain data

    SiteTemplate = apps.get_model("sites", "SiteTemplate")
    SiteTemplate.objects.filter(name="corporate", version__lt=CORPORATE["version"]).update(
        version=CORPORATE["version"], starter_pages=CORPORATE["starter_pages"])


class Migration(migrations.Migration):
    dependencies = [("sites", "0002_corporate_template")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

"""The hub's first template (``corporate``), and no default Wagtail site: a hostname that is no unit's website is a
404, never Wagtail's welcome page."""

from django.db import migrations


def forwards(apps, schema_editor):
    from dandelion.sites.defaults import CORPORATE  # plain data

    SiteTemplate = apps.get_model("sites", "SiteTemplate")
    SiteTemplate.objects.get_or_create(name="corporate",
                                       defaults={k: v for k, v in CORPORATE.items() if k != "name"})
    Site = apps.get_model("wagtailcore", "Site")
    Site.objects.filter(is_default_site=True, hostname="localhost", unit_site__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sites", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

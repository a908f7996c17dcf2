"""Multilingual websites: a locale added to a site copies its pages with Wagtail's copy_for_translation, serves
them under /<language>/, links the translations (language switcher, hreflang) and keeps them the site's editors'."""

from __future__ import annotations

import pytest

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.sites import services
from dandelion.sites.exceptions import InvalidSiteData
from tests.conftest import org  # noqa: F401

FR_HOST = "fr.localhost"


@pytest.fixture
def fr_site(org):
    return services.create_site(
        actor=org.users.hub_admin, unit=org.france, template="corporate", hostname=FR_HOST
    )


def test_a_locale_copies_the_site_and_serves_it_under_its_prefix(org, fr_site, client):
    copies = services.add_site_locale(actor=org.users.fr_admin, website=fr_site, language="fr")
    assert len(copies) == 3
    assert all(type(c).objects.get(pk=c.pk).live and c.locale.language_code == "fr" for c in copies)
    assert services.site_locales(fr_site) == ["en-gb", "fr"]
    home = client.get("/", HTTP_HOST=FR_HOST).content.decode()
    assert '<html lang="en-gb">' in home
    assert (
        f'hreflang="fr" href="http://{FR_HOST}/fr/"' in home
        and f'hreflang="en-gb" href="http://{FR_HOST}/"' in home
    )
    french = client.get("/fr/", HTTP_HOST=FR_HOST)
    assert french.status_code == 200 and '<html lang="fr">' in french.content.decode()
    about = client.get("/fr/about/", HTTP_HOST=FR_HOST).content.decode()
    assert (
        f'hreflang="en-gb" href="http://{FR_HOST}/about/"' in about
        and "français" in about
        and "English" in about
    )
    assert client.get("/about/", HTTP_HOST=FR_HOST).status_code == 200  # the default language stays at /
    assert AuditEvent.objects.filter(action="sites.locale.add", object_id=str(fr_site.pk)).count() == 1


def test_the_translations_belong_to_the_sites_editors_and_follow_the_hubs_rules(org, fr_site):
    copies = services.add_site_locale(actor=org.users.hub_admin, website=fr_site, language="fr")
    about_fr = next(c for c in copies if c.slug == "about")
    assert about_fr.permissions_for_user(org.users.fr_cm).can_edit()
    assert not about_fr.permissions_for_user(org.users.fr_cm).can_publish()  # the hub approves
    assert not about_fr.permissions_for_user(org.users.es_admin).can_edit()
    assert services.website_of_path(about_fr.path) == fr_site  # guideline checks find the site
    assert about_fr.get_workflow() is not None


def test_bad_locales_are_refused(org, fr_site):
    with pytest.raises(InvalidSiteData):
        services.add_site_locale(actor=org.users.fr_admin, website=fr_site, language="xx")
    with pytest.raises(InvalidSiteData):
        services.add_site_locale(actor=org.users.fr_admin, website=fr_site, language="en-gb")  # already
    with pytest.raises(PermissionDeniedError):
        services.add_site_locale(actor=org.users.es_admin, website=fr_site, language="fr")
    assert services.site_locales(fr_site) == ["en-gb"]


def test_a_page_in_one_language_has_no_switcher(fr_site, client):
    home = client.get("/", HTTP_HOST=FR_HOST).content.decode()
    assert "hreflang" not in home and "website-languages" not in home

"""``/api/v1/sites/``: the websites within the caller's scope, created by the hub through ``services.create_site``
(the command's and the UI's service), and each site's pages with their status. The permission matrix: the hub
(everything), a region's admin (its countries), a spoke (its own), an agent without a site of its own, nobody."""

from __future__ import annotations

import pytest
from wagtail.models import Site

from dandelion.core.models import AuditEvent
from dandelion.sites import services
from dandelion.sites.models import SiteTemplate, UnitSite
from tests.conftest import org  # noqa: F401

URL = "/api/v1/sites/"


@pytest.fixture
def sites(org):
    fr = services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate",
                              hostname="fr.localhost")
    es = services.create_site(actor=org.users.hub_admin, unit=org.spain, template="corporate",
                              hostname="es.localhost")
    return fr, es


def _hosts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["hostname"] for row in response.json()["results"]]


@pytest.mark.parametrize(("user", "expected"), [
    ("hub_admin", ["es.localhost", "fr.localhost"]),
    ("europe_admin", ["es.localhost", "fr.localhost"]),
    ("fr_admin", ["fr.localhost"]),
    ("fr_cm", ["fr.localhost"]),
    ("es_admin", ["es.localhost"]),
    ("nobody", []),
])
def test_the_list_holds_the_sites_of_the_callers_scope(org, sites, api_for, user, expected):
    assert _hosts(api_for(getattr(org.users, user)).get(URL)) == expected


def test_one_site_and_one_outside_the_scope(org, sites, api_for):
    fr, es = sites
    api = api_for(org.users.fr_cm)
    body = api.get(f"{URL}{fr.pk}/").json()
    assert body["hostname"] == "fr.localhost" and body["unit"] == org.france.pk
    assert (body["template"], body["template_version"], body["template_current_version"], body["outdated"]) == (
        "corporate", fr.template.version, fr.template.version, False)
    assert body["url"] == "http://fr.localhost/" and body["locales"] == ["en-gb"]
    assert api.get(f"{URL}{es.pk}/").status_code == 404  # Spain's site does not exist for France
    assert api.get(f"{URL}{es.pk}/pages/").status_code == 404
    SiteTemplate.objects.filter(pk=fr.template_id).update(version=fr.template.version + 1)
    assert api.get(f"{URL}{fr.pk}/").json()["outdated"] is True
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code in (401, 403)


def test_the_hub_creates_a_site_through_the_service(org, sites, api_for):
    api = api_for(org.users.hub_admin)
    resp = api.post(URL, {"unit": org.europe.pk, "template": "corporate", "hostname": "EU.localhost",
                          "site_name": "Europe"}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    website = UnitSite.objects.get(pk=body["id"])
    assert (website.unit, website.hostname, body["hostname"], body["site_name"]) == (
        org.europe, "eu.localhost", "eu.localhost", "Europe")
    assert website.site.root_page.get_children().live().count() >= 1  # the template's starter pages
    assert AuditEvent.objects.filter(action="sites.site.create", object_id=str(website.pk)).exists()


@pytest.mark.parametrize("user", ["europe_admin", "fr_admin", "fr_cm", "nobody"])
def test_only_the_hub_creates_sites(org, sites, api_for, user):
    resp = api_for(getattr(org.users, user)).post(URL, {"unit": org.france.pk, "template": "corporate",
                                                        "hostname": "other.localhost"}, format="json")
    assert resp.status_code == 403
    assert not Site.objects.filter(hostname="other.localhost").exists()


@pytest.mark.parametrize(("data", "status", "field"), [
    ({"hostname": "fr.localhost"}, 409, "hostname"),  # taken
    ({"hostname": "not a host"}, 400, "hostname"),
    ({"template": "nope"}, 400, "template"),
    ({"unit": 999999}, 400, "unit"),
    ({"port": 70000}, 400, "port"),
])
def test_bad_input_is_a_clear_error_and_creates_nothing(org, sites, api_for, data, status, field):
    before = (Site.objects.count(), UnitSite.objects.count())
    payload = {"unit": org.spain.pk, "template": "corporate", "hostname": "new.localhost", **data}
    resp = api_for(org.users.hub_admin).post(URL, payload, format="json")
    assert resp.status_code == status, resp.content
    assert field in resp.content.decode()
    assert (Site.objects.count(), UnitSite.objects.count()) == before


def test_a_sites_pages_with_their_status(org, sites, api_for):
    fr, _es = sites
    about = fr.site.root_page.get_children().get(slug="about").specific
    about.title = "About our team"
    about.save_revision(user=org.users.fr_cm)  # a draft waiting, the live page unchanged
    contact = fr.site.root_page.get_children().get(slug="contact").specific
    contact.title = "Contact (new)"
    contact.save_revision(user=org.users.fr_cm)
    contact.get_workflow().start(contact, org.users.fr_cm)  # submitted to the hub
    api = api_for(org.users.fr_cm)
    resp = api.get(f"{URL}{fr.pk}/pages/")
    assert resp.status_code == 200
    rows = {row["path"]: row for row in resp.json()["results"]}
    assert rows["/"]["status"] == "live" and rows["/"]["url"] == "http://fr.localhost/"
    assert rows["/about/"]["status"] == "live + draft" and rows["/about/"]["title"] == "About us"
    assert rows["/contact/"]["status"] == "in moderation" and rows["/contact/"]["in_moderation"] is True
    assert {row["type"] for row in rows.values()} == {"websitepage"}
    assert api.post(f"{URL}{fr.pk}/pages/", {}).status_code == 405  # read-only
    assert api.patch(f"{URL}{fr.pk}/", {"hostname": "x.localhost"}, format="json").status_code == 405

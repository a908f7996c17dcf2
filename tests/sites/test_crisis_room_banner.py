"""The crisis room's "banner on our websites" panel (the sites app plugs it into the room through the
``incident_page`` slot): shown to those who may edit the unit's websites, a confirmation that says how many sites will
show it, then ``push_crisis_banner`` (published, audited)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dandelion.core.actors import SYSTEM
from dandelion.core.models import AuditEvent
from dandelion.crisis import services as crisis
from dandelion.sites import services
from tests.conftest import org  # noqa: F401


@pytest.fixture
def rooms(org):
    fr = services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate",
                              hostname="fr.localhost")
    es = services.create_site(actor=org.users.hub_admin, unit=org.spain, template="corporate",
                              hostname="es.localhost")
    fr_room = crisis.open_incident(actor=SYSTEM, unit=org.france, title="Outage in France")
    eu_room = crisis.open_incident(actor=SYSTEM, unit=org.europe, title="Recall in Europe")
    return fr, es, fr_room, eu_room


def _banner(website):
    home = website.site.root_page.specific
    home.refresh_from_db()
    return [dict(b["value"]) for b in home.body.raw_data if b["type"] == "crisis_banner"]


def test_the_room_shows_the_panel_with_the_number_of_sites_to_those_who_edit_them(org, rooms, client_for):
    _fr, _es, fr_room, eu_room = rooms
    page = client_for(org.users.hub_admin).get(eu_room.get_absolute_url())
    assert page.status_code == 200 and b'data-banner-sites="2"' in page.content
    page = client_for(org.users.fr_admin).get(fr_room.get_absolute_url())
    assert b'data-banner-sites="1"' in page.content
    assert reverse("sites:crisis-banner", args=[org.france.pk]).encode() in page.content
    page = client_for(org.users.pr).get(fr_room.get_absolute_url())  # in the room, but not a website editor
    assert page.status_code == 200 and b"data-banner-sites" not in page.content


def test_confirm_then_push_from_the_room(org, rooms, client_for):
    fr, es, fr_room, _eu_room = rooms
    client = client_for(org.users.fr_admin)
    url = reverse("sites:crisis-banner", args=[org.france.pk])
    data = {"message": "Service interrupted: we are on it", "level": "critical", "url": "https://status.example.org/",
            "next": fr_room.get_absolute_url()}
    confirm = client.post(url, data)
    assert confirm.status_code == 200 and b'data-confirm-count="1"' in confirm.content
    assert b"fr.localhost" in confirm.content and b"es.localhost" not in confirm.content
    assert _banner(fr) == [] and not AuditEvent.objects.filter(action="sites.crisis_banner.push").exists()
    done = client.post(url, {**data, "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == fr_room.get_absolute_url()
    assert _banner(fr) == [{"message": data["message"], "level": "critical", "url": data["url"]}]
    assert _banner(es) == []
    row = AuditEvent.objects.get(action="sites.crisis_banner.push")
    assert row.actor == org.users.fr_admin and row.object_id == str(fr.pk)
    client.post(url, {**data, "message": "", "confirm": "1"})  # an empty message takes it down
    assert _banner(fr) == []


def test_who_may_push_and_bad_input(org, rooms, client_for):
    fr, _es, _fr_room, _eu_room = rooms
    url = reverse("sites:crisis-banner", args=[org.france.pk])
    data = {"message": "Down", "level": "warning", "confirm": "1", "next": "https://evil.example.com/"}
    assert client_for(org.users.pr).post(url, data).status_code == 403
    assert client_for(org.users.es_admin).post(url, data).status_code in (403, 404)
    assert client_for(org.users.fr_agent).post(url, data).status_code in (403, 404)
    assert _banner(fr) == []
    bad = client_for(org.users.fr_admin).post(url, {**data, "url": "http://plain.example.org/"})
    assert bad.status_code == 200 and _banner(fr) == []  # the service's error, nothing published
    ok = client_for(org.users.fr_admin).post(url, data)
    assert ok.status_code == 302 and ok["Location"] == org.france.get_absolute_url()  # never an outside address
    assert client_for(org.users.fr_admin).get(url).status_code == 405

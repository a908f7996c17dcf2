"""Languages and time zones: the profile page, the middleware, and French pages with dates in the person's zone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dandelion.core import audit, i18n
from dandelion.core.exceptions import DandelionError, PermissionDeniedError
from dandelion.core.models import AuditEvent, UserProfile
from dandelion.core.services import update_profile
from tests.factories import UserProfileFactory

pytestmark = pytest.mark.django_db


def test_profile_page_saves_language_and_time_zone_audited(org, client_for):
    user = org.users.fr_agent
    c = client_for(user)
    page = c.get(reverse("core:profile"))
    assert page.status_code == 200
    assert b'<option value="Europe/Paris">' in page.content and b'<option value="fr">' in page.content
    response = c.post(reverse("core:profile"), {"language": "fr", "time_zone": "America/Montreal"}, follow=True)
    assert response.status_code == 200
    profile = UserProfile.objects.get(user=user)
    assert (profile.language, profile.time_zone) == ("fr", "America/Montreal")
    # the confirmation, and the page, in the language just chosen
    assert "Votre profil a été enregistré." in response.content.decode()
    assert '<html lang="fr">' in response.content.decode()
    event = AuditEvent.objects.get(action="core.profile.update")
    assert event.actor == user
    assert event.changes == {"language": ["", "fr"], "time_zone": ["", "America/Montreal"]}
    # saving the same choices again writes nothing
    c.post(reverse("core:profile"), {"language": "fr", "time_zone": "America/Montreal"})
    assert AuditEvent.objects.filter(action="core.profile.update").count() == 1


@pytest.mark.parametrize("field, value", [("time_zone", "Mars/Olympus_Mons"), ("time_zone", "../etc/passwd"),
                                          ("language", "de"), ("language", "x" * 50)])
def test_profile_page_refuses_unknown_values(org, client_for, field, value):
    c = client_for(org.users.fr_agent)
    data = {"language": "", "time_zone": ""} | {field: value}
    response = c.post(reverse("core:profile"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not UserProfile.objects.filter(user=org.users.fr_agent).exists()
    assert not AuditEvent.objects.filter(action="core.profile.update").exists()


def test_profile_page_needs_sign_in(db):
    response = Client().get(reverse("core:profile"))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_update_profile_service_rules(org):
    agent, other = org.users.fr_agent, org.users.es_agent
    with pytest.raises(PermissionDeniedError):
        update_profile(actor=other, user=agent, language="fr", time_zone="")
    with pytest.raises(DandelionError):
        update_profile(actor=agent, user=agent, language="fr", time_zone="Nowhere/Land")
    with pytest.raises(DandelionError):
        update_profile(actor=agent, user=agent, language="klingon", time_zone="")
    profile = update_profile(actor=agent, user=agent, language="", time_zone="Asia/Tokyo")
    assert profile.time_zone == "Asia/Tokyo"
    assert i18n.is_time_zone("Europe/Paris") and not i18n.is_time_zone("Europe/Atlantis")


def test_browser_language_applies_until_the_person_chooses(org, client_for):
    user = org.users.fr_agent
    c = client_for(user)
    french = c.get(reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert '<html lang="fr">' in french.content.decode() and "Journal d’audit" in french.content.decode()
    english = c.get(reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert "Audit log" in english.content.decode() and "Journal d’audit" not in english.content.decode()
    # the profile's choice wins over the browser's
    c.post(reverse("core:profile"), {"language": "en-gb", "time_zone": ""})
    chosen = c.get(reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="fr-FR")
    assert "Audit log" in chosen.content.decode() and chosen["Content-Language"] == "en-gb"


def test_choice_is_read_at_sign_in_without_a_query_per_request(org, client_for, django_assert_num_queries):
    UserProfileFactory(user=org.users.fr_admin, language="fr", time_zone="Asia/Tokyo")
    c = client_for(org.users.fr_admin)  # sign-in puts the choices in the session
    assert c.session[i18n.SESSION_LANGUAGE] == "fr" and c.session[i18n.SESSION_TIME_ZONE] == "Asia/Tokyo"
    c.get(reverse("core:audit-list"))
    # a session from before the choices were kept there is filled once from the profile
    session = c.session
    del session[i18n.SESSION_LANGUAGE]
    session.save()
    response = c.get(reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Journal d’audit" in response.content.decode()
    assert c.session[i18n.SESSION_LANGUAGE] == "fr"


def test_french_person_sees_french_pages_and_dates_in_their_time_zone(org, client_for):
    user = org.users.hub_admin
    UserProfileFactory(user=user, language="fr", time_zone="Asia/Tokyo")
    event = audit.record(actor=user, action="core.test", unit=org.france, summary="un événement")
    # 2026-03-01 23:30 UTC is 2 March 08:30 in Tokyo
    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    QuerySet.update(AuditEvent.objects.filter(pk=event.pk), created_at=moment)  # append-only: past its guard
    c = client_for(user)
    detail = c.get(reverse("core:audit-detail", args=[event.pk])).content.decode()
    assert "Événement d’audit" in detail and "Quand" in detail
    assert "2 mars 2026 08:30" in detail and "(JST)" in detail
    listing = c.get(reverse("core:audit-list")).content.decode()
    assert "2026-03-02 08:30:00" in listing and "Aucun événement d’audit" not in listing
    profile_page = c.get(reverse("core:profile")).content.decode()
    assert "Votre profil" in profile_page and "Fuseau horaire" in profile_page
    # someone else, without a choice, reads the same event in English and in the server's zone (UTC)
    other = client_for(org.users.europe_admin).get(reverse("core:audit-detail", args=[event.pk]),
                                                   HTTP_ACCEPT_LANGUAGE="en")
    assert "1 Mar 2026" in other.content.decode() and "Audit event" in other.content.decode()
    assert timezone.get_current_timezone_name() == "UTC"  # nothing leaks out of the request

"""In real Chromium: a person switches the interface to French and their time zone on the profile page, then works
in French (organisation, accounts, audit log with dates in their zone); a French browser gets the sign-in page in
French before anyone signs in."""

import datetime as dt

import pytest
from django.db.models import QuerySet

from dandelion.core import audit
from dandelion.core.models import AuditEvent, UserProfile
from tests.browser.conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_switches_to_french_and_their_time_zone(page, org):
    login(page, "fradmin")
    assert "Organisation" in page.inner_text("nav.sidebar")
    page.click("nav.sidebar a:has-text('Your profile')")
    page.select_option("#id_language", "fr")
    page.select_option("#id_time_zone", "Asia/Tokyo")
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert "Votre profil a été enregistré." in page.inner_text("main")
    assert "Asia/Tokyo" in page.inner_text("main")  # "En ce moment à Asia/Tokyo : …"
    profile = UserProfile.objects.get(user=org.users.fr_admin)
    assert (profile.language, profile.time_zone) == ("fr", "Asia/Tokyo")

    page.goto(org.france.get_absolute_url())
    main = page.inner_text("main")
    assert "Problèmes" in main and "Sous-unités" in main and "Historique" in main
    shot(page, "i18n-french-unit")

    page.goto("/assets/accounts/")
    main = page.inner_text("main")
    assert "Comptes sociaux" in main and "Sans responsable" in main and "Actif" in main and "au total" in main
    shot(page, "i18n-french-accounts")

    event = audit.record(actor=org.users.fr_admin, action="core.test", unit=org.france, summary="vérification")
    QuerySet.update(AuditEvent.objects.filter(pk=event.pk),
                    created_at=dt.datetime(2026, 7, 14, 22, 15, tzinfo=dt.UTC))  # 15 July 07:15 in Tokyo
    page.goto(event.get_absolute_url())
    main = page.inner_text("main")
    assert "Événement d’audit" in main and "15 juillet 2026 07:15" in main and "JST" in main
    shot(page, "i18n-french-audit-event")


def test_a_french_browser_gets_the_sign_in_page_in_french(browser, live_server, org):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        assert page.evaluate("document.documentElement.lang") == "fr"
        assert "Mot de passe oublié ?" in page.inner_text("main")
        page.fill("#id_username", "fragent")
        page.fill("#id_password", "pw-test-123")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "Déconnexion" in page.inner_text("nav.sidebar") and "Votre profil" in page.inner_text("nav.sidebar")
        shot(page, "i18n-french-browser-after-sign-in")
    finally:
        context.close()

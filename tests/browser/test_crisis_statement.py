"""The holding statement in real Chromium: PR translates it for a spoke, pushes it to the helpers through the
room's button and its confirmation, and reads which teams it reached and in which language (a spoke without its own
translation is shown on the room's language, as a fallback). Screenshots for a person."""

import pytest

from dandelion.crisis import services
from dandelion.inbox.models import CannedResponse
from tests.browser.conftest import login, shot
from tests.crisis.conftest import world  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pr_translates_and_pushes_the_statement_to_the_helpers(page, world):
    incident = services.open_incident(actor=world.users.pr, unit=world.europe, title="Europe outage", severity=7)
    login(page, "pr")
    page.goto(incident.get_absolute_url())
    page.fill("textarea[name=holding_statement]", "We are aware of the reports and are looking into them.")
    page.click("text=Save the draft")
    page.fill("input[name=translation-language]", "fr")
    page.fill("textarea[name=translation-text]", "Nous avons connaissance des signalements et enquêtons.")
    page.click("text=Save the translation")
    assert "Nous avons connaissance" in page.inner_text("[data-translation=fr]")
    page.click("a[data-action=push-statement]")
    assert "FR helpers" in page.inner_text("form.confirm") and "ES helpers" in page.inner_text("form.confirm")
    shot(page, "crisis-push-confirm")
    assert not CannedResponse.objects.filter(shortcut=f"crisis-{incident.pk}").exists()  # not before confirming
    page.click("form.confirm button[type=submit]")
    assert "pushed to 2 helper teams" in page.inner_text("main")
    assert page.locator(f"[data-pushed-unit='{world.france.pk}'] [data-lang=fr]:not([data-fallback])").count() == 1
    assert page.locator(f"[data-pushed-unit='{world.spain.pk}'] [data-lang=es][data-fallback=en]").count() == 1
    shot(page, "crisis-push-result")
    fr = CannedResponse.objects.get(shortcut=f"crisis-{incident.pk}", unit=world.france)
    assert fr.language == "fr" and fr.body.startswith("Nous avons connaissance")

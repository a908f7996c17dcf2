"""In real Chromium: where each role lands and what it is told (issue 16). A helper agent lands on their queue;
typed addresses outside a role's scope give a styled 403 that keeps the navigation; a missing page is a styled 404;
a 200-character customer name does not push the queue off screen; each row previews the message; the metrics
dates are filled on load and invalid ones are reported."""

import pytest

from tests.browser.conftest import login, shot
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_helper_agent_lands_on_the_queue(page, org):
    login(page, "fragent")
    assert page.url.endswith("/inbox/")


def test_typed_addresses_outside_the_role_give_a_styled_403(page, org):
    login(page, "moderator")
    for url in ("/audit/", "/assets/accounts/"):
        response = page.goto(url)
        assert response.status == 403, url
        main = page.inner_text("main")
        assert "not allowed" in main and "your team's queue" in main
        assert page.locator("nav.sidebar").count() == 1  # the navigation stays
    shot(page, "workspace-403")
    page.click("main a:has-text('Go to my work')")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/inbox/")


def test_missing_page_is_a_styled_404(page, org):
    login(page, "fragent")
    response = page.goto("/inbox/conversations/999999/")
    assert response.status == 404
    assert "does not exist" in page.inner_text("main")
    assert page.locator("nav.sidebar").count() == 1
    shot(page, "workspace-404")


def test_queue_previews_messages_and_survives_a_long_name(page, inbox, deliver):
    long_name = "Jean-Baptiste " + "Tres-Long-Nom" * 14
    deliver(inbox.fr_account, event("Bonjour, mon colis n'est jamais arrivé depuis trois semaines", id="long-1",
                                    author="u-long", name=long_name[:200], language="fr"))
    login(page, "fradmin")
    page.goto("/inbox/?tab=all")
    page.wait_for_load_state("networkidle")
    assert "mon colis n'est jamais arrivé" in page.inner_text("#queue")
    # every column stays on screen: the table is no wider than the main area
    widths = page.evaluate("[document.querySelector('#queue').getBoundingClientRect().right,"
                           " document.querySelector('main').getBoundingClientRect().right]")
    assert widths[0] <= widths[1] + 1, widths
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "workspace-queue-long-name")


def test_metrics_dates_filled_on_load_and_invalid_dates_reported(page, org):
    login(page, "hubadmin")
    page.goto("/inbox/metrics/")
    since = page.input_value("#id_since")
    until = page.input_value("#id_until")
    assert since and until and since < until
    response = page.goto("/inbox/metrics/?since=2026-13-45&until=2026-01-01")
    assert response.status == 400
    assert "Check the dates" in page.inner_text("#metrics-errors")
    shot(page, "workspace-metrics-invalid")


def test_keyboard_shortcuts_and_help_overlay(page, inbox, deliver):
    deliver(inbox.fr_account, event("Bonjour, question clavier ?", id="kbd-1", author="u-kbd", name="Karine Clavier",
                                    language="fr"))
    login(page, "fradmin")
    page.goto("/inbox/?tab=all")
    page.wait_for_load_state("networkidle")
    page.keyboard.press("?")
    assert page.locator("#shortcuts-help").is_visible()
    assert "Keyboard shortcuts" in page.inner_text("#shortcuts-help")
    shot(page, "workspace-shortcuts-help")
    page.keyboard.press("Escape")
    assert not page.locator("#shortcuts-help").is_visible()
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.closest('#queue') !== null")
    page.keyboard.press("o")
    page.wait_for_url("**/inbox/conversations/**")
    page.wait_for_load_state("networkidle")
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "text"

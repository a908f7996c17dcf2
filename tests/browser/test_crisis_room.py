"""The crisis room in real Chromium: a PR manager opens the room a listening spike opened, sees the spike's chart
(Chart.js, served locally, under the CSP) and its mentions, takes ownership, writes to the shared log, drafts the
holding statement, pauses publishing for the subtree and closes with a post-mortem. Screenshots for a person."""

import pytest

from tests.browser.conftest import login, shot, wait_for
from tests.crisis.conftest import world  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pr_manager_runs_the_crisis_room(page, world):
    incident = world.incident
    login(page, "pr")
    page.goto("/crisis/")
    page.click(f"tr[data-incident='{incident.pk}'] a")
    wait_for(page, "typeof Chart === 'function' && !!Chart.getChart(document.getElementById('crisis-chart'))")
    counts = page.evaluate("Chart.getChart(document.getElementById('crisis-chart')).data.datasets[0].data")
    assert sum(counts) == 12  # the spike's twelve mentions, per 5 minutes
    assert page.inner_text("[data-figure=detect]") == "12.0 min"
    assert page.locator("text=acme panne #acme").count() >= 1
    page.select_option("select[name=owner]", label="pr")
    page.click("text=Make PR owner")
    assert page.inner_text("[data-owner]") == "pr"
    page.select_option("select[name=kind]", "decision")
    page.fill("textarea[name=text]", "No promotional post until the facts are confirmed.")
    page.click("text=Add to the log")
    assert page.locator("tr[data-log-kind=decision]").count() == 1
    page.fill("textarea[name=holding_statement]", "We are aware of the reports and are looking into them.")
    page.click("text=Save the draft")
    assert "We are aware" in page.inner_text("[data-statement]")
    page.click("button[data-action=pause]")
    assert page.locator("[data-pause]").count() == 1
    wait_for(page, "!!Chart.getChart(document.getElementById('crisis-chart'))")
    shot(page, "crisis-room")
    page.click("text=Close with a post-mortem")
    page.fill("textarea[name=summary]", "A false outage rumour, denied within the hour.")
    page.click("button[type=submit].primary")
    assert "Post-mortem" in page.inner_text("h1")
    assert page.inner_text("[data-figure=detect]") == "12.0 min"
    assert "A false outage rumour" in page.inner_text("main")
    shot(page, "crisis-postmortem")

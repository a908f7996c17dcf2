"""The playbook flow in real Chromium: the hub's PR manager defines a playbook (steps owned by roles, due times, a
holding statement), opens an incident of that kind, which comes with the playbook's checklist and the statement's
draft; PR ticks a step off, then France's community manager (a spoke) ticks another, and the progress follows.
Screenshots for a person."""

import pytest

from tests.browser.conftest import login, shot
from tests.crisis.conftest import world  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_playbook_becomes_the_rooms_checklist_ticked_by_pr_and_a_spoke(page, world):
    login(page, "pr")
    page.goto("/crisis/playbooks/")
    page.click("text=New playbook")
    page.select_option("select[name=unit]", str(world.hub.pk))
    page.fill("input[name=name]", "Service outage")
    page.select_option("select[name=kind]", "outage")
    page.fill("input[name=min_severity]", "3")
    page.fill("textarea[name=steps]", "owner | 15 | Draft and approve the holding statement\n"
                                      "legal | 60 | Legal review of what we say\n"
                                      "spoke_lead | 30 | Brief the spoke's community managers")
    page.fill("textarea[name=holding_statement]", "We know some of you cannot reach our service; we are on it.")
    page.click("text=Save the playbook")
    assert page.locator("tr[data-playbook]").count() == 1
    assert "Service outage" in page.inner_text("tr[data-playbook]")
    shot(page, "crisis-playbooks")

    page.goto("/crisis/new/")
    page.select_option("select[name=unit]", str(world.france.pk))
    page.fill("input[name=title]", "Payments down in France")
    page.fill("input[name=severity]", "6")
    page.select_option("select[name=kind]", "outage")
    page.click("button[type=submit].primary")
    assert page.inner_text("h1") == "Payments down in France"
    assert page.locator("tr[data-step]").count() == 3
    assert page.inner_text("[data-progress-text]") == "0 of 3 steps done"
    assert "we are on it" in page.inner_text("[data-statement]")  # the playbook's statement starts the draft
    page.click("button[data-tick='1']")
    assert page.get_attribute("tr[data-step='1']", "data-done") == "1"
    assert page.inner_text("[data-progress-text]") == "1 of 3 steps done"
    url = page.url

    page.context.clear_cookies()
    login(page, "frcm")  # France's community manager: ticks steps, nothing else of the room
    page.goto(url)
    assert page.locator("form.crisis-log-form").count() == 0
    page.click("button[data-tick='3']")
    assert page.get_attribute("tr[data-step='3']", "data-done") == "1"
    assert page.inner_text("[data-progress-text]") == "2 of 3 steps done"
    assert "frcm" in page.inner_text("tr[data-step='3']")
    assert page.locator("tr[data-log-kind=action]", has_text="Step 3 done").count() == 1
    page.locator("section.crisis-checklist").scroll_into_view_if_needed()
    shot(page, "crisis-playbook-checklist")

"""In real Chromium (issue 16): a spoke admin builds a routing rule with the form (languages by name, a team by
name, a priority), is told clearly what is missing, saves it; then edits an SLA policy with human durations and the
team's business hours."""

import pytest

from tests.browser.conftest import login, settled, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_a_rule_and_edit_an_sla_policy(page, org):
    from dandelion.core.models import AuditEvent
    from dandelion.routing.models import RoutingRule, SlaPolicy

    login(page, "fradmin")
    page.goto("/routing/rules/new/")
    page.select_option("#id_unit", label="France")
    page.fill("#id_name", "French complaints")
    page.check("input[name=mode][value=builder]")
    page.select_option("#id_b_languages", label="French")
    page.select_option("#id_b_intents", label="Complaint")
    page.click("#rule-form button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    assert "Pick a team or a priority" in page.inner_text("#rule-builder")
    shot(page, "routing-builder-error")
    page.select_option("#id_b_team", label=f"{org.fr_team.name} (France)")
    page.select_option("#id_b_priority", label="High")
    page.click("#rule-form button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    rule = RoutingRule.objects.get(name="French complaints")
    assert rule.conditions == {"all": [{"field": "language", "op": "in", "value": ["fr"]},
                                       {"field": "intent", "op": "in", "value": ["complaint"]}]}
    assert rule.actions == {"route_to_team": org.fr_team.pk, "set_priority": "high"}
    page.goto(f"/routing/rules/{rule.pk}/")
    settled(page)
    assert page.locator("#id_b_team option:checked").inner_text() == f"{org.fr_team.name} (France)"
    shot(page, "routing-builder-saved")

    policy = SlaPolicy.objects.create(team=org.fr_team, first_response_seconds=172800)
    page.goto("/routing/sla/")
    assert "172800" not in page.inner_text("main") and "2d" in page.inner_text("main")
    page.click(f"a[href='/routing/sla/{policy.pk}/']")
    page.wait_for_load_state("networkidle")
    page.fill("#id_first_response_seconds", "soon")
    page.click("#sla-form button.primary")
    page.wait_for_load_state("networkidle")
    assert "Write a duration like 45m, 2h 30m or 1d 4h." in page.inner_text("#sla-form")
    page.fill("#id_first_response_seconds", "1h 30m")
    page.fill("#id_resolution_seconds", "2d")
    page.click("#sla-form button.primary")
    page.wait_for_load_state("networkidle")
    policy.refresh_from_db()
    assert (policy.first_response_seconds, policy.resolution_seconds) == (5400, 172800)
    assert "1h 30m" in page.inner_text("main")
    assert AuditEvent.objects.filter(action="routing.sla_policy.update").count() == 1
    shot(page, "routing-sla-list")

    # the team's business hours, edited in the same form: an overlap is refused, then saved into its calendar
    from dandelion.routing.models import BusinessCalendar

    page.click(f"a[href='/routing/sla/{policy.pk}/']")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_hours_timezone", "Europe/Paris")
    page.fill("#id_hours_mon", "09:00-13:00, 12:00-18:00")
    page.click("#sla-form button.primary")
    page.wait_for_load_state("networkidle")
    assert "Opening hours overlap: 09:00-13:00 and 12:00-18:00." in page.inner_text("#sla-form")
    page.fill("#id_hours_mon", "09:00-12:00, 14:00-18:00")
    page.fill("#id_hours_fri", "9-12")
    page.click("#sla-form button.primary")
    page.wait_for_load_state("networkidle")
    calendar = BusinessCalendar.objects.get(team=org.fr_team)
    assert calendar.timezone == "Europe/Paris"
    assert calendar.weekly_hours["mon"] == [["09:00", "12:00"], ["14:00", "18:00"]]
    assert calendar.weekly_hours["fri"] == [["09:00", "12:00"]] and calendar.weekly_hours["tue"] == []

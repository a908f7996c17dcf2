"""The hub creates a campaign for three spokes in the browser; France localises and is scheduled, Spain drafts,
Italy declines with its reason; the hub's matrix shows the three spokes in three states."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dandelion.publishing import campaigns
from dandelion.publishing.models import Campaign
from tests.browser.conftest import login, shot
from tests.factories import MembershipFactory, OrgUnitFactory, SocialAccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_campaign_matrix_three_spokes_three_states(page, org):
    from dandelion.orgs.choices import Role

    italy = OrgUnitFactory(name="Italy", slug="italy", parent=org.europe, timezone="Europe/Rome")
    it_admin = UserFactory(username="itadmin")
    MembershipFactory(user=it_admin, unit=italy, role=Role.SPOKE_ADMIN)
    SocialAccountFactory(owner_unit=italy, network="mastodon", handle="@brand_it", external_id="m-it")
    for user in [*org.users.__dict__.values(), it_admin]:
        user.set_password("pw-test-123")
        user.save()
    start = (timezone.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT00:00")
    end = (timezone.now() + dt.timedelta(days=9)).strftime("%Y-%m-%dT23:00")
    when = (timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT10:00")

    login(page, "hubadmin")
    page.goto("/publishing/campaigns/new/")
    page.select_option("#id_unit", str(org.hub.pk))
    page.fill("#id_name", "Summer collection")
    page.fill("#id_brief", "Same week, every spoke.")
    page.fill("#id_master_text", "Summer is here!")
    page.fill("#id_starts_local", start)
    page.fill("#id_ends_local", end)
    for unit in (org.france, org.spain, italy):
        page.check(f"input[name=spokes][value='{unit.pk}']")
    page.click("#campaign-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    campaign = Campaign.objects.get()
    assert page.url.endswith(campaign.get_absolute_url())

    # France's community manager localises and schedules in the window (no workflow: approved on submit)
    page.context.clear_cookies()
    login(page, "frcm")
    page.goto(campaign.get_absolute_url())
    page.click("text=Localise")
    page.check(f"input[name=accounts][value='{org.fr_account.pk}']")
    page.fill("#id_text", "L'été est là !")
    page.fill("#id_scheduled_local", when)
    page.click("#localise-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.click("#submit-post")
    page.wait_for_load_state("networkidle")
    # Spain drafts (through the service: the same as the page above), Italy's admin declines in the browser
    campaigns.localise_campaign(campaign.spokes.get(unit=org.spain), actor=org.users.es_admin,
                                accounts=[org.es_account])
    page.context.clear_cookies()
    login(page, "itadmin")
    page.goto(campaign.get_absolute_url())
    row = campaign.spokes.get(unit=italy)
    page.fill(f"#spoke-{row.pk} input[name=reason]", "Our summer starts later")
    page.click(f"#spoke-{row.pk} button:has-text('Decline')")
    page.wait_for_load_state("networkidle")

    page.context.clear_cookies()
    login(page, "hubadmin")
    page.goto(campaign.get_absolute_url())
    statuses = {r.unit.name: page.get_attribute(f"#spoke-{r.pk}", "data-status") for r in campaign.spokes.all()}
    assert statuses == {"France": "scheduled", "Spain": "drafting", "Italy": "declined"}
    assert "Our summer starts later" in page.inner_text("#campaign-matrix")
    shot(page, "publishing-campaign-matrix")
    page.click(f"#spoke-{campaign.spokes.get(unit=org.spain).pk} button:has-text('Nudge')")
    page.wait_for_load_state("networkidle")
    assert campaign.spokes.get(unit=org.spain).nudge_count == 1

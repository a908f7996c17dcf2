"""A spoke community manager drafts for two networks, a guideline check blocks, she fixes it, the hub approves, the
send job publishes it through the sandbox connector; then a crisis pause holds a due post."""

from __future__ import annotations

import pytest

from dandelion.connectors import sandbox
from dandelion.publishing import services
from dandelion.publishing.choices import PostState
from dandelion.publishing.models import Post
from tests.browser.conftest import login, settled, shot, wait_for
from tests.factories import SocialAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_draft_blocked_fixed_approved_scheduled_sent(page, org):
    sandbox.PUBLISHED.clear()
    sky = SocialAccountFactory(owner_unit=org.france, network="bluesky", handle="@brand-fr.bsky.social",
                               external_id="did:plc:brandfr", languages=["fr"], connector="sandbox")
    fb = org.fr_account
    fb.connector = "sandbox"
    fb.save(update_fields=["connector"])
    hub = org.users.hub_admin
    services.create_rule(actor=hub, unit=org.hub, name="Competitors are never named", kind="banned_terms",
                         params={"terms": ["Globex"]})
    services.create_workflow(actor=hub, unit=org.hub, name="Hub brand", steps=[{"name": "Hub", "role": "hub_admin"}])
    for user in org.users.__dict__.values():
        user.set_password("pw-test-123")
        user.save()

    login(page, "frcm")
    page.goto("/publishing/new/")
    page.check(f"input[name=accounts][value='{sky.pk}']")
    page.check(f"input[name=accounts][value='{fb.pk}']")
    page.fill("#id_text", "Moins cher que Globex, et de loin !")
    page.locator("#id_text").press("Space")
    wait_for(page, "document.querySelector('#checks li[data-severity=block]') !== null")
    assert "Globex" in page.inner_text("#checks")
    shot(page, "publishing-editor-blocked")
    page.click("button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    post = Post.objects.get()
    assert post.variants.count() == 2
    page.click("#submit-post")
    page.wait_for_load_state("networkidle")
    assert "Blocked by the guidelines" in page.inner_text(".messages")
    post.refresh_from_db()
    assert post.state == PostState.DRAFT

    page.click("text=Edit")
    page.fill("#id_text", "Le meilleur rapport qualité-prix, tout simplement.")
    page.locator("#id_text").press("Space")
    settled(page)
    wait_for(page, "document.querySelector('#checks .check-ok') !== null")
    page.click("button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    page.click("#submit-post")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#post-state") == "In review"

    page.context.clear_cookies()
    login(page, "hubadmin")
    page.goto(post.get_absolute_url())
    page.fill("textarea[name=comment]", "Parfait.")
    page.click("#approve-post")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#post-state") == "Approved"
    page.click("#schedule-post")  # empty time: now
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#post-state") == "Scheduled"

    counts = services.send_due(worker="browser-test")  # the send job's pass
    assert counts["sent"] == 2
    page.reload()
    assert page.inner_text("#post-state") == "Published"
    assert len(sandbox.PUBLISHED) == 2
    shot(page, "publishing-published")

    # the hub pauses France: a post due now stays unsent
    due = services.create_post(actor=org.users.fr_cm, unit=org.france, text="Bonne journée !", accounts=[sky])
    services.submit_post(due, actor=org.users.fr_cm)
    services.approve_post(due, actor=hub)
    services.schedule_post(due, actor=org.users.fr_cm)
    page.goto("/publishing/pauses/")
    page.select_option("#id_unit", str(org.france.pk))
    page.fill("#id_reason", "Incident in a Lyon store")
    page.click("#pause-button")
    page.wait_for_load_state("networkidle")
    assert "Publishing is paused for France" in page.inner_text(".crisis-banner")
    assert services.send_due(worker="browser-test")["claimed"] == 0
    due.refresh_from_db()
    assert due.state == PostState.PAUSED and len(sandbox.PUBLISHED) == 2
    shot(page, "publishing-paused")
    page.goto("/publishing/calendar/")
    assert page.locator(".month .entry").count() >= 1
    shot(page, "publishing-calendar")

"""Links and the queue in Chromium: a spoke admin sets the posting slots and short links; a community manager adds
an approved post to the queue; a published post's short link is followed and its click shows on the post."""

from __future__ import annotations

import pytest

from dandelion.publishing import services
from dandelion.publishing.choices import PostState
from dandelion.publishing.models import ShortLink
from tests.browser.conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_slots_queue_and_short_link_clicks(page, org, live_server, settings):
    from dandelion.connectors import fake

    fake.reset()
    page.set_default_timeout(60_000)  # the shared CI machine may be slow: a first page load can take more than 10 s
    settings.PUBLISHING_SHORT_LINK_BASE = live_server.url
    for user in org.users.__dict__.values():
        user.set_password("pw-test-123")
        user.save()
    org.fr_account.connector = "fake"
    org.fr_account.save(update_fields=["connector"])
    org.france.timezone = "Europe/Paris"
    org.france.save(update_fields=["timezone"])

    # the spoke admin sets the slots and the links
    login(page, "fradmin")
    page.goto(f"/publishing/settings/{org.france.pk}/")
    page.fill("#id_slots", "mon 09:00\nthu 18:30")
    page.fill("#id_utm_source", "{network}")
    page.fill("#id_utm_medium", "social")
    page.check("#id_shorten_links")
    page.click("#save-settings")
    page.wait_for_load_state("networkidle")
    assert "Publishing settings saved." in page.inner_text("body")
    shot(page, "publishing-settings-slots")
    page.context.clear_cookies()

    # the community manager queues an approved post
    post = services.create_post(actor=org.users.fr_cm, unit=org.france, title="Weekly tip", text="Bonjour",
                                accounts=[org.fr_account])
    post = services.submit_post(post, actor=org.users.fr_cm)
    assert post.state == PostState.APPROVED
    login(page, "frcm")
    page.goto(post.get_absolute_url())
    page.click("#queue-post")
    page.wait_for_load_state("networkidle")
    assert "Added to the queue" in page.inner_text("body")
    post.refresh_from_db()
    local = services.local_schedule(post)
    assert post.state == PostState.SCHEDULED and (local.weekday(), local.strftime("%H:%M")) in ((0, "09:00"),
                                                                                                (3, "18:30"))
    assert page.inner_text("#post-state") == post.get_state_display()
    shot(page, "publishing-queued")

    # a post with a link, sent now: its link goes out short and tagged; following it counts a click
    linked = services.create_post(actor=org.users.fr_cm, unit=org.france, title="With a link",
                                  text=f"Lisez ceci : {live_server.url}/accounts/login/",
                                  accounts=[org.fr_account])
    services.submit_post(linked, actor=org.users.fr_cm)
    services.schedule_post(linked, actor=org.users.fr_cm)
    assert services.send_due(worker="browser")["sent"] == 1
    link = ShortLink.objects.get()
    sent_text = fake.STORE.published[0].post.text
    assert f"{live_server.url}/l/{link.code}" in sent_text and "utm_source" not in sent_text
    page.goto(f"/l/{link.code}")
    page.wait_for_load_state("networkidle")
    assert "utm_source=facebook" in page.url and "utm_medium=social" in page.url
    page.goto(linked.get_absolute_url())
    assert page.inner_text(f"tr[data-link='{link.code}'] td.num") == "1"
    shot(page, "publishing-short-link-clicks")
    fake.reset()

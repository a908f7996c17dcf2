"""In real Chromium (issue 16): bulk tagging from the queue's bulk bar (the confirmation says how many and which
tags, a refused conversation is reported) and the e-mail digest's opt-out on the notification settings page."""

import pytest

from tests.browser.conftest import login, shot
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bulk_tagging_confirms_how_many_and_which_tags_then_tags_them(page, inbox, deliver):
    from dandelion.inbox.models import Conversation

    for i in range(3):
        deliver(inbox.fr_account, event(f"Bonjour, colis {i} ?", id=f"tag-{i}", author=f"u-tag-{i}",
                                        name=f"Client {i}", language="fr"))
    convs = list(Conversation.objects.order_by("pk"))
    login(page, "fragent")
    page.goto("/inbox/?tab=all")
    for conv in convs[:2]:
        page.check(f"#queue-table input[name=ids][value='{conv.pk}']")
    page.select_option("#bulk-action", "tag")
    page.fill("#bulk-form input[name=tags]", "livraison, VIP")
    page.click("#bulk-apply")
    page.wait_for_load_state("networkidle")
    assert "Add tags: 2 conversations?" in page.inner_text("h1")
    assert "livraison, VIP" in page.inner_text(".what-happens")
    shot(page, "workspace-bulk-tag-confirm")
    page.click("#bulk-confirm")
    page.wait_for_load_state("networkidle")
    assert "Add tags: 2 conversations done." in page.inner_text("main")
    for conv in convs[:2]:
        assert set(conv.tags.values_list("name", flat=True)) == {"livraison", "VIP"}
    assert not convs[2].tags.exists()
    shot(page, "workspace-bulk-tag-done")


def test_the_digest_can_be_turned_off_and_on_from_the_notifications_page(page, inbox):
    from dandelion.notifications.services import email_digest_enabled

    login(page, "fragent")
    page.goto("/notifications/")
    page.click("a:has-text('E-mail digest settings')")
    page.wait_for_load_state("networkidle")
    box = page.locator("input[name=email_digest]")
    assert box.is_checked()
    box.uncheck()
    page.click("button:has-text('Save')")
    page.wait_for_load_state("networkidle")
    assert "The daily e-mail digest is off." in page.inner_text("main")
    assert not page.locator("input[name=email_digest]").is_checked()
    assert not email_digest_enabled(inbox.users.fr_agent)
    shot(page, "notifications-digest-settings")

"""In real Chromium (issue 16, the inbox workspace): cancelling the delete confirmation deletes nothing; the
composer says when the account cannot send; a conversation hidden goes to the Hidden tab and comes back; bulk
actions confirm how many and report what was done; the live queue shows new conversations without a reload and
waits while conversations are ticked."""

import pytest

from tests.browser.conftest import login, settled, shot, wait_for
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _conversation(inbox, deliver, text, *, id, name):
    from dandelion.inbox.models import Conversation

    deliver(inbox.fr_account, event(text, id=id, author=f"u-{id}", name=name, language="fr"))
    return Conversation.objects.get(messages__external_id=id)


def test_cancelling_the_delete_confirmation_deletes_nothing_and_confirming_deletes(page, inbox, deliver):
    from dandelion.core.models import AuditEvent

    conv = _conversation(inbox, deliver, "Achetez des abonnés pas chers", id="del-1", name="Spam Bot")
    message = conv.messages.get(external_id="del-1")
    login(page, "frcm")
    page.goto(conv.get_absolute_url())
    page.click(f"#m{message.pk} [data-action=delete]")
    page.wait_for_load_state("networkidle")
    assert "Delete this message on the network?" in page.inner_text("h1")
    page.fill("input[name=reason]", "changed my mind")
    page.click(".confirm-actions a:has-text('Cancel')")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(conv.get_absolute_url())
    message.refresh_from_db()
    assert message.moderation_state == "visible"
    assert not AuditEvent.objects.filter(action="inbox.moderate.delete").exists()
    page.click(f"#m{message.pk} [data-action=delete]")
    page.wait_for_load_state("networkidle")
    page.click("button.danger:has-text('Delete')")
    page.wait_for_load_state("networkidle")
    message.refresh_from_db()
    assert message.moderation_state == "deleted"
    assert AuditEvent.objects.filter(action="inbox.moderate.delete").count() == 1


def test_the_composer_says_the_account_cannot_send_replies(page, inbox, deliver):
    conv = _conversation(inbox, deliver, "Bonjour, où est mon colis ?", id="cs-1", name="Lucie Roux")
    inbox.fr_account.connector = "generic"
    inbox.fr_account.connector_config = {}
    inbox.fr_account.save(update_fields=["connector", "connector_config"])
    login(page, "fragent")
    page.goto(conv.get_absolute_url())
    notice = page.inner_text("#cannot-send")
    assert "Replies cannot be sent from @brand_fr" in notice and "no reply needed" in notice
    assert page.locator("#reply-text textarea").count() == 0
    shot(page, "workspace-cannot-send")


def test_hide_a_conversation_find_it_in_the_hidden_tab_and_unhide_it(page, inbox, deliver):
    conv = _conversation(inbox, deliver, "Gagnez un iPhone gratuit", id="hide-1", name="Promo Bot")
    login(page, "fragent")
    page.goto(conv.get_absolute_url())
    page.fill(".hide-conversation input[name=reason]", "spam")
    page.click("[data-action=hide-conversation]")
    page.wait_for_selector(".hidden-note")
    settled(page)
    conv.refresh_from_db()
    assert conv.status == "hidden" and conv.sla_due_at is None
    page.goto("/inbox/?tab=all")
    assert "Promo Bot" not in page.inner_text("#queue-table")
    page.click("#queue-tabs [data-tab=hidden]")
    page.wait_for_load_state("networkidle")
    assert "Promo Bot" in page.inner_text("#queue-table")
    assert page.inner_text("#queue-tabs [data-tab=hidden] .chip") == "1"
    shot(page, "workspace-hidden-tab")
    page.click("#queue-table a:has-text('Promo Bot')")
    page.wait_for_load_state("networkidle")
    page.click("[data-action=unhide-conversation]")
    page.wait_for_selector("[data-action=hide-conversation]")
    settled(page)
    conv.refresh_from_db()
    assert conv.status == "open"


def test_bulk_resolve_confirms_how_many_cancel_changes_nothing_confirm_does_it(page, inbox, deliver):
    from dandelion.inbox.models import Conversation

    convs = [_conversation(inbox, deliver, f"Bonjour, question {i} ?", id=f"bulk-{i}", name=f"Client {i}")
             for i in range(3)]
    login(page, "fradmin")
    page.goto("/inbox/?tab=all")
    assert page.is_disabled("#bulk-apply")
    for conv in convs[:2]:
        page.check(f"#queue-table input[name=ids][value='{conv.pk}']")
    assert page.inner_text("#bulk-count") == "2 selected"
    page.select_option("#bulk-action", "resolve")
    page.click("#bulk-apply")
    page.wait_for_load_state("networkidle")
    assert "Resolve: 2 conversations?" in page.inner_text("h1")
    shot(page, "workspace-bulk-confirm")
    page.click("#bulk-cancel")
    page.wait_for_load_state("networkidle")
    assert Conversation.objects.filter(status="resolved").count() == 0
    page.check("#bulk-all")  # the whole page this time
    assert page.inner_text("#bulk-count") == "3 selected"
    page.select_option("#bulk-action", "resolve")
    page.click("#bulk-apply")
    page.wait_for_load_state("networkidle")
    page.click("#bulk-confirm")
    page.wait_for_load_state("networkidle")
    assert "Resolve: 3 conversations done." in page.inner_text("main")
    assert Conversation.objects.filter(status="resolved").count() == 3
    shot(page, "workspace-bulk-done")


def test_the_live_queue_shows_new_conversations_and_waits_while_ticked(page, inbox, deliver, settings):
    settings.DANDELION_INBOX_POLL_SECONDS = 1
    _conversation(inbox, deliver, "Bonjour, première question ?", id="live-1", name="Première Cliente")
    login(page, "fradmin")
    page.goto("/inbox/?tab=all")
    assert page.inner_text("#queue-tabs [data-tab=all] .chip") == "1"
    page.evaluate("window.__marker = 'same page'")  # gone if the page reloads
    _conversation(inbox, deliver, "Bonjour, deuxième question ?", id="live-2", name="Deuxième Client")
    wait_for(page, "document.querySelector('#queue-table').innerText.includes('Deuxième Client')")
    wait_for(page, "document.querySelector('#queue-tabs [data-tab=all] .chip').innerText === '2'")
    assert page.evaluate("window.__marker") == "same page"
    shot(page, "workspace-live-queue")
    # ticked: the poll waits, the selection stays
    page.check("#queue-table input[name=ids] >> nth=0")
    _conversation(inbox, deliver, "Bonjour, troisième ?", id="live-3", name="Troisième Cliente")
    page.wait_for_timeout(2500)
    assert "Troisième Cliente" not in page.inner_text("#queue-table")
    assert page.is_checked("#queue-table input[name=ids] >> nth=0")
    page.uncheck("#queue-table input[name=ids] >> nth=0")
    wait_for(page, "document.querySelector('#queue-table').innerText.includes('Troisième Cliente')")

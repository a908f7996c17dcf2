"""In real Chromium: the unsafe corners of the workspace (issue 16). Deleting a customer's message on the network
takes a confirmation page that offers to hide it instead; resolving after a reply that failed to send warns and
takes an explicit "Resolve anyway"; a tag too long is refused with a clear error, the input kept; resolving offers
the next conversation."""

import pytest

from tests.browser.conftest import login, settled, shot, wait_for
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _conversation(inbox, deliver, text, *, id, name):
    from dandelion.inbox.models import Conversation

    deliver(inbox.fr_account, event(text, id=id, author=f"u-{id}", name=name, language="fr"))
    return Conversation.objects.get(messages__external_id=id)


def test_delete_on_the_network_needs_a_confirmation_that_offers_hide(page, inbox, deliver):
    conv = _conversation(inbox, deliver, "Achetez des abonnés pas chers", id="spam-1", name="Spam Bot")
    message = conv.messages.get(external_id="spam-1")
    login(page, "frcm")
    page.goto(conv.get_absolute_url())
    page.click(f"#m{message.pk} [data-action=delete]")
    page.wait_for_load_state("networkidle")
    message.refresh_from_db()
    assert message.moderation_state == "visible"  # one click deleted nothing
    body = page.inner_text("main")
    assert "What will happen" in body and "Achetez des abonnés" in body
    assert "hide the message instead" in body
    shot(page, "workspace-delete-confirm")
    # hide is the default (focused, first) action
    assert page.evaluate("document.activeElement.textContent.trim()") == "Hide instead"
    page.click("button:has-text('Hide instead')")
    page.wait_for_load_state("networkidle")
    message.refresh_from_db()
    assert message.moderation_state == "hidden"
    assert page.url.endswith(conv.get_absolute_url())
    # deleting, confirmed, deletes (and is recorded)
    page.click(f"#m{message.pk} [data-action=delete]")
    page.wait_for_load_state("networkidle")
    page.fill("input[name=reason]", "illegal content")
    page.click("button.danger:has-text('Delete')")
    page.wait_for_load_state("networkidle")
    message.refresh_from_db()
    assert message.moderation_state == "deleted"
    from dandelion.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="inbox.moderate.delete").exists()


def test_resolve_after_a_failed_reply_warns_and_needs_confirmation(page, inbox, deliver):
    from dandelion.inbox import services

    conv = _conversation(inbox, deliver, "Bonjour, où est mon colis ?", id="fail-1", name="Lucie Roux")
    services.assign_conversation(conv, assignee=inbox.users.fr_agent, actor=inbox.users.fr_admin)
    reply = services.reply_to_conversation(conv, text="Bonjour Lucie, je regarde.", actor=inbox.users.fr_agent)
    type(reply).objects.filter(pk=reply.pk).update(delivery_status="failed", delivery_error="network said no")
    login(page, "fragent")
    page.goto(conv.get_absolute_url())
    page.click("button.primary:has-text('Resolve')")
    page.wait_for_selector(".unsent-reply")
    settled(page)
    assert "failed to send" in page.inner_text(".unsent-reply")
    shot(page, "workspace-resolve-unsent")
    conv.refresh_from_db()
    assert conv.status == "open"
    page.click("button:has-text('Resolve anyway')")
    page.wait_for_selector(".unsent-reply", state="detached")
    settled(page)
    conv.refresh_from_db()
    assert conv.status == "resolved"


def test_a_tag_too_long_is_refused_and_the_input_kept(page, inbox, deliver):
    conv = _conversation(inbox, deliver, "Bonjour, ma commande ?", id="tag-1", name="Paul Petit")
    login(page, "fragent")
    page.goto(conv.get_absolute_url())
    typed = "livraison, " + "x" * 300 + ", urgent"
    page.fill("input[name=add]", typed)
    page.click("button:has-text('Tag')")
    page.wait_for_selector("#conversation .msg.error")
    settled(page)
    error = page.inner_text("#conversation .msg.error")
    assert "300 characters" in error and "at most 60" in error
    assert "Tags saved" not in page.inner_text("#conversation")
    assert page.input_value("input[name=add]") == typed  # nothing the agent typed is lost
    assert not conv.tags.exists()
    shot(page, "workspace-tag-too-long")


def test_resolving_offers_the_next_conversation(page, inbox, deliver):
    from dandelion.inbox import services

    first = _conversation(inbox, deliver, "Bonjour, question 1 ?", id="next-1", name="Anne Un")
    second = _conversation(inbox, deliver, "Bonjour, question 2 ?", id="next-2", name="Bruno Deux")
    for conv in (first, second):
        services.assign_conversation(conv, assignee=inbox.users.fr_agent, actor=inbox.users.fr_admin)
    login(page, "fragent")
    page.goto(first.get_absolute_url())
    page.check("input[name=no_reply_needed]")
    page.click("button.primary:has-text('Resolve')")
    page.wait_for_selector("#next-conversation")
    assert "Bruno Deux" in page.inner_text("#next-conversation")
    page.click("#next-conversation")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(second.get_absolute_url())
    wait_for(page, "document.querySelector('h1').innerText.includes('Bruno Deux')")

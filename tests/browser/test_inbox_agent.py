"""In real Chromium: a French helper agent opens the queue, takes a conversation and answers it with a canned
response; the customer's message is then answered, the SLA hit, and the reply went out through the connector."""

import pytest

from tests.browser.conftest import login, settled, shot, wait_for
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_takes_and_answers_with_canned_response(page, inbox, deliver):
    from dandelion.connectors import fake
    from dandelion.inbox import services
    from dandelion.inbox.models import Conversation
    from dandelion.routing.models import AppliedSla

    deliver(inbox.fr_account, event("Bonjour, mon colis est perdu, je veux un remboursement !", id="fr-b1",
                                    author="u-fr", name="Camille Martin", language="fr"))
    deliver(inbox.fr_account, event("ሰላም ትዕዛዜ የት ነው?", id="am-b1", author="u-am", name="Abebe Kebede",
                                    language="am"))
    services.create_canned_response(unit=inbox.france, title="Colis perdu", shortcut="colis", language="fr",
                                    body="Bonjour {contact_name}, nous sommes désolés : {agent_name} s'en occupe.",
                                    actor=inbox.users.fr_admin)
    conv = Conversation.objects.get(messages__external_id="fr-b1")
    # round robin gave it to one of the two French helpers: make it the colleague's, so fragent takes it over
    services.assign_conversation(conv, assignee=inbox.users.fr_agent2, actor=inbox.users.fr_admin)

    login(page, "fragent")
    page.goto("/inbox/")
    page.click(f"nav.tabs a[href='?tab=team-{inbox.fr_team.pk}']")
    page.wait_for_load_state("networkidle")
    queue = page.inner_text("#queue-table")
    assert "Camille Martin" in queue
    assert "Abebe Kebede" not in queue  # the Amharic thread went to the vendor's queue, not to the French helpers
    shot(page, "inbox-queue-agent")

    page.click("main a:has-text('Camille Martin')")
    page.wait_for_load_state("networkidle")
    assert "remboursement" in page.inner_text("main")
    page.fill("input[name=reason]", "I know this customer")
    page.click("button:has-text('Take ownership')")
    page.wait_for_selector("button:has-text('Take ownership')", state="detached")  # HTMX swapped the pane
    settled(page)
    assert "Assignee\nfragent\n" in page.inner_text("#conversation dl.props") + "\n"

    page.select_option("#id_canned_response", label="Colis perdu (colis)")
    wait_for(page,
             "document.querySelector('#reply-text textarea').value.includes('Bonjour Camille Martin')")
    page.click("button:has-text('Send reply')")
    wait_for(page, "document.querySelector('#conversation').innerText.includes('s\\'en occupe')")
    shot(page, "inbox-conversation-answered")

    conv.refresh_from_db()
    assert conv.assignee.username == "fragent"
    assert conv.first_response_at is not None and not conv.needs_reply
    assert AppliedSla.objects.get(conversation=conv, metric="first_response").status == "hit"
    # the worker sends it through the account's connector; the agent then sees it delivered
    from dandelion.inbox.jobs import deliver_reply

    reply = conv.messages.get(direction="outbound")
    assert deliver_reply.call(reply.pk) == "sent"
    page.reload()
    assert "Sent" in page.inner_text(f"#m{reply.pk}")
    shot(page, "inbox-reply-sent")
    assert [r.reply.text for r in fake.STORE.replies if r.account_id == inbox.fr_account.pk] == [
        "Bonjour Camille Martin, nous sommes désolés : fragent s'en occupe."]


def test_a_refused_reply_is_shown_not_lost(page, inbox, deliver):
    """The account's connector stops being able to send replies while the agent types (the composer says so up
    front when it already cannot, tests/browser/test_inbox_workspace.py): the agent sees why, and the text stays in
    the box."""
    from dandelion.inbox.models import Conversation

    deliver(inbox.fr_account, event("Bonjour, où est ma commande ?", id="fr-b2", author="u-fr2", name="Lucie Roux",
                                    language="fr"))
    conv = Conversation.objects.get(messages__external_id="fr-b2")
    login(page, "fragent")
    page.goto(conv.get_absolute_url())
    page.fill("#reply-text textarea", "Bonjour Lucie, je regarde.")
    inbox.fr_account.connector = "generic"  # no reply_webhook_url: inbound only
    inbox.fr_account.save(update_fields=["connector"])
    page.click("button:has-text('Send reply')")
    page.wait_for_selector("#conversation .msg.error")
    assert "cannot send replies" in page.inner_text("#conversation .msg.error")
    assert page.input_value("#reply-text textarea") == "Bonjour Lucie, je regarde."
    shot(page, "inbox-reply-refused")
    assert not conv.messages.filter(direction="outbound").exists()

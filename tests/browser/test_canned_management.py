"""In real Chromium (issue 16, canned responses): a hub admin creates an answer with variables (a typo in a
placeholder is refused with a clear error), edits it; a French agent inserts it from the reply box with the
customer's and their own name filled; deleting asks first (dismissed: nothing deleted; accepted: deleted)."""

import pytest

from tests.browser.conftest import login, settled, shot, wait_for
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_edit_insert_and_delete_with_confirmation(page, inbox, deliver):
    from dandelion.core.models import AuditEvent
    from dandelion.inbox.models import CannedResponse, Conversation

    deliver(inbox.fr_account, event("Bonjour, où en est ma commande ?", id="cn-1", author="u-cn",
                                    name="Paul Lefèvre", language="fr"))
    conv = Conversation.objects.get(messages__external_id="cn-1")

    login(page, "hubadmin")
    page.goto("/inbox/canned/new/")
    page.select_option("#id_unit", label="Group hub")
    page.fill("#id_title", "Suivi commande")
    page.fill("#id_shortcut", "suivi")
    page.fill("#id_language", "fr")
    page.fill("#id_body", "Bonjour {prenom}, je regarde votre commande.")
    page.click("button.primary:has-text('Save')")
    page.wait_for_load_state("networkidle")
    assert "Unknown placeholder" in page.inner_text("main") and "{contact_name}" in page.inner_text("main")
    shot(page, "canned-placeholder-error")
    page.fill("#id_body", "Bonjour {contact_name}, {agent_name} regarde votre commande.")
    page.click("button.primary:has-text('Save')")
    page.wait_for_load_state("networkidle")
    assert "Suivi commande" in page.inner_text("#canned-table")
    canned = CannedResponse.objects.get()
    page.goto(canned.get_absolute_url())
    page.fill("#id_title", "Suivi de commande")
    page.click("button.primary:has-text('Save')")
    page.wait_for_load_state("networkidle")
    assert "Suivi de commande" in page.inner_text("#canned-table")
    page.context.clear_cookies()

    # shared down the tree: the French agent finds the hub's answer in the reply box, filled in
    login(page, "fragent")
    page.goto(conv.get_absolute_url())
    page.select_option("#id_canned_response", label="Suivi de commande (suivi)")
    wait_for(page, "document.querySelector('#reply-text textarea').value.includes('Bonjour Paul Lefèvre')")
    assert "fragent regarde votre commande." in page.input_value("#reply-text textarea")
    shot(page, "canned-inserted-in-reply")
    page.context.clear_cookies()

    login(page, "hubadmin")
    page.goto(canned.get_absolute_url())
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.click("button.danger:has-text('Delete')")
    settled(page)
    assert dialogs == ["Delete this canned response?"] and CannedResponse.objects.filter(pk=canned.pk).exists()
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.click("button.danger:has-text('Delete')")
    page.wait_for_load_state("networkidle")
    assert not CannedResponse.objects.exists()
    assert AuditEvent.objects.filter(action="inbox.canned.delete").count() == 1
    shot(page, "canned-deleted")

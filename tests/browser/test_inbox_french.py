"""In real Chromium: a helper agent whose profile says French works the inbox in French (queue, tabs, conversation
page, SLA badge, the action's confirmation)."""

import pytest

from dandelion.core.models import UserProfile
from tests.browser.conftest import login, settled, shot
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_french_agent_works_the_inbox_in_french(page, inbox, deliver):
    from dandelion.inbox import services
    from dandelion.inbox.models import Conversation

    deliver(inbox.fr_account, event("Bonjour, mon colis est perdu !", id="fr-i18n-1", author="u-fr",
                                    name="Camille Martin", language="fr"))
    conv = Conversation.objects.get(messages__external_id="fr-i18n-1")
    services.assign_conversation(conv, assignee=inbox.users.fr_agent2, actor=inbox.users.fr_admin)
    UserProfile.objects.update_or_create(user=inbox.users.fr_agent, defaults={"language": "fr"})

    login(page, "fragent")
    page.goto("/inbox/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "fr"
    main = page.inner_text("main")
    assert "Boîte de réception" in main and "Mes conversations" in main and "Réponses types" in main
    page.click(f"nav.tabs a[href='?tab=team-{inbox.fr_team.pk}']")
    page.wait_for_load_state("networkidle")
    queue = page.inner_text("#queue-table").lower()  # the headers are styled in capitals
    assert "client" in queue and "dernier message" in queue and "camille martin" in queue
    assert "customer" not in queue
    shot(page, "inbox-queue-french")

    page.click("main a:has-text('Camille Martin')")
    page.wait_for_load_state("networkidle")
    pane = page.inner_text("#conversation").lower()
    assert "statut" in pane and "responsable" in pane and "historique" in pane and "ouverte" in pane
    assert "restantes" in page.inner_text("#conversation dl.props")  # the SLA badge's time left
    page.click("button:has-text('Prendre en charge')")
    page.wait_for_selector("button:has-text('Prendre en charge')", state="detached")
    settled(page)
    assert "Vous avez désormais cette conversation en charge." in page.inner_text("main")
    assert "Envoyer la réponse" in page.inner_text("#conversation")
    shot(page, "inbox-conversation-french")
    conv.refresh_from_db()
    assert conv.assignee == inbox.users.fr_agent


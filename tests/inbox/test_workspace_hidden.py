"""Issue 16, below the browser: hidden conversations (a status, a tab, unhide, audited, clocks stopped) and the
composer that says at once when the account cannot send replies."""

import pytest
from django.urls import reverse

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.inbox import services
from dandelion.inbox.exceptions import InvalidTransition
from dandelion.inbox.models import Conversation
from dandelion.routing.models import AppliedSla
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(inbox, deliver):
    deliver(inbox.fr_account, event("Achetez des abonnés pas chers", id="hid-1", author="u-spam", name="Spam Bot",
                                    language="fr"))
    return Conversation.objects.get(messages__external_id="hid-1")


def _running(conversation):
    return AppliedSla.objects.filter(conversation=conversation, status="active").count()


def test_hiding_stops_the_clocks_leaves_the_queue_and_is_audited(inbox, conv):
    assert _running(conv) > 0 and conv.sla_due_at is not None
    services.hide_conversation(conv, actor=inbox.users.fr_agent, reason="spam")
    conv.refresh_from_db()
    assert conv.status == "hidden" and conv.sla_due_at is None
    assert _running(conv) == 0
    assert set(AppliedSla.objects.filter(conversation=conv).values_list("status", flat=True)) == {"cancelled"}
    entry = AuditEvent.objects.filter(action="inbox.hide").latest("id")
    assert entry.changes["status"] == ["open", "hidden"] and entry.changes["reason"] == [None, "spam"]
    assert entry.actor == inbox.users.fr_agent
    with pytest.raises(InvalidTransition):
        services.hide_conversation(conv, actor=inbox.users.fr_agent)
    with pytest.raises(InvalidTransition, match="unhide"):
        services.reopen_conversation(conv, actor=inbox.users.fr_agent)


def test_unhide_brings_it_back_open_with_its_clocks(inbox, conv):
    services.hide_conversation(conv, actor=inbox.users.fr_agent)
    services.unhide_conversation(conv, actor=inbox.users.fr_cm)
    conv.refresh_from_db()
    assert conv.status == "open" and _running(conv) > 0 and conv.sla_due_at is not None
    assert AuditEvent.objects.filter(action="inbox.unhide").latest("id").changes["status"] == ["hidden", "open"]
    with pytest.raises(InvalidTransition):
        services.unhide_conversation(conv, actor=inbox.users.fr_cm)


@pytest.mark.parametrize("who, allowed", [
    ("fr_agent", True), ("fr_cm", True), ("fr_admin", True), ("hub_admin", True),
    ("es_agent", False), ("es_admin", False), ("moderator", False), ("analyst", False), ("nobody", False),
])
def test_hide_and_unhide_permission_matrix(inbox, conv, client_for, who, allowed):
    user = getattr(inbox.users, who)
    if not allowed:
        with pytest.raises(PermissionDeniedError):
            services.hide_conversation(conv, actor=user)
    response = client_for(user).post(reverse("inbox:conversation-action", args=[conv.pk, "hide"]))
    conv.refresh_from_db()
    if allowed:
        assert response.status_code == 302 and conv.status == "hidden"
        response = client_for(user).post(reverse("inbox:conversation-action", args=[conv.pk, "unhide"]))
        conv.refresh_from_db()
        assert response.status_code == 302 and conv.status == "open"
    else:  # out of scope: 404; in view scope without the right (the analyst): the page again, with the refusal
        assert response.status_code in (302, 403, 404) and conv.status == "open"
        services.hide_conversation(conv, actor=inbox.users.fr_agent)
        response = client_for(user).post(reverse("inbox:conversation-action", args=[conv.pk, "unhide"]),
                                         HTTP_HX_REQUEST="true")
        conv.refresh_from_db()
        assert response.status_code in (403, 404) and conv.status == "hidden"


def test_the_hidden_tab_lists_hidden_conversations_and_the_others_do_not(inbox, conv, deliver, client_for):
    deliver(inbox.fr_account, event("Bonjour, mon colis ?", id="hid-2", author="u-real", name="Vraie Cliente",
                                    language="fr"))
    services.hide_conversation(conv, actor=inbox.users.fr_agent)
    client = client_for(inbox.users.fr_agent)
    url = reverse("inbox:queue")
    hidden = client.get(url, {"tab": "hidden"})
    assert hidden.status_code == 200
    text = hidden.content.decode()
    assert "Spam Bot" in text and "Vraie Cliente" not in text
    tabs = {key: count for key, _label, count in hidden.context["tabs"]}
    assert tabs["hidden"] == "1" and tabs["all"] == "1"
    for tab in ("all", f"team-{inbox.fr_team.pk}"):
        text = client.get(url, {"tab": tab}).content.decode()
        assert "Vraie Cliente" in text and "Spam Bot" not in text, tab
    assert "Spam Bot" not in client.get(url, {"tab": "unassigned"}).content.decode()
    # an unknown tab opens "All in my scope", not the hidden tab (the last one)
    assert client.get(url, {"tab": "nope"}).context["tab"] == "all"


def test_a_visible_new_message_opens_a_hidden_conversation_and_the_sweep_leaves_it_alone(inbox, conv, deliver):
    from dandelion.inbox.sweep import sweep

    services.hide_conversation(conv, actor=inbox.users.fr_agent)
    assert conv.pk not in sweep(minutes=0)
    conv.refresh_from_db()
    assert conv.status == "hidden" and conv.sla_due_at is None
    deliver(inbox.fr_account, event("Pardon, vraie question : où est ma commande ?", id="hid-3", author="u-spam",
                                    name="Spam Bot", kind="reply", in_reply_to="hid-1", language="fr"))
    conv.refresh_from_db()
    assert conv.status == "open"


def test_the_api_refuses_to_reopen_a_hidden_conversation(inbox, conv, api_for):
    services.hide_conversation(conv, actor=inbox.users.fr_agent)
    response = api_for(inbox.users.fr_agent).post(f"/api/v1/conversations/{conv.pk}/reopen/", {}, format="json")
    assert response.status_code == 400 and "unhide" in response.json()["detail"]


def test_the_composer_says_when_the_account_cannot_send_replies(inbox, conv, client_for):
    client = client_for(inbox.users.fr_agent)
    page = client.get(conv.get_absolute_url()).content.decode()
    assert 'id="cannot-send"' not in page and 'name="text"' in page  # the fake connector sends replies
    inbox.fr_account.connector = "generic"  # the default connector, without a reply webhook
    inbox.fr_account.connector_config = {}
    inbox.fr_account.save(update_fields=["connector", "connector_config"])
    page = client.get(conv.get_absolute_url()).content.decode()
    assert 'id="cannot-send"' in page and "Replies cannot be sent from @brand_fr" in page
    assert 'placeholder="Write a reply' not in page  # no box to type into for nothing
    assert "Add note" in page  # notes still work


def test_spam_hidden_by_a_rule_from_its_first_message_lands_in_the_hidden_tab_without_a_clock(inbox, deliver):
    from dandelion.routing.services import create_routing_rule

    create_routing_rule(actor=inbox.users.hub_admin, unit=inbox.hub, name="Spam → hide",
                        conditions={"field": "keywords", "op": "any", "value": ["free followers"]},
                        actions={"hide": True, "add_tags": ["spam"]})
    deliver(inbox.fr_account,
            event("FREE FOLLOWERS!!! click now", id="auto-sp1", author="bot-9"),
            event("Bonjour, où est ma commande ?", id="auto-ok1", author="u-ok9", language="fr"))
    spam = Conversation.objects.get(messages__external_id="auto-sp1")
    real = Conversation.objects.get(messages__external_id="auto-ok1")
    assert spam.status == "hidden" and spam.sla_due_at is None and spam.assignee is None
    assert _running(spam) == 0
    assert real.status == "open" and _running(real) > 0  # the customer's conversation is untouched
    assert spam.events.filter(kind="status", data__to="hidden").exists()
    # the spammer writing again, hidden again: still hidden
    deliver(inbox.fr_account, event("FREE FOLLOWERS again", id="auto-sp2", author="bot-9", kind="reply",
                                    in_reply_to="auto-sp1"))
    spam.refresh_from_db()
    assert spam.status == "hidden" and _running(spam) == 0


@pytest.mark.parametrize("who, status", [("fr_agent", 200), ("fr_cm", 200), ("es_agent", 404), ("analyst", 403),
                                         ("moderator", 404)])
def test_the_api_hides_and_unhides_a_conversation(inbox, conv, api_for, who, status):
    api = api_for(getattr(inbox.users, who))
    response = api.post(f"/api/v1/conversations/{conv.pk}/hide-conversation/", {"reason": "spam"}, format="json")
    assert response.status_code == status
    conv.refresh_from_db()
    if status == 200:
        assert response.json()["status"] == "hidden" and conv.status == "hidden"
        response = api.post(f"/api/v1/conversations/{conv.pk}/unhide-conversation/", {}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "open"
    else:
        assert conv.status == "open"

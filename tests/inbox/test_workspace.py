"""The workspace's safety rails below the browser (issue 16): services and API refuse what the UI confirms."""

import pytest

from dandelion.inbox import services
from dandelion.inbox.exceptions import InboxError, UnsentReply
from dandelion.inbox.models import Conversation
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(inbox, deliver):
    deliver(inbox.fr_account, event("Bonjour, où est mon colis ?", id="ws-1", author="u-ws", name="Lucie Roux",
                                    language="fr"))
    conversation = Conversation.objects.get(messages__external_id="ws-1")
    services.assign_conversation(conversation, assignee=inbox.users.fr_agent, actor=inbox.users.fr_admin)
    return conversation


def _failed_reply(conv, user):
    reply = services.reply_to_conversation(conv, text="Bonjour Lucie.", actor=user)
    type(reply).objects.filter(pk=reply.pk).update(delivery_status="failed")
    return reply


def test_resolve_after_failed_reply_needs_confirmation(inbox, conv):
    _failed_reply(conv, inbox.users.fr_agent)
    with pytest.raises(UnsentReply):
        services.resolve_conversation(conv, actor=inbox.users.fr_agent)
    conv.refresh_from_db()
    assert conv.status == "open"
    services.resolve_conversation(conv, actor=inbox.users.fr_agent, confirm_unsent_reply=True)
    conv.refresh_from_db()
    assert conv.status == "resolved"
    from dandelion.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="inbox.resolve").latest("id").changes["resolved_with_unsent_reply"] == [
        False, True]


def test_resolve_after_failed_then_sent_reply_needs_no_confirmation(inbox, conv):
    _failed_reply(conv, inbox.users.fr_agent)
    reply = services.reply_to_conversation(conv, text="Re-bonjour.", actor=inbox.users.fr_agent,
                                           confirm_collision=True)
    type(reply).objects.filter(pk=reply.pk).update(delivery_status="sent")
    services.resolve_conversation(conv, actor=inbox.users.fr_agent)
    conv.refresh_from_db()
    assert conv.status == "resolved"


def test_api_resolve_answers_409_then_accepts_confirmation(inbox, conv, api_for):
    _failed_reply(conv, inbox.users.fr_agent)
    api = api_for(inbox.users.fr_agent)
    response = api.post(f"/api/v1/conversations/{conv.pk}/resolve/", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "unsent_reply"
    response = api.post(f"/api/v1/conversations/{conv.pk}/resolve/", {"confirm_unsent_reply": True}, format="json")
    assert response.status_code == 200


def test_a_tag_too_long_is_refused_not_cut(inbox, conv):
    with pytest.raises(InboxError, match="300 characters"):
        services.tag_conversation(conv, actor=inbox.users.fr_agent, add=["ok", "x" * 300])
    assert not conv.tags.exists()


def test_delete_without_confirmation_is_redirected_to_the_confirmation_page(inbox, conv, client_for):
    message = conv.messages.get(external_id="ws-1")
    client = client_for(inbox.users.fr_cm)
    response = client.post(f"/inbox/conversations/{conv.pk}/moderate/", {"message": message.pk, "action": "delete"})
    assert response.status_code == 302 and response["Location"].endswith(f"/messages/{message.pk}/delete/")
    message.refresh_from_db()
    assert message.moderation_state == "visible"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Hide instead" in page.content
    # someone without the moderation permission gets no confirmation page
    assert client_for(inbox.users.analyst).get(response["Location"]).status_code in (403, 404)


def test_the_tag_length_limit_is_the_columns():
    from dandelion.inbox.models import Tag
    from dandelion.inbox.services import TAG_MAX_LENGTH

    assert Tag._meta.get_field("name").max_length == TAG_MAX_LENGTH

"""Issue 16, below the browser: a helper escalates a conversation to PR by hand (reason required, audited, once),
the PR manager finds it in the Escalated tab, and the ownership list names whoever owns the conversation, even
someone outside its team."""

import pytest
from django.utils import translation

from dandelion.core.exceptions import DandelionError, PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.inbox import services
from dandelion.inbox.exceptions import InvalidTransition
from dandelion.inbox.models import Conversation
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(inbox, deliver):
    deliver(inbox.fr_account, event("Journaliste : un commentaire sur l'incendie ?", id="esc-1", author="u-press",
                                    name="Claire Presse", language="fr"))
    return Conversation.objects.get(messages__external_id="esc-1")


def test_escalating_needs_a_reason_is_audited_and_happens_once(inbox, conv):
    with pytest.raises(DandelionError) as refused:
        services.escalate_to_pr(conv, actor=inbox.users.fr_agent, reason="  ")
    assert refused.value.field == "reason"
    conv.refresh_from_db()
    assert not conv.escalated
    services.escalate_to_pr(conv, actor=inbox.users.fr_agent, reason="a journalist asks for a statement")
    conv.refresh_from_db()
    assert conv.escalated and conv.team == inbox.fr_team  # the helpers keep it
    entry = AuditEvent.objects.get(action="inbox.escalate")
    assert entry.actor == inbox.users.fr_agent
    assert entry.changes == {"escalated": [False, True], "reason": [None, "a journalist asks for a statement"]}
    assert conv.events.filter(kind="escalated", data__reason="a journalist asks for a statement").count() == 1
    with pytest.raises(InvalidTransition), translation.override("fr"):
        services.escalate_to_pr(conv, actor=inbox.users.fr_agent, reason="again")
    assert AuditEvent.objects.filter(action="inbox.escalate").count() == 1


@pytest.mark.parametrize(("who", "allowed"), [
    ("fr_agent", True), ("fr_admin", True), ("hub_admin", True), ("pr", True), ("fr_cm", True),
    ("es_agent", False), ("es_admin", False), ("moderator", False), ("analyst", False), ("nobody", False),
])
def test_who_may_escalate(inbox, conv, who, allowed):
    actor = getattr(inbox.users, who)
    if allowed:
        services.escalate_to_pr(conv, actor=actor, reason="press")
        conv.refresh_from_db()
        assert conv.escalated
    else:
        with pytest.raises(PermissionDeniedError):
            services.escalate_to_pr(conv, actor=actor, reason="press")
        assert not Conversation.objects.get(pk=conv.pk).escalated


def test_the_page_escalates_and_the_pr_manager_finds_and_owns_it(inbox, conv, client_for):
    helper = client_for(inbox.users.fr_agent)
    page = helper.get(conv.get_absolute_url()).content.decode()
    assert 'data-action="escalate"' in page
    response = helper.post(f"/inbox/conversations/{conv.pk}/escalate/", {"reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Say why PR should follow" in response.content.decode()
    response = helper.post(f"/inbox/conversations/{conv.pk}/escalate/", {"reason": "press"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-action="escalate"' not in response.content.decode()

    pr = client_for(inbox.users.pr)
    assert "Claire Presse" in pr.get("/inbox/?tab=escalated").content.decode()
    pr.post(f"/inbox/conversations/{conv.pk}/take/", {})
    page = pr.get(conv.get_absolute_url()).content.decode()
    # the ownership list names her (she is not in the helpers' team), not "— nobody —"
    assert f'<option value="{inbox.users.pr.pk}" selected>pr</option>' in page
    # the analyst reads the conversation but has no escalate button
    assert 'data-action="escalate"' not in client_for(inbox.users.analyst).get(conv.get_absolute_url()).content.decode()

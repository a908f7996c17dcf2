"""Issue 16: bulk actions on the queue (each conversation permission-checked and audited on its own, destructive
ones confirmed with how many, a count of what was done and refused) and the live queue (the poll refreshes the
table and every tab's count, in a pinned number of queries)."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dandelion.core.models import AuditEvent
from dandelion.inbox import services
from dandelion.inbox.models import Conversation
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
BULK = reverse("inbox:bulk")


@pytest.fixture
def convs(inbox, deliver):
    """Two French conversations (FR helpers) and one Spanish one (ES helpers)."""
    deliver(inbox.fr_account, event("Bonjour, mon colis ?", id="b-fr1", author="u-b1", name="Alice Un",
                                    language="fr"),
            event("Bonjour, ma facture ?", id="b-fr2", author="u-b2", name="Bruno Deux", language="fr"))
    deliver(inbox.es_account, event("Hola, ¿mi pedido?", id="b-es1", author="u-b3", name="Carmen Tres",
                                    language="es"))
    return [Conversation.objects.get(messages__external_id=x) for x in ("b-fr1", "b-fr2", "b-es1")]


def _flash(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_resolve_is_confirmed_first_with_the_count_then_done_and_audited(inbox, convs, client_for):
    fr1, fr2, _es1 = convs
    client = client_for(inbox.users.fr_agent)
    data = {"action": "resolve", "ids": [fr1.pk, fr2.pk], "next": "?tab=all"}
    page = client.post(BULK, data)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Resolve: 2 conversations?" in text and "Alice Un" in text and "Bruno Deux" in text
    assert set(Conversation.objects.filter(pk__in=[fr1.pk, fr2.pk]).values_list("status", flat=True)) == {"open"}
    response = client.post(BULK, data | {"confirmed": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("inbox:queue") + "?tab=all"
    assert "Resolve: 2 conversations done." in _flash(response)
    assert set(Conversation.objects.filter(pk__in=[fr1.pk, fr2.pk]).values_list("status", flat=True)) == {
        "resolved"}
    assert AuditEvent.objects.filter(action="inbox.resolve").count() == 2
    summary = AuditEvent.objects.get(action="inbox.bulk")
    assert summary.changes["done"] == [None, [fr1.pk, fr2.pk]] and summary.unit == inbox.france


def test_each_conversation_is_checked_on_its_own_and_refusals_are_counted(inbox, convs, client_for):
    fr1, fr2, es1 = convs
    services.hide_conversation(fr2, actor=inbox.users.fr_agent)
    response = client_for(inbox.users.fr_agent).post(
        BULK, {"action": "unhide", "ids": [fr1.pk, fr2.pk, es1.pk]})
    flashes = _flash(response)
    assert "Unhide: 1 conversation done." in flashes
    refused = next(m for m in flashes if "refused" in m)
    assert refused.startswith("2 refused") and f"#{fr1.pk}: The conversation is not hidden." in refused
    assert f"#{es1.pk}: not found in your scope" in refused  # a Spanish conversation: not even visible
    fr2.refresh_from_db()
    es1.refresh_from_db()
    assert fr2.status == "open" and es1.status == "open"
    changes = AuditEvent.objects.get(action="inbox.bulk").changes
    assert changes["done"] == [None, [fr2.pk]] and set(changes["refused"][1]) == {str(fr1.pk), str(es1.pk)}


def test_a_failed_reply_is_not_resolved_in_bulk(inbox, convs, client_for):
    fr1, fr2, _ = convs
    reply = services.reply_to_conversation(fr1, text="Bonjour Alice.", actor=inbox.users.fr_agent)
    type(reply).objects.filter(pk=reply.pk).update(delivery_status="failed")
    response = client_for(inbox.users.fr_agent).post(
        BULK, {"action": "resolve", "ids": [fr1.pk, fr2.pk], "confirmed": "1"})
    assert any("failed to send" in m for m in _flash(response))
    fr1.refresh_from_db()
    fr2.refresh_from_db()
    assert fr1.status == "open" and fr2.status == "resolved"


def test_assign_move_team_and_hide(inbox, convs, client_for):
    fr1, fr2, _ = convs
    admin = client_for(inbox.users.fr_admin)
    admin.post(BULK, {"action": "assign", "ids": [fr1.pk, fr2.pk], "assignee": inbox.users.fr_agent2.pk})
    assert set(Conversation.objects.filter(pk__in=[fr1.pk, fr2.pk]).values_list("assignee", flat=True)) == {
        inbox.users.fr_agent2.pk}
    # a team outside the user's scope is no team; moving needs a reason; without them nothing moves
    response = admin.post(BULK, {"action": "move_team", "ids": [fr1.pk], "team": inbox.vendor_team.pk,
                                 "reason": "x", "confirmed": "1"})
    assert "Choose the team to move the conversations to." in _flash(response)
    hub = client_for(inbox.users.hub_admin)
    response = hub.post(BULK, {"action": "move_team", "ids": [fr1.pk], "team": inbox.vendor_team.pk,
                               "confirmed": "1"})
    assert any("needs a reason" in m for m in _flash(response))
    fr1.refresh_from_db()
    assert fr1.team == inbox.fr_team
    page = hub.post(BULK, {"action": "move_team", "ids": [fr1.pk], "team": inbox.vendor_team.pk,
                           "reason": "Amharic in fact"})
    assert "ModCo moderation" in page.content.decode() and "1 conversation?" in page.content.decode()
    hub.post(BULK, {"action": "move_team", "ids": [fr1.pk], "team": inbox.vendor_team.pk,
                    "reason": "Amharic in fact", "confirmed": "1"})
    fr1.refresh_from_db()
    assert fr1.team == inbox.vendor_team and fr1.assignee is None
    admin.post(BULK, {"action": "hide", "ids": [fr2.pk], "reason": "spam", "confirmed": "1"})
    fr2.refresh_from_db()
    assert fr2.status == "hidden"


@pytest.mark.parametrize("who, done", [
    ("fr_agent", 2), ("fr_cm", 2), ("fr_admin", 2), ("europe_admin", 2), ("hub_admin", 2),
    ("es_agent", 0), ("es_admin", 0), ("moderator", 0), ("analyst", 0), ("nobody", 0),
])
def test_bulk_permission_matrix(inbox, convs, client_for, who, done):
    fr1, fr2, _ = convs
    user = getattr(inbox.users, who)
    response = client_for(user).post(BULK, {"action": "hide", "ids": [fr1.pk, fr2.pk], "confirmed": "1"})
    assert response.status_code == 302
    hidden = Conversation.objects.filter(pk__in=[fr1.pk, fr2.pk], status="hidden").count()
    assert hidden == done
    if done == 0:
        assert any("2 refused" in m for m in _flash(response))


def test_bad_bulk_requests_change_nothing(inbox, convs, client_for):
    fr1, *_ = convs
    client = client_for(inbox.users.fr_agent)
    assert "Choose a bulk action." in _flash(client.post(BULK, {"action": "explode", "ids": [fr1.pk]}))
    assert "Tick at least one conversation." in _flash(client.post(BULK, {"action": "take", "ids": ["x"]}))
    too_many = client.post(BULK, {"action": "take", "ids": list(range(1, services.BULK_LIMIT + 2))})
    assert any("At most" in m for m in _flash(too_many))
    # the way back stays on the queue
    assert client.post(BULK, {"action": "explode", "ids": [fr1.pk], "next": "//evil.example/"})["Location"] == \
        reverse("inbox:queue")
    assert client.get(BULK).status_code == 405
    assert not AuditEvent.objects.filter(action="inbox.bulk").exists()


def test_the_queue_shows_tick_boxes_and_the_bulk_bar_only_to_those_who_can_change(inbox, convs, client_for):
    url = reverse("inbox:queue") + "?tab=all"
    agent = client_for(inbox.users.fr_agent).get(url).content.decode()
    assert 'id="bulk-form"' in agent and 'name="ids"' in agent
    analyst = client_for(inbox.users.analyst).get(url).content.decode()
    assert 'id="bulk-form"' not in analyst and 'name="ids"' not in analyst and "Alice Un" in analyst


def test_the_live_poll_refreshes_the_table_and_every_tab_count_in_pinned_queries(inbox, convs, deliver,
                                                                                 client_for):
    client = client_for(inbox.users.fr_admin)
    url = reverse("inbox:queue")
    live = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": "queue-live"}
    response = client.get(url, {"tab": "all", "status": "open"}, **live)
    text = response.content.decode()
    assert 'id="queue-tabs" aria-label="Queues" hx-swap-oob="true"' in text and "Alice Un" in text
    assert "<html" not in text  # the table and the tabs, not the page
    tabs = {k: c for k, _l, c in response.context["tabs"]}
    assert tabs["all"] == "2" and tabs["hidden"] == "0"
    # a filter change (not the poll) answers the table alone
    filtered = client.get(url, {"tab": "all", "status": "open"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="queue-tabs"' not in filtered
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"tab": "all", "status": "open"}, **live)
    deliver(inbox.fr_account, *[event(f"Bonjour {i} ?", id=f"live{i}", author=f"u-live{i}", name=f"Nouveau {i}",
                                      language="fr") for i in range(6)])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"tab": "all", "status": "open"}, **live)
    assert "Nouveau 5" in response.content.decode()  # new conversations appear without a reload
    assert {k: c for k, _l, c in response.context["tabs"]}["all"] == "8"
    assert len(many) == len(few)

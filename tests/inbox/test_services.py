"""Conversation services: replies and their delivery, collisions, ownership, handover, status, moderation,
canned responses, the sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dandelion.connectors import fake
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.inbox import services
from dandelion.inbox.choices import ConversationStatus, DeliveryStatus, EventKind, ModerationState
from dandelion.inbox.exceptions import ReasonRequired, ReplyCollision
from dandelion.inbox.jobs import deliver_reply, retry_pending_replies
from dandelion.inbox.models import CannedResponse, Conversation, ConversationEvent, Message
from dandelion.inbox.sweep import sweep
from dandelion.inbox.text import render_canned
from dandelion.routing.models import AppliedSla
from tests.inbox.conftest import ago, event

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(inbox, deliver):
    deliver(inbox.fr_account, event("Bonjour, ma commande n'est toujours pas arrivée ?", id="q1", author="u-1",
                                    name="Camille Martin", language="fr"))
    return Conversation.objects.get()


def test_agent_reply_is_sent_and_first_response_sla_is_hit(inbox, conv, django_capture_on_commit_callbacks):
    agent = inbox.users.fr_agent
    with django_capture_on_commit_callbacks() as callbacks:
        msg = services.reply_to_conversation(conv, text="Bonjour Camille, nous regardons tout de suite.", actor=agent)
    assert msg.delivery_status == DeliveryStatus.PENDING and len(callbacks) == 2  # the delivery job, the event
    conv.refresh_from_db()
    assert conv.first_response_at is not None and not conv.needs_reply
    assert AppliedSla.objects.get(conversation=conv, metric="first_response").status == "hit"
    assert Message.objects.get(external_id="q1").replied
    assert deliver_reply.call(msg.pk) == "sent"
    msg.refresh_from_db()
    assert msg.delivery_status == DeliveryStatus.SENT and msg.external_id.startswith("fake-")
    assert fake.STORE.replies[0].reply.in_reply_to == "q1"
    assert AuditEvent.objects.filter(action="inbox.reply").count() == 1


def test_temporary_failure_is_retried_permanent_failure_recorded(inbox, conv):
    agent = inbox.users.fr_agent
    fake.FakeConnector.fail_next(1, retry_after=5)
    msg = services.reply_to_conversation(conv, text="Réponse", actor=agent)
    assert deliver_reply.call(msg.pk) == "retry"
    msg.refresh_from_db()
    assert msg.delivery_status == DeliveryStatus.PENDING and msg.next_attempt_at > timezone.now()
    Message.objects.filter(pk=msg.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert retry_pending_replies.call() == 1
    msg.refresh_from_db()
    assert msg.delivery_status == DeliveryStatus.SENT and msg.delivery_attempts == 2

    fake.FakeConnector.fail_next(1, permanent=True, message="token revoked")
    msg2 = services.reply_to_conversation(conv, text="Encore", actor=agent)
    assert deliver_reply.call(msg2.pk) == "failed"
    msg2.refresh_from_db()
    inbox.fr_account.refresh_from_db()
    assert msg2.delivery_status == DeliveryStatus.FAILED and "token revoked" in msg2.delivery_error
    assert "token revoked" in inbox.fr_account.last_error


def test_collision_warning(inbox, conv):
    seen = conv.messages.order_by("-id").first().pk
    services.reply_to_conversation(conv, text="Je m'en occupe", actor=inbox.users.fr_agent2, seen_message_id=seen)
    with pytest.raises(ReplyCollision) as exc:
        services.reply_to_conversation(conv, text="Moi aussi", actor=inbox.users.fr_agent, seen_message_id=seen)
    assert "fragent2" in exc.value.message and "s ago — send anyway?" in exc.value.message
    assert exc.value.status_code == 409
    msg = services.reply_to_conversation(conv, text="Moi aussi", actor=inbox.users.fr_agent, seen_message_id=seen,
                                         confirm_collision=True)
    assert msg.pk
    # having seen the latest message, no warning
    latest = conv.messages.order_by("-id").first().pk
    services.reply_to_conversation(conv, text="Dernier mot", actor=inbox.users.fr_agent2, seen_message_id=latest)


def test_take_handover_and_history(inbox, conv):
    before = conv.assignee
    services.take_conversation(conv, actor=inbox.users.fr_cm, reason="VIP customer")
    taken = ConversationEvent.objects.filter(conversation=conv, kind=EventKind.TAKEN).get()
    assert taken.data["previous"] == (before.pk if before else None) and taken.data["reason"] == "VIP customer"
    with pytest.raises(ReasonRequired):
        services.handover_conversation(conv, to_team=inbox.es_team, reason=" ", actor=inbox.users.fr_cm)
    services.handover_conversation(conv, to_team=inbox.es_team, reason="Written in Spanish", actor=inbox.users.fr_cm)
    conv.refresh_from_db()
    assert conv.team == inbox.es_team and conv.assignee is None
    handover = ConversationEvent.objects.get(conversation=conv, kind=EventKind.HANDOVER)
    assert handover.data["reason"] == "Written in Spanish" and handover.data["from_team"] == inbox.fr_team.pk
    # the French agent has no grant on Spain's team... but France's unit still owns the account: allowed by unit
    with pytest.raises(PermissionDeniedError):
        services.take_conversation(conv, actor=inbox.users.moderator)


def test_resolve_reopen_priority_tags(inbox, conv):
    cm = inbox.users.fr_cm
    services.set_priority(conv, priority="high", actor=cm)
    services.tag_conversation(conv, add=["delivery", "vip"], actor=cm)
    services.resolve_conversation(conv, actor=cm)
    conv.refresh_from_db()
    assert conv.status == ConversationStatus.RESOLVED and conv.priority == "high"
    assert sorted(conv.tags.values_list("name", flat=True)) == ["delivery", "vip"]
    services.reopen_conversation(conv, actor=cm)
    conv.refresh_from_db()
    assert conv.status == ConversationStatus.OPEN and conv.needs_reply


def test_new_message_reopens_a_resolved_conversation(inbox, conv, deliver):
    services.reply_to_conversation(conv, text="Voilà", actor=inbox.users.fr_agent)
    services.resolve_conversation(conv, actor=inbox.users.fr_agent)
    deliver(inbox.fr_account, event("Merci mais ce n'est pas réglé ?", id="q2", author="u-1", in_reply_to="q1",
                                    language="fr"))
    conv.refresh_from_db()
    assert conv.status == ConversationStatus.OPEN and conv.needs_reply
    assert ConversationEvent.objects.filter(conversation=conv, kind=EventKind.ROUTED).count() == 2


def test_snooze_keeps_the_clocks_then_the_customer_or_the_sweep_brings_it_back(inbox, conv, deliver):
    from dandelion.inbox.exceptions import InvalidTransition

    agent = inbox.users.fr_agent
    clocks_before = list(AppliedSla.objects.filter(conversation=conv).values_list("metric", "status"))
    with pytest.raises(InvalidTransition):
        services.snooze_conversation(conv, actor=agent, until=timezone.now() - dt.timedelta(minutes=1))
    services.snooze_conversation(conv, actor=agent, until=timezone.now() + dt.timedelta(hours=2))
    conv.refresh_from_db()
    assert conv.status == ConversationStatus.SNOOZED and conv.snoozed_until is not None
    assert list(AppliedSla.objects.filter(conversation=conv).values_list("metric", "status")) == clocks_before
    assert AuditEvent.objects.filter(action="inbox.snooze").count() == 1
    with pytest.raises(PermissionDeniedError):
        services.snooze_conversation(conv, actor=inbox.users.es_agent)
    # the customer writes again: open, routed again
    deliver(inbox.fr_account, event("Toujours rien ?", id="q3", author="u-1", in_reply_to="q1", language="fr"))
    conv.refresh_from_db()
    assert conv.status == ConversationStatus.OPEN and conv.snoozed_until is None
    # snoozed with no end, swept once its messages waited too long: back in the queue
    services.snooze_conversation(conv, actor=agent)
    assert conv.id in sweep(now=timezone.now() + dt.timedelta(hours=1))
    conv.refresh_from_db()
    assert conv.status == ConversationStatus.OPEN and conv.needs_reply


def test_pending_waits_on_the_customer_whose_answer_opens_it_with_the_same_team(inbox, conv, deliver):
    from dandelion.inbox.exceptions import InvalidTransition

    agent = inbox.users.fr_agent
    services.reply_to_conversation(conv, text="Pouvez-vous nous donner le numéro de commande ?", actor=agent)
    services.mark_pending(conv, actor=agent)
    conv.refresh_from_db()
    assert conv.status == ConversationStatus.PENDING
    with pytest.raises(InvalidTransition):
        services.mark_pending(conv, actor=agent)
    team, assignee = conv.team_id, conv.assignee_id
    deliver(inbox.fr_account, event("C'est le 12345", id="q4", author="u-1", in_reply_to="q1", language="fr"))
    conv.refresh_from_db()
    assert conv.status == ConversationStatus.OPEN and conv.needs_reply
    assert (conv.team_id, conv.assignee_id) == (team, assignee)  # not routed again
    assert ConversationEvent.objects.filter(conversation=conv, kind=EventKind.ROUTED).count() == 1
    assert AppliedSla.objects.filter(conversation=conv, metric="next_response", status="active").exists()


def test_moderation_through_connector_and_locally(inbox, conv, deliver):
    msg = Message.objects.get(external_id="q1")
    services.moderate_message(msg, action="hide", actor=inbox.users.fr_agent)
    msg.refresh_from_db()
    conv.refresh_from_db()
    assert msg.moderation_state == ModerationState.HIDDEN and not conv.needs_reply
    from dandelion.inbox.jobs import run_moderation

    assert run_moderation.call(msg.pk, "hide") == "done"
    assert fake.STORE.moderation[0].result.action == "hide"
    # an account whose connector cannot moderate: hidden in Dandelion only, and the history says so
    inbox.es_account.connector = "generic"
    inbox.es_account.save(update_fields=["connector"])
    deliver(inbox.es_account, event("Hola, ¿dónde está mi pedido?", id="es1", author="u-es", language="es"))
    es_msg = Message.objects.get(external_id="es1")
    services.moderate_message(es_msg, action="hide", actor=inbox.users.es_agent)
    ev = ConversationEvent.objects.filter(conversation=es_msg.conversation, kind=EventKind.MODERATED).last()
    assert ev.data["via_connector"] is False and "Dandelion only" in ev.data["note"]


def test_canned_response_placeholders_and_translation(inbox, conv):
    canned = services.create_canned_response(
        unit=inbox.europe, title="Delay", shortcut="delay", language="en", actor=inbox.users.europe_admin,
        body="Hi {contact_name}, {agent_name} from {account_name} here.",
        translations={"fr": "Bonjour {contact_name}, {agent_name} de {account_name} ({team_name}) ici."})
    inbox.users.fr_agent.first_name, inbox.users.fr_agent.last_name = "Hugo", "Helper"
    text = render_canned(canned, conv, inbox.users.fr_agent)
    assert text == f"Bonjour Camille Martin, Hugo Helper de {inbox.fr_account.display_name} (FR helpers) ici."
    conv.language = "de"  # no German translation: the default body
    assert render_canned(canned, conv, inbox.users.fr_agent).startswith("Hi Camille Martin, Hugo Helper")
    with pytest.raises(PermissionDeniedError):
        services.create_canned_response(unit=inbox.spain, title="x", shortcut="x", body="x",
                                        actor=inbox.users.fr_admin)
    services.update_canned_response(canned, title="Delivery delay", actor=inbox.users.europe_admin)
    services.delete_canned_response(canned, actor=inbox.users.europe_admin)
    assert not CannedResponse.objects.exists()


def test_sweep_puts_unanswered_message_back(inbox, conv):
    # resolved without an answer: after the sweep delay it comes back, reopened, in front of a team
    services.resolve_conversation(conv, actor=inbox.users.fr_agent)
    Message.objects.filter(external_id="q1").update(sent_at=ago(hours=2))
    Conversation.objects.filter(pk=conv.pk).update(last_team_activity_at=ago(hours=2))
    swept = sweep()
    assert swept == [conv.pk]
    conv.refresh_from_db()
    assert conv.status == ConversationStatus.OPEN and conv.needs_reply and conv.team == inbox.fr_team
    ev = ConversationEvent.objects.get(conversation=conv, kind=EventKind.SWEPT)
    assert "was resolved" in ev.data["reasons"]
    assert sweep() == []  # idempotent


def test_sweep_reroutes_when_team_is_inactive(inbox, conv):
    Message.objects.filter(external_id="q1").update(sent_at=ago(hours=2))
    inbox.fr_team.is_active = False
    inbox.fr_team.save(update_fields=["is_active"])
    assert sweep() == [conv.pk]
    conv.refresh_from_db()
    assert conv.team is not None and conv.team != inbox.fr_team and conv.team.is_active
    assert sweep() == []


def test_sweep_leaves_answered_and_recent_messages_alone(inbox, conv):
    assert sweep() == []  # recent
    services.reply_to_conversation(conv, text="Réponse", actor=inbox.users.fr_agent)
    Message.objects.filter(external_id="q1").update(sent_at=ago(hours=2))
    assert sweep() == []  # answered

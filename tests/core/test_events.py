"""Domain events: declared types, emission on commit only, batches, isolation of a failing subscriber, and the
emissions of the existing services (assign, reply, resolve, SLA breach, account change, the pipeline's batch)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from dandelion.core import events
from dandelion.core.events import Event, EventError, dispatch, emit, emit_many
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded():
    """Every batch handed to subscribers, as lists of events."""
    batches: list[list[Event]] = []
    events.subscribe("test-recorder", lambda batch: batches.append(list(batch)))
    yield batches
    events.unsubscribe("test-recorder")


def names(batches):
    return [e.name for batch in batches for e in batch]


def an_event(org, name="account.changed", **data):
    return Event.create(name, unit=org.france, subject=org.fr_account, actor=org.users.fr_admin, data=data)


def test_the_catalogue_is_declared_by_the_apps():
    declared = events.event_types()
    assert {"conversation.created", "conversation.assigned", "conversation.answered", "conversation.resolved",
            "conversation.sla_breached", "account.changed", "webhook.test"} <= set(declared)
    for event_type in declared.values():
        assert event_type.label and event_type.subject_type and event_type.example


def test_handed_over_on_commit_only(org, recorded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        emit(an_event(org, change="update"))
        assert recorded == []  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    [[got]] = recorded
    assert got.name == "account.changed" and got.unit_path == org.france.path and got.actor_repr == "fradmin"
    assert got.as_dict()["subject"] == {"type": "assets.socialaccount", "id": str(org.fr_account.pk)}


def test_nothing_for_rolled_back_work(org, recorded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                emit(an_event(org))
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        emit(an_event(org, kept=True))
    assert [e.data for batch in recorded for e in batch] == [{"kept": True}]


def test_a_batch_is_one_hand_over(org, recorded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        emit_many([an_event(org, n=i) for i in range(5)])
        emit_many([])
    assert len(callbacks) == 1 and len(recorded) == 1 and len(recorded[0]) == 5


def test_bad_events_are_refused_at_emission(org):
    with pytest.raises(EventError, match="Unknown event type"):
        emit(an_event(org, name="nothing.happened"))
    with pytest.raises(EventError, match="plain JSON"):
        emit(an_event(org, when=dt.datetime.now()))
    with pytest.raises(EventError, match="bytes"):
        emit(an_event(org, blob="x" * (events.MAX_PAYLOAD_BYTES + 1)))
    with pytest.raises(EventError):
        events.register_type("NoDot", "Bad")


def test_a_failing_subscriber_does_not_stop_the_others(org, recorded, caplog):
    def broken(batch):
        from dandelion.core.models import AuditEvent

        AuditEvent.objects.create(action="half-done", unit_path="/")  # rolled back with the subscriber
        raise ValueError("subscriber bug")

    events.subscribe("test-broken", broken)
    try:
        outcome = dispatch([an_event(org)])
    finally:
        events.unsubscribe("test-broken")
    assert outcome["test-broken"] is False and outcome["test-recorder"] is True
    assert len(recorded) == 1
    assert "subscriber test-broken failed" in caplog.text
    from dandelion.core.models import AuditEvent

    assert not AuditEvent.objects.filter(action="half-done").exists()


# --- emissions of the existing services ----------------------------------------------------------------------


def test_account_changes_emit(org, recorded, django_capture_on_commit_callbacks):
    from dandelion.assets import services

    with django_capture_on_commit_callbacks(execute=True):
        services.update_account(org.fr_account, actor=org.users.fr_admin, notes="hello")
        services.update_account(org.fr_account, actor=org.users.fr_admin, notes="hello")  # no change: no event
        services.transfer_account(org.fr_account, to_unit=org.spain, actor=org.users.europe_admin, reason="moved")
        services.archive_account(org.fr_account, actor=org.users.europe_admin)
        services.restore_account(org.fr_account, actor=org.users.europe_admin)
        services.set_account_credentials(org.fr_account, credentials={"token": "s3cret"}, expires_at=None,
                                         actor=org.users.europe_admin)
    changes = [e.data["change"] for batch in recorded for e in batch]
    assert changes == ["update", "transfer", "archive", "restore", "credentials"]
    transfer = recorded[1][0]
    assert transfer.unit_id == org.spain.pk and transfer.data["from_unit_id"] == org.france.pk
    assert "s3cret" not in str([e.as_dict() for batch in recorded for e in batch])


def test_conversation_services_emit(inbox, deliver, recorded, django_capture_on_commit_callbacks):
    from dandelion.inbox import services
    from dandelion.inbox.models import Conversation

    with django_capture_on_commit_callbacks(execute=True):
        deliver(inbox.fr_account, event("Bonjour, ma commande est perdue", id="c1", language="fr"))
    conv = Conversation.objects.get()
    recorded.clear()
    agent, other = inbox.users.fr_agent, inbox.users.fr_agent2
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_conversation(conv, assignee=other, actor=agent)
        services.take_conversation(conv, actor=agent)
        services.reply_to_conversation(conv, text="Nous regardons.", actor=agent)
        services.resolve_conversation(conv, actor=agent)
    assert names(recorded) == ["conversation.assigned", "conversation.assigned", "conversation.answered",
                               "conversation.resolved"]
    assigned, taken, answered, resolved = (b[0] for b in recorded)
    assert assigned.data["conversation"]["assignee_id"] == other.pk and assigned.data["reason"] == "assign"
    assert taken.data["previous_assignee_id"] == other.pk and taken.actor_id == agent.pk
    assert answered.data["first_response"] is True and answered.data["message_id"]
    assert resolved.data["previous_status"] == "open" and resolved.data["conversation"]["status"] == "resolved"
    assert all(e.unit_id == inbox.france.pk and e.subject_id == str(conv.pk) for b in recorded for e in b)
    assert resolved.data["account"] == {"id": inbox.fr_account.pk, "network": "facebook", "handle": "@brand_fr"}


def test_the_pipeline_emits_one_batch_per_ingest(inbox, post_hook, recorded,
                                                 django_capture_on_commit_callbacks):
    from dandelion.inbox.jobs import process_pending_deliveries
    from dandelion.inbox.models import Conversation

    payload = {"events": [event(f"Bonjour {i}, ma commande ?", id=f"p{i}", author=f"a{i}", language="fr")
                          for i in range(4)]}
    payload["events"].append(event("Et encore une question ?", id="p-reply", author="a0", in_reply_to="p0",
                                   language="fr"))
    assert post_hook(inbox.fr_account, payload).status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        process_pending_deliveries.call()
    created = [b for b in recorded if b and b[0].name == "conversation.created"]
    assert len(created) == 1 and len(created[0]) == 4  # four new threads, one hand-over
    assert {e.subject_id for e in created[0]} == {str(c.pk) for c in Conversation.objects.all()}
    # a second batch on the same threads creates nothing
    recorded.clear()
    assert post_hook(inbox.fr_account, {"events": [event("Toujours rien", id="p5", author="a1",
                                                         in_reply_to="p1", language="fr")]}).status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        process_pending_deliveries.call()
    assert "conversation.created" not in names(recorded)


def test_sla_breach_emits(org, recorded, django_capture_on_commit_callbacks):
    from dandelion.inbox.models import Contact, Conversation
    from dandelion.routing.models import SlaPolicy
    from dandelion.routing.sla import apply_sla, check_breaches

    t0 = dt.datetime(2025, 3, 3, 10, 0, tzinfo=dt.UTC)
    SlaPolicy.objects.create(team=org.fr_team, first_response_seconds=3600, next_response_seconds=1800,
                             resolution_seconds=86400, escalation={"notify_team": org.vendor_team.pk})
    conv = Conversation.objects.create(account=org.fr_account, contact=Contact.objects.create(name="C"),
                                       thread_key="t", team=org.fr_team, waiting_since=t0, first_inbound_at=t0,
                                       needs_reply=True)
    apply_sla(conv, at=t0)
    with django_capture_on_commit_callbacks(execute=True):
        assert check_breaches(now=t0 + dt.timedelta(hours=2)) == 1
    [breach] = [e for b in recorded for e in b]
    assert breach.name == "conversation.sla_breached" and breach.actor_repr == "system"
    assert breach.data["metric"] == "first_response" and breach.data["notify_team_id"] == org.vendor_team.pk

"""inbox.state: the conversation state machine, in memory, without a database.

A plain object stands for the conversation: the machine reads and writes its attributes only."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from dandelion.inbox.choices import ConversationStatus, EventKind, Priority
from dandelion.inbox.exceptions import InvalidTransition
from dandelion.inbox.state import APPLY, RECORD_INBOUND, RECORD_OUTBOUND, RECORD_RESOLVED, ConversationState

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def conversation(**fields) -> SimpleNamespace:
    base = {"status": ConversationStatus.OPEN, "priority": Priority.NORMAL, "team_id": 7, "assignee_id": None,
            "routing_reason": {}, "needs_reply": False, "escalated": False, "waiting_since": None,
            "first_inbound_at": None, "first_response_at": None, "last_inbound_at": None, "last_outbound_at": None,
            "last_activity_at": None, "last_team_activity_at": None, "resolved_at": None, "snoozed_until": None,
            "swept_at": None}
    return SimpleNamespace(**(base | fields))


def kinds(effects) -> list[str]:
    return [kind for kind, _data in effects.events]


# --- customer messages -------------------------------------------------------------------------------------------


def test_first_message_of_a_new_thread_waits_and_asks_for_a_route():
    conv = conversation(team_id=None)
    state = ConversationState(conv)
    assert state.inbound(at(0), needs_reply=True, visible=True) is True  # no team yet: route it
    assert (conv.first_inbound_at, conv.last_inbound_at, conv.waiting_since) == (at(0), at(0), at(0))
    assert conv.needs_reply is True and conv.last_activity_at == at(0)
    assert conv.last_team_activity_at is None  # a customer is not the team
    assert state.effects.clocks == []  # the route starts the clocks, once the team is known
    state.routed(at(0), team_id=3, priority=Priority.HIGH, reason={"rule": 9, "explanation": "vip"})
    assert (conv.team_id, conv.priority, conv.routing_reason) == (3, Priority.HIGH, {"rule": 9, "explanation": "vip"})
    effects = state.take()
    assert effects.clocks == [(APPLY, at(0))]
    assert effects.events == [(EventKind.ROUTED, {"rule": 9, "explanation": "vip", "previous_team": None})]
    assert set(effects.fields) >= {"team", "priority", "routing_reason", "waiting_since", "needs_reply",
                                   "first_inbound_at", "last_inbound_at", "last_activity_at"}
    assert state.effects.fields == []  # taken


def test_a_further_message_starts_the_response_clock_only_when_the_wait_starts():
    conv = conversation(first_inbound_at=at(0), last_inbound_at=at(0), first_response_at=at(1),
                        last_outbound_at=at(1))
    state = ConversationState(conv)
    assert state.inbound(at(5), needs_reply=True, visible=True) is False
    assert conv.waiting_since == at(5) and conv.first_inbound_at == at(0) and conv.last_inbound_at == at(5)
    assert state.inbound(at(6), needs_reply=True, visible=True) is False  # already waiting since 5
    assert conv.waiting_since == at(5)
    assert state.effects.clocks == [(RECORD_INBOUND, at(5))]


def test_a_message_needing_no_reply_or_hidden_does_not_make_it_wait():
    conv = conversation(first_inbound_at=at(0))
    state = ConversationState(conv)
    state.inbound(at(1), needs_reply=False, visible=True)
    state.inbound(at(2), needs_reply=True, visible=False)
    assert conv.waiting_since is None and conv.needs_reply is False and state.effects.clocks == []


@pytest.mark.parametrize("status", [ConversationStatus.RESOLVED, ConversationStatus.SNOOZED])
def test_a_visible_message_reopens_a_closed_conversation_and_asks_for_a_route(status):
    conv = conversation(status=status, resolved_at=at(0), snoozed_until=at(90), first_inbound_at=at(-10))
    state = ConversationState(conv)
    assert state.inbound(at(1), needs_reply=True, visible=True, message="m") is True
    assert (conv.status, conv.resolved_at, conv.snoozed_until) == (ConversationStatus.OPEN, None, None)
    assert state.effects.events == [(EventKind.STATUS, {"previous": status, "to": ConversationStatus.OPEN,
                                                        "reason": "new message", "message": "m"})]


def test_a_hidden_message_reopens_nothing():
    conv = conversation(status=ConversationStatus.RESOLVED)
    state = ConversationState(conv)
    assert state.inbound(at(1), needs_reply=True, visible=False) is False
    assert conv.status == ConversationStatus.RESOLVED and state.effects.events == []


def test_the_customers_answer_opens_a_pending_conversation_with_the_same_team():
    conv = conversation(status=ConversationStatus.PENDING, first_inbound_at=at(0), first_response_at=at(1),
                        last_outbound_at=at(1))
    state = ConversationState(conv)
    assert state.inbound(at(3), needs_reply=True, visible=True) is False  # no new route
    assert conv.status == ConversationStatus.OPEN and conv.team_id == 7
    assert state.effects.clocks == [(RECORD_INBOUND, at(3))]


def test_routing_elsewhere_sends_it_back_to_the_team_queue():
    conv = conversation(team_id=1, assignee_id=5)
    state = ConversationState(conv)
    state.routed(at(0), team_id=1, reason={"rule": None})
    assert conv.assignee_id == 5  # same team: kept
    state.routed(at(1), team_id=2, reason={"rule": None})
    assert conv.assignee_id is None


def test_rules_only_ever_raise_the_priority_and_escalate_once():
    rank = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
    conv = conversation(priority=Priority.HIGH)
    state = ConversationState(conv)
    state.raise_priority(Priority.LOW, rank=rank)
    state.raise_priority(Priority.URGENT, rank=rank, rule=[4])
    state.escalate(rule=[4])
    state.escalate(rule=[5])
    assert conv.priority == Priority.URGENT and conv.escalated is True
    assert state.effects.events == [(EventKind.PRIORITY, {"previous": Priority.HIGH, "to": Priority.URGENT,
                                                          "rule": [4]}),
                                    (EventKind.ESCALATED, {"rule": [4]})]


# --- responses ---------------------------------------------------------------------------------------------------


def test_a_reply_is_the_first_response_ends_the_wait_and_completes_the_response_clocks():
    conv = conversation(first_inbound_at=at(0), waiting_since=at(0), needs_reply=True,
                        status=ConversationStatus.SNOOZED, snoozed_until=at(60))
    state = ConversationState(conv)
    state.reply_sent(at(4), message=12, first=True)
    assert (conv.first_response_at, conv.last_outbound_at, conv.last_team_activity_at) == (at(4), at(4), at(4))
    assert conv.waiting_since is None and conv.needs_reply is False
    assert conv.status == ConversationStatus.OPEN and conv.snoozed_until is None  # an answer wakes it
    effects = state.take()
    assert effects.clocks == [(RECORD_OUTBOUND, at(4))]
    assert effects.events == [(EventKind.REPLIED, {"message": 12, "first": True})]
    state.reply_sent(at(9))
    assert conv.first_response_at == at(4) and conv.last_outbound_at == at(9)


def test_an_echo_is_a_response_by_nobody_of_the_team_and_wakes_nothing():
    conv = conversation(first_inbound_at=at(0), waiting_since=at(0), needs_reply=True,
                        status=ConversationStatus.SNOOZED)
    state = ConversationState(conv)
    state.responded(at(2), by_person=False)
    assert conv.first_response_at == at(2) and conv.needs_reply is False
    assert conv.last_team_activity_at is None and conv.status == ConversationStatus.SNOOZED
    assert state.effects.events == []


def test_an_answer_older_than_the_wait_leaves_it_waiting():
    conv = conversation(first_inbound_at=at(0), waiting_since=at(5), needs_reply=True)
    ConversationState(conv).responded(at(3), by_person=False)  # answered an earlier message
    assert conv.waiting_since == at(5) and conv.needs_reply is True and conv.first_response_at == at(3)


def test_waiting_is_the_oldest_unanswered_message_after_the_last_response():
    conv = conversation(last_outbound_at=at(10))
    state = ConversationState(conv)
    state.recompute_waiting([at(3), at(12), at(11)])
    assert conv.waiting_since == at(11) and conv.needs_reply is True
    state.recompute_waiting([at(3)])
    assert conv.waiting_since is None and conv.needs_reply is False
    assert state.effects.clocks == []  # waiting alone moves no clock


def test_answered_from_a_linked_account_counts_as_the_response_without_sending_anything():
    conv = conversation(first_inbound_at=at(0), waiting_since=at(0), needs_reply=True)
    state = ConversationState(conv)
    state.answered_elsewhere(at(6), still_waiting=[], message=3, from_account=2, from_conversation=40)
    assert conv.first_response_at == at(6) and conv.needs_reply is False and conv.waiting_since is None
    assert conv.last_outbound_at is None and conv.last_team_activity_at is None
    effects = state.take()
    assert effects.clocks == [(RECORD_OUTBOUND, at(6))]
    assert effects.events == [(EventKind.ANSWERED_ELSEWHERE, {"answered_at": at(6).isoformat(), "message": 3,
                                                               "from_account": 2, "from_conversation": 40})]


def test_answered_from_a_linked_account_while_another_message_waits_keeps_waiting_and_the_clocks():
    conv = conversation(first_inbound_at=at(0), waiting_since=at(0), needs_reply=True)
    state = ConversationState(conv)
    state.answered_elsewhere(at(6), still_waiting=[at(2)])
    assert conv.waiting_since == at(2) and conv.needs_reply is True
    assert state.effects.clocks == []


# --- status --------------------------------------------------------------------------------------------------------


def test_resolve_completes_the_resolution_clock_and_cannot_happen_twice():
    conv = conversation(snoozed_until=at(50), status=ConversationStatus.SNOOZED)
    state = ConversationState(conv)
    state.resolve(at(5), no_reply_needed=2)
    assert (conv.status, conv.resolved_at, conv.snoozed_until) == (ConversationStatus.RESOLVED, at(5), None)
    assert conv.last_team_activity_at == at(5)
    effects = state.take()
    assert effects.clocks == [(RECORD_RESOLVED, at(5))]
    assert effects.events == [(EventKind.STATUS, {"previous": ConversationStatus.SNOOZED,
                                                  "to": ConversationStatus.RESOLVED, "no_reply_needed": 2})]
    with pytest.raises(InvalidTransition):
        state.resolve(at(6))


def test_reopen_restarts_the_clocks_only_when_it_waits():
    waiting = conversation(status=ConversationStatus.RESOLVED, resolved_at=at(0), needs_reply=True,
                           waiting_since=at(-5))
    state = ConversationState(waiting)
    state.reopen(at(1))
    assert waiting.status == ConversationStatus.OPEN and waiting.resolved_at is None
    assert state.effects.clocks == [(APPLY, at(1))]
    quiet = conversation(status=ConversationStatus.RESOLVED)
    state = ConversationState(quiet)
    state.reopen(at(1))
    assert state.effects.clocks == []
    with pytest.raises(InvalidTransition):
        state.reopen(at(2))


def test_snooze_until_later_then_wake_when_it_is_over():
    conv = conversation()
    state = ConversationState(conv)
    with pytest.raises(InvalidTransition):
        state.snooze(at(10), until=at(5))
    state.snooze(at(10), until=at(70))
    assert conv.status == ConversationStatus.SNOOZED and conv.snoozed_until == at(70)
    assert state.effects.clocks == []  # the customer still waits: clocks keep running
    assert state.wake(at(69)) is False and conv.status == ConversationStatus.SNOOZED
    assert state.wake(at(70)) is True
    assert conv.status == ConversationStatus.OPEN and conv.snoozed_until is None
    assert kinds(state.effects) == [EventKind.STATUS, EventKind.STATUS]
    open_ended = ConversationState(conversation(status=ConversationStatus.SNOOZED, snoozed_until=None))
    assert open_ended.wake(at(1000)) is False  # until the customer writes again
    resolved = ConversationState(conversation(status=ConversationStatus.RESOLVED))
    with pytest.raises(InvalidTransition):
        resolved.snooze(at(0), until=None)


def test_pending_is_open_work_waiting_on_the_customer():
    conv = conversation(status=ConversationStatus.SNOOZED, snoozed_until=at(9))
    state = ConversationState(conv)
    state.set_pending(at(1))
    assert conv.status == ConversationStatus.PENDING and conv.snoozed_until is None
    with pytest.raises(InvalidTransition):
        state.set_pending(at(2))
    with pytest.raises(InvalidTransition):
        ConversationState(conversation(status=ConversationStatus.RESOLVED)).set_pending(at(1))


# --- people's actions ---------------------------------------------------------------------------------------------


def test_assign_hand_over_priority_and_notes_are_a_persons_activity():
    conv = conversation(team_id=1, last_activity_at=at(100))
    state = ConversationState(conv)
    state.assign(at(1), assignee_id=5, to_name="ana")
    assert conv.assignee_id == 5 and conv.last_team_activity_at == at(1)
    assert conv.last_activity_at == at(100)  # activity never moves back
    state.hand_over(at(2), team_id=1, assignee_id=6, reason="fr")
    assert state.effects.clocks == []  # same team, same policy
    state.hand_over(at(3), team_id=2, assignee_id=None, reason="legal")
    assert (conv.team_id, conv.assignee_id) == (2, None)
    assert state.set_priority(at(4), priority=Priority.NORMAL) is False  # unchanged: nothing
    assert state.set_priority(at(4), priority=Priority.URGENT) is True
    state.touched(at(5))
    assert conv.last_team_activity_at == at(5)
    effects = state.take()
    assert effects.clocks == [(APPLY, at(3)), (APPLY, at(4))]
    assert kinds(effects) == [EventKind.ASSIGNED, EventKind.HANDOVER, EventKind.HANDOVER, EventKind.PRIORITY]
    assert effects.events[0][1] == {"previous": None, "to": 5, "to_name": "ana"}


def test_unassigning_without_an_event_leaves_the_history_to_the_caller():
    conv = conversation(assignee_id=5)
    state = ConversationState(conv)
    state.assign(at(1), assignee_id=None, by_person=False, event=False)
    assert conv.assignee_id is None and conv.last_team_activity_at is None and state.effects.events == []


# --- the sweep, and clocks ------------------------------------------------------------------------------------------


def test_the_sweep_reopens_routes_and_restarts_the_clocks_once():
    conv = conversation(status=ConversationStatus.RESOLVED, team_id=None, assignee_id=4, needs_reply=True,
                        waiting_since=at(0))
    state = ConversationState(conv)
    state.reopen(at(60), by_person=False, reason="swept")
    state.routed(at(60), team_id=3, reason={"rule": None}, swept=True)
    state.swept(at(60), oldest_waiting=at(-5), reasons=["was resolved", "no team"])
    assert conv.status == ConversationStatus.OPEN and conv.team_id == 3 and conv.assignee_id is None
    assert conv.waiting_since == at(-5) and conv.needs_reply is True and conv.swept_at == at(60)
    assert conv.last_team_activity_at is None
    effects = state.take()
    assert effects.clocks == [(APPLY, at(60))]  # three restarts in a row, run later on the final state: one
    assert kinds(effects) == [EventKind.STATUS, EventKind.ROUTED, EventKind.SWEPT]


def test_clock_operations_run_as_they_happen_when_a_book_listens():
    """The pipeline's clock book reads the conversation at each operation: a restart of the clocks right after
    routing sees no first response yet; the answer that follows in the same batch then completes it."""
    seen = []
    conv = conversation(team_id=None)
    state = ConversationState(conv, on_clock=lambda op, when: seen.append((op, when, conv.first_response_at)))
    state.inbound(at(0), needs_reply=True, visible=True)
    state.routed(at(0), team_id=1, reason={})
    state.routed(at(0), team_id=1, reason={})  # listened to: each one runs, none is dropped
    state.responded(at(3), by_person=False)
    assert seen == [(APPLY, at(0), None), (APPLY, at(0), None), (RECORD_OUTBOUND, at(3), at(3))]
    assert state.effects.clocks == [(op, when) for op, when, _ in seen]


def test_effects_list_each_changed_field_once_and_nothing_when_nothing_changed():
    conv = conversation(first_inbound_at=at(0), last_inbound_at=at(5), last_activity_at=at(5))
    state = ConversationState(conv)
    state.inbound(at(2), needs_reply=False, visible=True)  # an older message arriving late changes nothing
    assert not state.effects and state.effects.fields == []
    state.touched(at(6))
    state.touched(at(7))
    assert state.effects.fields == ["last_activity_at", "last_team_activity_at"]


def test_the_pipeline_services_and_sweep_use_no_private_name_of_another_module():
    """The state rules have one home: no ``from pipeline import _decide``, no ``services._reopen(...)``, no
    private name of the routing app either (core's helpers are core's to make public)."""
    import ast
    from pathlib import Path

    import dandelion.inbox as inbox_package

    root = Path(inbox_package.__file__).parent
    watched = ("dandelion.inbox", "dandelion.routing")
    offences = []
    for name in ("pipeline.py", "services.py", "sweep.py", "state.py"):
        tree = ast.parse((root / name).read_text())
        modules = set()  # local names bound to a watched module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(watched):
                offences += [f"{name}: from {node.module} import {a.name}" for a in node.names
                             if a.name.startswith("_")]
                modules.update(a.asname or a.name for a in node.names)
        offences += [f"{name}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
                     if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                     and node.value.id in modules and node.attr.startswith("_") and not node.attr.startswith("__")]
    assert offences == []

"""The conversation state machine: what each thing that happens to a conversation does to it, in memory.

One set of rules for the inbound pipeline (a batch of messages), the services (one person's action) and the sweep.
:class:`ConversationState` wraps a conversation (a model instance, or any object with its attributes) and changes
its fields in place; it never touches the database. Each transition also records its effects as plain data in
:class:`Effects`:

* ``fields``: the conversation fields it changed (what the caller saves),
* ``clocks``: SLA clock operations ``(operation, at)``, in order; an operation names a
  :class:`~dandelion.routing.sla.ClockBook` method (``apply``, ``record_inbound``, ``record_outbound``,
  ``record_resolved``, ``stop``). A clock reads the conversation as it is when it runs (a first-response target needs the
  first response not to exist yet), so a caller that keeps a clock book passes ``on_clock`` and each operation runs
  as soon as it happens; the operations are recorded either way,
* ``events``: the conversation events to record ``(kind, data)``; ``data`` may hold unsaved objects (the pipeline
  replaces its messages by their ids once written).

The adapters are thin: the pipeline runs the transitions for a whole batch and writes once (``inbox.pipeline``);
:func:`dandelion.inbox.services.apply_effects` writes one conversation's effects (fields, clocks, events).

The rules
---------
* **Inbound message** (:meth:`ConversationState.inbound`): activity and inbound times move; a visible message that
  needs a reply makes the conversation wait from then (``waiting_since``, ``needs_reply``) unless it already waits; a
  visible message reopens a resolved or snoozed conversation (and opens a pending one: the customer answered,
  same team); a conversation without a team, or reopened, must be
  routed (:meth:`~ConversationState.routed` then restarts the clocks), otherwise a message that starts the wait
  starts its response clock.
* **Response** (:meth:`~ConversationState.responded`): an individual answer (an agent's reply, or the brand's answer
  from outside Dandelion: an echo). The first one sets ``first_response_at``; the wait up to it ends; response
  clocks are hit or missed. An agent's reply also wakes a snoozed conversation. Auto-acknowledgements are not
  responses (the customer still waits for a person).
* **Answered from a linked account** (:meth:`~ConversationState.answered_elsewhere`): the same public post reached
  two of the organisation's accounts and was answered from the other one: it counts as this conversation's response
  (first response, the wait ends, response clocks complete) but nothing was sent from this account
  (``last_outbound_at`` stays).
* **Waiting** (:meth:`~ConversationState.recompute_waiting`): from the send times of the visible, unanswered inbound
  messages that need a reply: the oldest one after the last response is ``waiting_since``.
* **Resolve / reopen / snooze / wake / pending**: status changes with their times; resolving completes the
  resolution clock and stops the others; reopening restarts the clocks when the conversation waits; snoozing keeps
  the clocks running (a customer waiting is still waiting).
* **Hide** (:meth:`~ConversationState.hide`): spam or abuse put aside: out of the queues, every clock stops
  (nobody owes it an answer; neither hit nor missed), the sweep leaves it alone; unhiding is reopening.
* **Assign, priority, team, note, tag**: activity by a person (``last_team_activity_at``, read by the sweep);
  a priority or team change restarts the clocks for the new policy.
* **Sweep** (:meth:`~ConversationState.swept`): a conversation with a message nobody answered is put back in front
  of a team: it waits again from its oldest unanswered message, its clocks restart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dandelion.inbox.choices import ConversationStatus, EventKind
from dandelion.inbox.exceptions import InvalidTransition

APPLY = "apply"
RECORD_INBOUND = "record_inbound"
RECORD_OUTBOUND = "record_outbound"
RECORD_RESOLVED = "record_resolved"
STOP = "stop"
CLOCK_OPERATIONS = (APPLY, RECORD_INBOUND, RECORD_OUTBOUND, RECORD_RESOLVED, STOP)

#: statuses a new visible inbound message brings back to open (a hidden conversation too: a message that passed
#: the spam rules is not spam)
CLOSED = (ConversationStatus.RESOLVED, ConversationStatus.SNOOZED, ConversationStatus.HIDDEN)


@dataclass
class Effects:
    """What transitions did, as plain data (see the module docstring)."""

    fields: list[str] = field(default_factory=list)
    clocks: list[tuple[str, dt.datetime]] = field(default_factory=list)
    events: list[tuple[str, dict]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.clocks or self.events)


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return max(filter(None, [a, b]), default=None)


def _earlier(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return min(filter(None, [a, b]), default=None)


class ConversationState:
    """The state machine of one conversation, worked on in memory (see the module docstring).

    ``on_clock(operation, at)`` is called for each SLA clock operation as it happens (the pipeline's clock book);
    :attr:`effects` collects everything; :meth:`take` hands the effects over and starts a new collection."""

    def __init__(self, conversation, *, on_clock: Callable[[str, dt.datetime], None] | None = None) -> None:
        self.conversation = conversation
        self.on_clock = on_clock
        self.effects = Effects()

    def take(self) -> Effects:
        effects, self.effects = self.effects, Effects()
        return effects

    # --- recording ------------------------------------------------------------------------------------------
    def _set(self, name: str, value) -> None:
        attname = name + "_id" if name in ("team", "assignee") else name
        if getattr(self.conversation, attname) != value:
            setattr(self.conversation, attname, value)
            if name not in self.effects.fields:
                self.effects.fields.append(name)

    def _clock(self, operation: str, at: dt.datetime) -> None:
        if self.on_clock is None and operation == APPLY and self.effects.clocks[-1:] == [(APPLY, at)]:
            # run later, on the state as it is then: a second restart in a row would only cancel the first's clocks
            return
        self.effects.clocks.append((operation, at))
        if self.on_clock is not None:
            self.on_clock(operation, at)

    def _event(self, kind: str, **data) -> None:
        self.effects.events.append((kind, data))

    def _activity(self, at: dt.datetime, *, by_person: bool) -> None:
        self._set("last_activity_at", _later(self.conversation.last_activity_at, at))
        if by_person:
            self._set("last_team_activity_at", at)

    # --- facts ------------------------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self.conversation.status

    def is_closed(self) -> bool:
        return self.status in CLOSED

    def snooze_over(self, now: dt.datetime) -> bool:
        """Snoozed until a time now past (an open-ended snooze lasts until the customer writes again)."""
        conv = self.conversation
        return conv.status == ConversationStatus.SNOOZED and conv.snoozed_until is not None and \
            conv.snoozed_until <= now

    # --- customer messages ------------------------------------------------------------------------------------
    def inbound(self, at: dt.datetime, *, needs_reply: bool, visible: bool, message=None) -> bool:
        """A customer's message sent at ``at``. Returns whether the conversation must now be routed (it has no team
        yet, or it was reopened): the caller decides the route and calls :meth:`routed`."""
        conv = self.conversation
        self._activity(at, by_person=False)
        self._set("first_inbound_at", _earlier(conv.first_inbound_at, at))
        self._set("last_inbound_at", _later(conv.last_inbound_at, at))
        waiting_before = conv.needs_reply
        if needs_reply and visible and conv.waiting_since is None:
            self._set("waiting_since", at)
            self._set("needs_reply", True)
        reopened = visible and self.is_closed()
        if reopened:
            self._open(reason="new message", message=message)
        elif visible and conv.status == ConversationStatus.PENDING:
            self._open(reason="the customer answered", message=message)
        if reopened or conv.team_id is None:
            return True
        if needs_reply and visible and not waiting_before:
            self._clock(RECORD_INBOUND, at)
        return False

    def routed(self, at: dt.datetime, *, team_id: int | None, priority: str | None = None, reason: dict,
               message=None, **details) -> None:
        """A routing decision put the conversation in front of ``team_id`` (a new or reopened conversation, or the
        sweep): a change of team sends it back to the team queue; the clocks restart for the team's policy."""
        previous_team = self.conversation.team_id
        self._set("team", team_id)
        if previous_team != team_id:
            self._set("assignee", None)
        if priority:
            self._set("priority", priority)
        self._set("routing_reason", reason)
        self._event(EventKind.ROUTED, **reason, previous_team=previous_team,
                    **({"message": message} if message is not None else {}), **details)
        self._clock(APPLY, at)

    def raise_priority(self, priority: str, *, rank: dict, **details) -> None:
        """A rule asks for ``priority`` on a conversation already routed: only ever raised, never lowered."""
        current = self.conversation.priority
        if priority and rank.get(priority, 1) > rank.get(current, 1):
            self._set("priority", priority)
            self._event(EventKind.PRIORITY, previous=current, to=priority, **details)

    def escalate(self, **details) -> None:
        if not self.conversation.escalated:
            self._set("escalated", True)
            self._event(EventKind.ESCALATED, **details)

    # --- responses --------------------------------------------------------------------------------------------
    def responded(self, at: dt.datetime, *, by_person: bool, wake: bool = False) -> None:
        """An individual response sent at ``at`` (an agent's reply: ``by_person``; an echo of the brand's answer
        from outside Dandelion: not). ``wake``: a snoozed conversation opens again (an agent answered it)."""
        conv = self.conversation
        self._activity(at, by_person=by_person)
        if conv.first_inbound_at and conv.first_response_at is None and at >= conv.first_inbound_at:
            self._set("first_response_at", at)
        self._set("last_outbound_at", _later(conv.last_outbound_at, at))
        if conv.waiting_since and conv.waiting_since <= at:
            self._set("waiting_since", None)
            self._set("needs_reply", False)
        if wake and conv.status == ConversationStatus.SNOOZED:
            self._set("status", ConversationStatus.OPEN)
            self._set("snoozed_until", None)
        self._clock(RECORD_OUTBOUND, at)

    def reply_sent(self, at: dt.datetime, **details) -> None:
        """An agent's reply (:meth:`responded` by a person, waking a snoozed conversation), recorded as such."""
        self.responded(at, by_person=True, wake=True)
        self._event(EventKind.REPLIED, **details)

    def answered_elsewhere(self, at: dt.datetime, *, still_waiting: Iterable[dt.datetime] = (), **details) -> None:
        """A message of this conversation was answered from another of the organisation's accounts (the same public
        post reached both, see ``Message.linked``). ``still_waiting``: the send times of this conversation's other
        messages still waiting for an answer. The customer had their answer: it counts as a first response, and
        when nothing else waits the wait ends and the response clocks complete at ``at``. Nothing was sent from
        this account: ``last_outbound_at`` stays."""
        conv = self.conversation
        if conv.first_inbound_at and conv.first_response_at is None and at >= conv.first_inbound_at:
            self._set("first_response_at", at)
        self.recompute_waiting(still_waiting)
        self._event(EventKind.ANSWERED_ELSEWHERE, answered_at=at.isoformat(), **details)
        if conv.waiting_since is None:
            self._clock(RECORD_OUTBOUND, at)

    def recompute_waiting(self, sent_times: Iterable[dt.datetime]) -> None:
        """``waiting_since`` / ``needs_reply`` from the send times of the visible, unanswered inbound messages that
        need a reply: the oldest one after the last response."""
        after = self.conversation.last_outbound_at
        waiting = min((t for t in sent_times if after is None or t > after), default=None)
        self._set("waiting_since", waiting)
        self._set("needs_reply", waiting is not None)

    # --- status -----------------------------------------------------------------------------------------------
    def _open(self, *, reason: str = "", **details) -> None:
        previous = self.conversation.status
        self._set("status", ConversationStatus.OPEN)
        self._set("resolved_at", None)
        self._set("snoozed_until", None)
        self._event(EventKind.STATUS, previous=previous, to=ConversationStatus.OPEN,
                    **({"reason": reason} if reason else {}), **details)

    def resolve(self, at: dt.datetime, *, by_person: bool = True, **details) -> None:
        """Close the conversation: the resolution clock is hit or missed, the others stop."""
        if self.status == ConversationStatus.RESOLVED:
            raise InvalidTransition("The conversation is already resolved.")
        previous = self.status
        self._set("status", ConversationStatus.RESOLVED)
        self._set("resolved_at", at)
        self._set("snoozed_until", None)
        self._activity(at, by_person=by_person)
        self._clock(RECORD_RESOLVED, at)
        self._event(EventKind.STATUS, previous=previous, to=ConversationStatus.RESOLVED, **details)

    def reopen(self, at: dt.datetime, *, by_person: bool = True, reason: str = "", **details) -> None:
        """Open a resolved, snoozed or pending conversation; its clocks restart when it waits for an answer (call
        :meth:`recompute_waiting` first)."""
        if self.status == ConversationStatus.OPEN:
            raise InvalidTransition("The conversation is already open.")
        self._open(reason=reason, **details)
        self._activity(at, by_person=by_person)
        if self.conversation.needs_reply:
            self._clock(APPLY, at)

    def hide(self, at: dt.datetime, *, by_person: bool = True, **details) -> None:
        """Put spam or abuse aside: out of the queues, every running clock stops (cancelled, not missed). A visible
        new message from the customer opens it again; a person opens it with :meth:`reopen`."""
        if self.status == ConversationStatus.HIDDEN:
            raise InvalidTransition("The conversation is already hidden.")
        previous = self.status
        self._set("status", ConversationStatus.HIDDEN)
        self._set("snoozed_until", None)
        self._activity(at, by_person=by_person)
        self._clock(STOP, at)
        self._event(EventKind.STATUS, previous=previous, to=ConversationStatus.HIDDEN, **details)

    def snooze(self, at: dt.datetime, *, until: dt.datetime | None, by_person: bool = True, **details) -> None:
        """Put the conversation aside until ``until`` (None: until the customer writes again; the sweep still
        brings back a message left unanswered too long). Its clocks keep running: a customer who waits is still
        waiting."""
        if self.status in (ConversationStatus.RESOLVED, ConversationStatus.HIDDEN):
            raise InvalidTransition("A resolved or hidden conversation cannot be snoozed; reopen it first.")
        if until is not None and until <= at:
            raise InvalidTransition("The snooze must end in the future.")
        previous = self.status
        self._set("status", ConversationStatus.SNOOZED)
        self._set("snoozed_until", until)
        self._activity(at, by_person=by_person)
        self._event(EventKind.STATUS, previous=previous, to=ConversationStatus.SNOOZED,
                    until=until.isoformat() if until else None, **details)

    def wake(self, at: dt.datetime, **details) -> bool:
        """A snoozed conversation whose snooze is over opens again (no person acted). Returns whether it did."""
        if not self.snooze_over(at):
            return False
        self._open(reason="snooze ended", **details)
        self._activity(at, by_person=False)
        return True

    def set_pending(self, at: dt.datetime, *, by_person: bool = True, **details) -> None:
        """Waiting on the customer (asked for an order number...). Their next message opens it again, with the
        same team (pending is work in progress, not closed)."""
        if self.status == ConversationStatus.PENDING:
            raise InvalidTransition("The conversation is already pending.")
        if self.status in (ConversationStatus.RESOLVED, ConversationStatus.HIDDEN):
            raise InvalidTransition("A resolved or hidden conversation cannot be pending; reopen it first.")
        previous = self.status
        self._set("status", ConversationStatus.PENDING)
        self._set("snoozed_until", None)
        self._activity(at, by_person=by_person)
        self._event(EventKind.STATUS, previous=previous, to=ConversationStatus.PENDING, **details)

    # --- people's actions -------------------------------------------------------------------------------------
    def touched(self, at: dt.datetime, *, by_person: bool = True) -> None:
        """Any other action (a note, tags, moderation): activity only."""
        self._activity(at, by_person=by_person)

    def assign(self, at: dt.datetime, *, assignee_id: int | None, kind: str = EventKind.ASSIGNED,
               by_person: bool = True, event: bool = True, **details) -> None:
        """Give the conversation to ``assignee_id`` (None: back to the team queue)."""
        previous = self.conversation.assignee_id
        self._set("assignee", assignee_id)
        self._activity(at, by_person=by_person)
        if event:
            self._event(kind, previous=previous, to=assignee_id, **details)

    def hand_over(self, at: dt.datetime, *, team_id: int | None, assignee_id: int | None, **details) -> None:
        """To another person and/or team; a new team restarts the clocks for its policy."""
        previous_team = self.conversation.team_id
        self._set("team", team_id)
        self._set("assignee", assignee_id)
        self._activity(at, by_person=True)
        if team_id != previous_team:
            self._clock(APPLY, at)
        self._event(EventKind.HANDOVER, **details)

    def set_priority(self, at: dt.datetime, *, priority: str, **details) -> bool:
        """Returns whether it changed; a new priority restarts the clocks for its policy."""
        previous = self.conversation.priority
        if previous == priority:
            return False
        self._set("priority", priority)
        self._activity(at, by_person=True)
        self._clock(APPLY, at)
        self._event(EventKind.PRIORITY, previous=previous, to=priority, **details)
        return True

    # --- the sweep --------------------------------------------------------------------------------------------
    def swept(self, now: dt.datetime, *, oldest_waiting: dt.datetime, reasons: list[str], **details) -> None:
        """Put back in front of a team: it waits again from its oldest unanswered message, its clocks restart."""
        conv = self.conversation
        self._set("needs_reply", True)
        self._set("waiting_since", _earlier(conv.waiting_since, oldest_waiting))
        self._set("swept_at", now)
        self._activity(now, by_person=False)
        self._clock(APPLY, now)
        self._event(EventKind.SWEPT, reasons=reasons, oldest_waiting=oldest_waiting.isoformat(), **details)

"""The sweep: nothing falls through.

Inbound messages that need a reply, have none, are visible and older than ``DANDELION_INBOX_SWEEP_MINUTES``
(default 30) are put back in front of a team when their conversation

* is resolved or snoozed (reopened),
* has no team, or its team is inactive (re-routed),
* has dropped out of the flow (``needs_reply`` false although a message waits: e.g. a late comment on a thread the
  brand had already answered; put back in the queue),
* or saw no action of a person for that long (an assignee who is gone or silent is replaced: the conversation goes
  back to the team queue and to automatic assignment).

Each conversation gets a ``swept`` event saying why, and ``swept_at``: a conversation is swept at most once per
period, so running the sweep twice changes nothing the second time (idempotent).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dandelion.core import audit
from dandelion.inbox.choices import ConversationStatus, Direction, ModerationState
from dandelion.inbox.models import Conversation, Message
from dandelion.inbox.state import ConversationState

logger = logging.getLogger(__name__)


def sweep_minutes() -> int:
    return int(getattr(settings, "DANDELION_INBOX_SWEEP_MINUTES", 30))


def unanswered(now: dt.datetime, cutoff: dt.datetime):
    """Inbound messages waiting for an answer since before ``cutoff``."""
    return (
        Message.objects.filter(direction=Direction.INBOUND, needs_reply=True, replied=False,
                               moderation_state=ModerationState.VISIBLE, sent_at__lt=cutoff)
        .exclude(conversation__last_outbound_at__gte=F("sent_at"))
    )


def candidates(now: dt.datetime, cutoff: dt.datetime):
    stale = Q(conversation__last_team_activity_at__isnull=True) | Q(conversation__last_team_activity_at__lt=cutoff)
    closed = Q(conversation__status=ConversationStatus.RESOLVED) | (
        Q(conversation__status=ConversationStatus.SNOOZED)
        & (Q(conversation__snoozed_until__isnull=True) | Q(conversation__snoozed_until__lte=now))
    )
    no_team = Q(conversation__team__isnull=True) | Q(conversation__team__is_active=False)
    return (
        unanswered(now, cutoff)
        .filter(Q(conversation__swept_at__isnull=True) | Q(conversation__swept_at__lt=cutoff))
        .filter(closed | no_team | Q(conversation__needs_reply=False) | stale)
        .exclude(conversation__status=ConversationStatus.HIDDEN)  # put aside by a person: not brought back
    )


def sweep(*, now: dt.datetime | None = None, minutes: int | None = None, limit: int = 500) -> list[int]:
    """Put unanswered messages back in front of a team. Returns the ids of the conversations swept."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=sweep_minutes() if minutes is None else minutes)
    conv_ids = list(dict.fromkeys(candidates(now, cutoff).order_by("sent_at").values_list("conversation_id",
                                                                                          flat=True)))[:limit]
    swept = []
    for pk in conv_ids:
        try:
            if _sweep_one(pk, now=now, cutoff=cutoff):
                swept.append(pk)
        except Exception:
            logger.exception("sweep failed for conversation %s", pk)
    return swept


@transaction.atomic
def _sweep_one(pk: int, *, now: dt.datetime, cutoff: dt.datetime) -> bool:
    """Sweep one conversation under lock, through :class:`~dandelion.inbox.state.ConversationState` (reopen or
    wake, route again, drop an idle assignee, wait again, restart the clocks), its effects written by
    :func:`~dandelion.inbox.services.apply_effects`."""
    from dandelion.inbox import services
    from dandelion.inbox.pipeline import decide_route
    from dandelion.routing.assignment import auto_assign
    from dandelion.routing.engine import applicable_rules, context_for_message

    conv = Conversation.objects.select_for_update().filter(pk=pk).first()
    if conv is None or (conv.swept_at and conv.swept_at >= cutoff):
        return False
    waiting = list(unanswered(now, cutoff).filter(conversation=conv).order_by("sent_at")
                   .select_related("author_identity", "conversation__contact", "conversation__account__owner_unit"))
    if not waiting:
        return False
    conv = Conversation.objects.select_related("team", "assignee", "account__owner_unit").get(pk=pk)
    state = ConversationState(conv)
    reasons = []
    before = {"status": conv.status, "team": conv.team_id, "assignee": conv.assignee_id}
    dropped_out = not conv.needs_reply
    services.refresh_waiting(conv, state)
    if conv.status == ConversationStatus.RESOLVED or (  # an open-ended snooze too: nothing falls through
            conv.status == ConversationStatus.SNOOZED and (conv.snoozed_until is None or state.snooze_over(now))):
        reasons.append(f"was {conv.status}")
        state.reopen(now, by_person=False, reason="swept")
    if conv.team_id is None or not conv.team.is_active:
        reasons.append("no team" if conv.team_id is None else f"team {conv.team.name} is inactive")
        decision = decide_route(context_for_message(waiting[0]), applicable_rules(conv.account.owner_unit.path))
        state.routed(now, team_id=decision.team_id, reason=decision.as_reason(), swept=True)
    if dropped_out:
        reasons.append("had dropped out of the queue")
    idle = conv.last_team_activity_at is None or conv.last_team_activity_at < cutoff
    if conv.assignee_id is not None and (not conv.assignee.is_active or idle):
        reasons.append(f"{conv.assignee.get_username()} did not act" if conv.assignee.is_active
                       else f"{conv.assignee.get_username()} is deactivated")
        state.assign(now, assignee_id=None, by_person=False, event=False)
    elif idle and not reasons:
        reasons.append("no action by the team")
    state.swept(now, oldest_waiting=waiting[0].sent_at, reasons=reasons, messages=[m.pk for m in waiting],
                previous_team=before["team"], previous_assignee=before["assignee"], team=conv.team_id)
    services.apply_effects(conv, state.take())
    if conv.assignee_id is None:
        auto_assign(conv)
    audit.record(actor=None, action="inbox.sweep", obj=conv,
                 summary=f"Swept #{conv.pk}: " + "; ".join(reasons),
                 changes=audit.diff(before, {"status": conv.status, "team": conv.team_id,
                                             "assignee": conv.assignee_id}))
    return True

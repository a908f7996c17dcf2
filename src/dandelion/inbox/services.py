"""Every write of the inbox: verb_noun, keyword-only ``actor``, atomic, one audit row per user action, side
effects (connector calls, job enqueues) on commit. Views, the API, jobs and commands all come through here.

The rules of a conversation's state are :mod:`dandelion.inbox.state`'s (:class:`ConversationState`); a service
checks the permission, locks the conversation, runs one transition and writes its effects
(:func:`apply_effects`: the changed fields, the SLA clock operations, the conversation events), then its audit row.

Conversation-level state kept consistent by :func:`refresh_waiting`:

* ``needs_reply`` / ``waiting_since``: the oldest visible inbound message that needs a reply, has not been
  answered and arrived after the last individual response (``last_outbound_at``; auto-acknowledgements do not
  count: every customer gets an individual response);
* ``first_inbound_at`` / ``first_response_at`` / ``last_inbound_at`` / ``last_outbound_at`` / ``last_activity_at``;
* ``last_team_activity_at``: the last action of a person (reply, note, assignment, status...), read by the sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.core import audit
from dandelion.core.actors import is_system
from dandelion.core.events import emit, emit_many
from dandelion.core.exceptions import DandelionError
from dandelion.core.permissions import get_grants, has_perm, require_perm
from dandelion.inbox import connect, search
from dandelion.inbox.choices import (
    ApprovalStatus,
    ConversationKind,
    ConversationStatus,
    DeliveryState,
    DeliveryStatus,
    Direction,
    EventKind,
    MessageKind,
    ModerationState,
    Priority,
)
from dandelion.inbox.events import conversation_event
from dandelion.inbox.exceptions import (
    CapabilityMissing,
    EmptyMessage,
    InboxError,
    InvalidTransition,
    ReasonRequired,
    ReplyCollision,
    UnsentReply,
)
from dandelion.inbox.models import (
    DEFAULT_APPROVER_ROLES,
    CannedResponse,
    Conversation,
    ConversationEvent,
    InboundDelivery,
    Message,
    PendingReply,
    ReplyApprovalPolicy,
    Tag,
)
from dandelion.inbox.state import ConversationState, Effects

logger = logging.getLogger(__name__)

MODERATION_ACTIONS = ("hide", "unhide", "delete", "ban_author", "mute_author", "report_author")
#: Actions on a message's author (on the network only: the message itself is unchanged in Dandelion).
AUTHOR_ACTIONS = ("ban_author", "mute_author", "report_author")


# --- helpers ------------------------------------------------------------------------------------------------------


def _username(user) -> str:
    if user is None:
        return "system"
    return (user.get_full_name() or "").strip() or user.get_username()


def _require(actor, perm: str, conversation: Conversation) -> None:
    require_perm(actor, perm, conversation.account.owner_unit, team_id=conversation.team_id)


#: The permission each conversation action needs: the services check it, and the views and the API check it
#: before validating the input, so that whoever may not act gets a 403 whatever they sent.
ACTION_PERMS = {
    "reply": "inbox.reply_conversation", "note": "inbox.add_message", "assign": "inbox.assign_conversation",
    "handover": "inbox.assign_conversation", "take": "inbox.change_conversation",
    "resolve": "inbox.change_conversation", "reopen": "inbox.change_conversation",
    "priority": "inbox.change_conversation", "tag": "inbox.change_conversation",
    "moderate": "inbox.moderate_conversation", "hide": "inbox.moderate_conversation",
    "unhide": "inbox.moderate_conversation", "escalate": "inbox.change_conversation",
    "approve": "inbox.approve_reply", "reject": "inbox.approve_reply", "withdraw": "inbox.reply_conversation",
}


def check_action_allowed(conversation: Conversation, *, action: str, actor) -> None:
    """Raise ``PermissionDeniedError`` unless ``actor`` may do ``action`` (a key of ``ACTION_PERMS``) on the
    conversation."""
    _require(actor, ACTION_PERMS[action], conversation)


def _lock(conversation: Conversation) -> Conversation:
    """Lock the conversation row for the rest of the transaction (ignored on SQLite) and reload it."""
    Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("pk").first()
    conversation.refresh_from_db()
    return conversation


def add_event(conversation: Conversation, kind: str, *, actor=None, **data) -> ConversationEvent:
    return ConversationEvent.objects.create(conversation=conversation, kind=kind, actor=actor,
                                            data=audit._jsonable(data))


def refresh_waiting(conversation: Conversation, state: ConversationState | None = None) -> None:
    """Recompute ``needs_reply`` and ``waiting_since`` from the messages (does not save); through ``state`` when
    given (its effects then list the fields changed)."""
    (state or ConversationState(conversation)).recompute_waiting(waiting_times([conversation])[id(conversation)])


def refresh_waiting_many(conversations: Iterable[Conversation], *, unsaved: Iterable[Message] = (),
                         answered: Iterable[str] = ()) -> None:
    """``needs_reply`` / ``waiting_since`` of each conversation (not saved): the oldest visible inbound message
    needing a reply, not answered, sent after the last outbound one (:meth:`ConversationState.recompute_waiting`).
    See :func:`waiting_times` for ``unsaved`` and ``answered``."""
    conversations = list(conversations)
    times = waiting_times(conversations, unsaved=unsaved, answered=answered)
    for conv in conversations:
        ConversationState(conv).recompute_waiting(times[id(conv)])


def waiting_times(conversations: Iterable[Conversation], *, unsaved: Iterable[Message] = (),
                  answered: Iterable[str] = ()) -> dict[int, list[dt.datetime]]:
    """``{id(conversation): [sent_at, ...]}``: the send times of each conversation's visible inbound messages that
    need a reply and have none.

    One query for the stored messages of every saved conversation; ``unsaved`` messages (the inbound pipeline's
    batch, before its INSERT) count too, and stored messages whose external id is in ``answered`` (answered by that
    batch, not yet marked) do not."""
    conversations = list(conversations)
    candidates: dict[int, list[dt.datetime]] = {id(c): [] for c in conversations}
    for msg in unsaved:
        if (msg.direction == Direction.INBOUND and msg.needs_reply and not msg.replied
                and msg.moderation_state == ModerationState.VISIBLE):
            candidates.setdefault(id(msg.conversation), []).append(msg.sent_at)
    saved = {c.pk: c for c in conversations if c.pk is not None}
    if saved:
        stored = Message.objects.filter(direction=Direction.INBOUND, needs_reply=True, replied=False,
                                        moderation_state=ModerationState.VISIBLE).exclude(external_id__in=list(answered))
        ids = sorted(saved)
        for i in range(0, len(ids), 500):  # portable parameter limits
            rows = stored.filter(conversation_id__in=ids[i:i + 500]).values_list("conversation_id", "sent_at")
            for conv_id, sent_at in rows:
                candidates.setdefault(id(saved[conv_id]), []).append(sent_at)
    return candidates


def apply_effects(conversation: Conversation, effects: Effects, *, actor=None) -> None:
    """Write one conversation's :class:`~dandelion.inbox.state.Effects`: the changed fields (and ``updated_at``),
    the SLA clock operations in order on the conversation's clock book (SLA clocks are the routing app's business:
    loaded under lock once, saved once), the conversation events (by ``actor``)."""
    if effects.fields:
        _save(conversation, effects.fields)
    if effects.clocks:
        from dandelion.routing.sla import load_books

        book = load_books([conversation])[conversation.pk]
        for operation, at in effects.clocks:
            getattr(book, operation)(at)
        book.save()
    for kind, data in effects.events:
        add_event(conversation, kind, actor=actor, **data)


def answer_linked_copies(network: str, answered: dict[str, tuple[dt.datetime, int, int]]) -> int:
    """The same public post reached several of the organisation's accounts (one message in each inbox, linked by
    the network's external id) and was answered from one of them: ``answered`` maps the external id to ``(when,
    the answering account id, its conversation id)``. The copies in the other accounts' public conversations are
    answered too (``replied``, ``replied_at``): each such conversation records that it was answered from that
    account, stops waiting when nothing else waits, and its response targets complete
    (:meth:`ConversationState.answered_elsewhere`). DMs are not linked this way: a private answer reaches one inbox.
    Returns how many copies were marked. Called inside the caller's transaction."""
    if not answered:
        return 0
    rows = list(Message.objects.filter(network=network, external_id__in=sorted(answered),
                                       direction=Direction.INBOUND, replied=False,
                                       conversation__kind=ConversationKind.PUBLIC)
                .only("id", "account_id", "external_id", "conversation_id").order_by("conversation_id", "id"))
    rows = [r for r in rows if r.account_id != answered[r.external_id][1]]
    if not rows:
        return 0
    for row in rows:
        row.replied, row.replied_at = True, answered[row.external_id][0]
    from dandelion.core.bulk import update_rows

    update_rows(Message, rows, ["replied", "replied_at"])
    from dandelion.assets.models import SocialAccount

    handles = dict(SocialAccount.objects.filter(pk__in={answered[r.external_id][1] for r in rows})
                   .values_list("pk", "handle"))
    by_conversation: dict[int, list[Message]] = {}
    for row in rows:
        by_conversation.setdefault(row.conversation_id, []).append(row)
    for conv_id in sorted(by_conversation):  # one lock order for every worker
        conversation = Conversation.objects.select_for_update().get(pk=conv_id)
        state = ConversationState(conversation)
        still = waiting_times([conversation])[id(conversation)]
        for row in by_conversation[conv_id]:
            at, account_id, source_id = answered[row.external_id]
            state.answered_elsewhere(at, still_waiting=still, message=row.pk, from_account=account_id,
                                     from_account_handle=handles.get(account_id, ""), from_conversation=source_id)
        apply_effects(conversation, state.take())
    return len(rows)


CONVERSATION_STATE_FIELDS = [
    "status", "needs_reply", "waiting_since", "first_inbound_at", "first_response_at", "last_inbound_at",
    "last_outbound_at", "last_activity_at", "last_team_activity_at", "resolved_at", "snoozed_until", "assignee",
    "team", "priority", "escalated", "updated_at",
]


def _save(conversation: Conversation, fields: Iterable[str] = CONVERSATION_STATE_FIELDS) -> None:
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=list(dict.fromkeys(list(fields) + ["updated_at"])))


def _touched(conversation: Conversation, now: dt.datetime) -> None:
    """A person acted on the conversation (a note, tags, moderation): its activity times, saved."""
    state = ConversationState(conversation)
    state.touched(now)
    apply_effects(conversation, state.take())


# --- deliveries ---------------------------------------------------------------------------------------------------


@transaction.atomic
def store_delivery(account, events: Sequence, *, body: bytes | str = b"", source: str = "webhook",
                   enqueue: bool = True) -> InboundDelivery:
    """Store a verified batch of inbound events durably; its processing job is enqueued once committed.

    Not audited: an inbound delivery is not a person's action (the delivery row is its own record)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    delivery = InboundDelivery.objects.create(
        account=account, source=source, body=body, payload=[connect.event_to_dict(e) for e in events],
        event_count=len(events), state=DeliveryState.PENDING,
    )
    if enqueue:
        from dandelion.inbox.jobs import kick_processing

        transaction.on_commit(kick_processing, robust=True)
    return delivery


@transaction.atomic
def quarantine_item(account, *, ref: str, error: str, excerpt: str = "", source: str = "poll") -> InboundDelivery:
    """Keep an inbound item a connector could not read (a malformed e-mail, a broken feed entry) as a failed
    delivery holding its reference, error and a bounded excerpt: visible with the account's deliveries, never
    silently dropped, and never in the way of the other items of its batch. Not audited (no person acted)."""
    now = timezone.now()
    return InboundDelivery.objects.create(
        account=account, source=source[:20], body=f"{ref}\n\n{excerpt}"[:20_000], payload=[], event_count=0,
        state=DeliveryState.FAILED, error=f"{ref}: {error}"[:2000], processed_at=now,
    )


#: who may put an account's failed deliveries back in the queue: those who manage the account's connection
PERM_RETRY_DELIVERIES = "assets.change_socialaccount"
#: deliveries queued again per transaction (and audit row)
RETRY_CHUNK = 5_000
#: at most this many per call from the page or the API (one request's work; the command has no bound)
RETRY_REQUEST_LIMIT = 50_000


def retry_failed_deliveries(account, *, actor, ids: Iterable[int] | None = None, limit: int | None = None) -> int:
    """Put ``account``'s deliveries that failed for good (all of them, or those of ``ids``; at most ``limit``) back
    in the queue: pending again, their attempts counted from zero, processing enqueued once committed (after the
    cause was fixed: a connector or pipeline bug, a configuration the events could not be routed with). Their last
    error stays visible until they are processed. Deliveries that are not failed (done, pending, retried already)
    are left as they are, so a second call changes nothing; their events are stored once whatever happens
    (messages are unique per network and external id).

    A backlog (a connector bug during a crisis) goes in transactions of :data:`RETRY_CHUNK` deliveries, oldest
    first, each with its audit row on the account, so no transaction locks a million rows. Returns how many were
    queued again. ``actor=None`` is the operator's command line (``dandelion retry-deliveries``)."""
    if actor is not None:
        require_perm(actor, PERM_RETRY_DELIVERIES, account.owner_unit)
    if limit is not None and limit < 1:
        raise InboxError(_("The limit must be at least 1."), field="limit")
    failed = InboundDelivery.objects.filter(account=account, state=DeliveryState.FAILED)
    if ids is not None:
        failed = failed.filter(pk__in=sorted({int(i) for i in ids}))
    from dandelion.inbox.jobs import kick_processing

    total = 0
    while limit is None or total < limit:
        size = RETRY_CHUNK if limit is None else min(RETRY_CHUNK, limit - total)
        with transaction.atomic():
            pks = list(failed.select_for_update().order_by("pk").values_list("pk", flat=True)[:size])
            if not pks:
                break
            count = InboundDelivery.objects.filter(pk__in=pks, state=DeliveryState.FAILED).update(
                state=DeliveryState.PENDING, attempts=0, processed_at=None, next_attempt_at=None, claimed_by="",
                claimed_at=None)
            if count:
                audit.record(actor=actor, action="inbox.delivery.retry", obj=account,
                             summary=f"Queued {count:,} failed deliver{'y' if count == 1 else 'ies'} of {account} "
                                     "for processing again",
                             changes={"deliveries": pks[:200], "count": count})
                transaction.on_commit(kick_processing, robust=True)
        total += count
        if len(pks) < size:
            break
    return total


# --- replies and notes --------------------------------------------------------------------------------------------


def _check_collision(conversation: Conversation, actor, seen_message_id: int | None,
                     seen_at: dt.datetime | None, now: dt.datetime) -> None:
    if seen_message_id is None and seen_at is None:
        return
    qs = conversation.messages.filter(direction=Direction.OUTBOUND, is_automatic=False).exclude(
        author_user=actor
    )
    if seen_message_id is not None:
        qs = qs.filter(pk__gt=seen_message_id)
    if seen_at is not None:
        qs = qs.filter(Q(sent_at__gt=seen_at) | Q(received_at__gt=seen_at))
    other = qs.select_related("author_user").order_by("-sent_at", "-id").first()
    if other is None:
        return
    who = _username(other.author_user) if other.author_user_id else f"{conversation.account.handle} (outside Dandelion)"
    if other.author_user_id and other.author_user_id == conversation.assignee_id:
        who += " (the assignee)"
    raise ReplyCollision(who=who, seconds_ago=(now - other.sent_at).total_seconds(), message_id=other.pk)


def _reply_target(conversation: Conversation, in_reply_to) -> Message | None:
    if isinstance(in_reply_to, Message):
        if in_reply_to.conversation_id != conversation.pk:
            raise InboxError(_("The message answered is not part of this conversation."), field="in_reply_to")
        return in_reply_to
    if in_reply_to:
        msg = conversation.messages.filter(pk=in_reply_to, direction=Direction.INBOUND).first()
        if msg is None:
            raise InboxError(_("The message answered is not part of this conversation."), field="in_reply_to")
        return msg
    return (conversation.messages.filter(direction=Direction.INBOUND, moderation_state=ModerationState.VISIBLE)
            .order_by("-sent_at", "-id").first())


def _create_outbound(conversation: Conversation, *, text: str, author_user, now: dt.datetime,
                     target: Message | None, canned_response=None, automatic: bool = False) -> Message:
    kind = MessageKind.DM if conversation.kind == ConversationKind.PRIVATE else MessageKind.REPLY
    search.append_saved(conversation, [text])
    return Message.objects.create(
        conversation=conversation, network=conversation.account.network, external_id=None,
        direction=Direction.OUTBOUND, kind=kind, author_user=author_user, text=text,
        in_reply_to=(target.external_id or "") if target else "", sent_at=now,
        language=conversation.language, delivery_status=DeliveryStatus.PENDING,
        canned_response=canned_response, is_automatic=automatic,
    )


def mark_answered(conversation: Conversation, *, at: dt.datetime, target: Message | None = None,
                  precise: bool = False) -> list[Message]:
    """Mark the conversation's inbound messages answered at ``at`` and return them (``precise``: only ``target``;
    otherwise every unanswered inbound message up to ``at``). The conversation's own state is the state machine's
    (:meth:`ConversationState.reply_sent`); the copies of these messages in other accounts' inboxes are answered
    too (:func:`answer_linked_copies`)."""
    qs = conversation.messages.filter(direction=Direction.INBOUND, replied=False, sent_at__lte=at)
    if precise:
        qs = qs.filter(pk=target.pk) if target is not None else qs.none()
    marked = list(qs.only("id", "external_id"))
    if marked:
        Message.objects.filter(pk__in=[m.pk for m in marked]).update(replied=True, replied_at=at)
    if conversation.kind == ConversationKind.PUBLIC:
        answer_linked_copies(conversation.account.network, {
            m.external_id: (at, conversation.account_id, conversation.pk) for m in marked if m.external_id})
    return marked


@transaction.atomic
def reply_to_conversation(conversation: Conversation, *, text: str, actor, canned_response: CannedResponse | None = None,
                          in_reply_to=None, confirm_collision: bool = False, seen_message_id: int | None = None,
                          seen_at: dt.datetime | None = None) -> Message | PendingReply:
    """Answer the conversation on the network (sent by a job once committed: pending → sent / failed).

    Refuses with :class:`ReplyCollision` when someone else replied since the agent loaded the conversation
    (``seen_message_id`` / ``seen_at`` from the form), unless ``confirm_collision``. Where the unit's
    :class:`ReplyApprovalPolicy` holds this reply (the author's role, the conversation's tags), nothing is sent: a
    :class:`PendingReply` is returned, for an approver to approve (:func:`approve_reply`) or return
    (:func:`reject_reply`)."""
    _require(actor, "inbox.reply_conversation", conversation)
    conversation = _lock(conversation)
    text = (text or "").strip()
    if not text:
        raise EmptyMessage()
    if not connect.supports(conversation.account, "reply"):
        raise CapabilityMissing(_("This account's connector cannot send replies."), field="text")
    now = timezone.now()
    if not confirm_collision:
        _check_collision(conversation, actor, seen_message_id, seen_at, now)
    held = approval_needed(conversation, actor)
    if held:
        return _hold_reply(conversation, text=text, actor=actor, canned_response=canned_response, why=held)
    return _send_reply(conversation, text=text, author=actor, actor=actor, canned_response=canned_response,
                       in_reply_to=in_reply_to, now=now)


def _send_reply(conversation: Conversation, *, text: str, author, actor, canned_response, in_reply_to,
                now: dt.datetime, audit_action: str = "inbox.reply", extra_changes: dict | None = None) -> Message:
    """Create the outbound message, mark the conversation answered, audit, and enqueue the delivery on commit
    (the conversation is locked by the caller)."""
    target = _reply_target(conversation, in_reply_to)
    message = _create_outbound(conversation, text=text, author_user=author, now=now, target=target,
                               canned_response=canned_response)
    before = audit.snapshot(conversation, ["assignee", "status", "first_response_at", "needs_reply"])
    had_first_response = conversation.first_response_at is not None
    mark_answered(conversation, at=now, target=target, precise=bool(in_reply_to))
    state = ConversationState(conversation)
    if conversation.assignee_id is None:
        state.assign(now, assignee_id=author.pk, to_name=_username(author), reason="replied")
    state.reply_sent(now, message=message.pk, canned=canned_response.pk if canned_response else None,
                     first=not had_first_response)
    refresh_waiting(conversation, state)
    apply_effects(conversation, state.take(), actor=actor)
    changes = audit.diff(before, audit.snapshot(conversation, list(before)))
    changes.update(extra_changes or {})
    audit.record(actor=actor, action=audit_action, obj=conversation,
                 summary=(f"Replied on conversation #{conversation.pk}" if audit_action == "inbox.reply"
                          else f"Approved {_username(author)}'s reply on conversation #{conversation.pk}"),
                 changes=changes)
    _enqueue_delivery(message)
    emit(conversation_event("conversation.answered", conversation, actor=actor, message_id=message.pk,
                            first_response=not had_first_response))
    return message


# --- reply approval -----------------------------------------------------------------------------------------------


def _unit_ids(conversation: Conversation) -> list[int]:
    return [int(p) for p in conversation.account.owner_unit.path.strip("/").split("/") if p]


def roles_on(user, conversation: Conversation) -> set[str]:
    """The roles ``user`` holds where the conversation lives: grants on the account's unit or above it, and
    team-scoped grants on the conversation's team (a superuser counts as a hub admin)."""
    if getattr(user, "is_superuser", False):
        return {"hub_admin"}
    path = conversation.account.owner_unit.path
    roles = set()
    for grant in get_grants(user):
        if grant.team_scoped:
            if grant.team_id is not None and grant.team_id == conversation.team_id:
                roles.add(grant.role)
        elif path.startswith(grant.unit_path):
            roles.add(grant.role)
    return roles


def approval_policies(conversation: Conversation) -> list[ReplyApprovalPolicy]:
    """The active policies covering the conversation: its account's unit's and every unit's above it."""
    return list(ReplyApprovalPolicy.objects.filter(unit_id__in=_unit_ids(conversation), is_active=True)
                .order_by("unit__path"))


def _approvers(policies) -> set[str]:
    roles: set[str] = set()
    for policy in policies:
        roles.update(policy.approvers)
    return roles or set(DEFAULT_APPROVER_ROLES)


def approval_needed(conversation: Conversation, actor) -> str:
    """Why ``actor``'s reply on the conversation waits for approval ("" when it does not): their role there is one
    a policy holds, or the conversation carries a tag a policy holds. An approver's own replies are never held, nor
    the SYSTEM actor's."""
    if is_system(actor):
        return ""
    policies = approval_policies(conversation)
    if not policies:
        return ""
    roles = roles_on(actor, conversation)
    if roles & _approvers(policies):
        return ""
    tags = {t.lower() for t in conversation.tags.values_list("name", flat=True)}
    for policy in policies:
        held_roles = sorted(roles & set(policy.author_roles or ()))
        if held_roles:
            return f"role: {', '.join(held_roles)}"
        held_tags = sorted(tags & {t.lower() for t in policy.tags or ()})
        if held_tags:
            return f"tag: {', '.join(held_tags)}"
    return ""


def can_approve(user, pending: PendingReply) -> bool:
    """May ``user`` approve or return ``pending``: the approval permission where the conversation lives, a role the
    covering policies name as approver, and never the author."""
    conversation = pending.conversation
    if user is None or not getattr(user, "is_authenticated", False) or user.pk == pending.author_id:
        return False
    if not has_perm(user, "inbox.approve_reply", conversation.account.owner_unit, team_id=conversation.team_id):
        return False
    return bool(roles_on(user, conversation) & _approvers(approval_policies(conversation)))


def _hold_reply(conversation: Conversation, *, text: str, actor, canned_response, why: str) -> PendingReply:
    pending = PendingReply.objects.create(conversation=conversation, author=actor, text=text,
                                          canned_response=canned_response, why=why[:200])
    search.append_saved(conversation, [text])
    _touched(conversation, timezone.now())
    add_event(conversation, EventKind.APPROVAL, actor=actor, pending=pending.pk, status=ApprovalStatus.PENDING,
              why=why)
    audit.record(actor=actor, action="inbox.reply.held", obj=conversation,
                 summary=f"Reply on conversation #{conversation.pk} held for approval ({why})",
                 changes={"pending_reply": [None, pending.pk]})
    emit(_pending_event("conversation.reply_held", pending, actor=actor, notify=approver_ids(pending)))
    return pending


APPROVERS_NOTIFIED_MAX = 200


def approver_ids(pending: PendingReply) -> list[int]:
    """The people who may approve ``pending`` (the roles the covering policies name, on the conversation's unit or
    above it, team-scoped ones on its team), never its author: they are notified when the reply is held."""
    from django.contrib.auth import get_user_model

    from dandelion.orgs.models import Membership

    conversation = pending.conversation
    roles = _approvers(approval_policies(conversation))
    candidates = set(Membership.objects.filter(
        unit_id__in=_unit_ids(conversation), role__in=roles, is_active=True, user__is_active=True).filter(
        Q(team__isnull=True) | Q(team_id=conversation.team_id)).exclude(user_id=pending.author_id)
        .values_list("user_id", flat=True)[:APPROVERS_NOTIFIED_MAX])
    users = get_user_model().objects.filter(pk__in=candidates).order_by("pk")
    return [user.pk for user in users if can_approve(user, pending)]


def _pending_event(name: str, pending: PendingReply, *, actor, notify: Iterable[int], **data):
    """The event about ``pending``; ``notify``: who the notifications app tells (ids)."""
    author = pending.author
    return conversation_event(name, pending.conversation, actor=actor, pending={
        "id": pending.pk, "author_id": pending.author_id, "author_name": _username(author)[:150],
        "why": pending.why, "notify_user_ids": sorted(set(notify))[:APPROVERS_NOTIFIED_MAX]}, **data)


def _lock_pending(pending: PendingReply) -> PendingReply:
    locked = PendingReply.objects.select_for_update().select_related(
        "conversation__account__owner_unit", "author").get(pk=pending.pk)
    if locked.status != ApprovalStatus.PENDING:
        raise InvalidTransition(_("This reply is no longer awaiting approval (%(status)s).")
                                % {"status": locked.get_status_display().lower()})
    return locked


def _require_approver(actor, pending: PendingReply) -> None:
    from dandelion.core.exceptions import PermissionDeniedError

    if is_system(actor):
        return
    if actor is not None and actor.pk == pending.author_id:
        raise PermissionDeniedError(_("You cannot approve or return your own reply: another approver must."))
    if not can_approve(actor, pending):
        raise PermissionDeniedError(_("Only an approver of this unit (%(roles)s) may approve or return this reply.")
                                    % {"roles": ", ".join(sorted(_approvers(approval_policies(pending.conversation))))})


@transaction.atomic
def approve_reply(pending: PendingReply, *, actor, text: str | None = None) -> Message:
    """Approve a held reply (``text``: the approver's edit) and send it as the author's reply."""
    pending = _lock_pending(pending)
    _require_approver(actor, pending)
    conversation = _lock(pending.conversation)
    final = (text if text is not None else pending.text).strip()
    if not final:
        raise EmptyMessage()
    if not connect.supports(conversation.account, "reply"):
        raise CapabilityMissing(_("This account's connector cannot send replies."), field="text")
    now = timezone.now()
    changes: dict = {"pending_reply": [pending.pk, pending.pk], "approval": [ApprovalStatus.PENDING,
                                                                              ApprovalStatus.APPROVED]}
    if final != pending.text:
        changes["text"] = [pending.text, final]
    message = _send_reply(conversation, text=final, author=pending.author, actor=actor,
                          canned_response=pending.canned_response, in_reply_to=None, now=now,
                          audit_action="inbox.reply.approved", extra_changes=changes)
    pending.status = ApprovalStatus.APPROVED
    pending.text = final
    pending.reviewer = None if is_system(actor) else actor
    pending.reviewed_at = now
    pending.message = message
    pending.save(update_fields=["status", "text", "reviewer", "reviewed_at", "message", "updated_at"])
    add_event(conversation, EventKind.APPROVAL, actor=actor, pending=pending.pk, status=ApprovalStatus.APPROVED,
              edited=final != changes.get("text", [final])[0], message=message.pk)
    emit(_pending_event("conversation.reply_approved", pending, actor=actor, notify=[pending.author_id],
                        message_id=message.pk))
    return message


@transaction.atomic
def reject_reply(pending: PendingReply, *, actor, reason: str) -> PendingReply:
    """Return a held reply to its author with a reason; nothing is sent."""
    pending = _lock_pending(pending)
    _require_approver(actor, pending)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(_("Say why the reply is returned: the author reads it."))
    now = timezone.now()
    pending.status = ApprovalStatus.REJECTED
    pending.reason = reason
    pending.reviewer = None if is_system(actor) else actor
    pending.reviewed_at = now
    pending.save(update_fields=["status", "reason", "reviewer", "reviewed_at", "updated_at"])
    conversation = pending.conversation
    add_event(conversation, EventKind.APPROVAL, actor=actor, pending=pending.pk, status=ApprovalStatus.REJECTED,
              reason=reason)
    audit.record(actor=actor, action="inbox.reply.rejected", obj=conversation,
                 summary=f"Returned {_username(pending.author)}'s reply on conversation #{conversation.pk}",
                 changes={"approval": [ApprovalStatus.PENDING, ApprovalStatus.REJECTED], "reason": [None, reason]})
    emit(_pending_event("conversation.reply_returned", pending, actor=actor, notify=[pending.author_id],
                        reason=reason[:500]))
    return pending


@transaction.atomic
def withdraw_reply(pending: PendingReply, *, actor) -> PendingReply:
    """The author takes back a reply that still awaits approval; nothing is sent, approvers no longer see it."""
    from dandelion.core.exceptions import PermissionDeniedError

    pending = _lock_pending(pending)
    conversation = pending.conversation
    if not is_system(actor):
        if actor is None or actor.pk != pending.author_id:
            raise PermissionDeniedError(_("Only the author may withdraw a reply awaiting approval."))
        _require(actor, "inbox.reply_conversation", conversation)
    pending.status = ApprovalStatus.WITHDRAWN
    pending.reviewed_at = timezone.now()
    pending.save(update_fields=["status", "reviewed_at", "updated_at"])
    add_event(conversation, EventKind.APPROVAL, actor=actor, pending=pending.pk, status=ApprovalStatus.WITHDRAWN)
    audit.record(actor=actor, action="inbox.reply.withdrawn", obj=conversation,
                 summary=f"Withdrew the reply awaiting approval on conversation #{conversation.pk}",
                 changes={"approval": [ApprovalStatus.PENDING, ApprovalStatus.WITHDRAWN],
                          "pending_reply": [pending.pk, pending.pk]})
    emit(_pending_event("conversation.reply_withdrawn", pending, actor=actor, notify=()))
    return pending


ROLE_CHOICES_HELD = ("helper_agent", "external_moderator", "community_manager", "pr_manager", "spoke_admin")
APPROVAL_TAGS_MAX = 20


@transaction.atomic
def set_reply_approval_policy(unit, *, actor, author_roles: Iterable[str] = (), tags: Iterable[str] = (),
                              approver_roles: Iterable[str] = (), is_active: bool = True) -> ReplyApprovalPolicy:
    """Create or change the unit's reply approval policy (unit admins: ``orgs.change_orgunit`` on the unit)."""
    from dandelion.orgs.choices import Role

    require_perm(actor, "orgs.change_orgunit", unit)
    author_roles = sorted(set(author_roles))
    approver_roles = sorted(set(approver_roles))
    unknown = [r for r in author_roles + approver_roles if r not in Role.values]
    if unknown:
        raise InboxError(_("Unknown role(s): %(roles)s.") % {"roles": ", ".join(unknown)}, field="author_roles")
    if set(author_roles) & set(approver_roles or DEFAULT_APPROVER_ROLES):
        raise InboxError(_("A role cannot both need approval and approve: %(roles)s.") % {"roles": ", ".join(
            sorted(set(author_roles) & set(approver_roles or DEFAULT_APPROVER_ROLES)))}, field="author_roles")
    names = sorted({t.strip().lower() for t in tags if t and t.strip()})
    if len(names) > APPROVAL_TAGS_MAX or any(len(n) > TAG_MAX_LENGTH for n in names):
        raise InboxError(_("At most %(count)d tags of at most %(length)d characters.")
                         % {"count": APPROVAL_TAGS_MAX, "length": TAG_MAX_LENGTH}, field="tags")
    if is_active and not author_roles and not names:
        raise InboxError(_("Name at least one role or one tag whose replies need approval, or turn the policy off."),
                         field="author_roles")
    policy = ReplyApprovalPolicy.objects.select_for_update().filter(unit=unit).first()
    fields = ("author_roles", "tags", "approver_roles", "is_active")
    before = audit.snapshot(policy, fields) if policy else {}
    if policy is None:
        policy = ReplyApprovalPolicy(unit=unit)
    policy.author_roles, policy.tags, policy.approver_roles, policy.is_active = (author_roles, names, approver_roles,
                                                                                 is_active)
    policy.save()
    changes = audit.diff(before, audit.snapshot(policy, fields))
    if changes:
        audit.record(actor=actor, action="inbox.approval_policy.change", obj=policy,
                     summary=f"Reply approval policy of {unit}", changes=changes)
    return policy


def _enqueue_delivery(message: Message) -> None:
    from dandelion.inbox.jobs import deliver_reply

    transaction.on_commit(lambda: deliver_reply.enqueue(message.pk), robust=True)


def send_automatic_reply(conversation: Conversation, *, canned_response: CannedResponse, at: dt.datetime | None = None
                         ) -> Message | None:
    """An auto-acknowledgement chosen by a routing rule: sent through the reply path, but it is not an individual
    response (the SLA clock keeps running and the conversation still waits for a person)."""
    if not connect.supports(conversation.account, "reply"):
        add_event(conversation, EventKind.REPLIED, automatic=True, skipped="the connector cannot send replies")
        return None
    from dandelion.inbox.text import render_canned

    now = at or timezone.now()
    text = render_canned(canned_response, conversation)
    target = (conversation.messages.filter(direction=Direction.INBOUND).order_by("-sent_at", "-id").first())
    message = _create_outbound(conversation, text=text, author_user=None, now=now, target=target,
                               canned_response=canned_response, automatic=True)
    add_event(conversation, EventKind.REPLIED, message=message.pk, canned=canned_response.pk, automatic=True)
    _enqueue_delivery(message)
    return message


@transaction.atomic
def add_note(conversation: Conversation, *, text: str, actor) -> Message:
    """An internal note: visible to the team, never sent."""
    _require(actor, "inbox.add_message", conversation)
    text = (text or "").strip()
    if not text:
        raise EmptyMessage()
    now = timezone.now()
    note = Message.objects.create(
        conversation=conversation, network=conversation.account.network, external_id=None,
        direction=Direction.NOTE, kind=MessageKind.COMMENT, author_user=actor, text=text, sent_at=now,
    )
    search.append_saved(conversation, [text])
    _touched(conversation, now)
    audit.record(actor=actor, action="inbox.add_note", obj=conversation, summary=f"Note on #{conversation.pk}",
                 changes={"note": [None, note.pk]})
    return note


# --- assignment ---------------------------------------------------------------------------------------------------


def _can_work_on(user, conversation: Conversation, team_id: int | None = None) -> bool:
    team_id = conversation.team_id if team_id is None else team_id
    return user.is_active and has_perm(user, "inbox.change_conversation", conversation.account.owner_unit,
                                       team_id=team_id)


@transaction.atomic
def assign_conversation(conversation: Conversation, *, assignee, actor) -> Conversation:
    """Give the conversation to ``assignee`` (None: back to the team queue)."""
    _require(actor, "inbox.assign_conversation", conversation)
    conversation = _lock(conversation)
    if assignee is not None and not _can_work_on(assignee, conversation):
        raise InboxError(_("%(person)s cannot work on this conversation.") % {"person": _username(assignee)},
                         field="assignee")
    previous = conversation.assignee
    if previous == assignee:
        return conversation
    now = timezone.now()
    state = ConversationState(conversation)
    state.assign(now, assignee_id=assignee.pk if assignee else None,
                 previous_name=_username(previous) if previous else "", to_name=_username(assignee) if assignee else "")
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.assign", obj=conversation,
                 summary=f"Assigned #{conversation.pk} to {_username(assignee) if assignee else 'nobody'}",
                 changes={"assignee": [previous.pk if previous else None, assignee.pk if assignee else None]})
    emit(conversation_event("conversation.assigned", conversation, actor=actor, previous_assignee_id=previous.pk if previous else None, assignee_name=assignee.get_username() if assignee else "", reason="assign"))
    return conversation


@transaction.atomic
def take_conversation(conversation: Conversation, *, actor, reason: str = "") -> Conversation:
    """Take ownership. The history keeps who had it before, and why it was taken."""
    _require(actor, "inbox.change_conversation", conversation)
    conversation = _lock(conversation)
    previous = conversation.assignee
    if previous == actor:
        raise InvalidTransition(_("You already own this conversation."))
    now = timezone.now()
    state = ConversationState(conversation)
    state.assign(now, assignee_id=actor.pk, kind=EventKind.TAKEN, previous_name=_username(previous) if previous else "",
                 reason=(reason or "").strip())
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.take", obj=conversation,
                 summary=f"{_username(actor)} took #{conversation.pk}" + (f": {reason}" if reason else ""),
                 changes={"assignee": [previous.pk if previous else None, actor.pk]})
    emit(conversation_event("conversation.assigned", conversation, actor=actor, previous_assignee_id=previous.pk if previous else None, assignee_name=actor.get_username(), reason="take"))
    return conversation


@transaction.atomic
def handover_conversation(conversation: Conversation, *, reason: str, actor, to_user=None, to_team=None
                          ) -> Conversation:
    """Hand the conversation to another person and/or team, with a reason the next person reads."""
    _require(actor, "inbox.assign_conversation", conversation)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(_("A handover needs a reason."))
    if to_user is None and to_team is None:
        raise InboxError(_("Hand over to a person or a team."), field="to_user")
    conversation = _lock(conversation)
    if to_team is not None and not to_team.is_active:
        raise InboxError(_("Team %(team)s is inactive.") % {"team": to_team.name}, field="to_team")
    new_team_id = to_team.pk if to_team is not None else conversation.team_id
    if to_user is not None and not _can_work_on(to_user, conversation, team_id=new_team_id):
        raise InboxError(_("%(person)s cannot work on this conversation.") % {"person": _username(to_user)},
                         field="to_user")
    before = {"team": conversation.team_id, "assignee": conversation.assignee_id}
    previous_user, previous_team = conversation.assignee, conversation.team
    now = timezone.now()
    state = ConversationState(conversation)
    state.hand_over(now, team_id=new_team_id, assignee_id=to_user.pk if to_user else None, reason=reason,
                    from_user=previous_user.pk if previous_user else None,
                    from_user_name=_username(previous_user) if previous_user else "",
                    from_team=previous_team.pk if previous_team else None,
                    from_team_name=previous_team.name if previous_team else "",
                    to_user=to_user.pk if to_user else None, to_user_name=_username(to_user) if to_user else "",
                    to_team=new_team_id, to_team_name=(to_team or previous_team).name if new_team_id else "")
    if to_team is not None:
        conversation.team = to_team  # the object, already loaded (the clocks read its policy)
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.handover", obj=conversation,
                 summary=f"Handed over #{conversation.pk}: {reason}"[:300],
                 changes=audit.diff(before, {"team": conversation.team_id, "assignee": conversation.assignee_id}))
    emit(conversation_event("conversation.assigned", conversation, actor=actor, previous_assignee_id=before["assignee"], assignee_name=to_user.get_username() if to_user else "", reason="handover"))
    return conversation


# --- status, priority, tags ---------------------------------------------------------------------------------------


@transaction.atomic
def resolve_conversation(conversation: Conversation, *, actor, no_reply_needed: bool = False,
                         confirm_unsent_reply: bool = False) -> Conversation:
    """Close the conversation. Messages still waiting for an answer bring it back through the sweep, unless the
    agent says none is needed (``no_reply_needed``, recorded). When the last reply failed to send, the customer has
    had no answer: ``UnsentReply`` (409) unless the agent confirms (``confirm_unsent_reply``, recorded)."""
    _require(actor, "inbox.change_conversation", conversation)
    conversation = _lock(conversation)
    if conversation.status == ConversationStatus.RESOLVED:
        raise InvalidTransition(_("The conversation is already resolved."))
    unsent = last_reply_failed(conversation)
    if unsent and not confirm_unsent_reply:
        raise UnsentReply()
    now = timezone.now()
    before = conversation.status
    state = ConversationState(conversation)
    dismissed = 0
    if no_reply_needed:
        dismissed = conversation.messages.filter(direction=Direction.INBOUND, needs_reply=True, replied=False).update(
            needs_reply=False)
        refresh_waiting(conversation, state)
    state.resolve(now, no_reply_needed=dismissed)
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.resolve", obj=conversation, summary=f"Resolved #{conversation.pk}",
                 changes={"status": [before, ConversationStatus.RESOLVED]}
                 | ({"no_reply_needed": [0, dismissed]} if dismissed else {})
                 | ({"resolved_with_unsent_reply": [False, True]} if unsent else {}))
    emit(conversation_event("conversation.resolved", conversation, actor=actor, previous_status=before))
    return conversation


def last_reply_failed(conversation: Conversation) -> bool:
    """The latest reply sent from Dandelion failed to reach the network (none sent after it)."""
    last = (conversation.messages.filter(direction=Direction.OUTBOUND).exclude(delivery_status=DeliveryStatus.NONE)
            .order_by("-sent_at", "-id").values_list("delivery_status", flat=True).first())
    return last == DeliveryStatus.FAILED


@transaction.atomic
def reopen_conversation(conversation: Conversation, *, actor) -> Conversation:
    """Open a resolved, snoozed or pending conversation again (its clocks restart when it waits for an answer)."""
    _require(actor, "inbox.change_conversation", conversation)
    conversation = _lock(conversation)
    if conversation.status == ConversationStatus.OPEN:
        raise InvalidTransition(_("The conversation is already open."))
    if conversation.status == ConversationStatus.HIDDEN:
        raise InvalidTransition(_("The conversation is hidden: unhide it to bring it back to the queue."))
    before = conversation.status
    now = timezone.now()
    state = ConversationState(conversation)
    refresh_waiting(conversation, state)
    state.reopen(now)
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.reopen", obj=conversation, summary=f"Reopened #{conversation.pk}",
                 changes={"status": [before, ConversationStatus.OPEN]})
    return conversation


REASON_MAX = 300


@transaction.atomic
def hide_conversation(conversation: Conversation, *, actor, reason: str = "") -> Conversation:
    """Put spam or abuse aside: the conversation leaves the queues for the Hidden tab and its SLA clocks stop
    (cancelled: nobody owes it an answer). The messages stay as they are on the network (hiding a message there is
    :func:`moderate_message`). A visible new message from the customer opens it again; :func:`unhide_conversation`
    brings it back by hand."""
    _require(actor, "inbox.moderate_conversation", conversation)
    conversation = _lock(conversation)
    reason = (reason or "").strip()[:REASON_MAX]
    before = conversation.status
    state = ConversationState(conversation)
    state.hide(timezone.now(), **({"reason": reason} if reason else {}))
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.hide", obj=conversation, summary=f"Hid #{conversation.pk}",
                 changes={"status": [before, ConversationStatus.HIDDEN]} | ({"reason": [None, reason]}
                                                                           if reason else {}))
    return conversation


@transaction.atomic
def escalate_to_pr(conversation: Conversation, *, actor, reason: str) -> Conversation:
    """Ask PR to follow the conversation (a journalist, a threat, a post going viral): it joins every PR team's
    queue and the *Escalated to PR* tab, marked escalated; the agent keeps it and keeps answering the customer.
    The reason, required, is what PR reads first."""
    _require(actor, "inbox.change_conversation", conversation)
    conversation = _lock(conversation)
    reason = (reason or "").strip()[:REASON_MAX]
    if not reason:
        raise InboxError(_("Say why PR should follow this conversation."), field="reason")
    if conversation.escalated:
        raise InvalidTransition(_("The conversation is already escalated to PR."))
    state = ConversationState(conversation)
    state.escalate(reason=reason, by="agent")
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.escalate", obj=conversation, summary=f"Escalated #{conversation.pk} to PR",
                 changes={"escalated": [False, True], "reason": [None, reason]})
    return conversation


@transaction.atomic
def unhide_conversation(conversation: Conversation, *, actor) -> Conversation:
    """Bring a hidden conversation back to the queue, open (its clocks restart when it waits for an answer)."""
    _require(actor, "inbox.moderate_conversation", conversation)
    conversation = _lock(conversation)
    if conversation.status != ConversationStatus.HIDDEN:
        raise InvalidTransition(_("The conversation is not hidden."))
    now = timezone.now()
    state = ConversationState(conversation)
    refresh_waiting(conversation, state)
    state.reopen(now, reason="unhidden")
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.unhide", obj=conversation, summary=f"Unhid #{conversation.pk}",
                 changes={"status": [ConversationStatus.HIDDEN, ConversationStatus.OPEN]})
    return conversation


@transaction.atomic
def snooze_conversation(conversation: Conversation, *, actor, until: dt.datetime | None = None) -> Conversation:
    """Put the conversation aside until ``until`` (None: until the customer writes again); a new message, or the
    sweep once the snooze is over, opens it again. Its SLA clocks keep running."""
    _require(actor, "inbox.change_conversation", conversation)
    conversation = _lock(conversation)
    before = conversation.status
    now = timezone.now()
    state = ConversationState(conversation)
    state.snooze(now, until=until)
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.snooze", obj=conversation,
                 summary=f"Snoozed #{conversation.pk}" + (f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""),
                 changes={"status": [before, ConversationStatus.SNOOZED]})
    return conversation


@transaction.atomic
def mark_pending(conversation: Conversation, *, actor) -> Conversation:
    """Waiting on the customer (an order number asked for...): their next message opens it again, same team."""
    _require(actor, "inbox.change_conversation", conversation)
    conversation = _lock(conversation)
    before = conversation.status
    now = timezone.now()
    state = ConversationState(conversation)
    state.set_pending(now)
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.pending", obj=conversation, summary=f"Pending #{conversation.pk}",
                 changes={"status": [before, ConversationStatus.PENDING]})
    return conversation


@transaction.atomic
def set_priority(conversation: Conversation, *, priority: str, actor) -> Conversation:
    _require(actor, "inbox.change_conversation", conversation)
    if priority not in Priority.values:
        raise InboxError(_("Unknown priority %(priority)r.") % {"priority": priority}, field="priority")
    conversation = _lock(conversation)
    before = conversation.priority
    state = ConversationState(conversation)
    if not state.set_priority(timezone.now(), priority=priority):
        return conversation
    apply_effects(conversation, state.take(), actor=actor)
    audit.record(actor=actor, action="inbox.set_priority", obj=conversation,
                 summary=f"Priority of #{conversation.pk}: {priority}", changes={"priority": [before, priority]})
    return conversation


TAG_MAX_LENGTH = 60  # Tag.name's max_length (a test checks they agree)


def _tags(names: Iterable[str]) -> list[Tag]:
    """The tags named (created when new); a name too long is refused, never cut (nothing is added then)."""
    names = [n.strip() for n in names if n and n.strip()]
    too_long = [n for n in names if len(n) > TAG_MAX_LENGTH]
    if too_long:
        raise InboxError(_("Tag “%(tag)s…” is %(length)d characters long: a tag has at most %(max)d. Shorten it; no "
                           "tag was saved.") % {"tag": too_long[0][:40], "length": len(too_long[0]),
                                                "max": TAG_MAX_LENGTH}, field="add")
    out = []
    for name in dict.fromkeys(names):
        tag, _created = Tag.objects.get_or_create(name=name)
        out.append(tag)
    return out


@transaction.atomic
def tag_conversation(conversation: Conversation, *, actor, add: Iterable[str] = (), remove: Iterable[str] = ()
                     ) -> Conversation:
    _require(actor, "inbox.change_conversation", conversation)
    before = sorted(conversation.tags.values_list("name", flat=True))
    to_add = _tags(add)
    if to_add:
        conversation.tags.add(*to_add)
    remove = [r.strip() for r in remove if r and r.strip()]
    if remove:
        conversation.tags.remove(*Tag.objects.filter(name__in=remove))
    after = sorted(conversation.tags.values_list("name", flat=True))
    if before == after:
        return conversation
    now = timezone.now()
    _touched(conversation, now)
    add_event(conversation, EventKind.TAGGED, actor=actor, previous=before, to=after)
    audit.record(actor=actor, action="inbox.tag", obj=conversation, summary=f"Tags of #{conversation.pk}",
                 changes={"tags": [before, after]})
    return conversation


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


@transaction.atomic
def mark_for_pr(conversation: Conversation, *, actor, reason: str, tags: Iterable[str] = (),
                priority: str | None = None, **details) -> bool:
    """Put the conversation in front of PR, as the routing rules' ``escalate_to_pr`` does: ``escalated`` (every PR
    team's queue over it shows it; its own team keeps answering the customer), the ``tags`` added and the priority
    raised to ``priority`` (never lowered). One "escalated" event (with ``reason`` and ``details``) and one audit
    row ``inbox.escalate``. Calling it again changes nothing and returns False (idempotent): for automations (a
    crisis room); an agent's own escalation is ``escalate_to_pr`` (a reason required, refused when already done)."""
    _require(actor, "inbox.change_conversation", conversation)
    conversation = _lock(conversation)
    before = sorted(conversation.tags.values_list("name", flat=True))
    was_escalated, old_priority = conversation.escalated, conversation.priority
    state = ConversationState(conversation)
    state.escalate(reason=reason[:300], **details)
    if priority:
        state.raise_priority(priority, rank=_PRIORITY_RANK, reason=reason[:300])
    apply_effects(conversation, state.take(), actor=_person(actor))
    to_add = _tags(tags)
    if to_add:
        conversation.tags.add(*to_add)
    after = sorted(conversation.tags.values_list("name", flat=True))
    changes: dict[str, list] = {}
    if not was_escalated:
        changes["escalated"] = [False, True]
    if conversation.priority != old_priority:
        changes["priority"] = [old_priority, conversation.priority]
    if before != after:
        changes["tags"] = [before, after]
    if not changes:
        return False
    audit.record(actor=actor, action="inbox.escalate", obj=conversation,
                 summary=f"#{conversation.pk} escalated to PR: {reason}"[:300], changes=changes)
    return True


# --- moderation ---------------------------------------------------------------------------------------------------

_STATE_AFTER = {"hide": ModerationState.HIDDEN, "unhide": ModerationState.VISIBLE, "delete": ModerationState.DELETED}


def apply_local_moderation(message: Message, action: str, *, actor=None, via_connector: bool, reason: str = ""
                           ) -> None:
    """Change the message's moderation state (and what it means for the queue), record the event."""
    conversation = message.conversation
    previous = message.moderation_state
    fields = []
    if action in _STATE_AFTER:
        message.moderation_state = _STATE_AFTER[action]
        fields.append("moderation_state")
    if fields:
        Message.objects.filter(pk=message.pk).update(**{f: getattr(message, f) for f in fields})
    state = ConversationState(conversation)
    refresh_waiting(conversation, state)
    apply_effects(conversation, state.take())
    add_event(conversation, EventKind.MODERATED, actor=actor, message=message.pk, action=action, previous=previous,
              to=message.moderation_state, via_connector=via_connector,
              note="" if via_connector else "The connector cannot moderate: changed in Dandelion only.",
              reason=reason)


@transaction.atomic
def moderate_message(message: Message, *, action: str, actor, reason: str = "") -> Message:
    """Hide, unhide or delete an inbound message, or ban its author, through the account's ModerationConnector.

    Without the moderation capability, hide/unhide/delete change the message in Dandelion only (and the history
    says so); a ban needs the capability."""
    conversation = message.conversation
    _require(actor, "inbox.moderate_conversation", conversation)
    if action not in MODERATION_ACTIONS:
        raise InboxError(_("Unknown moderation action %(action)r.") % {"action": action}, field="action")
    if message.direction != Direction.INBOUND:
        raise InboxError(_("Only customers' messages can be moderated."), field="message")
    capable = connect.supports(conversation.account, "moderation") and bool(message.external_id)
    if action == "ban_author" and not capable:
        raise CapabilityMissing(_("This account's connector cannot ban authors."), field="action")
    if action in ("mute_author", "report_author"):
        capable = connect.supports_author_action(conversation.account, action) and bool(message.external_id)
        if not capable:
            raise CapabilityMissing(_("This account's network offers no %(action)s.")
                                    % {"action": action.replace("_", " ")}, field="action")
    if action in AUTHOR_ACTIONS and message.author_identity_id is None:
        raise InboxError(_("The message has no known author."), field="message")
    if action == "unhide" and message.moderation_state == ModerationState.VISIBLE:
        raise InvalidTransition(_("The message is already visible."))
    if action == "hide" and message.moderation_state == ModerationState.HIDDEN:
        raise InvalidTransition(_("The message is already hidden."))
    if action == "delete" and message.moderation_state == ModerationState.DELETED:
        raise InvalidTransition(_("The message is already deleted."))
    previous = message.moderation_state
    apply_local_moderation(message, action, actor=actor, via_connector=capable, reason=reason)
    now = timezone.now()
    _touched(conversation, now)
    audit.record(actor=actor, action=f"inbox.moderate.{action}", obj=message,
                 summary=f"{action} message #{message.pk} on #{conversation.pk}",
                 changes={"moderation_state": [previous, message.moderation_state]} if previous != message.moderation_state
                 else {"action": [None, action]})
    if capable:
        from dandelion.inbox.jobs import run_moderation

        if action == "report_author" and reason:  # the report's comment goes to the network's moderators
            transaction.on_commit(lambda: run_moderation.enqueue(message.pk, action, reason), robust=True)
        else:
            transaction.on_commit(lambda: run_moderation.enqueue(message.pk, action), robust=True)
    return message


# --- canned responses ---------------------------------------------------------------------------------------------

CANNED_FIELDS = ("title", "shortcut", "body", "language", "translations")


def _clean_translations(translations) -> dict[str, str]:
    if not translations:
        return {}
    if not isinstance(translations, dict):
        raise InboxError(_("Translations must map a language code to a text."), field="translations")
    return {str(k).strip().lower(): str(v) for k, v in translations.items() if str(k).strip() and str(v).strip()}


def _check_placeholders(body: str, translations: dict[str, str]) -> None:
    """Refuse a placeholder nobody fills ({customer} for {contact_name}): it would reach the customer as written."""
    import string

    from dandelion.inbox.text import PLACEHOLDERS

    for where, text in [("body", body), *((f"translations ({lang})", t) for lang, t in translations.items())]:
        try:
            names = {name for _lit, name, _spec, _conv in string.Formatter().parse(text or "") if name is not None}
        except ValueError:
            raise InboxError(_("The %(where)s has an unmatched brace: write placeholders as {contact_name}.")
                             % {"where": where},
                             field="body" if where == "body" else "translations") from None
        unknown = sorted(n for n in names if n not in PLACEHOLDERS)
        if unknown:
            raise InboxError(
                f"Unknown placeholder(s) in the {where}: {', '.join('{' + n + '}' for n in unknown)}. Use "
                f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}.",
                field="body" if where == "body" else "translations")


@transaction.atomic
def create_canned_response(*, unit, title: str, shortcut: str, body: str, actor, language: str = "en",
                           translations: dict | None = None) -> CannedResponse:
    require_perm(actor, "inbox.add_cannedresponse", unit)
    translations = _clean_translations(translations)
    _check_placeholders(body, translations)
    if CannedResponse.objects.filter(unit=unit, shortcut=shortcut).exists():
        from dandelion.core.exceptions import ConflictError

        raise ConflictError(_("The shortcut %(shortcut)r is already used in %(unit)s.")
                            % {"shortcut": shortcut, "unit": unit}, field="shortcut")
    canned = CannedResponse.objects.create(unit=unit, title=title.strip(), shortcut=shortcut, body=body.strip(),
                                           language=(language or "en").lower(),
                                           translations=translations)
    audit.record(actor=actor, action="inbox.canned.create", obj=canned, summary=f"Canned response {canned.title}",
                 changes={k: [None, v] for k, v in audit.snapshot(canned, CANNED_FIELDS).items()})
    return canned


@transaction.atomic
def update_canned_response(canned: CannedResponse, *, actor, **fields) -> CannedResponse:
    require_perm(actor, "inbox.change_cannedresponse", canned.unit)
    unknown = set(fields) - set(CANNED_FIELDS) - {"unit"}
    if unknown:
        raise InboxError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    if "unit" in fields and fields["unit"] != canned.unit:
        require_perm(actor, "inbox.add_cannedresponse", fields["unit"])
    before = audit.snapshot(canned, CANNED_FIELDS + ("unit",))
    if "translations" in fields:
        fields["translations"] = _clean_translations(fields["translations"])
    for key, value in fields.items():
        setattr(canned, key, value)
    _check_placeholders(canned.body, canned.translations or {})
    if CannedResponse.objects.filter(unit=canned.unit, shortcut=canned.shortcut).exclude(pk=canned.pk).exists():
        from dandelion.core.exceptions import ConflictError

        raise ConflictError(_("The shortcut %(shortcut)r is already used in %(unit)s.")
                            % {"shortcut": canned.shortcut, "unit": canned.unit}, field="shortcut")
    canned.save()
    changes = audit.diff(before, audit.snapshot(canned, CANNED_FIELDS + ("unit",)))
    if changes:
        audit.record(actor=actor, action="inbox.canned.update", obj=canned,
                     summary=f"Canned response {canned.title}", changes=changes)
    return canned


@transaction.atomic
def delete_canned_response(canned: CannedResponse, *, actor) -> None:
    require_perm(actor, "inbox.delete_cannedresponse", canned.unit)
    audit.record(actor=actor, action="inbox.canned.delete", obj=canned, summary=f"Deleted {canned.title}",
                 changes={k: [v, None] for k, v in audit.snapshot(canned, CANNED_FIELDS).items()})
    canned.delete()


# --- for routing: what it decides, written by the inbox (routing never saves inbox rows) ----------------------


def _person(actor):
    """The user to link as an event's actor: None for the SYSTEM actor (or no actor)."""
    return actor if getattr(actor, "pk", None) and getattr(actor, "is_authenticated", False) else None


def set_sla_due(conversation: Conversation, due: dt.datetime | None) -> bool:
    """Store ``sla_due_at`` (the earliest due time of the conversation's open SLA clocks, computed by routing).
    Returns whether it changed. No audit row: the clocks that moved it are audited by routing."""
    if conversation.sla_due_at == due:
        return False
    conversation.sla_due_at = due
    conversation.save(update_fields=["sla_due_at"])
    return True


def save_auto_assignment(conversation: Conversation) -> None:
    """Store the assignee routing's assignment policy put on ``conversation`` (its events: :func:`record_events`)."""
    conversation.save(update_fields=["assignee", "updated_at"])


def record_events(items: Iterable[tuple[Conversation, str, dict]], *, actor) -> list[ConversationEvent]:
    """One history event per ``(conversation, kind, data)``, in one INSERT (a batch's automatic assignments)."""
    items = list(items)
    who = _person(actor)
    rows = ConversationEvent.objects.bulk_create([
        ConversationEvent(conversation=conversation, kind=kind, actor=who, data=audit._jsonable(data))
        for conversation, kind, data in items])
    # automatic assignments reach subscribers (notifications, outgoing webhooks) like a person's
    emit_many([conversation_event("conversation.assigned", conversation, actor=actor, previous_assignee_id=None,
                                  assignee_name=data.get("assignee_name", ""), reason="auto")
               for conversation, kind, data in items if kind == EventKind.ASSIGNED])
    return rows


def escalate_conversation(conversation: Conversation, *, actor, priority: str | None = None, team=None,
                          data: dict) -> dict[str, list]:
    """An SLA target missed: raise the priority and/or hand the conversation to ``team`` (unassigned), and write
    the "SLA breached" event with ``data``. Returns the changes ``{field: [old, new]}`` (routing audits them)."""
    changes: dict[str, list] = {}
    fields: list[str] = []
    if priority and priority != conversation.priority:
        changes["priority"] = [conversation.priority, priority]
        conversation.priority = priority
        fields.append("priority")
    if team is not None and team.pk != conversation.team_id:
        changes["team"] = [conversation.team_id, team.pk]
        changes["assignee"] = [conversation.assignee_id, None]
        conversation.team, conversation.assignee = team, None
        fields += ["team", "assignee"]
    if fields:
        conversation.save(update_fields=[*fields, "updated_at"])
    ConversationEvent.objects.create(conversation=conversation, kind=EventKind.SLA_BREACHED, actor=_person(actor),
                                     data=audit._jsonable({**data, "changes": changes}))
    return changes


# --- bulk actions -------------------------------------------------------------------------------------------------

#: what the queue's bulk bar can do, and whether it must be confirmed first (it changes what customers or other
#: teams see, or closes work)
BULK_ACTIONS = {"assign": False, "take": False, "resolve": True, "hide": True, "unhide": False, "move_team": True,
                "tag": True}
BULK_LIMIT = 100  # conversations in one bulk action (a page of the queue is 25)


@dataclass
class BulkResult:
    """What a bulk action did: the conversations done, and those refused with the reason each was refused."""

    action: str
    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def bulk_conversations(conversations: Iterable[Conversation], *, action: str, actor, assignee=None, team=None,
                       reason: str = "", missing: Iterable[int] = (), tags: Iterable[str] = ()) -> BulkResult:
    """Apply ``action`` (a key of ``BULK_ACTIONS``) to each conversation through its own service: each one is
    permission-checked, atomic and audited on its own, so a refusal (no right, a failed reply left unanswered, an
    assignee who cannot work on it) leaves the others done. ``missing``: ids the caller asked for that the actor
    cannot see, reported as refused. ``tags``: the names ``tag`` adds (checked once before any conversation: a name
    too long refuses the whole batch, nothing added). One more audit row sums the batch up (what was done, what
    refused and why)."""
    if action not in BULK_ACTIONS:
        raise InboxError(_("Unknown bulk action %(action)r.") % {"action": action}, field="action")
    if action == "assign" and assignee is None:
        raise InboxError(_("Choose the person to assign the conversations to."), field="assignee")
    if action == "move_team" and team is None:
        raise InboxError(_("Choose the team to move the conversations to."), field="team")
    if action == "move_team" and not (reason or "").strip():
        raise ReasonRequired(_("Moving conversations to another team needs a reason the team reads."))
    tags = [t.strip() for t in tags if t and t.strip()]
    if action == "tag":
        if not tags:
            raise InboxError(_("Type the tags to add to the conversations."), field="tags")
        _tags(tags)  # a name too long is refused here, before any conversation changes
    result = BulkResult(action=action)
    for pk in missing:
        result.refused[pk] = "not found in your scope"
    units = set()
    for conversation in list(conversations)[:BULK_LIMIT]:
        try:
            if action == "assign":
                assign_conversation(conversation, assignee=assignee, actor=actor)
            elif action == "take":
                take_conversation(conversation, actor=actor, reason=reason)
            elif action == "resolve":
                resolve_conversation(conversation, actor=actor)
            elif action == "hide":
                hide_conversation(conversation, actor=actor, reason=reason)
            elif action == "unhide":
                unhide_conversation(conversation, actor=actor)
            elif action == "tag":
                tag_conversation(conversation, actor=actor, add=tags)
            else:
                handover_conversation(conversation, to_team=team, reason=reason, actor=actor)
        except DandelionError as exc:
            result.refused[conversation.pk] = exc.message
        else:
            result.done.append(conversation.pk)
            units.add(conversation.account.owner_unit)
    if result.done or result.refused:
        audit.record(actor=actor, action="inbox.bulk", unit=units.pop() if len(units) == 1 else None,
                     summary=f"Bulk {action}: {len(result.done)} done, {len(result.refused)} refused",
                     changes={"action": [None, action], "done": [None, result.done],
                              "refused": [None, {str(k): v for k, v in result.refused.items()}]}
                     | ({"team": [None, team.pk]} if team is not None else {})
                     | ({"tags": [None, tags]} if action == "tag" else {})
                     | ({"assignee": [None, assignee.pk]} if assignee is not None else {}))
    return result


# --- the brand's own posts: thread roots --------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnPost:
    """A post the brand published on one of its accounts (from the publishing app), to store as a thread root."""

    account: object  # assets.SocialAccount
    external_id: str
    text: str
    sent_at: dt.datetime
    author_user_id: int | None = None


def _brand_contact(account):
    """The contact standing for the brand's own account (its identity is the account's network id): the contact of
    a conversation that holds only the brand's post, until a customer writes under it."""
    from dandelion.inbox.models import AuthorIdentity, Contact

    external_id = (account.external_id or f"account-{account.pk}")[:150]
    identity = (AuthorIdentity.objects.select_related("contact")
                .filter(network=account.network, external_id=external_id).first())
    if identity is None:
        with transaction.atomic():
            contact = Contact.objects.create(name=(account.display_name or account.handle)[:200])
            identity, _ = AuthorIdentity.objects.get_or_create(
                network=account.network, external_id=external_id,
                defaults={"contact": contact, "handle": account.handle[:150], "name": contact.name})
    return identity.contact


def record_own_posts(posts: Sequence[OwnPost], *, actor) -> list[Message]:
    """Store each published post as the brand's outbound message opening its own public thread (thread key: the
    post's network id), so the comments the network sends with ``in_reply_to`` = that id thread under it
    (the pipeline follows ``in_reply_to`` to a stored message on the same account). Idempotent: a post already
    stored (same account and external id) is skipped, so a retried send never stores it twice. The conversation
    starts resolved (nobody owes the brand's own post an answer); the first comment reopens it, routes it, and
    makes its author the conversation's contact. One audit row per call. Returns the messages created."""
    wanted = [p for p in posts if p.external_id]
    if not wanted:
        return []
    existing = set(Message.objects.filter(
        Q(*[Q(account_id=p.account.pk, external_id=p.external_id) for p in wanted], _connector=Q.OR))
        .values_list("account_id", "external_id"))
    created: list[Message] = []
    contacts: dict[int, object] = {}
    with transaction.atomic():
        for post in wanted:
            account = post.account
            if (account.pk, post.external_id) in existing:
                continue
            existing.add((account.pk, post.external_id))
            if account.pk not in contacts:
                contacts[account.pk] = _brand_contact(account)
            conversation, _ = Conversation.objects.get_or_create(
                account=account, kind=ConversationKind.PUBLIC, thread_key=post.external_id[:200],
                defaults={"contact": contacts[account.pk], "status": ConversationStatus.RESOLVED,
                          "resolved_at": post.sent_at, "last_outbound_at": post.sent_at,
                          "last_activity_at": post.sent_at})
            created.append(Message.objects.create(
                conversation=conversation, account=account, network=account.network, external_id=post.external_id,
                direction=Direction.OUTBOUND, kind=MessageKind.COMMENT, author_user_id=post.author_user_id,
                text=post.text, in_reply_to="", sent_at=post.sent_at, delivery_status=DeliveryStatus.SENT,
                needs_reply=False))
            search.append_saved(conversation, [post.text])
        if created:
            first = created[0]
            audit.record(actor=actor, action="inbox.own_post", obj=first.conversation,
                         summary=f"{len(created)} published post(s) stored as thread roots",
                         changes={"messages": [None, [m.pk for m in created]]})
    return created

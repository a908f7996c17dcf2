"""The inbound pipeline, batch-oriented: ``ingest_batch([(account, event), ...]) -> IngestResult`` (the events of
any accounts of one network, one transaction); ``ingest_events(account, events)`` for one account.

normalise → dedup (batch, then database; the unique constraint is the last guard) → understand (one ``analyze()``
call per batch) → identities and contacts → threads (public: follow ``in_reply_to`` to a known message's
conversation, else a new conversation keyed by the root external id; DMs: one conversation per author) → routing
decisions (one per new inbound message; the team is set for new or re-opened conversations) → messages (bulk) →
conversation clocks and SLA, in message order → automatic assignment → events (bulk).

Echo events (``from_account``: the brand answered outside Dandelion) are stored as outbound messages and count
as a response: the message they answer is marked answered, the conversation stops waiting, SLA targets are hit.
An echo answering nothing Dandelion knows (the brand's own post) is counted and skipped.

Side effects on the network (hiding through the ModerationConnector, auto-acknowledgements through the reply
path) are enqueued on commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from dandelion.connectors.base import InboundEvent
from dandelion.core.actors import SYSTEM
from dandelion.core.bulk import insert_rows, update_rows
from dandelion.core.db import chunked as _chunks
from dandelion.core.db import in_values as _in
from dandelion.core.db import is_transient as _is_transient
from dandelion.core.memo import batch_memo, config_memoized
from dandelion.inbox import connect, search, services
from dandelion.inbox.choices import (
    ConversationKind,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    EventKind,
    ModerationState,
    Priority,
)
from dandelion.inbox.models import (
    AuthorIdentity,
    CannedResponse,
    Contact,
    Conversation,
    ConversationEvent,
    Message,
    Tag,
)

logger = logging.getLogger(__name__)

PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


@dataclass
class IngestResult:
    received: int = 0
    created: int = 0
    duplicates: int = 0
    echoes: int = 0
    orphan_echoes: int = 0
    conversations_created: int = 0
    conversations_reopened: int = 0
    routed: int = 0
    hidden: int = 0
    message_ids: list[int] = field(default_factory=list)
    conversation_ids: list[int] = field(default_factory=list)
    waiting_echoes: list = field(default_factory=list)  # echoes answering a message not stored yet (may come)

    def merge(self, other: IngestResult) -> IngestResult:
        for name in ("received", "created", "duplicates", "echoes", "orphan_echoes", "conversations_created",
                     "conversations_reopened", "routed", "hidden"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.message_ids += other.message_ids
        self.conversation_ids += other.conversation_ids
        self.waiting_echoes += other.waiting_echoes
        return self


# --- understanding ------------------------------------------------------------------------------------------------


def understand(events: Sequence[InboundEvent], account=None, *, account_of: dict | None = None):
    """One ``analyze()`` call for the whole batch; returns ``{external_id: Understanding}``. The account of each
    event is ``account``, or ``account_of[event.external_id]`` for a batch of several accounts.

    Language evidence besides the text: the author's declared language, else the account's language when it has
    only one (a short "Où est ma commande ?" on the French account is French; an English or Spanish message there
    still reads as English or Spanish: a hint multiplies odds, it is no verdict)."""
    if not events:
        return {}
    from dandelion.understanding.analyzer import get_analyzer

    def fallback(acc):
        languages = list(getattr(acc, "languages", None) or [])
        return languages[0] if len(languages) == 1 else None

    of_account: dict = {}  # the fallback, once per account
    hints = []
    for e in events:
        acc = account if account_of is None else account_of[e.external_id]
        key = getattr(acc, "pk", None)
        if key not in of_account:
            of_account[key] = fallback(acc)
        hints.append(e.author.language or of_account[key])
    results = get_analyzer().analyze([e.text for e in events], language_hints=hints)
    return {e.external_id: u for e, u in zip(events, results, strict=True)}


# --- the pipeline -------------------------------------------------------------------------------------------------


class ConcurrentWrite(Exception):
    """Another worker stored some of this batch's threads or messages meanwhile (a unique constraint said so):
    the batch's transaction is rolled back and the batch runs again, now finding theirs."""


ATTEMPTS = 3


def ingest_events(account, events: Sequence[InboundEvent], *, now: dt.datetime | None = None,
                  wait_for_parents: Collection[str] = ()) -> IngestResult:
    """:func:`ingest_batch` of one account's events."""
    return ingest_batch([(account, e) for e in events], now=now, wait_for_parents=wait_for_parents)


def ingest_batch(items: Sequence[tuple[object, InboundEvent]], *, now: dt.datetime | None = None,
                 wait_for_parents: Collection[str] = ()) -> IngestResult:
    """Store, thread, understand, route and put on the SLA clock a batch of ``(account, event)`` pairs: one
    account's events, or those of several accounts of one network (a worker's claim), written together: each
    statement then serves the whole claim instead of one account (on a claim spread over a hundred accounts, a
    statement per account and table was most of the time). External ids are unique within a network, which is
    why a batch holds one network. Each account's events are threaded, routed and answered as if alone: a reply
    never joins a conversation of another account.

    An echo (the brand's answer) to a message Dandelion does not know is skipped as the brand's own post, unless its
    id is in ``wait_for_parents``: then it is returned in ``result.waiting_echoes``, for the caller to try again
    later (events arrive out of order, and two workers may hold a message and its answer at the same time).

    All or nothing: one transaction. When a concurrent worker stored part of the same batch (the same event
    delivered twice, the same new thread), the transaction is rolled back and the batch runs again: its duplicates
    are then found and skipped, so every event is stored exactly once."""
    now = now or timezone.now()
    if len({account.network for account, _ in items}) > 1:
        raise ValueError("a batch holds the events of one network (external ids are unique within a network)")
    understood: dict = {}
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _ingest_once(items, understood, now, wait_for_parents)
        except (ConcurrentWrite, OperationalError) as exc:
            if attempt == ATTEMPTS or not (isinstance(exc, ConcurrentWrite) or _is_transient(exc)):
                raise
            logger.info("batch of %s events on %s account(s) met a concurrent write; running it again",
                        len(items), len({account.pk for account, _ in items}))
    raise AssertionError("unreachable")


def _ingest_once(items: Sequence[tuple[object, InboundEvent]], understood: dict, now: dt.datetime,
                 wait_for_parents: Collection[str]) -> IngestResult:
    result = IngestResult(received=len(items))
    if not items:
        return result
    network = items[0][0].network
    # normalise + dedup within the batch (first occurrence wins), oldest first
    batch: dict[str, InboundEvent] = {}
    account_of: dict[str, object] = {}
    for account, event in sorted(items, key=lambda item: item[1].created_at):
        if event.external_id in batch:
            result.duplicates += 1
            continue
        batch[event.external_id] = event
        account_of[event.external_id] = account
    # dedup against the database
    known = set(_in(Message.objects.filter(network=network).values_list("external_id", flat=True), "external_id",
                    batch))
    if known:
        result.duplicates += len(known)
        batch = {k: v for k, v in batch.items() if k not in known}
    if not batch:
        return result
    unread = [e for e in batch.values() if not e.from_account and e.external_id not in understood]
    understood.update(understand(unread, account_of=account_of))  # a second attempt reuses what the first read
    with transaction.atomic(), batch_memo():
        _persist(network, list(batch.values()), account_of, understood, result, now, wait_for_parents)
    if result.created:
        from dandelion.assets.services import note_account_activity

        latest: dict[int, dt.datetime] = {}
        for e in batch.values():
            pk = account_of[e.external_id].pk
            latest[pk] = max(latest.get(pk, e.created_at), e.created_at)
        # one statement for the batch's accounts (the assets service): each moves forward, never back
        note_account_activity(latest, actor=SYSTEM)
    return result


def _identities(network: str, events: list[InboundEvent], understood) -> dict[str, AuthorIdentity]:
    authors = {}
    for e in events:
        authors.setdefault(e.author.external_id, (e.author, understood.get(e.external_id)))
    found = {i.external_id: i for i in _in(AuthorIdentity.objects.filter(network=network).select_related("contact"),
                                             "external_id", authors)}
    missing = sorted(aid for aid in authors if aid not in found)  # one order for every worker: no lock cycle
    if missing:
        contacts = []
        for aid in missing:
            author, u = authors[aid]
            lang = (author.language or (u.language if u else None) or "").lower()
            contacts.append(Contact(name=(author.name or author.handle or aid)[:200], languages=[lang] if lang else [],
                                    country=(author.country or "")[:2], followers=author.followers or 0))
        insert_rows(Contact, contacts)
        made = [AuthorIdentity(network=network, external_id=aid, contact=c, handle=(authors[aid][0].handle or "")[:150],
                               name=(authors[aid][0].name or "")[:200], followers=authors[aid][0].followers or 0)
                for aid, c in zip(missing, contacts, strict=True)]
        try:  # the usual case: nobody else created them; one insert, nothing to read back
            with transaction.atomic():
                insert_rows(AuthorIdentity, made)
            found.update((i.external_id, i) for i in made)
        except IntegrityError:  # another worker created some meanwhile: theirs win, ours are read back
            AuthorIdentity.objects.bulk_create(made, ignore_conflicts=True)
            fresh = {i.external_id: i for i in _in(
                AuthorIdentity.objects.filter(network=network).select_related("contact"), "external_id", missing)}
            found.update(fresh)
            used = {i.contact_id for i in fresh.values()}
            orphans = [c.pk for c in contacts if c.pk not in used]
            if orphans:
                Contact.objects.filter(pk__in=orphans).delete()
    return found


def _routing_context(account, event: InboundEvent, u, identity: AuthorIdentity):
    from dandelion.routing.engine import RoutingContext

    contact = identity.contact
    return RoutingContext(
        text=event.text or "",
        language=(u.language if u and u.language else None) or event.author.language,
        country=event.author.country or contact.country or account.country or None,
        account_id=account.pk,
        unit_id=account.owner_unit_id,
        unit_path=account.owner_unit.path,
        network=account.network,
        kind=event.kind,
        intent=(u.intent if u else "other") or "other",
        sentiment=(u.sentiment if u else "neutral") or "neutral",
        spam=float(u.spam) if u else 0.0,
        abuse=float(u.abuse) if u else 0.0,
        author_followers=max(contact.followers or 0, identity.followers or 0, event.author.followers or 0),
        is_vip=contact.is_vip,
    )


def _decide(ctx, rules, cache: dict | None = None):
    """``engine.decide`` (the team of the hub's triage queue created lazily when no team covers the message).

    Without any applicable rule the decision is the default route alone, which depends only on the account's unit
    and the language: ``cache`` (one per batch) then saves its queries for every further message."""
    from dandelion.routing import engine

    if not rules and cache is not None:
        key = (ctx.unit_id, ctx.unit_path, (ctx.language or "").lower() or None)
        if key not in cache:
            cache[key] = engine.default_route(ctx)
        team_id, text = cache[key]
        decision = engine.RoutingDecision(team_id=team_id, priority=None, explanation=text)
    else:
        decision = engine.decide(ctx, rules=rules)
    if decision.team_id is None:
        from dandelion.routing.services import ensure_triage_team

        team = ensure_triage_team()
        decision.team_id = team.pk
        decision.explanation += f" (created the triage team {team.name})"
    return decision


def _refs(data: dict) -> dict:
    """Event data with the batch's messages (saved by now) replaced by their ids."""
    return {k: (v.pk if isinstance(v, Message) else v) for k, v in data.items()}


CONVERSATION_FIELDS = [
    "status", "priority", "team", "assignee", "language", "routing_reason", "needs_reply", "escalated",
    "waiting_since", "first_inbound_at", "first_response_at", "last_inbound_at", "last_outbound_at",
    "last_activity_at", "resolved_at", "snoozed_until", "sla_due_at", "updated_at",
]


def _persist(network: str, events: list[InboundEvent], account_of: dict, understood, result: IngestResult,
             now: dt.datetime, wait_for_parents: Collection[str] = ()) -> None:
    """Plan the whole batch in memory (threads, routing, conversation state, SLA clocks, assignment), then write
    it: new conversations complete in one INSERT, messages in one, clocks in one, events and audit rows in one
    each; only conversations that existed before the batch get an UPDATE each. ``account_of``: each event's
    account (one network)."""
    from dandelion.routing import engine
    from dandelion.routing.assignment import AssignmentPlan
    from dandelion.routing.sla import ClockBook, load_books, write_books

    accounts = {a.pk: a for a in account_of.values()}
    inbound = [e for e in events if not e.from_account]
    identities = _identities(network, inbound, understood)

    # --- threads (each account's own: a reply never joins another account's conversation) ----------------------
    batch_ids = {x.external_id for x in events}
    parents = {e.in_reply_to for e in events if e.in_reply_to and e.in_reply_to not in batch_ids}
    parent_rows = {m.external_id: m for m in _in(
        Message.objects.filter(network=network, conversation__account__in=list(accounts)).only(
            "id", "external_id", "conversation_id", "direction", "replied").annotate(
            parent_account_id=F("conversation__account_id")), "external_id", parents)}
    key_of: dict[str, tuple] = {}  # external id -> ("id", conversation id) | (kind, account id, thread key)
    for e in events:
        parent = e.in_reply_to
        acc = account_of[e.external_id].pk
        if parent and parent in key_of and account_of[parent].pk == acc:
            key = key_of[parent]
        elif parent and parent in parent_rows and parent_rows[parent].parent_account_id == acc:
            key = ("id", parent_rows[parent].conversation_id)
        elif e.from_account:
            key = None
        elif e.kind == "dm":
            key = (ConversationKind.PRIVATE, acc, e.author.external_id)
        else:
            key = (ConversationKind.PUBLIC, acc, e.external_id)
        if key is not None and e.kind == "dm" and key[0] == ConversationKind.PUBLIC:
            key = (ConversationKind.PRIVATE, acc, e.author.external_id)
        if key is None:
            if e.in_reply_to and e.external_id in wait_for_parents:
                result.waiting_echoes.append(e)  # its parent may still come
            else:
                result.orphan_echoes += 1
            continue
        key_of[e.external_id] = key
    events = [e for e in events if e.external_id in key_of]
    if not events:
        return

    conversations: dict[tuple, Conversation] = {}
    loaded: dict[int, Conversation] = {}  # one object per conversation, however it was reached
    by_id = [k[1] for k in key_of.values() if k[0] == "id"]
    for conv in _in(Conversation.objects.filter(account__in=list(accounts)), "pk", by_id):
        conversations[("id", conv.pk)] = loaded.setdefault(conv.pk, conv)
    for kind in (ConversationKind.PUBLIC, ConversationKind.PRIVATE):
        wanted = {k for k in key_of.values() if k[0] == kind}
        owners = sorted({k[1] for k in wanted})
        for conv in _in(Conversation.objects.filter(account__in=owners, kind=kind), "thread_key",
                        {k[2] for k in wanted}):
            if (kind, conv.account_id, conv.thread_key) in wanted:
                conversations[(kind, conv.account_id, conv.thread_key)] = loaded.setdefault(conv.pk, conv)
    for conv in loaded.values():
        conv.account = accounts[conv.account_id]  # saves a lazy load per conversation (str(), audit unit)
    first_event_of: dict[tuple, InboundEvent] = {}
    for e in events:
        first_event_of.setdefault(key_of[e.external_id], e)
    new_convs: dict[tuple, Conversation] = {}
    for key, e in first_event_of.items():
        if key in conversations or key[0] == "id" or e.from_account:
            continue
        u = understood.get(e.external_id)
        new_convs[key] = Conversation(
            account=account_of[e.external_id], contact=identities[e.author.external_id].contact, kind=key[0],
            thread_key=key[2][:200],
            status=ConversationStatus.OPEN, language=((u.language if u else None) or e.author.language or "")[:8],
            created_at=now, updated_at=now,
        )
    conversations.update(new_convs)
    result.conversations_created += len(new_convs)
    # an echo whose thread has no conversation (nothing inbound yet) is an orphan too
    kept = []
    for e in events:
        if key_of[e.external_id] in conversations:
            kept.append(e)
        else:
            result.orphan_echoes += 1
    events = kept
    if not events:
        return

    # --- routing decisions (one per inbound message) --------------------------------------------------------------
    def rules_of(account):
        path = account.owner_unit.path
        return config_memoized(("route.rules", path), lambda: engine.applicable_rules(path))

    decisions = {}
    default_routes: dict = {}
    for e in events:
        if not e.from_account:
            u = understood.get(e.external_id)
            account = account_of[e.external_id]
            decisions[e.external_id] = _decide(_routing_context(account, e, u, identities[e.author.external_id]),
                                               rules_of(account), default_routes)

    # --- messages (unsaved) ----------------------------------------------------------------------------------
    objs: dict[str, Message] = {}
    db_answered: dict[str, dt.datetime] = {}
    for e in events:
        conv = conversations[key_of[e.external_id]]
        if e.from_account:
            msg = Message(conversation=conv, network=network, external_id=e.external_id, direction=Direction.OUTBOUND,
                          kind=e.kind, text=e.text, in_reply_to=e.in_reply_to or "", sent_at=e.created_at,
                          delivery_status=DeliveryStatus.SENT, language=conv.language)
            target = objs.get(e.in_reply_to or "")
            if target is not None:
                if target.direction == Direction.INBOUND and not target.replied:
                    target.replied, target.replied_at = True, e.created_at
            elif e.in_reply_to in parent_rows and parent_rows[e.in_reply_to].direction == Direction.INBOUND:
                db_answered.setdefault(e.in_reply_to, e.created_at)
        else:
            u = understood.get(e.external_id)
            d = decisions[e.external_id]
            msg = Message(
                conversation=conv, network=network, external_id=e.external_id, direction=Direction.INBOUND,
                kind=e.kind, author_identity=identities[e.author.external_id], text=e.text,
                in_reply_to=e.in_reply_to or "", sent_at=e.created_at,
                language=((u.language if u else None) or e.author.language or "")[:8],
                language_confidence=float(u.language_confidence) if u else 0.0,
                sentiment=(u.sentiment if u else "") or "", sentiment_score=float(u.sentiment_score) if u else 0.0,
                intent=(u.intent if u else "") or "", spam=float(u.spam) if u else 0.0,
                abuse=float(u.abuse) if u else 0.0, needs_reply=bool(u.needs_reply) if u else True,
                moderation_state=ModerationState.HIDDEN if d.hide else ModerationState.VISIBLE,
            )
        objs[e.external_id] = msg

    # --- conversations: clocks, routing, SLA, in message order (in memory) -------------------------------------------
    per_conv: dict[int, list[tuple[InboundEvent, Message]]] = defaultdict(list)
    conv_of: dict[int, Conversation] = {}
    for e in events:
        conv = conversations[key_of[e.external_id]]
        per_conv[id(conv)].append((e, objs[e.external_id]))
        conv_of[id(conv)] = conv
    existing = [c for c in conv_of.values() if c.pk is not None]
    books = load_books(existing)  # their running clocks, locked
    book_of = {id(c): books[c.pk] if c.pk is not None else ClockBook(c) for c in conv_of.values()}
    new_events: list[tuple[Conversation, str, dict]] = []
    tag_names: dict[int, set[str]] = defaultdict(set)
    to_assign: list[Conversation] = []
    auto_acks: list[tuple[Conversation, int]] = []
    hidden: list[Message] = []
    searchable: dict[int, str] = {}  # what each existing conversation's search text gains
    for key, items in per_conv.items():
        conv, book = conv_of[key], book_of[key]
        if conv.pk is None:
            new_events.append((conv, EventKind.CREATED, {"first_message": items[0][1]}))
            search.extend(conv, [conv.contact.name])
        truncated = conv.search_truncated
        added = search.extend(conv, [part for _e, m in items for part in search.message_parts(m.text, m.author_identity)])
        if added or conv.search_truncated != truncated:
            searchable[key] = added
        for e, msg in items:
            at = e.created_at
            conv.last_activity_at = max(filter(None, [conv.last_activity_at, at]))
            if msg.direction == Direction.OUTBOUND:
                result.echoes += 1
                if conv.first_inbound_at and conv.first_response_at is None and at >= conv.first_inbound_at:
                    conv.first_response_at = at
                conv.last_outbound_at = max(filter(None, [conv.last_outbound_at, at]))
                if conv.waiting_since and conv.waiting_since <= at:
                    conv.waiting_since, conv.needs_reply = None, False
                book.record_outbound(at)
                continue
            d = decisions[e.external_id]
            conv.first_inbound_at = min(filter(None, [conv.first_inbound_at, at]))
            conv.last_inbound_at = max(filter(None, [conv.last_inbound_at, at]))
            if not conv.language and msg.language:
                conv.language = msg.language
            visible = msg.moderation_state == ModerationState.VISIBLE
            if msg.moderation_state == ModerationState.HIDDEN:
                hidden.append(msg)
                result.hidden += 1
            waiting_before = conv.needs_reply
            if msg.needs_reply and visible and conv.waiting_since is None:
                conv.waiting_since, conv.needs_reply = at, True
            reopened = False
            if conv.status in (ConversationStatus.RESOLVED, ConversationStatus.SNOOZED) and visible:
                previous = conv.status
                conv.status, conv.resolved_at, conv.snoozed_until = ConversationStatus.OPEN, None, None
                reopened = True
                result.conversations_reopened += 1
                new_events.append((conv, EventKind.STATUS, {
                    "previous": previous, "to": ConversationStatus.OPEN, "reason": "new message", "message": msg}))
            if reopened or conv.team_id is None:  # a new thread has no team yet
                _apply_route(conv, d, msg, new_events)
                result.routed += 1
                if conv.assignee_id is None:
                    to_assign.append(conv)
                if d.auto_reply_canned_id and visible:
                    auto_acks.append((conv, d.auto_reply_canned_id))
                book.apply(at)
            else:
                if d.priority and PRIORITY_RANK.get(d.priority, 1) > PRIORITY_RANK.get(conv.priority, 1):
                    new_events.append((conv, EventKind.PRIORITY, {
                        "previous": conv.priority, "to": d.priority, "rule": d.matched_rule_ids, "message": msg}))
                    conv.priority = d.priority
                if msg.needs_reply and visible and not waiting_before:
                    book.record_inbound(at)
            tag_names[key].update(d.tags)
            if d.escalate and not conv.escalated:
                conv.escalated = True
                new_events.append((conv, EventKind.ESCALATED, {
                    "rule": d.matched_rule_ids, "message": msg, "explanation": d.explanation}))
    touched = list(conv_of.values())
    services.refresh_waiting_many(touched, unsaved=objs.values(), answered=db_answered)
    for conv in touched:
        conv.sla_due_at = book_of[id(conv)].due()
        conv.updated_at = now

    # --- automatic assignment, planned per team ------------------------------------------------------------------
    plan = AssignmentPlan()
    to_assign = [c for c in {id(c): c for c in to_assign}.values()
                 if c.team_id and c.assignee_id is None and c.status == ConversationStatus.OPEN]
    if to_assign:
        plan.lock(c.team_id for c in to_assign)
        for conv in to_assign:
            plan.assign(conv)

    # --- writes ------------------------------------------------------------------------------------------------
    if new_convs:
        _insert(Conversation, list(new_convs.values()))
    _insert(Message, sorted(objs.values(), key=lambda m: m.external_id))
    if db_answered:
        rows = _in(Message.objects.filter(network=network, replied=False), "external_id", db_answered)
        for row in rows:
            row.replied, row.replied_at = True, db_answered[row.external_id]
        update_rows(Message, rows, ["replied", "replied_at"])
    write_books(book_of.values())
    # the database appends to the search text, keeping a concurrent writer's addition; the truncation flag only
    # ever turns on (a copy read before another writer set it must not turn it off)
    update_rows(Conversation, existing, CONVERSATION_FIELDS, turn_on=["search_truncated"],
                append={"search_text": {conv.pk: searchable[id(conv)] for conv in existing if id(conv) in searchable}})
    result.created += len(objs)
    result.message_ids += [m.pk for m in objs.values()]
    result.conversation_ids += [c.pk for c in touched]

    # --- hidden messages: on the network when the connector can, else here only -------------------------------------
    if hidden:
        capable_of = {pk: connect.supports(a, "moderation") for pk, a in accounts.items()}
        capable_ids = []
        for msg in hidden:
            capable = capable_of[msg.conversation.account_id]
            if capable:
                capable_ids.append(msg.pk)
            new_events.append((msg.conversation, EventKind.MODERATED, {
                "message": msg, "action": "hide", "by": "routing rule", "via_connector": capable,
                "rule": decisions[msg.external_id].matched_rule_ids,
                "note": "" if capable else "The connector cannot moderate: hidden in Dandelion only."}))
        if capable_ids:
            from dandelion.inbox.jobs import MODERATION_JOB_SIZE, run_moderation_many

            for chunk in _chunks(capable_ids, MODERATION_JOB_SIZE):
                transaction.on_commit(lambda chunk=chunk: run_moderation_many.enqueue(chunk, "hide"), robust=True)

    # --- tags, events, assignment, auto-acknowledgements ---------------------------------------------------------
    if any(tag_names.values()):
        names = set().union(*tag_names.values())
        existing_tags = {t.name: t for t in Tag.objects.filter(name__in=names)}
        Tag.objects.bulk_create([Tag(name=n[:60]) for n in names if n not in existing_tags], ignore_conflicts=True)
        existing_tags = {t.name: t for t in Tag.objects.filter(name__in=names)}
        through = Conversation.tags.through
        through.objects.bulk_create(
            [through(conversation_id=conv_of[key].pk, tag_id=existing_tags[n].pk) for key, ns in tag_names.items()
             for n in ns if n in existing_tags], ignore_conflicts=True)
    insert_rows(ConversationEvent, [ConversationEvent(conversation=conv, kind=kind, data=_refs(data))
                                    for conv, kind, data in new_events])
    plan.write()
    if auto_acks:
        canned = CannedResponse.objects.in_bulk([c for _, c in auto_acks])
        for conv, canned_id in auto_acks:
            if canned_id in canned:
                services.send_automatic_reply(conv, canned_response=canned[canned_id], at=now)


def _apply_route(conv: Conversation, decision, msg: Message, new_events: list) -> None:
    previous_team = conv.team_id
    conv.team_id = decision.team_id
    if previous_team != decision.team_id:
        conv.assignee = None
    if decision.priority:
        conv.priority = decision.priority
    conv.routing_reason = decision.as_reason()
    new_events.append((conv, EventKind.ROUTED, {**conv.routing_reason, "previous_team": previous_team,
                                                "message": msg}))


def _insert(model, objs: list) -> None:
    """One bulk INSERT in a savepoint; a unique violation means a concurrent worker stored some of these rows:
    :class:`ConcurrentWrite` (the batch runs again)."""
    try:
        with transaction.atomic():
            insert_rows(model, objs)
    except IntegrityError as exc:  # insert_rows left the objects unsaved
        raise ConcurrentWrite(f"{model.__name__}: {exc}") from exc

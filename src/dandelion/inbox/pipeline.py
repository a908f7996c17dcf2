"""The inbound pipeline, batch-oriented: ``ingest_batch([(account, event), ...]) -> IngestResult`` (the events of
any accounts of one network, one transaction); ``ingest_events(account, events)`` for one account.

normalise → dedup per receiving account (batch, then database; the unique constraint on (account, external id) is
the last guard) → understand (one ``analyze()`` call per batch) → then :func:`_persist`'s phases: **load**
(identities and contacts; threads: public: follow ``in_reply_to`` to a known message's conversation of the same
account, else a new conversation keyed by the root external id; DMs: one conversation per author) → **decide**
(routing decisions, one per new inbound message; the unsaved messages) → **apply** (each conversation's messages in
order through the state machine, :class:`~dandelion.inbox.state.ConversationState`, its SLA clocks alongside) →
**write** (automatic assignment planned per team; conversations, messages, clocks, events in bulk).

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
from django.utils import timezone

from dandelion.connectors.base import InboundEvent
from dandelion.core.actors import SYSTEM
from dandelion.core.bulk import insert_rows, update_rows
from dandelion.core.db import chunked as _chunks
from dandelion.core.db import in_values as _in
from dandelion.core.db import is_transient as _is_transient
from dandelion.core.events import emit_many
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
from dandelion.inbox.events import conversations_created
from dandelion.inbox.models import (
    AuthorIdentity,
    CannedResponse,
    Contact,
    Conversation,
    ConversationEvent,
    Message,
    Tag,
)
from dandelion.inbox.state import ConversationState

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


def understand(events: Sequence[InboundEvent], account=None, *, accounts: Sequence | None = None) -> list:
    """One ``analyze()`` call for the whole batch; returns each event's ``Understanding``, in order. The account of
    each event is ``account``, or ``accounts[i]`` for a batch of several accounts.

    Language evidence besides the text: the author's declared language, else the account's language when it has
    only one (a short "Où est ma commande ?" on the French account is French; an English or Spanish message there
    still reads as English or Spanish: a hint multiplies odds, it is no verdict)."""
    if not events:
        return []
    from dandelion.understanding.analyzer import get_analyzer

    def fallback(acc):
        languages = list(getattr(acc, "languages", None) or [])
        return languages[0] if len(languages) == 1 else None

    of_account: dict = {}  # the fallback, once per account
    hints = []
    for i, e in enumerate(events):
        acc = account if accounts is None else accounts[i]
        key = getattr(acc, "pk", None)
        if key not in of_account:
            of_account[key] = fallback(acc)
        hints.append(e.author.language or of_account[key])
    return list(get_analyzer().analyze([e.text for e in events], language_hints=hints))


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
    statement per account and table was most of the time). A batch holds one network (its duplicates and linked
    copies are found by the network's external ids). Each account's events are threaded, routed and answered as if
    alone: a reply never joins a conversation of another account; an event is stored once per receiving account
    (the idempotency key is the account and the external id), so a public post that reached two accounts is two
    messages, linked by their external id: answered from one, it is answered in the other too
    (:func:`~dandelion.inbox.services.answer_linked_copies`).

    An echo (the brand's answer) to a message Dandelion does not know is skipped as the brand's own post, unless its
    id is in ``wait_for_parents``: then it is returned in ``result.waiting_echoes``, for the caller to try again
    later (events arrive out of order, and two workers may hold a message and its answer at the same time).

    All or nothing: one transaction. When a concurrent worker stored part of the same batch (the same event
    delivered twice, the same new thread), the transaction is rolled back and the batch runs again: its duplicates
    are then found and skipped, so every event is stored exactly once."""
    now = now or timezone.now()
    if len({account.network for account, _ in items}) > 1:
        raise ValueError("a batch holds the events of one network (its external ids are the network's)")
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


Key = tuple[int, str]  # (receiving account id, external id): what one account received, the idempotency key


def _key(account, event: InboundEvent) -> Key:
    return (account.pk, event.external_id)


def _ingest_once(items: Sequence[tuple[object, InboundEvent]], understood: dict, now: dt.datetime,
                 wait_for_parents: Collection[str]) -> IngestResult:
    result = IngestResult(received=len(items))
    if not items:
        return result
    network = items[0][0].network
    # normalise + dedup within the batch (first occurrence wins), oldest first: an event counts once per account
    batch: dict[Key, InboundEvent] = {}
    account_of: dict[Key, object] = {}
    for account, event in sorted(items, key=lambda item: item[1].created_at):
        key = _key(account, event)
        if key in batch:
            result.duplicates += 1
            continue
        batch[key] = event
        account_of[key] = account
    # dedup against the database; the same query finds the copies other accounts received (linked messages)
    stored = _in(Message.objects.filter(network=network).order_by().values_list(
        "account_id", "external_id", "direction", "replied_at", "conversation_id"), "external_id",
        {eid for _acc, eid in batch})
    known = {(acc, eid) for acc, eid, *_ in stored} & batch.keys()
    if known:
        result.duplicates += len(known)
        batch = {k: v for k, v in batch.items() if k not in known}
    if not batch:
        return result
    answered_copy: dict[str, tuple] = {}  # external id -> (answered at, account id, conversation id) of a copy
    for acc, eid, direction, replied_at, conv_id in stored:
        if direction == Direction.INBOUND and replied_at is not None and (
                eid not in answered_copy or replied_at < answered_copy[eid][0]):
            answered_copy[eid] = (replied_at, acc, conv_id)
    unread = [k for k, e in batch.items() if not e.from_account and k not in understood]
    understood.update(zip(unread, understand([batch[k] for k in unread], accounts=[account_of[k] for k in unread]),
                          strict=True))  # a second attempt reuses what the first read
    plan = _Plan(network=network, batch=batch, account_of=account_of, understood=understood, now=now,
                 result=result, wait_for_parents=wait_for_parents, answered_copy=answered_copy)
    with transaction.atomic(), batch_memo():
        _persist(plan)
    if result.created:
        from dandelion.assets.services import note_account_activity

        latest: dict[int, dt.datetime] = {}
        for (pk, _eid), e in batch.items():
            latest[pk] = max(latest.get(pk, e.created_at), e.created_at)
        # one statement for the batch's accounts (the assets service): each moves forward, never back
        note_account_activity(latest, actor=SYSTEM)
    return result


def _identities(network: str, inbound: list[tuple[Key, InboundEvent]], understood) -> dict[str, AuthorIdentity]:
    authors = {}
    for key, e in inbound:
        authors.setdefault(e.author.external_id, (e.author, understood.get(key)))
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


def decide_route(ctx, rules, cache: dict | None = None):
    """``engine.decide`` (the team of the hub's triage queue created lazily when no team covers the message): the
    route of a new or reopened conversation, here and in the sweep.

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


@dataclass
class _Plan:
    """One batch worked on in memory: the events (by :data:`Key`), what each phase of :func:`_persist` found or
    decided, and what the last phase writes."""

    network: str
    batch: dict  # Key -> InboundEvent, oldest first, new to the database
    account_of: dict  # Key -> SocialAccount
    understood: dict  # Key -> Understanding (inbound events)
    now: dt.datetime
    result: IngestResult
    wait_for_parents: Collection[str] = ()
    answered_copy: dict = field(default_factory=dict)  # external id -> (at, account id, conversation id)
    # load
    accounts: dict = field(default_factory=dict)  # account id -> account
    identities: dict = field(default_factory=dict)  # author external id -> AuthorIdentity
    parent_rows: dict = field(default_factory=dict)  # Key -> stored Message answered or replied to
    thread_of: dict = field(default_factory=dict)  # Key -> ("id", conversation id) | (kind, account id, thread key)
    conversations: dict = field(default_factory=dict)  # thread key -> Conversation (loaded or new)
    new_convs: dict = field(default_factory=dict)  # thread key -> new Conversation
    new_contacts: dict = field(default_factory=dict)  # conversation id -> contact id (threads on the brand's post)
    # decide
    decisions: dict = field(default_factory=dict)  # Key -> RoutingDecision (inbound)
    messages: dict = field(default_factory=dict)  # Key -> unsaved Message
    db_answered: dict = field(default_factory=dict)  # Key -> when a stored message was answered by an echo
    answered: dict = field(default_factory=dict)  # external id -> (at, account id, conversation): copies to answer
    answered_by_copy: set = field(default_factory=set)  # Keys of new messages already answered from another account
    # apply
    touched: list = field(default_factory=list)  # the batch's conversations
    existing: list = field(default_factory=list)  # those that existed before the batch
    new_events: list = field(default_factory=list)  # (conversation, kind, data)
    books: dict = field(default_factory=dict)  # id(conversation) -> ClockBook
    tag_names: dict = field(default_factory=lambda: defaultdict(set))  # id(conversation) -> tag names
    searchable: dict = field(default_factory=dict)  # id(conversation) -> search text added (existing ones)
    to_assign: list = field(default_factory=list)
    auto_acks: list = field(default_factory=list)  # (conversation, canned response id)
    hidden: list = field(default_factory=list)  # messages hidden by a rule

    def events(self):
        return [(k, e) for k, e in self.batch.items() if k in self.thread_of]


def _persist(plan: _Plan) -> None:
    """Plan the whole batch in memory (threads, routing, conversation state, SLA clocks, assignment), then write
    it: new conversations complete in one INSERT, messages in one, clocks in one, events and audit rows in one
    each; only conversations that existed before the batch get an UPDATE each. Four phases: :func:`_load` (who,
    which thread), :func:`_decide` (routes, messages), :func:`_apply` (the state machine, in message order),
    :func:`_write`."""
    if not _load(plan):
        return
    _decide(plan)
    _apply(plan)
    _write(plan)


# --- load: identities, threads, conversations ---------------------------------------------------------------------


def _load(plan: _Plan) -> bool:
    """Authors, the thread of each event (each account's own: a reply never joins another account's conversation)
    and its conversation, loaded or new. Returns whether anything is left to store."""
    network, account_of, result = plan.network, plan.account_of, plan.result
    plan.accounts = {a.pk: a for a in account_of.values()}
    plan.identities = _identities(network, [(k, e) for k, e in plan.batch.items() if not e.from_account],
                                  plan.understood)
    parents = {(acc, e.in_reply_to) for (acc, _eid), e in plan.batch.items()
               if e.in_reply_to and (acc, e.in_reply_to) not in plan.batch}
    plan.parent_rows = {(m.account_id, m.external_id): m for m in _in(
        Message.objects.filter(network=network, account__in=list(plan.accounts)).order_by().only(
            "id", "account_id", "external_id", "conversation_id", "direction", "replied"),
        "external_id", {eid for _acc, eid in parents}) if (m.account_id, m.external_id) in parents}
    thread_of = plan.thread_of
    for k, e in plan.batch.items():
        acc = k[0]
        parent = (acc, e.in_reply_to) if e.in_reply_to else None
        if parent and parent in thread_of:
            thread = thread_of[parent]
        elif parent and parent in plan.parent_rows:
            thread = ("id", plan.parent_rows[parent].conversation_id)
        elif e.from_account:
            thread = None
        elif e.kind == "dm":
            thread = (ConversationKind.PRIVATE, acc, e.author.external_id)
        else:
            thread = (ConversationKind.PUBLIC, acc, e.external_id)
        if thread is not None and e.kind == "dm" and thread[0] == ConversationKind.PUBLIC:
            thread = (ConversationKind.PRIVATE, acc, e.author.external_id)
        if thread is None:
            if e.in_reply_to and e.external_id in plan.wait_for_parents:
                result.waiting_echoes.append(e)  # its parent may still come
            else:
                result.orphan_echoes += 1
            continue
        thread_of[k] = thread
    if not thread_of:
        return False

    conversations, loaded = plan.conversations, {}  # one object per conversation, however it was reached
    by_id = [t[1] for t in thread_of.values() if t[0] == "id"]
    for conv in _in(Conversation.objects.filter(account__in=list(plan.accounts)), "pk", by_id):
        conversations[("id", conv.pk)] = loaded.setdefault(conv.pk, conv)
    for kind in (ConversationKind.PUBLIC, ConversationKind.PRIVATE):
        wanted = {t for t in thread_of.values() if t[0] == kind}
        owners = sorted({t[1] for t in wanted})
        for conv in _in(Conversation.objects.filter(account__in=owners, kind=kind), "thread_key",
                        {t[2] for t in wanted}):
            if (kind, conv.account_id, conv.thread_key) in wanted:
                conversations[(kind, conv.account_id, conv.thread_key)] = loaded.setdefault(conv.pk, conv)
    for conv in loaded.values():
        conv.account = plan.accounts[conv.account_id]  # saves a lazy load per conversation (str(), audit unit)
    first_event_of: dict[tuple, tuple[Key, InboundEvent]] = {}
    for k, e in plan.batch.items():
        if k in thread_of:
            first_event_of.setdefault(thread_of[k], (k, e))
    # a thread rooted on the brand's own post (services.record_own_posts) has the brand as its contact until a
    # customer writes under it: the first inbound author becomes the conversation's contact
    first_inbound_of: dict[tuple, InboundEvent] = {}
    for k, e in plan.batch.items():
        if k in thread_of and not e.from_account:
            first_inbound_of.setdefault(thread_of[k], e)
    for thread, e in first_inbound_of.items():
        conv = conversations.get(thread)
        if conv is not None and conv.first_inbound_at is None and conv.kind == ConversationKind.PUBLIC:
            conv.contact = plan.identities[e.author.external_id].contact
            plan.new_contacts[conv.pk] = conv.contact.pk
    for thread, (k, e) in first_event_of.items():
        if thread in conversations or thread[0] == "id" or e.from_account:
            continue
        u = plan.understood.get(k)
        plan.new_convs[thread] = Conversation(
            account=account_of[k], contact=plan.identities[e.author.external_id].contact, kind=thread[0],
            thread_key=thread[2][:200],
            status=ConversationStatus.OPEN, language=((u.language if u else None) or e.author.language or "")[:8],
            created_at=plan.now, updated_at=plan.now,
        )
    conversations.update(plan.new_convs)
    result.conversations_created += len(plan.new_convs)
    # an echo whose thread has no conversation (nothing inbound yet) is an orphan too
    for k in [k for k, thread in thread_of.items() if thread not in conversations]:
        del thread_of[k]
        result.orphan_echoes += 1
    return bool(thread_of)


# --- decide: routes and messages ----------------------------------------------------------------------------------


def _decide(plan: _Plan) -> None:
    """A routing decision per inbound message, and the unsaved messages (an echo marks what it answers)."""
    from dandelion.routing import engine

    def rules_of(account):
        path = account.owner_unit.path
        return config_memoized(("route.rules", path), lambda: engine.applicable_rules(path))

    default_routes: dict = {}
    events = plan.events()
    for k, e in events:
        if not e.from_account:
            account = plan.account_of[k]
            plan.decisions[k] = decide_route(
                _routing_context(account, e, plan.understood.get(k), plan.identities[e.author.external_id]),
                rules_of(account), default_routes)
    network = plan.network
    for k, e in events:
        conv = plan.conversations[plan.thread_of[k]]
        account_id = k[0]
        if e.from_account:
            msg = Message(conversation=conv, account_id=account_id, network=network, external_id=e.external_id,
                          direction=Direction.OUTBOUND, kind=e.kind, text=e.text, in_reply_to=e.in_reply_to or "",
                          sent_at=e.created_at, delivery_status=DeliveryStatus.SENT, language=conv.language)
            parent = (account_id, e.in_reply_to or "")
            target = plan.messages.get(parent)
            if target is not None:
                if target.direction == Direction.INBOUND and not target.replied:
                    target.replied, target.replied_at = True, e.created_at
                    plan.answered.setdefault(e.in_reply_to, (e.created_at, account_id, conv))
            elif parent in plan.parent_rows and plan.parent_rows[parent].direction == Direction.INBOUND:
                plan.db_answered.setdefault(parent, e.created_at)
                plan.answered.setdefault(e.in_reply_to, (e.created_at, account_id, conv))
        else:
            u = plan.understood.get(k)
            d = plan.decisions[k]
            msg = Message(
                conversation=conv, account_id=account_id, network=network, external_id=e.external_id,
                direction=Direction.INBOUND, kind=e.kind, author_identity=plan.identities[e.author.external_id],
                text=e.text, in_reply_to=e.in_reply_to or "", sent_at=e.created_at,
                language=((u.language if u else None) or e.author.language or "")[:8],
                language_confidence=float(u.language_confidence) if u else 0.0,
                sentiment=(u.sentiment if u else "") or "", sentiment_score=float(u.sentiment_score) if u else 0.0,
                intent=(u.intent if u else "") or "", spam=float(u.spam) if u else 0.0,
                abuse=float(u.abuse) if u else 0.0, needs_reply=bool(u.needs_reply) if u else True,
                moderation_state=ModerationState.HIDDEN if d.hide else ModerationState.VISIBLE,
            )
            copy = plan.answered_copy.get(e.external_id)
            if copy is not None and conv.kind == ConversationKind.PUBLIC:  # answered from another account already
                msg.replied, msg.replied_at = True, copy[0]
                plan.answered_by_copy.add(k)
        plan.messages[k] = msg


# --- apply: the state machine, in message order (in memory) -------------------------------------------------------


def _apply(plan: _Plan) -> None:
    """Each conversation's messages, oldest first, through :class:`~dandelion.inbox.state.ConversationState`; its
    clock operations run on the conversation's :class:`~dandelion.routing.sla.ClockBook` as they happen."""
    from dandelion.routing.sla import ClockBook, load_books

    result = plan.result
    per_conv: dict[int, list[tuple[Key, InboundEvent, Message]]] = defaultdict(list)
    conv_of: dict[int, Conversation] = {}
    for k, e in plan.events():
        conv = plan.conversations[plan.thread_of[k]]
        per_conv[id(conv)].append((k, e, plan.messages[k]))
        conv_of[id(conv)] = conv
    plan.touched = list(conv_of.values())
    plan.existing = [c for c in plan.touched if c.pk is not None]
    loaded_books = load_books(plan.existing)  # their running clocks, locked
    plan.books = {id(c): loaded_books[c.pk] if c.pk is not None else ClockBook(c) for c in plan.touched}
    for key, items in per_conv.items():
        conv, book = conv_of[key], plan.books[key]
        state = ConversationState(conv, on_clock=lambda operation, at, book=book: getattr(book, operation)(at))
        is_new = conv.pk is None
        if is_new:
            plan.new_events.append((conv, EventKind.CREATED, {"first_message": items[0][2]}))
            search.extend(conv, [conv.contact.name])
        truncated = conv.search_truncated
        added = search.extend(conv, [part for _k, _e, m in items
                                     for part in search.message_parts(m.text, m.author_identity)])
        if added or conv.search_truncated != truncated:
            plan.searchable[key] = added
        for k, e, msg in items:
            at = e.created_at
            if msg.direction == Direction.OUTBOUND:
                result.echoes += 1
                state.responded(at, by_person=False)
                continue
            _apply_inbound(plan, state, k, msg, at)
        if is_new and _all_hidden(items):
            # spam or abuse hidden by a rule from its first message: set aside in the Hidden tab, no clock running
            state.hide(items[-1][1].created_at, by_person=False, reason="every message hidden by a routing rule")
            if conv in plan.to_assign:
                plan.to_assign.remove(conv)
        plan.new_events += [(conv, kind, data) for kind, data in state.take().events]
    services.refresh_waiting_many(plan.touched, unsaved=plan.messages.values(),
                                  answered=[eid for _acc, eid in plan.db_answered])
    for conv in plan.touched:
        conv.sla_due_at = plan.books[id(conv)].due()
        conv.updated_at = plan.now


def _all_hidden(items) -> bool:
    """The customer's messages of a batch are all hidden (and there is at least one)."""
    inbound = [m for _k, _e, m in items if m.direction == Direction.INBOUND]
    return bool(inbound) and all(m.moderation_state == ModerationState.HIDDEN for m in inbound)


def _apply_inbound(plan: _Plan, state: ConversationState, k: Key, msg: Message, at: dt.datetime) -> None:
    conv, result, d = state.conversation, plan.result, plan.decisions[k]
    if not conv.language and msg.language:
        conv.language = msg.language
    visible = msg.moderation_state == ModerationState.VISIBLE
    if msg.moderation_state == ModerationState.HIDDEN:
        plan.hidden.append(msg)
        result.hidden += 1
    was_closed = state.is_closed()
    by_copy = k in plan.answered_by_copy
    if state.inbound(at, needs_reply=msg.needs_reply and not by_copy, visible=visible, message=msg):
        result.conversations_reopened += was_closed and not state.is_closed()
        state.routed(at, team_id=d.team_id, priority=d.priority, reason=d.as_reason(), message=msg)
        result.routed += 1
        if conv.assignee_id is None:
            plan.to_assign.append(conv)
        if d.auto_reply_canned_id and visible:
            plan.auto_acks.append((conv, d.auto_reply_canned_id))
    else:
        state.raise_priority(d.priority, rank=PRIORITY_RANK, rule=d.matched_rule_ids, message=msg)
    if by_copy:  # the same post was answered from another account of the organisation
        answered_at, account_id, conversation_id = plan.answered_copy[msg.external_id]
        state.answered_elsewhere(answered_at, still_waiting=[conv.waiting_since] if conv.waiting_since else [],
                                 message=msg, from_account=account_id, from_conversation=conversation_id)
    plan.tag_names[id(conv)].update(d.tags)
    if d.escalate:
        state.escalate(rule=d.matched_rule_ids, message=msg, explanation=d.explanation)


# --- write ----------------------------------------------------------------------------------------------------------


def _write(plan: _Plan) -> None:
    """Assignment planned per team, then the writes: conversations, messages, answers, clocks, hidden messages,
    tags, events, assignment, auto-acknowledgements, linked copies answered."""
    from dandelion.routing.assignment import AssignmentPlan
    from dandelion.routing.sla import write_books

    result, network = plan.result, plan.network
    assignments = AssignmentPlan()
    to_assign = [c for c in {id(c): c for c in plan.to_assign}.values()
                 if c.team_id and c.assignee_id is None and c.status == ConversationStatus.OPEN]
    if to_assign:
        assignments.lock(c.team_id for c in to_assign)
        for conv in to_assign:
            assignments.assign(conv)

    if plan.new_convs:
        _insert(Conversation, list(plan.new_convs.values()))
    objs = plan.messages
    _insert(Message, sorted(objs.values(), key=lambda m: (m.external_id, m.account_id)))
    if plan.db_answered:
        rows = [row for row in _in(Message.objects.filter(network=network, replied=False,
                                                          account__in=sorted({a for a, _ in plan.db_answered})),
                                   "external_id", {eid for _a, eid in plan.db_answered})
                if (row.account_id, row.external_id) in plan.db_answered]
        for row in rows:
            row.replied, row.replied_at = True, plan.db_answered[(row.account_id, row.external_id)]
        update_rows(Message, rows, ["replied", "replied_at"])
    write_books(plan.books.values())
    for conv_id, contact_id in plan.new_contacts.items():
        Conversation.objects.filter(pk=conv_id, first_inbound_at__isnull=True).update(contact_id=contact_id)
    existing = plan.existing
    # the database appends to the search text, keeping a concurrent writer's addition; the truncation flag only
    # ever turns on (a copy read before another writer set it must not turn it off)
    update_rows(Conversation, existing, CONVERSATION_FIELDS, turn_on=["search_truncated"],
                append={"search_text": {conv.pk: plan.searchable[id(conv)] for conv in existing
                                        if id(conv) in plan.searchable}})
    result.created += len(objs)
    result.message_ids += [m.pk for m in objs.values()]
    result.conversation_ids += [c.pk for c in plan.touched]

    # --- hidden messages: on the network when the connector can, else here only -------------------------------------
    if plan.hidden:
        capable_of = {pk: connect.supports(a, "moderation") for pk, a in plan.accounts.items()}
        capable_ids = []
        for msg in plan.hidden:
            capable = capable_of[msg.account_id]
            if capable:
                capable_ids.append(msg.pk)
            plan.new_events.append((msg.conversation, EventKind.MODERATED, {
                "message": msg, "action": "hide", "by": "routing rule", "via_connector": capable,
                "rule": plan.decisions[(msg.account_id, msg.external_id)].matched_rule_ids,
                "note": "" if capable else "The connector cannot moderate: hidden in Dandelion only."}))
        if capable_ids:
            from dandelion.inbox.jobs import MODERATION_JOB_SIZE, run_moderation_many

            for chunk in _chunks(capable_ids, MODERATION_JOB_SIZE):
                transaction.on_commit(lambda chunk=chunk: run_moderation_many.enqueue(chunk, "hide"), robust=True)

    # --- tags, events, assignment, auto-acknowledgements ---------------------------------------------------------
    tag_names = plan.tag_names
    if any(tag_names.values()):
        conv_of = {id(c): c for c in plan.touched}
        names = set().union(*tag_names.values())
        existing_tags = {t.name: t for t in Tag.objects.filter(name__in=names)}
        Tag.objects.bulk_create([Tag(name=n[:60]) for n in names if n not in existing_tags], ignore_conflicts=True)
        existing_tags = {t.name: t for t in Tag.objects.filter(name__in=names)}
        through = Conversation.tags.through
        through.objects.bulk_create(
            [through(conversation_id=conv_of[key].pk, tag_id=existing_tags[n].pk) for key, ns in tag_names.items()
             for n in ns if n in existing_tags], ignore_conflicts=True)
    insert_rows(ConversationEvent, [ConversationEvent(conversation=conv, kind=kind, data=_refs(data))
                                    for conv, kind, data in plan.new_events])
    assignments.write()
    emit_many(conversations_created(plan.new_convs.values()))  # one hand-over per batch, after commit
    if plan.auto_acks:
        canned = CannedResponse.objects.in_bulk([c for _, c in plan.auto_acks])
        for conv, canned_id in plan.auto_acks:
            if canned_id in canned:
                services.send_automatic_reply(conv, canned_response=canned[canned_id], at=plan.now)
    # --- echoes answering a post other accounts received too: their copies are answered as well -------------------
    if plan.answered:
        services.answer_linked_copies(network, {eid: (at, account_id, conv.pk)
                                                for eid, (at, account_id, conv) in plan.answered.items()})


def _insert(model, objs: list) -> None:
    """One bulk INSERT in a savepoint; a unique violation means a concurrent worker stored some of these rows:
    :class:`ConcurrentWrite` (the batch runs again)."""
    try:
        with transaction.atomic():
            insert_rows(model, objs)
    except IntegrityError as exc:  # insert_rows left the objects unsaved
        raise ConcurrentWrite(f"{model.__name__}: {exc}") from exc

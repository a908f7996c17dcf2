"""Every write of listening: verb_noun, keyword-only ``actor``, atomic, permission-checked, audited.

* Queries: :func:`create_query`, :func:`update_query`, :func:`delete_query` (a query that does not parse, or would
  match almost everything, is refused with the reason and the position).
* Mentions: :func:`ingest_mentions` stores a batch (idempotent on ``(source, source_ref)``), matches it against
  every active query through the anchor index, and adds it to the hourly rollups in the same transaction.
* Spikes: :func:`evaluate_queries` is the minute tick (the detector of :mod:`dandelion.listening.detector`), which
  opens, updates and closes :class:`~dandelion.listening.models.Alert` rows and emits their events.
* Actions: :func:`acknowledge_alert`, :func:`send_mention_to_inbox` (through the inbox's own pipeline, so the
  conversation is routed to the right team by the routing rules).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.core.actors import SYSTEM
from dandelion.core.audit import diff, record, snapshot
from dandelion.core.events import emit
from dandelion.core.permissions import require_perm
from dandelion.listening import detector as det
from dandelion.listening import events as ev
from dandelion.listening.choices import AlertState
from dandelion.listening.exceptions import ListeningError, QueryNameTaken
from dandelion.listening.models import (
    Alert,
    HourlyRollup,
    InboundCursor,
    ListeningQuery,
    Mention,
    MentionMatch,
)
from dandelion.listening.query import STOP_WORDS, Doc, QueryIndex, QuerySyntaxError, compile_query

logger = logging.getLogger(__name__)

QUERY_FIELDS = ("name", "text", "description", "is_active", "is_competitor", "network_search", "unit")
TOP_TERMS_PER_HOUR = 40
TICK_CURSOR = "tick"
MAX_TEXT = 10_000


# --- queries -------------------------------------------------------------------------------------------------------

def _check_text(text: str) -> str:
    text = (text or "").strip()
    try:
        compile_query(text)
    except QuerySyntaxError as exc:
        raise ListeningError(str(exc), field="text") from None
    return text


def _check_name(unit, name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ListeningError(_("A query needs a name."), field="name")
    qs = ListeningQuery.objects.filter(unit=unit, name=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise QueryNameTaken(_("A query named '%(name)s' already exists in this unit.") % {"name": name}, field="name")
    return name


@transaction.atomic
def create_query(*, actor, unit, name: str, text: str, description: str = "", is_active: bool = True,
                 is_competitor: bool = False, network_search: bool = False) -> ListeningQuery:
    require_perm(actor, "listening.add_listeningquery", unit)
    text = _check_text(text)
    name = _check_name(unit, name)
    query = ListeningQuery.objects.create(
        unit=unit, name=name, text=text, description=description or "", is_active=is_active,
        is_competitor=is_competitor, network_search=network_search, created_by=actor if getattr(actor, "pk", None) else None)
    record(actor=actor, action="listening.query.create", obj=query, summary=f"Created listening query '{name}'",
           changes={k: [None, v] for k, v in snapshot(query, QUERY_FIELDS).items()})
    return query


@transaction.atomic
def update_query(query: ListeningQuery, *, actor, **changes: Any) -> ListeningQuery:
    unknown = set(changes) - set(QUERY_FIELDS)
    if unknown:
        raise ListeningError(_("Unknown query field(s): %(join)s") % {"join": ', '.join(sorted(unknown))})
    require_perm(actor, "listening.change_listeningquery", query.unit)
    if "unit" in changes and changes["unit"] != query.unit:
        require_perm(actor, "listening.add_listeningquery", changes["unit"])
    before = snapshot(query, QUERY_FIELDS)
    if "text" in changes:
        changes["text"] = _check_text(changes["text"])
        if changes["text"] != query.text:
            query.detector_state = {}  # a new query is a new stream: its baseline starts afresh
    if "name" in changes or "unit" in changes:
        changes["name"] = _check_name(changes.get("unit", query.unit), changes.get("name", query.name),
                                      exclude_pk=query.pk)
    for key, value in changes.items():
        setattr(query, key, value)
    query.save()
    delta = diff(before, snapshot(query, QUERY_FIELDS))
    if delta:
        record(actor=actor, action="listening.query.update", obj=query, summary=f"Changed listening query '{query}'",
               changes=delta)
    return query


@transaction.atomic
def delete_query(query: ListeningQuery, *, actor) -> None:
    require_perm(actor, "listening.delete_listeningquery", query.unit)
    record(actor=actor, action="listening.query.delete", obj=query, summary=f"Deleted listening query '{query}'",
           changes={k: [v, None] for k, v in snapshot(query, QUERY_FIELDS).items()})
    query.delete()


# --- mentions ------------------------------------------------------------------------------------------------------

@dataclass
class MentionInput:
    """One item to store as a mention (what a source yields)."""

    unit_id: int
    source: str
    source_ref: str
    text: str
    posted_at: dt.datetime
    network: str = ""
    url: str = ""
    author: str = ""
    author_reach: int = 0
    language: str = ""
    country: str = ""
    sentiment: str = ""
    account_id: int | None = None
    conversation_id: int | None = None
    unit_path: str = ""
    kind: str = ""  # the connector's event kind (comment, mention, dm, reply), when known
    needs_reply: bool | None = None  # the inbox's verdict for an inbound message; None: decided here


@dataclass
class IngestResult:
    received: int = 0
    created: int = 0
    duplicates: int = 0
    matches: int = 0
    per_query: Counter = field(default_factory=Counter)


def _clean(text: str) -> str:
    text = (text or "").replace("\x00", "")
    text = text.encode("utf-8", errors="replace").decode("utf-8")  # no lone surrogates
    return text[:MAX_TEXT]


class _Matcher:
    """The active queries, compiled once per batch, with their units' paths (a query sees mentions of its subtree
    and every public mention: feeds, searches, replays)."""

    def __init__(self) -> None:
        rows = list(ListeningQuery.objects.filter(is_active=True).values_list("pk", "text", "unit__path"))
        self.paths = {pk: path for pk, _, path in rows}
        self.index = QueryIndex.build((pk, text) for pk, text, _ in rows)

    def match(self, item: MentionInput) -> list[int]:
        doc = Doc.build(item.text, lang=item.language, network=item.network, country=item.country,
                        author=item.author)
        hits = self.index.match(doc)
        if item.source == "inbound":
            hits = [q for q in hits if item.unit_path.startswith(self.paths[q])]
        return hits


def _hour(value: dt.datetime) -> dt.datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def _terms(item: MentionInput) -> Counter:
    doc = Doc.build(item.text)
    c: Counter = Counter()
    for w in doc.word_set:
        if len(w) > 2 and w not in STOP_WORDS and not w.isdigit():
            c[w] += 1
    for t in doc.hashtags:
        c["#" + t] += 1
    if item.author:
        c["@" + item.author.lstrip("@").lower()[:60]] += 1
    if item.language:
        c["lang:" + item.language[:2].lower()] += 1
    if item.country:
        c["country:" + item.country.upper()] += 1
    return c


def ingest_mentions(items: Sequence[MentionInput], *, actor=SYSTEM) -> IngestResult:
    """Store, match and roll up a batch. Safe to run twice (duplicates are skipped) and concurrently (rollups are
    locked row by row; a lost insert race is retried)."""
    require_perm(actor, "listening.add_mention")
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _ingest(items)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest(items: Sequence[MentionInput]) -> IngestResult:
    result = IngestResult(received=len(items))
    if not items:
        return result
    seen: dict[tuple[str, str], MentionInput] = {}
    for item in items:
        seen.setdefault((item.source, item.source_ref[:200]), item)
    existing = set()
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, ref in seen:
        by_source[source].append(ref)
    for source, refs in by_source.items():
        for i in range(0, len(refs), 500):
            existing |= {(source, r) for r in Mention.objects.filter(source=source, source_ref__in=refs[i:i + 500])
                         .values_list("source_ref", flat=True)}
    fresh = [item for key, item in seen.items() if key not in existing]
    result.duplicates = len(items) - len(fresh)
    if not fresh:
        return result
    addressed, replies = _addressing(fresh)
    rows = [Mention(unit_id=i.unit_id, source=i.source, source_ref=i.source_ref[:200], network=i.network[:40],
                    url=i.url[:500], author=i.author[:150], author_reach=max(0, min(i.author_reach, 2**31 - 1)),
                    text=_clean(i.text), language=i.language[:8], country=i.country[:2].upper(),
                    sentiment=i.sentiment[:10], posted_at=i.posted_at, account_id=i.account_id,
                    conversation_id=i.conversation_id, addressed=to_us, needs_reply=reply)
            for i, to_us, reply in zip(fresh, addressed, replies, strict=True)]
    Mention.objects.bulk_create(rows, batch_size=1000)
    if any(r.pk is None for r in rows):  # backends that do not return ids (none we support, but be safe)
        ids = dict(Mention.objects.filter(source__in=by_source, source_ref__in=[r.source_ref for r in rows])
                   .values_list("source_ref", "pk"))
        for r in rows:
            r.pk = ids[r.source_ref]
    result.created = len(rows)
    matcher = _Matcher()
    matches: list[MentionMatch] = []
    buckets: dict[tuple[int, dt.datetime], dict[str, Any]] = {}
    for item, row in zip(fresh, rows, strict=True):
        hits = matcher.match(item)
        if not hits:
            continue
        terms = _terms(item)
        for q in hits:
            matches.append(MentionMatch(query_id=q, mention_id=row.pk, posted_at=row.posted_at))
            b = buckets.setdefault((q, _hour(row.posted_at)), {"count": 0, "positive": 0, "neutral": 0,
                                                                "negative": 0, "reach": 0, "terms": Counter()})
            b["count"] += 1
            if row.sentiment in ("positive", "neutral", "negative"):
                b[row.sentiment] += 1
            b["reach"] += row.author_reach
            b["terms"].update(terms)
            result.per_query[q] += 1
    MentionMatch.objects.bulk_create(matches, batch_size=2000)
    result.matches = len(matches)
    _add_to_rollups(buckets)
    by_increment: dict[int, list[int]] = defaultdict(list)
    for q, n in result.per_query.items():
        by_increment[n].append(q)
    for n, ids in by_increment.items():  # one UPDATE per distinct increment, not one per query
        ListeningQuery.objects.filter(pk__in=ids).update(mention_count=F("mention_count") + n)
    return result


def _addressing(items: Sequence[MentionInput]) -> tuple[list[bool], list[bool]]:
    """Addressed to the brand or public, and whether it needs a reply (public: never by default)."""
    from dandelion.listening import addressing

    handles = addressing.own_handles() if any(i.source != "inbound" for i in items) else frozenset()
    to_us = [addressing.is_addressed(i.text, source=i.source, kind=i.kind, handles=handles) for i in items]
    replies = addressing.needs_reply([i.text for i in items], to_us, [i.needs_reply for i in items],
                                     language_hints=[i.language or None for i in items])
    return to_us, replies


def _add_to_rollups(buckets: dict[tuple[int, dt.datetime], dict[str, Any]]) -> None:
    if not buckets:
        return
    queries = {q for q, _ in buckets}
    hours = {h for _, h in buckets}
    current = {(r.query_id, r.hour): r for r in HourlyRollup.objects.select_for_update()
               .filter(query_id__in=queries, hour__in=hours)}
    new, changed = [], []
    for (q, hour), b in buckets.items():
        row = current.get((q, hour))
        if row is None:
            row = HourlyRollup(query_id=q, hour=hour, terms={})
            new.append(row)
        else:
            changed.append(row)
        row.count += b["count"]
        row.positive += b["positive"]
        row.neutral += b["neutral"]
        row.negative += b["negative"]
        row.reach += b["reach"]
        terms = Counter(row.terms or {})
        terms.update(b["terms"])
        row.terms = dict(terms.most_common(TOP_TERMS_PER_HOUR * 3))  # keep room: the top of a day is summed
    HourlyRollup.objects.bulk_create(new, batch_size=1000)
    HourlyRollup.objects.bulk_update(changed, ["count", "positive", "neutral", "negative", "reach", "terms"],
                                     batch_size=1000)


# --- the minute tick -----------------------------------------------------------------------------------------------

def _minute(value: dt.datetime) -> int:
    return int(value.timestamp() // 60)


def evaluate_queries(*, now: dt.datetime | None = None, actor=SYSTEM) -> list[tuple[int, det.Decision]]:
    """Feed each active query's new matches to its detector, tick it, apply what it decides. One query's failure
    is recorded on it (its health) and does not stop the others."""
    require_perm(actor, "listening.change_alert")
    now = now or timezone.now()
    queries = list(ListeningQuery.objects.filter(is_active=True))
    if not queries:
        return []
    # the matches stored since the last tick, by id (a cursor: late or back-dated mentions are counted once)
    with transaction.atomic():
        cursor, _ = InboundCursor.objects.select_for_update().get_or_create(name=TICK_CURSOR)
        counts: dict[int, Counter] = defaultdict(Counter)
        last_id = cursor.last_id
        for pk, q_id, posted_at in MentionMatch.objects.filter(pk__gt=cursor.last_id).values_list(
                "pk", "query_id", "posted_at").order_by("pk").iterator(chunk_size=5000):
            counts[q_id][_minute(posted_at)] += 1
            last_id = pk
        cursor.last_id = last_id
        cursor.save(update_fields=["last_id"])
        decisions: list[tuple[int, det.Decision]] = []
        current = _minute(now)
        ticked: list[ListeningQuery] = []
        for query in queries:  # pure, in memory: a query whose state or counts break fails alone
            try:
                decision = _tick_state(query, counts.get(query.pk, Counter()), current, now)
            except Exception as exc:
                logger.exception("listening: query %s failed its tick", query.pk)
                ListeningQuery.objects.filter(pk=query.pk).update(last_error=f"detector: {exc}"[:500],
                                                                  last_error_at=now)
                continue
            ticked.append(query)
            if decision is not None:
                decisions.append((query.pk, decision))
        ListeningQuery.objects.bulk_update(ticked, ["detector_state", "last_evaluated_at"], batch_size=500)
        by_pk = {q.pk: q for q in ticked}
        for q_id, decision in decisions:
            if decision.action == "suppressed":
                continue
            try:
                with transaction.atomic():  # a savepoint: one alert's failure rolls back only its own writes
                    _apply_decision(by_pk[q_id], decision, now)
            except Exception as exc:
                logger.exception("listening: query %s failed to write its alert", q_id)
                ListeningQuery.objects.filter(pk=q_id).update(last_error=f"alert: {exc}"[:500], last_error_at=now)
    return decisions


def _tick_state(query: ListeningQuery, counts: Counter, current: int, now: dt.datetime) -> det.Decision | None:
    state = det.DetectorState.from_dict(query.detector_state)
    for minute, n in sorted(counts.items()):
        state.observe(min(minute, current), n)
    decision = state.tick(current)
    query.detector_state = state.to_dict()
    query.last_evaluated_at = now
    return decision


def _apply_decision(query: ListeningQuery, decision: det.Decision, now: dt.datetime, *,
                    announce: bool = True) -> None:
    alert = Alert.objects.filter(query=query, state=AlertState.OPEN).order_by("-started_at").first()
    if decision.action == "open" or (decision.action == "update" and alert is None):
        alert = Alert.objects.create(query=query, started_at=now, last_seen_at=now, severity=decision.severity,
                                     peak_count=decision.count, expected=decision.expected,
                                     window_minutes=decision.window, p_value=decision.p_value)
        alert.query = query
        record(actor=SYSTEM, action="listening.alert.open", obj=alert, unit=query.unit,
               summary=f"Spike on '{query}' (severity {alert.severity})")
        if announce:
            emit(ev.alert_event(ev.ALERT_OPENED.name, alert))
    elif decision.action == "update" and alert is not None:
        grew = decision.severity > alert.severity
        alert.severity = max(alert.severity, decision.severity)
        alert.peak_count = max(alert.peak_count, decision.count)
        alert.expected, alert.window_minutes, alert.p_value = decision.expected, decision.window, decision.p_value
        alert.last_seen_at = now
        alert.updates += 1
        alert.save()
        if grew and announce:
            emit(ev.alert_event(ev.ALERT_UPDATED.name, alert))
    elif decision.action == "close" and alert is not None:
        alert.state = AlertState.CLOSED
        alert.ended_at = now
        alert.save(update_fields=["state", "ended_at", "updated_at"])
        if announce:
            emit(ev.alert_event(ev.ALERT_CLOSED.name, alert))


def backfill_detector(query: ListeningQuery, *, actor, start: dt.datetime, end: dt.datetime) -> list[det.Decision]:
    """Replay the query's stored matches between ``start`` and ``end`` through a fresh detector, minute by minute
    (the same code as the live tick): the alerts it would have raised are written (closed when they ended) and
    the detector goes on from the end state. For a new query over history, and for the demo."""
    require_perm(actor, "listening.change_listeningquery", query.unit)
    per_minute = Counter(_minute(p) for p in MentionMatch.objects.filter(
        query=query, posted_at__gte=start, posted_at__lt=end).values_list("posted_at", flat=True))
    state = det.DetectorState()
    decisions: list[det.Decision] = []
    with transaction.atomic():
        Alert.objects.filter(query=query, started_at__gte=start, started_at__lt=end).delete()
        for minute in range(_minute(start), _minute(end)):
            n = per_minute.get(minute)
            if n:
                state.observe(minute, n)
            if not state.minutes and state.open_since is None:
                continue
            decision = state.tick(minute)
            if decision is None or decision.action == "suppressed":
                continue
            decisions.append(decision)
            # history: written, not announced again (no webhook or e-mail for a spike of last week)
            _apply_decision(query, decision, dt.datetime.fromtimestamp((minute + 1) * 60, dt.UTC), announce=False)
        query.detector_state = state.to_dict()
        query.last_evaluated_at = end
        query.save(update_fields=["detector_state", "last_evaluated_at"])
        record(actor=actor, action="listening.query.backfill", obj=query,
               summary=f"Replayed '{query}' from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}: "
                       f"{sum(d.action == 'open' for d in decisions)} alert(s)")
    return decisions


# --- actions -------------------------------------------------------------------------------------------------------

@transaction.atomic
def set_subscription(query: ListeningQuery, *, actor, subscribed: bool = True, user=None) -> bool:
    """Follow (or stop following) ``query``: its alerts are then e-mailed (:mod:`dandelion.listening.mail`).
    A person follows for themselves when they may see the query; following for someone else needs the right to
    change the query, and that person must be able to see it too. Returns whether ``user`` now follows it."""
    user = user or actor
    if not getattr(user, "pk", None):
        raise ListeningError(_("Only a person can follow a query."))
    require_perm(actor, "listening.view_listeningquery", query.unit)
    if user.pk != getattr(actor, "pk", None):
        require_perm(actor, "listening.change_listeningquery", query.unit)
        if subscribed and not ListeningQuery.objects.restrict(user, "view").filter(pk=query.pk).exists():
            raise ListeningError(_("%(username)s cannot see this query.") % {"username": user.get_username()}, field="user")
    already = query.subscribers.filter(pk=user.pk).exists()
    if subscribed and not already:
        query.subscribers.add(user)
    elif not subscribed and already:
        query.subscribers.remove(user)
    else:
        return subscribed
    record(actor=actor, action="listening.query.subscribe" if subscribed else "listening.query.unsubscribe",
           obj=query, summary=f"{user.get_username()} {'follows' if subscribed else 'no longer follows'} "
                              f"the alerts of '{query}'")
    return subscribed


@transaction.atomic
def acknowledge_alert(alert: Alert, *, actor) -> Alert:
    require_perm(actor, "listening.change_alert", alert.query.unit)
    if alert.acknowledged_at is None:
        alert.acknowledged_by = actor if getattr(actor, "pk", None) else None
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["acknowledged_by", "acknowledged_at", "updated_at"])
        record(actor=actor, action="listening.alert.acknowledge", obj=alert, unit=alert.query.unit,
               summary=f"Acknowledged the spike on '{alert.query}'")
    return alert


def send_mention_to_inbox(mention: Mention, *, account, actor) -> int:
    """Turn a mention into an inbox conversation on ``account`` (routed by the account's routing rules, so it
    lands with the right team). Returns the conversation id; a mention already sent answers its conversation."""
    from dandelion.connectors.base import InboundAuthor, InboundEvent
    from dandelion.inbox.pipeline import ingest_events

    require_perm(actor, "inbox.change_conversation", account.owner_unit)
    if mention.conversation_id:
        return mention.conversation_id
    with transaction.atomic():
        mention = Mention.objects.select_for_update().get(pk=mention.pk)
        if mention.conversation_id:
            return mention.conversation_id
        author = (mention.author or f"listening-{mention.pk}").lstrip("@")[:150]
        event = InboundEvent(external_id=f"listening-{mention.source}-{mention.source_ref}"[:150], kind="mention",
                             text=mention.text[:MAX_TEXT], created_at=mention.posted_at,
                             author=InboundAuthor(external_id=author, name=author, handle=author,
                                                  followers=mention.author_reach or None,
                                                  language=mention.language or None,
                                                  country=mention.country or None))
        result = ingest_events(account, [event])
        if not result.conversation_ids:
            raise ListeningError(_("The inbox did not open a conversation for this mention."))
        mention.conversation_id = result.conversation_ids[0]
        mention.save(update_fields=["conversation_id"])
        record(actor=actor, action="listening.mention.to_inbox", obj=mention, unit=account.owner_unit,
               summary=f"Sent a mention to the inbox of {account.handle} (conversation #{mention.conversation_id})")
    return mention.conversation_id


# --- reading -------------------------------------------------------------------------------------------------------

def query_health(query: ListeningQuery, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    stale = query.is_active and (query.last_evaluated_at is None
                                 or now - query.last_evaluated_at > dt.timedelta(minutes=5))
    return {"ok": not query.last_error and not stale, "last_error": query.last_error,
            "last_error_at": query.last_error_at, "last_evaluated_at": query.last_evaluated_at, "stale": stale}


def counts_by_query(query_ids: Iterable[int], since: dt.datetime) -> dict[int, int]:
    return dict(MentionMatch.objects.filter(query_id__in=list(query_ids), posted_at__gte=since)
                .values_list("query_id").annotate(n=Count("pk")).values_list("query_id", "n"))

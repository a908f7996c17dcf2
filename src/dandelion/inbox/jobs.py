"""Inbox background jobs (django-tasks): idempotent, safe to run twice, safe to kill mid-way.

* ``process_pending_deliveries``: claims stored deliveries (conditional UPDATE pending → processing; a claim older
  than :func:`stale_claim_seconds` (``STALE_CLAIM_SECONDS`` unless configured) is re-claimable, so a worker killed
  mid-batch loses nothing), runs the pipeline once per network of the claim, marks them done; transient failures
  are recorded with attempts and exponential backoff, and after ``MAX_ATTEMPTS`` the delivery is marked failed
  (visible on the Deliveries page, never silently dropped); bad input fails only its own events, at once, and a
  delivery that stops its worker is isolated, then set aside (see :func:`process_deliveries`).
  Enqueued on commit after each stored delivery (de-duplicated by :class:`JobSlot`) and every minute as a safety net.
* ``deliver_reply``: sends an outbound message through the account's ReplyConnector (pending → sent / failed;
  temporary errors retried with backoff, permanent ones recorded on the account).
* ``run_moderation``: hides / unhides / deletes / bans through the ModerationConnector (``run_moderation_many``:
  the same for the messages of one pipeline batch, one job).
* ``sweep_unanswered``: every few minutes, "nothing falls through" (see :func:`dandelion.inbox.sweep.sweep`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from dandelion.assets.services import record_account_error
from dandelion.core.actors import SYSTEM
from dandelion.core.jobs import enqueue_once, periodic, release_slot, worker_name
from dandelion.inbox.choices import DeliveryState, DeliveryStatus, EventKind
from dandelion.inbox.models import InboundDelivery, Message

logger = logging.getLogger(__name__)

BATCH_LIMIT = 200
CLAIM_WINDOWS = 4  # without SKIP LOCKED: windows a worker tries after losing a claim race
STALE_CLAIM_SECONDS = 300
MAX_ATTEMPTS = 8
MAX_SEND_ATTEMPTS = 6
PROCESS_SLOT = "inbox.process_pending_deliveries"
ALONE_MARK = "!alone"  # ends the claim of a delivery processed alone (taken over from a worker that stopped)


class WorkerStopped(ValueError):
    """A delivery was being processed alone when its worker stopped (crashed, was killed, ran out of memory): it
    is set aside (failed, not retried) so that it cannot stop the next worker too."""

    def __init__(self, worker: str) -> None:
        super().__init__(f"the worker stopped while processing this delivery alone ({worker.split('#')[0]}); set "
                         "aside so it cannot stop another (see the worker's logs; queue it again once fixed)")


def backoff(attempts: int, *, base: float = 30.0, cap: float = 3600.0) -> dt.timedelta:
    """30 s, 60 s, 120 s ... capped at an hour."""
    return dt.timedelta(seconds=min(cap, base * (2 ** max(0, attempts - 1))))


def kick_processing() -> None:
    """On commit of a stored delivery: make sure a processing run is on its way."""
    enqueue_once(process_pending_deliveries, PROCESS_SLOT)


# --- deliveries -----------------------------------------------------------------------------------------------------


def stale_claim_seconds() -> float:
    """How old a claim must be before another worker may take it over: ``settings.DANDELION_STALE_CLAIM_SECONDS``,
    else the ``DANDELION_STALE_CLAIM_SECONDS`` environment variable, else :data:`STALE_CLAIM_SECONDS`. Longer than
    the slowest batch (a live worker must not lose its claim); fault tests shorten it to recover quickly."""
    from django.conf import settings

    value = getattr(settings, "DANDELION_STALE_CLAIM_SECONDS", None)
    if value is None:
        value = os.environ.get("DANDELION_STALE_CLAIM_SECONDS") or STALE_CLAIM_SECONDS
    return float(value)


def _claimable(now: dt.datetime) -> Q:
    stale = now - dt.timedelta(seconds=stale_claim_seconds())
    pending = Q(state=DeliveryState.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return pending | Q(state=DeliveryState.PROCESSING, claimed_at__lt=stale)


def claim_deliveries(*, limit: int = BATCH_LIMIT, now: dt.datetime | None = None, worker: str = "") -> list[InboundDelivery]:
    """Claim up to ``limit`` deliveries for this worker; many workers each get their own batch.

    Where the database can skip locked rows (PostgreSQL), the oldest claimable rows are locked with
    ``SELECT … FOR UPDATE SKIP LOCKED`` and marked in the same transaction, so concurrent workers take disjoint
    batches instead of racing for the same ones. Elsewhere (SQLite: one writer at a time) a conditional UPDATE
    claims them, and a worker that lost the race for a window tries the next one."""
    now = now or timezone.now()
    token = f"{worker or worker_name()}#{uuid.uuid4().hex[:12]}"[:200 - len(ALONE_MARK)]
    claimable = InboundDelivery.objects.filter(_claimable(now)).order_by("received_at", "id")
    claim = {"state": DeliveryState.PROCESSING, "claimed_by": token, "claimed_at": now,
             "attempts": F("attempts") + 1}
    columns = ("pk", "state", "claimed_by")  # a row still "processing" was taken over from a worker that stopped
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            rows = list(claimable.select_for_update(skip_locked=True).values_list(*columns)[:limit])
            if not rows:
                return []
            ids = [pk for pk, _, _ in rows]
            InboundDelivery.objects.filter(pk__in=ids).update(**claim)
    else:
        tried: list[int] = []
        for _ in range(CLAIM_WINDOWS):
            rows = list(claimable.exclude(pk__in=tried).values_list(*columns)[:limit])
            if not rows:
                return []
            ids = [pk for pk, _, _ in rows]
            if InboundDelivery.objects.filter(pk__in=ids).filter(_claimable(now)).update(**claim):
                break
            tried += ids
    taken_over = {pk: previous for pk, state, previous in rows if state == DeliveryState.PROCESSING}
    claimed = list(InboundDelivery.objects.filter(pk__in=ids, claimed_by=token, state=DeliveryState.PROCESSING)
                   .select_related("account__owner_unit").order_by("received_at", "id"))
    for d in claimed:
        if d.pk in taken_over:
            d.taken_over_from = taken_over[d.pk]
    return claimed


def _finish(deliveries, *, token_of, now) -> None:
    """Mark done the deliveries this worker still holds (one UPDATE per claim token)."""
    by_token = defaultdict(list)
    for d in deliveries:
        by_token[token_of[d.pk]].append(d.pk)
    for token, ids in by_token.items():
        InboundDelivery.objects.filter(pk__in=ids, claimed_by=token, state=DeliveryState.PROCESSING).update(
            state=DeliveryState.DONE, processed_at=now, error="", next_attempt_at=None)


def is_permanent(exc: BaseException) -> bool:
    """True when running the same input again must fail the same way: the input is bad, not the moment. A value
    the shared validator or a column refuses (``PayloadError``, ``DataError``: too long, out of range, invalid
    text), a payload that cannot be read (``KeyError``, ``TypeError``, ``ValueError``: ``UnicodeEncodeError`` of a
    lone surrogate included). Anything else (the database gone, a lock, a model not loaded: ``OperationalError``,
    ``RuntimeError``...) is retried with back-off."""
    from django.core.exceptions import ValidationError
    from django.db import DataError

    from dandelion.connectors.errors import ConnectorError

    if isinstance(exc, ConnectorError):
        return exc.permanent
    return isinstance(exc, DataError | ValidationError | KeyError | TypeError | ValueError | ArithmeticError
                      | RecursionError)


def _error_text(exc: BaseException) -> str:
    from dandelion.connectors.errors import PayloadError

    return str(exc) if isinstance(exc, PayloadError) else f"{type(exc).__name__}: {exc}"


def _fail(delivery: InboundDelivery, exc: BaseException, now: dt.datetime, *, token: str | None = None,
          error: str | None = None) -> None:
    """Record a failed attempt: a transient error is retried after :func:`backoff` (up to ``MAX_ATTEMPTS``); a
    permanent one (:func:`is_permanent`) fails the delivery for good at once, with its error, for the Deliveries
    page and the API (it can be queued again from there once the cause is fixed)."""
    permanent = is_permanent(exc)
    final = permanent or delivery.attempts >= MAX_ATTEMPTS
    InboundDelivery.objects.filter(pk=delivery.pk, claimed_by=token or delivery.claimed_by).update(
        state=DeliveryState.FAILED if final else DeliveryState.PENDING,
        processed_at=now if final else None,  # failed for good: its retention counts from now
        error=(error or _error_text(exc))[:2000],
        next_attempt_at=None if final else now + backoff(delivery.attempts),
        claimed_by="", claimed_at=None,
    )
    logger.warning("delivery %s failed (attempt %s%s): %s", delivery.pk, delivery.attempts,
                   ", not retried: the input is bad" if permanent else ", giving up" if final else "", exc)


ECHO_WAITS = (30, 120, 600)  # seconds an echo waits, try after try, for the message it answers to be stored


def echo_waits() -> tuple[float, ...]:
    """How long, try after try, an echo whose parent is not stored waits before it is tried again:
    ``settings.DANDELION_ECHO_WAITS``, else the ``DANDELION_ECHO_WAITS`` environment variable (comma-separated
    seconds), else :data:`ECHO_WAITS`. After the last try it is skipped as an answer to the brand's own post."""
    from django.conf import settings

    value = getattr(settings, "DANDELION_ECHO_WAITS", None)
    if value is None:
        raw = os.environ.get("DANDELION_ECHO_WAITS")
        value = [float(x) for x in raw.split(",") if x.strip()] if raw is not None else ECHO_WAITS
    return tuple(float(x) for x in value)


def _payload(delivery: InboundDelivery) -> tuple[list[tuple[int, object, int]], list[tuple[int, BaseException]]]:
    """The events of a delivery that pass the shared validator, ``[(index, InboundEvent, echo wait level)]`` (the
    level: how many times an echo already waited), and ``[(index, error)]`` for each one that does not (stored
    before a rule existed, or by a connector that skipped the validator): those are never given to the pipeline."""
    from dandelion.connectors.errors import PayloadError
    from dandelion.connectors.validation import validate_event
    from dandelion.inbox.connect import event_from_dict

    payload = delivery.payload or []
    if not isinstance(payload, list):
        return [], [(0, PayloadError("must be a list of events", "payload"))]
    good, bad = [], []
    for i, data in enumerate(payload):
        try:
            if not isinstance(data, dict):
                raise PayloadError("must be an object", f"events[{i}]")
            event = validate_event(event_from_dict(data), f"events[{i}]")
            good.append((i, event, int(data.get("echo_wait") or 0)))
        except KeyError as exc:
            bad.append((i, PayloadError("required", f"events[{i}].{exc.args[0]}")))
        except (PayloadError, TypeError, ValueError, ArithmeticError) as exc:
            bad.append((i, exc))
    return good, bad


def _events_error(delivery: InboundDelivery, failures: list[tuple[int, BaseException]]) -> str:
    """``"2 of 5 events could not be stored (the others were): events[1] (id 'x'): <why>; ..."``."""
    payload = delivery.payload if isinstance(delivery.payload, list) else []
    parts = []
    for index, exc in sorted(failures, key=lambda f: f[0]):
        data = payload[index] if index < len(payload) and isinstance(payload[index], dict) else {}
        ident = str(data.get("id", "?"))[:60]
        text = _error_text(exc)
        parts.append(text if text.startswith(f"events[{index}]") else f"events[{index}] (id {ident!r}): {text}")
    total = delivery.event_count or len(payload)
    head = (f"{len(failures)} of {total} events could not be stored (the others were): " if len(failures) < total
            else "")
    return (head + "; ".join(parts))[:2000]


def _defer_echoes(account, waiting, level_of: dict[str, int], now: dt.datetime) -> None:
    """Store the echoes still waiting for their parent as new deliveries, each due after its next wait."""
    from dandelion.inbox.connect import event_to_dict

    waits = echo_waits()
    by_level: dict[int, list] = defaultdict(list)
    for event in waiting:
        by_level[level_of.get(event.external_id, 0) + 1].append(event)
    for level, events in sorted(by_level.items()):
        InboundDelivery.objects.create(
            account=account, source="echo-wait", body="", state=DeliveryState.PENDING, event_count=len(events),
            payload=[{**event_to_dict(e), "echo_wait": level} for e in events],
            next_attempt_at=now + dt.timedelta(seconds=waits[level - 1]))


def process_deliveries(deliveries: list[InboundDelivery], *, wait_for_parents: bool = True):
    """Run the pipeline over claimed deliveries, one batch per network (all its accounts' events written
    together); a failing batch is retried account by account, then delivery by delivery, so one bad delivery never
    holds back the others.

    Bad input never stops more than itself: events the shared validator refuses (stored before a rule existed, or
    by a connector that skipped it) are left out and named on their delivery, which fails; a delivery that fails
    for good (:func:`is_permanent`) is tried event by event, its other events stored, only the failing ones named;
    a transient failure is retried with :func:`backoff`. Deliveries taken over from a worker that stopped are
    processed alone, after the others, their claim marked first (:data:`ALONE_MARK`): one taken over again with its
    mark stopped a worker while alone, and is set aside (:class:`WorkerStopped`) rather than stopping the next.

    The networks' batches share one batch memo (a team's SLA policies, calendar and members, the routing rules of
    a unit are read once per claim), emptied after any failure.

    ``wait_for_parents``: an echo (the brand's answer) to a message not stored yet is stored again as a delivery due
    later (:func:`echo_waits`), in the same transaction as the batch, rather than skipped: a message and its answer
    may arrive out of order, or be held by two workers at once. ``dandelion replay``, which processes inline in
    order, does without."""
    from dandelion.core.memo import batch_memo

    with batch_memo():
        return _process(deliveries, wait_for_parents=wait_for_parents)


def _ingest_items(items, *, wait_for_parents: bool, now):
    """The pipeline over ``[(account, event, echo wait level)]``, and the echoes still waiting stored again as
    deliveries; to be called inside the caller's transaction."""
    from dandelion.inbox.pipeline import ingest_batch

    level_of = {e.external_id: level for _, e, level in items}
    account_of = {e.external_id: account for account, e, _ in items}
    waits = len(echo_waits()) if wait_for_parents else 0
    patient = {e.external_id for _, e, level in items if e.from_account and e.in_reply_to and level < waits}
    result = ingest_batch([(account, e) for account, e, _ in items], wait_for_parents=patient)
    waiting = defaultdict(list)
    for e in result.waiting_echoes:
        waiting[account_of[e.external_id]].append(e)
    for account, echoes in waiting.items():
        _defer_echoes(account, echoes, level_of, now)
    return result


def _ingest_group(group, *, wait_for_parents: bool, token_of, now):
    """One transaction for the deliveries of ``group`` (one network): their valid events, the echoes deferred, the
    deliveries marked done (or failed, naming them, those with events the validator refused)."""
    items, refused = [], {}
    for d in group:
        good, bad = _payload(d)
        items.extend((d.account, event, level) for _, event, level in good)
        if bad:
            refused[d.pk] = bad
    with transaction.atomic():
        result = _ingest_items(items, wait_for_parents=wait_for_parents, now=now)
        _finish([d for d in group if d.pk not in refused], token_of=token_of, now=now)
        for d in group:
            if d.pk in refused:
                _fail(d, refused[d.pk][0][1], now, token=token_of[d.pk], error=_events_error(d, refused[d.pk]))
    return result


def _ingest_apart(delivery, *, wait_for_parents: bool, token_of, now, total) -> None:
    """A delivery whose batch failed for good, event by event (one transaction each): the events that can be
    stored are, and the delivery fails naming only the others. A transient error meanwhile retries the whole
    delivery later (what was stored is found again as duplicates)."""
    from dandelion.core.memo import forget

    good, failures = _payload(delivery)
    for index, event, level in good:
        try:
            with transaction.atomic():
                total.merge(_ingest_items([(delivery.account, event, level)], wait_for_parents=wait_for_parents,
                                          now=now))
        except Exception as exc:  # noqa: BLE001 - one event's failure is recorded on its delivery
            forget()
            if not is_permanent(exc):
                _fail(delivery, exc, now, token=token_of[delivery.pk])
                return
            failures.append((index, exc))
    if failures:
        _fail(delivery, failures[0][1], now, token=token_of[delivery.pk], error=_events_error(delivery, failures))
    else:
        _finish([delivery], token_of=token_of, now=now)


def _process(deliveries: list[InboundDelivery], *, wait_for_parents: bool):
    from dandelion.core.memo import forget
    from dandelion.inbox.pipeline import IngestResult

    total = IngestResult()
    now = timezone.now()
    token_of = {d.pk: d.claimed_by for d in deliveries}
    options = {"wait_for_parents": wait_for_parents, "token_of": token_of, "now": now}

    def attempt(group) -> BaseException | None:
        try:
            total.merge(_ingest_group(group, **options))
            return None
        except Exception as exc:  # noqa: BLE001 - the caller splits the group
            forget()
            return exc

    def alone(d) -> None:
        exc = attempt([d])
        if exc is None:
            return
        if is_permanent(exc) and isinstance(d.payload, list) and len(d.payload) > 1:
            _ingest_apart(d, total=total, **options)
        else:
            _fail(d, exc, now, token=token_of[d.pk])

    # Taken over from a worker that stopped: each alone, after the others, marked first so that a crash on it
    # (a native extension's, out of memory) names it; taken over again after processing alone, it is set aside.
    suspects = [d for d in deliveries if getattr(d, "taken_over_from", None) is not None]
    by_network = defaultdict(list)
    for d in deliveries:
        if getattr(d, "taken_over_from", None) is None:
            by_network[d.account.network].append(d)
    for group in by_network.values():
        exc = attempt(group)
        if exc is None:
            continue
        if len(group) == 1:
            alone(group[0])
            continue
        by_account = defaultdict(list)
        for d in group:
            by_account[d.account_id].append(d)
        for part in by_account.values():
            if len(by_account) > 1 and len(part) > 1 and attempt(part) is None:
                continue  # the failure was in another account's deliveries
            for d in part:
                alone(d)
    for d in suspects:
        if d.taken_over_from.endswith(ALONE_MARK):
            _fail(d, WorkerStopped(d.taken_over_from.removesuffix(ALONE_MARK)), now, token=token_of[d.pk])
            continue
        marked = token_of[d.pk] + ALONE_MARK
        if not InboundDelivery.objects.filter(pk=d.pk, claimed_by=token_of[d.pk]).update(claimed_by=marked):
            continue  # no longer ours
        token_of[d.pk] = d.claimed_by = marked
        alone(d)
    return total


@task()
def process_pending_deliveries(limit: int = BATCH_LIMIT) -> dict:
    """Claim and process one batch; enqueue another run when more is waiting."""
    release_slot(PROCESS_SLOT)  # stored from now on → a fresh run gets enqueued
    deliveries = claim_deliveries(limit=limit)
    result = process_deliveries(deliveries)
    if len(deliveries) >= limit:
        enqueue_once(process_pending_deliveries, PROCESS_SLOT, limit)
    return {"deliveries": len(deliveries), "created": result.created, "duplicates": result.duplicates}


@periodic("inbox.process_deliveries", every=60)
@task()
def process_deliveries_safety_net() -> dict:
    """Every minute: pick up deliveries whose enqueue was lost, stale claims and retries that are due."""
    return process_pending_deliveries.call()


# --- outbound -------------------------------------------------------------------------------------------------------


def _due_outbound(now: dt.datetime) -> Q:
    return Q(delivery_status=DeliveryStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


@task()
def deliver_reply(message_id: int) -> str:
    """Send one pending outbound message. Claims it (lease of two minutes) so two workers never send it twice."""
    from dandelion.connectors.base import OutboundReply
    from dandelion.connectors.errors import ConnectorError, UnknownConnector
    from dandelion.inbox import connect
    from dandelion.inbox.services import add_event

    now = timezone.now()
    claimed = Message.objects.filter(_due_outbound(now), pk=message_id).update(
        next_attempt_at=now + dt.timedelta(minutes=2), delivery_attempts=F("delivery_attempts") + 1)
    if not claimed:
        return "not due"
    message = Message.objects.select_related("conversation__account", "conversation__contact",
                                             "author_identity").get(pk=message_id)
    conversation = message.conversation
    account = conversation.account
    recipient = None
    if message.kind == "dm":
        recipient = (conversation.messages.filter(direction="inbound").exclude(author_identity=None)
                     .values_list("author_identity__external_id", flat=True).last()) or conversation.thread_key
    reply = OutboundReply(text=message.text, in_reply_to=message.in_reply_to or None, kind=message.kind,
                          recipient_external_id=recipient, idempotency_key=f"dandelion-message-{message.pk}")
    try:
        sent = connect.connector_for(account).send_reply(connect.account_ref(account), reply)
    except (ConnectorError, UnknownConnector) as exc:
        permanent = getattr(exc, "permanent", True)
        attempts = message.delivery_attempts
        if permanent or attempts >= MAX_SEND_ATTEMPTS:
            with transaction.atomic():
                Message.objects.filter(pk=message.pk).update(delivery_status=DeliveryStatus.FAILED,
                                                             delivery_error=str(exc)[:500], next_attempt_at=None)
                if permanent:
                    record_account_error(account, error=str(exc), at=now, actor=SYSTEM)
                add_event(conversation, EventKind.REPLIED, message=message.pk, failed=True, error=str(exc)[:300],
                          permanent=permanent)
            return "failed"
        delay = backoff(attempts, base=15.0, cap=1800.0)
        if getattr(exc, "retry_after", None):
            delay = max(delay, dt.timedelta(seconds=float(exc.retry_after)))
        Message.objects.filter(pk=message.pk).update(delivery_error=str(exc)[:500], next_attempt_at=now + delay)
        try:
            deliver_reply.using(run_after=now + delay).enqueue(message.pk)
        except Exception:  # noqa: BLE001 - backends without run_after: the periodic retry picks it up
            logger.info("retry of message %s left to the periodic job", message.pk)
        return "retry"
    with transaction.atomic():
        # a webhook echo of this very reply may have arrived first (on this account: another account's copy of the
        # same post is a linked message, kept): it is the same message
        Message.objects.filter(account_id=message.account_id, external_id=sent.external_id).exclude(
            pk=message.pk).delete()
        Message.objects.filter(pk=message.pk).update(delivery_status=DeliveryStatus.SENT, external_id=sent.external_id,
                                                     delivery_error="", next_attempt_at=None)
    return "sent"


@periodic("inbox.retry_replies", every=60)
@task()
def retry_pending_replies() -> int:
    """Every minute: send outbound messages still pending whose retry is due (lost enqueues, backends without
    delayed tasks, workers killed mid-send)."""
    now = timezone.now()
    ids = list(Message.objects.filter(_due_outbound(now), direction="outbound").values_list("pk", flat=True)[:200])
    for pk in ids:
        deliver_reply.call(pk)
    return len(ids)


@task()
def run_moderation(message_id: int, action: str, reason: str = "") -> str:
    """Apply a moderation action on the network. A permanent failure is recorded on the account and in the
    conversation history (the message stays moderated in Dandelion); a temporary one is retried."""
    from dandelion.connectors.errors import ConnectorError
    from dandelion.inbox import connect
    from dandelion.inbox.services import add_event

    message = Message.objects.select_related("conversation__account", "author_identity").filter(pk=message_id).first()
    if message is None:
        return "gone"
    account = message.conversation.account
    connector = connect.connector_for(account)
    ref = connect.account_ref(account)
    try:
        if action in ("ban_author", "mute_author"):
            result = getattr(connector, action)(ref, message.author_identity.external_id)
        elif action == "report_author":
            result = connector.report_author(ref, message.author_identity.external_id, [message.external_id],
                                             comment=reason)
        else:
            result = getattr(connector, action)(ref, message.external_id)
    except ConnectorError as exc:
        if exc.permanent:
            record_account_error(account, error=str(exc), actor=SYSTEM)
            add_event(message.conversation, EventKind.MODERATED, message=message.pk, action=action, failed=True,
                      error=str(exc)[:300])
            return "failed"
        delay = dt.timedelta(seconds=float(exc.retry_after or 30))
        try:
            run_moderation.using(run_after=timezone.now() + delay).enqueue(message_id, action, *([reason] if reason else []))
        except Exception:  # noqa: BLE001
            logger.warning("moderation %s of message %s could not be re-enqueued", action, message_id)
        return "retry"
    add_event(message.conversation, EventKind.MODERATED, message=message.pk, action=action, on_network=True,
              detail=getattr(result, "detail", ""))
    return "done"


MODERATION_JOB_SIZE = 50


@task()
def run_moderation_many(message_ids: list[int], action: str) -> dict[str, int]:
    """:func:`run_moderation` of each message, in one job: what the pipeline enqueues for the messages of a batch
    its rules hid (one job row per batch, not per message). Each message's outcome is its own: a temporary failure
    re-enqueues that message alone, a permanent one is recorded on its account and in its conversation; an
    unexpected error on one message leaves the others done and retries that one as its own job. The pipeline
    enqueues at most ``MODERATION_JOB_SIZE`` messages a job, so a spam wave's network calls spread over workers."""
    outcomes: dict[str, int] = defaultdict(int)
    for message_id in message_ids:
        try:
            outcomes[run_moderation.call(message_id, action)] += 1
        except Exception:  # one message's failure is not the batch's
            logger.exception("moderation %s of message %s failed; retried as its own job", action, message_id)
            try:
                run_moderation.enqueue(message_id, action)
                outcomes["requeued"] += 1
            except Exception:  # the queue itself is down: the rest of the batch is still tried
                logger.exception("moderation %s of message %s could not be re-enqueued", action, message_id)
                outcomes["lost"] += 1
    return dict(outcomes)


# --- the sweep ------------------------------------------------------------------------------------------------------


@periodic("inbox.sweep", every=300)
@task()
def sweep_unanswered() -> int:
    from dandelion.inbox.sweep import sweep

    return len(sweep())


def process_now(delivery: InboundDelivery):
    """Process one stored delivery inline (``dandelion replay``), with the same claim as the workers so a worker
    polling meanwhile never processes it twice."""
    token = f"{worker_name()}#inline-{uuid.uuid4().hex[:8]}"[:200]
    now = timezone.now()
    claimed = InboundDelivery.objects.filter(pk=delivery.pk).filter(_claimable(now)).update(
        state=DeliveryState.PROCESSING, claimed_by=token, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        from dandelion.inbox.pipeline import IngestResult

        return IngestResult()
    fresh = InboundDelivery.objects.select_related("account__owner_unit").get(pk=delivery.pk)
    return process_deliveries([fresh], wait_for_parents=False)


# --- polling (connectors that fetch: mailboxes, feeds) ----------------------------------------------------------------


@periodic("inbox.poll_accounts", every=60)
@task()
def poll_accounts() -> dict:
    """Every minute: poll each due account whose connector fetches (``dandelion.inbox.polling``); idempotent."""
    from dandelion.inbox.polling import poll_due_accounts

    return poll_due_accounts().as_dict()

"""Every write of the webhooks app: subscriptions (admins of the unit, audited), the event subscriber that queues
deliveries, and the delivery worker's claim / attempt / record (the system's writes).

Subscriptions are managed by whoever holds ``webhooks.manage_webhooks`` on the unit (spoke admins of the unit or
above, hub admins); a subscription gets the events of its unit's whole subtree, never another branch's.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.core import audit
from dandelion.core.events import Event, event_types
from dandelion.core.permissions import require_perm
from dandelion.webhooks import delivery as sender
from dandelion.webhooks.choices import DeliveryStatus, SubscriptionState
from dandelion.webhooks.events import TEST
from dandelion.webhooks.exceptions import NotRedeliverable, UnknownEventType, WebhookError
from dandelion.webhooks.models import WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

PERM_MANAGE = "webhooks.manage_webhooks"
AUDIT_FIELDS = ("unit", "name", "url", "event_types", "state", "disabled_reason")


def _snapshot(sub: WebhookSubscription) -> dict:
    return audit.snapshot(sub, AUDIT_FIELDS)


def subscribable_types() -> dict:
    """The event types a subscription may ask for (every declared type but the test event, sent on demand)."""
    return {name: t for name, t in event_types().items() if name != TEST.name}


def clean_event_types(values) -> list[str]:
    if isinstance(values, str) or not isinstance(values, (list, tuple, set)):
        raise UnknownEventType(_("Event types are a list of names."), field="event_types")
    names = sorted({str(v).strip() for v in values if str(v).strip()})
    if not names:
        raise UnknownEventType(_("Choose at least one event type."), field="event_types")
    known = subscribable_types()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownEventType(_("Unknown event type(s): %(join)s.") % {"join": ', '.join(unknown)}, field="event_types")
    return names


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise WebhookError(_("A name is required."), field="name")
    if len(name) > 120:
        raise WebhookError(_("The name is longer than 120 characters."), field="name")
    return name


# --- subscriptions (people) -----------------------------------------------------------------------------------


@transaction.atomic
def create_subscription(*, actor, unit, name: str, url: str, event_types: Sequence[str]
                        ) -> tuple[WebhookSubscription, str]:
    """Subscribe ``url`` to ``event_types`` of ``unit``'s subtree. Returns the subscription and its signing secret,
    which is shown this once and stored encrypted."""
    require_perm(actor, PERM_MANAGE, unit)
    sub = WebhookSubscription(unit=unit, name=_clean_name(name), url=sender.check_url(url),
                              event_types=clean_event_types(event_types), created_by=actor)
    secret = sub.set_secret()
    sub.save()
    audit.record(actor=actor, action="webhooks.subscription.create", obj=sub,
                 summary=f"Webhook {sub.name} → {sub.url}"[:300], changes=audit.diff({}, _snapshot(sub)))
    return sub, secret


@transaction.atomic
def update_subscription(sub: WebhookSubscription, *, actor, **changes) -> WebhookSubscription:
    """Change the name, URL or event types (the unit does not change: delete and create instead)."""
    require_perm(actor, PERM_MANAGE, sub.unit)
    unknown = set(changes) - {"name", "url", "event_types"}
    if unknown:
        raise WebhookError(_("Cannot update %(join)s here.") % {"join": ', '.join(sorted(unknown))}, field=min(unknown))
    before = _snapshot(sub)
    if "name" in changes:
        sub.name = _clean_name(changes["name"])
    if "url" in changes:
        sub.url = sender.check_url(changes["url"])
    if "event_types" in changes:
        sub.event_types = clean_event_types(changes["event_types"])
    diff = audit.diff(before, _snapshot(sub))
    if diff:
        sub.save()
        audit.record(actor=actor, action="webhooks.subscription.update", obj=sub,
                     summary=f"Updated webhook {sub.name}: {', '.join(diff)}"[:300], changes=diff)
    return sub


@transaction.atomic
def delete_subscription(sub: WebhookSubscription, *, actor) -> None:
    """Delete the subscription and its delivery log (the audit row keeps what it was)."""
    require_perm(actor, PERM_MANAGE, sub.unit)
    audit.record(actor=actor, action="webhooks.subscription.delete", obj=sub, summary=f"Deleted webhook {sub.name}",
                 changes=audit.diff(_snapshot(sub), {}))
    sub.delete()


@transaction.atomic
def rotate_secret(sub: WebhookSubscription, *, actor) -> str:
    """A new signing secret, returned once (the old one stops working at once)."""
    require_perm(actor, PERM_MANAGE, sub.unit)
    secret = sub.set_secret()
    sub.save(update_fields=["secret_encrypted", "updated_at"])
    audit.record(actor=actor, action="webhooks.subscription.rotate_secret", obj=sub,
                 summary=f"Rotated the signing secret of webhook {sub.name}")
    return secret


@transaction.atomic
def enable_subscription(sub: WebhookSubscription, *, actor) -> WebhookSubscription:
    """Re-enable a disabled subscription: the failure count starts again from zero. Deliveries that failed while
    it was disabled are not resent (redeliver them one by one from the log)."""
    require_perm(actor, PERM_MANAGE, sub.unit)
    if sub.is_active:
        raise WebhookError(_("The subscription is already active."), field="state")
    before = _snapshot(sub)
    WebhookSubscription.objects.filter(pk=sub.pk).update(state=SubscriptionState.ACTIVE, disabled_reason="",
                                                        disabled_at=None, consecutive_failures=0)
    sub.refresh_from_db()
    audit.record(actor=actor, action="webhooks.subscription.enable", obj=sub, summary=f"Re-enabled webhook {sub.name}",
                 changes=audit.diff(before, _snapshot(sub)))
    return sub


def _disable(sub: WebhookSubscription, *, actor, reason: str, now: dt.datetime, last: int | None = None) -> bool:
    """Disable (conditional UPDATE: once), fail its pending deliveries, audit. False when already disabled.
    ``last``: the delivery whose failure disabled it (failed with its own error, not retried)."""
    before = _snapshot(sub)
    changed = WebhookSubscription.objects.filter(pk=sub.pk, state=SubscriptionState.ACTIVE).update(
        state=SubscriptionState.DISABLED, disabled_reason=reason[:300], disabled_at=now)
    if not changed:
        return False
    pending = WebhookDelivery.objects.filter(subscription=sub, status=DeliveryStatus.PENDING).exclude(
        event_type=TEST.name)
    if last is not None:
        pending.filter(pk=last).update(status=DeliveryStatus.FAILED, finished_at=now, next_attempt_at=None)
    pending.exclude(pk=last).update(status=DeliveryStatus.FAILED, finished_at=now, next_attempt_at=None,
                                    error="Not sent: the subscription was disabled.")
    sub.refresh_from_db()
    audit.record(actor=actor, action="webhooks.subscription.disable", obj=sub,
                 summary=f"Disabled webhook {sub.name}: {reason}"[:300], changes=audit.diff(before, _snapshot(sub)))
    return True


@transaction.atomic
def disable_subscription(sub: WebhookSubscription, *, actor, reason: str = "") -> WebhookSubscription:
    require_perm(actor, PERM_MANAGE, sub.unit)
    if not sub.is_active:
        raise WebhookError(_("The subscription is already disabled."), field="state")
    _disable(sub, actor=actor, reason=(reason or "").strip() or "Disabled by an admin.", now=timezone.now())
    return sub


def _enqueue_worker() -> None:
    from dandelion.webhooks.jobs import deliver_webhooks

    transaction.on_commit(lambda: deliver_webhooks.enqueue(), robust=True)


@transaction.atomic
def send_test_event(sub: WebhookSubscription, *, actor) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to this subscription only (also when it is disabled: to check the receiver
    before re-enabling it)."""
    require_perm(actor, PERM_MANAGE, sub.unit)
    event = Event.create(TEST.name, unit=sub.unit, subject=sub, actor=actor,
                         data={"message": "This is a test event from Dandelion.", "subscription_id": sub.pk})
    row = WebhookDelivery.objects.create(subscription=sub, event_id=event.id, event_type=event.name,
                                         payload=event.as_dict(), next_attempt_at=timezone.now())
    audit.record(actor=actor, action="webhooks.subscription.test", obj=sub, summary=f"Sent a test event to {sub.name}")
    _enqueue_worker()
    return row


@transaction.atomic
def redeliver(original: WebhookDelivery, *, actor) -> WebhookDelivery:
    """Send a finished delivery's event again, as a new delivery (the log keeps both)."""
    sub = original.subscription
    require_perm(actor, PERM_MANAGE, sub.unit)
    if original.status not in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
        raise NotRedeliverable(_("This delivery is still in progress."))
    if not sub.is_active:
        raise NotRedeliverable(_("Re-enable the subscription before redelivering."))
    row = WebhookDelivery.objects.create(subscription=sub, event_id=original.event_id,
                                         event_type=original.event_type, payload=original.payload,
                                         redelivery_of=original, next_attempt_at=timezone.now())
    audit.record(actor=actor, action="webhooks.delivery.redeliver", obj=sub,
                 summary=f"Redelivered {original.event_type} ({original.event_id}) to {sub.name}",
                 changes={"delivery": [original.pk, row.pk]})
    _enqueue_worker()
    return row


# --- the event subscriber -------------------------------------------------------------------------------------


def queue_deliveries(events: Sequence[Event]) -> int:
    """Subscriber of every domain event: one delivery per (matching active subscription, event), in one INSERT,
    and one worker job for the batch. Matching: the type is subscribed, and the event's unit is the
    subscription's unit or below it."""
    candidates = [e for e in events if e.unit_path and e.name != TEST.name]
    if not candidates:
        return 0
    subs = list(WebhookSubscription.objects.filter(state=SubscriptionState.ACTIVE).select_related("unit")
                .only("id", "event_types", "unit__path"))
    now = timezone.now()
    rows = [WebhookDelivery(subscription_id=sub.pk, event_id=e.id, event_type=e.name, payload=e.as_dict(),
                            next_attempt_at=now)
            for e in candidates for sub in subs if sub.wants(e.name, e.unit_path)]
    if rows:
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        _enqueue_worker()
    return len(rows)


# --- the delivery worker (system) -----------------------------------------------------------------------------


@dataclass
class RunResult:
    attempted: int = 0
    succeeded: int = 0
    failed: int = 0
    released: int = 0  # stale claims put back


def _due(now: dt.datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) & (
        Q(subscription__state=SubscriptionState.ACTIVE) | Q(event_type=TEST.name))


def release_stale_claims(now: dt.datetime) -> int:
    """Deliveries claimed by a worker that died mid-attempt go back to pending (the attempt may have reached the
    receiver: delivery is at least once, receivers deduplicate on the event id)."""
    stale = now - dt.timedelta(seconds=float(sender.setting("DANDELION_WEBHOOK_TIMEOUT", 10)) * 3 + 60)
    return WebhookDelivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=stale).update(
        status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=now)


def claim(pk: int, now: dt.datetime) -> bool:
    """Take one due delivery for this worker (a conditional UPDATE: of two workers, one wins)."""
    return bool(WebhookDelivery.objects.filter(_due(now), pk=pk).update(status=DeliveryStatus.SENDING,
                                                                        claimed_at=now))


def process_due(*, limit: int = 200, now: dt.datetime | None = None) -> RunResult:
    """Attempt every due delivery (at most ``limit``), oldest first. Idempotent; safe on several workers."""
    now = now or timezone.now()
    result = RunResult(released=release_stale_claims(now))
    ids = list(WebhookDelivery.objects.filter(_due(now)).order_by("next_attempt_at", "id")
               .values_list("pk", flat=True)[:limit])
    for pk in ids:
        if not claim(pk, now):
            continue
        try:
            ok = attempt(pk)
        except Exception as exc:  # a bug or an undecryptable secret must not stop the other deliveries
            logger.exception("webhook delivery %s: attempt failed unexpectedly", pk)
            row = WebhookDelivery.objects.select_related("subscription").filter(pk=pk).first()
            if row is not None:
                record_outcome(row, sender.AttemptResult(ok=False, error=f"Internal error: {type(exc).__name__}"))
            result.attempted += 1
            result.failed += 1
            continue
        result.attempted += 1
        if ok:
            result.succeeded += 1
        else:
            result.failed += 1
    return result


def attempt(pk: int) -> bool:
    """Send one claimed delivery and record the outcome. True when the receiver accepted it."""
    row = WebhookDelivery.objects.select_related("subscription__unit").get(pk=pk)
    sub = row.subscription
    body = sender.body_bytes(row.payload)
    timestamp = str(int(timezone.now().timestamp()))
    headers = {
        "Content-Type": "application/json", "User-Agent": sender.USER_AGENT,
        "X-Dandelion-Event": row.event_type, "X-Dandelion-Event-Id": row.event_id,
        "X-Dandelion-Delivery": str(row.pk), sender.TIMESTAMP_HEADER: timestamp,
        sender.SIGNATURE_HEADER: sender.sign(sub.secret, timestamp, body),
    }
    outcome = sender.post(sub.url, body, headers)
    record_outcome(row, outcome)
    return outcome.ok


@transaction.atomic
def record_outcome(row: WebhookDelivery, outcome: sender.AttemptResult, *, now: dt.datetime | None = None) -> None:
    """Write an attempt's outcome: success, a retry later (backoff with jitter), or failure for good; count the
    subscription's failures in a row and disable it past ``DANDELION_WEBHOOK_DISABLE_AFTER`` (or at once on
    ``410 Gone``)."""
    now = now or timezone.now()
    max_attempts = int(sender.setting("DANDELION_WEBHOOK_MAX_ATTEMPTS", 8))
    disable_after = int(sender.setting("DANDELION_WEBHOOK_DISABLE_AFTER", 10))
    attempts = row.attempts + 1
    fields = {"attempts": attempts, "last_attempt_at": now, "claimed_at": None, "response_code": outcome.status,
              "response_body": outcome.body, "duration_ms": outcome.duration_ms, "error": outcome.error[:500]}
    sub = row.subscription
    if outcome.ok:
        fields.update(status=DeliveryStatus.SUCCEEDED, finished_at=now, next_attempt_at=None)
        WebhookSubscription.objects.filter(pk=sub.pk).update(consecutive_failures=0, last_success_at=now)
    else:
        final = outcome.refused or attempts >= max_attempts or outcome.status == 410
        if final:
            fields.update(status=DeliveryStatus.FAILED, finished_at=now, next_attempt_at=None)
        else:
            fields.update(status=DeliveryStatus.PENDING,
                          next_attempt_at=now + dt.timedelta(seconds=sender.retry_delay(attempts)))
        WebhookSubscription.objects.filter(pk=sub.pk).update(consecutive_failures=F("consecutive_failures") + 1,
                                                            last_failure_at=now)
    # the row is ours while claimed (status "sending"): a conditional UPDATE keeps a stale worker from writing
    updated = WebhookDelivery.objects.filter(pk=row.pk, status=DeliveryStatus.SENDING).update(**fields)
    if not updated:
        logger.warning("webhook delivery %s: claim lost before the outcome was written", row.pk)
        return
    for name, value in fields.items():
        setattr(row, name, value)
    if outcome.ok:
        return
    sub.refresh_from_db(fields=["state", "consecutive_failures"])
    if not sub.is_active:
        return
    if outcome.status == 410:
        _disable(sub, actor=None, reason="The receiver answered 410 Gone.", now=now, last=row.pk)
    elif sub.consecutive_failures >= disable_after:
        last = f"HTTP {outcome.status}" if outcome.status else outcome.error
        _disable(sub, actor=None, now=now, last=row.pk,
                 reason=f"{sub.consecutive_failures} failed attempts in a row (last: {last})."[:300])

"""Polling the accounts whose connector fetches instead of receiving webhooks (a mailbox, a feed).

``poll_due_accounts()`` is the periodic job's body: every account whose connector has ``poll_interval_s`` and the
``poll`` capability, not archived, whose ``next_poll_at`` is due, is claimed (a conditional UPDATE of
``next_poll_at``: two workers never poll one account at once, a killed worker's claim expires after ``LEASE``) and
polled by ``poll_account``. It asks the registry for the account's connector (no network is named here) and calls
``poll_with_cursor`` with the cursor stored on the account. Then, in one transaction: the events are stored as one
``InboundDelivery`` (source ``poll``, processed by the inbox's workers like a webhook's), each rejected item is kept
as a failed delivery with its error (quarantined: visible on the account's deliveries, nothing lost), and the new
cursor is saved with the next poll time. A worker killed before the commit leaves the old cursor: the next poll
fetches the same items again and the inbox deduplicates them by external id. So the job is safe to run twice.

Errors: a transient ``ConnectorError`` backs off exponentially (``Retry-After`` honoured) and shows on the account's
health after a few in a row; a permanent one (authentication, a feed gone) shows at once and is retried every
``PERMANENT_RETRY`` (new credentials reset the schedule). An unexpected exception in a connector is treated as
transient and logged: one account's failure never stops the others.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from dandelion.connectors import registry
from dandelion.connectors.base import Capability, PollResult, poll_with_cursor
from dandelion.connectors.errors import ConnectorError, UnknownConnector

logger = logging.getLogger(__name__)

#: How long a claimed account stays leased to the worker polling it.
LEASE = dt.timedelta(minutes=5)
#: Retry delay after a permanent error (the account's health shows it meanwhile).
PERMANENT_RETRY = dt.timedelta(hours=6)
#: Transient errors back off from this to ``BACKOFF_CAP``.
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0
#: Batches taken from one account in one run when its connector says more are waiting.
MAX_PAGES_PER_RUN = 10
#: Accounts polled by one run of the job (the rest are due at the next run).
MAX_ACCOUNTS_PER_RUN = 200


@dataclass
class PollOutcome:
    account_id: int
    events: int = 0
    rejected: int = 0
    pages: int = 0
    error: str = ""
    permanent: bool = False


@dataclass
class PollSummary:
    outcomes: list[PollOutcome] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(o.events for o in self.outcomes)

    def as_dict(self) -> dict:
        return {"accounts": len(self.outcomes), "events": self.events,
                "rejected": sum(o.rejected for o in self.outcomes),
                "failed": sum(1 for o in self.outcomes if o.error)}


def polling_connector_keys() -> list[str]:
    """Keys of the connectors that are polled automatically (``poll`` capability and a ``poll_interval_s``)."""
    return [c.key for c in registry.all_connectors()
            if c.poll_interval_s is not None and Capability.POLL in c.capabilities]


def interval_of(connector, account) -> dt.timedelta:
    seconds = (account.connector_config or {}).get("poll_interval_s") or connector.poll_interval_s or 60
    return dt.timedelta(seconds=max(int(seconds), 1))


def due_accounts(now: dt.datetime, *, keys: list[str] | None = None, limit: int = MAX_ACCOUNTS_PER_RUN) -> list:
    from django.db.models import Q

    from dandelion.assets.choices import AccountStatus
    from dandelion.assets.models import SocialAccount

    keys = polling_connector_keys() if keys is None else keys
    return list(
        SocialAccount.objects.filter(connector__in=keys)
        .exclude(status=AccountStatus.ARCHIVED)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .order_by("next_poll_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def poll_due_accounts(*, now: dt.datetime | None = None, keys: list[str] | None = None) -> PollSummary:
    """Claim and poll every due account (the periodic job ``inbox.poll_accounts``)."""
    from dandelion.assets.services import claim_poll

    now = now or timezone.now()
    summary = PollSummary()
    for pk in due_accounts(now, keys=keys):
        if not claim_poll(pk, now=now, lease=LEASE):
            continue  # another worker took it
        try:
            summary.outcomes.append(poll_account(pk))
        except Exception:
            logger.exception("polling account %s failed unexpectedly", pk)
            summary.outcomes.append(PollOutcome(pk, error="unexpected error (see the logs)"))
    return summary


def _backoff(failures: int, retry_after: float | None) -> dt.timedelta:
    """The wait after the ``failures``-th failure in a row: 1 → 60 s, 2 → 120 s... capped at ``BACKOFF_CAP_S``."""
    seconds = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** min(max(failures, 0), 16)))
    if retry_after:
        seconds = max(seconds, min(float(retry_after), 24 * 3600.0))
    return dt.timedelta(seconds=seconds)


def poll_account(account_or_pk, *, max_pages: int = MAX_PAGES_PER_RUN) -> PollOutcome:
    """Poll one account now (already claimed by the caller, or called directly by a command or a test)."""
    from dandelion.assets.models import SocialAccount
    from dandelion.assets.services import record_poll_failure
    from dandelion.inbox import connect

    account = (account_or_pk if isinstance(account_or_pk, SocialAccount)
               else SocialAccount.objects.select_related("owner_unit").get(pk=account_or_pk))
    outcome = PollOutcome(account.pk)
    try:
        connector = connect.connector_for(account)
    except UnknownConnector as exc:
        now = timezone.now()
        record_poll_failure(account, error=str(exc), permanent=True, retry_at=now + PERMANENT_RETRY, now=now)
        outcome.error, outcome.permanent = str(exc), True
        return outcome
    ref = connect.account_ref(account)
    cursor = dict(account.poll_state or {})
    for _page in range(max_pages):
        try:
            result = poll_with_cursor(connector, ref, cursor)
        except ConnectorError as exc:
            now = timezone.now()
            delay = PERMANENT_RETRY if exc.permanent else _backoff(account.poll_failures + 1, exc.retry_after)
            record_poll_failure(account, error=exc.message, permanent=exc.permanent, retry_at=now + delay, now=now)
            outcome.error, outcome.permanent = exc.message, exc.permanent
            return outcome
        except Exception as exc:
            logger.exception("connector %s failed polling account %s", connector.key, account.pk)
            now = timezone.now()
            message = f"unexpected {type(exc).__name__} in the connector"
            record_poll_failure(account, error=message, permanent=False,
                                retry_at=now + _backoff(account.poll_failures + 1, None), now=now)
            outcome.error = message
            return outcome
        outcome.pages += 1
        store_poll_result(account, result, next_poll_at=timezone.now() + interval_of(connector, account))
        outcome.events += len(result.events)
        outcome.rejected += len(result.rejected)
        cursor = dict(result.cursor)
        if not result.more:
            break
    return outcome


@transaction.atomic
def store_poll_result(account, result: PollResult, *, next_poll_at: dt.datetime) -> None:
    """Store one poll's events and rejected items, then its cursor, in one transaction."""
    from dandelion.assets.services import record_poll_success
    from dandelion.inbox.services import quarantine_item, store_delivery

    if result.events:
        summary = {"source": "poll", "connector": account.connector, "cursor": dict(result.cursor),
                   "items": [e.external_id for e in result.events]}
        store_delivery(account, list(result.events), body=json.dumps(summary, default=str)[:200_000],
                       source="poll")
        if any(e.attachments for e in result.events):
            from dandelion.inbox.attachments import store_event_attachments

            store_event_attachments(account, result.events)
    for item in result.rejected:
        quarantine_item(account, ref=item.ref, error=item.error, excerpt=item.excerpt, source="poll")
    record_poll_success(account, cursor=dict(result.cursor), next_poll_at=next_poll_at)

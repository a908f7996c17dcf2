"""Live connections for the accounts whose connector can push (``StreamingConnector``: IMAP IDLE, streaming APIs).

``dandelion stream`` runs :func:`listen` for each such account in a thread of its own. ``listen`` asks the registry
for the account's connector (no network is named here), opens its stream and handles each ``StreamBatch``:

- pushed events pass the shared validator again (``validation.partition_events``): those that pass are stored as one
  ``InboundDelivery`` (source ``stream``) processed by the inbox's workers like a webhook's; each one that fails, and
  each item the connector rejected, is quarantined alone as a failed delivery with its error;
- ``poll=True`` (the network only said that something changed, and once at each connection to catch up) polls the
  account at once through :func:`dandelion.inbox.polling.poll_account`, with the cursor stored on the account.

Streamed and polled items carry the same external ids, and the inbox stores an external id once per account: the
periodic poll keeps running beside the stream as a safety net, and nothing is stored twice.

A dropped connection (a transient ``ConnectorError``, or an unexpected exception in the connector) reconnects after
``BACKOFF_BASE_S`` seconds, doubling up to ``BACKOFF_CAP_S`` (back to the base once a connection has worked for a
minute), with jitter. A permanent error (credentials refused, the server cannot push) shows on the account's health
like a failed poll and the stream waits ``PERMANENT_RETRY_S`` before trying again (new credentials are read then).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections
from django.utils import timezone

from dandelion.connectors import registry
from dandelion.connectors.base import StreamBatch, StreamingConnector
from dandelion.connectors.errors import ConnectorError, UnknownConnector
from dandelion.connectors.validation import partition_events

logger = logging.getLogger(__name__)

BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
#: A connection that lasted this long resets the backoff.
HEALTHY_AFTER_S = 60.0
PERMANENT_RETRY_S = 600.0


@dataclass
class StreamStats:
    """What one account's listener did (for the command's summary and the tests)."""

    account_id: int
    connections: int = 0
    batches: int = 0
    events: int = 0
    rejected: int = 0
    polls: int = 0
    errors: int = 0
    last_error: str = ""


def streaming_connector(account):
    """The account's connector when it can stream for this account's config, else None."""
    from dandelion.inbox import connect

    try:
        connector = connect.connector_for(account)
    except UnknownConnector:
        return None
    if isinstance(connector, StreamingConnector) and connector.stream_enabled(account.connector_config or {}):
        return connector
    return None


def streamable_accounts(pks: list[int] | None = None) -> list:
    """The accounts (not archived) whose connector streams for them; ``pks`` narrows the choice."""
    from dandelion.assets.choices import AccountStatus
    from dandelion.assets.models import SocialAccount

    keys = [c.key for c in registry.all_connectors() if isinstance(c, StreamingConnector)]
    accounts = SocialAccount.objects.filter(connector__in=keys).exclude(status=AccountStatus.ARCHIVED)
    if pks:
        accounts = accounts.filter(pk__in=pks)
    return [a for a in accounts.order_by("pk") if streaming_connector(a) is not None]


def handle_batch(account, batch: StreamBatch, stats: StreamStats) -> None:
    """Store one batch's events, quarantine what was rejected, and poll when the network asked for it."""
    from django.db import transaction

    from dandelion.inbox.polling import poll_account
    from dandelion.inbox.services import quarantine_item, store_delivery

    stats.batches += 1
    good, bad = partition_events(list(batch.events), prefix="stream")
    with transaction.atomic():
        if good:
            summary = {"source": "stream", "connector": account.connector, "items": [e.external_id for e in good]}
            store_delivery(account, good, body=json.dumps(summary)[:200_000], source="stream")
        for index, error in bad:
            event = batch.events[index]
            ref = str(getattr(event, "external_id", "") or f"stream[{index}]")[:200]
            quarantine_item(account, ref=ref, error=str(error), excerpt=repr(event)[:2000], source="stream")
        for item in batch.rejected:
            quarantine_item(account, ref=item.ref, error=item.error, excerpt=item.excerpt, source="stream")
    stats.events += len(good)
    stats.rejected += len(bad) + len(batch.rejected)
    if batch.poll:
        stats.polls += 1
        outcome = poll_account(account.pk)
        if outcome.error:
            logger.warning("stream of account %s: the poll it asked for failed: %s", account.pk, outcome.error)


def _record_permanent(account, message: str) -> None:
    from dandelion.assets.services import record_poll_failure

    now = timezone.now()
    record_poll_failure(account, error=f"live connection: {message}", permanent=True,
                        retry_at=account.next_poll_at or now, now=now)


def listen(account_pk: int, *, stop: threading.Event, backoff_base_s: float = BACKOFF_BASE_S,
           backoff_cap_s: float = BACKOFF_CAP_S, permanent_retry_s: float = PERMANENT_RETRY_S,
           clock: Callable[[], float] = time.monotonic) -> StreamStats:
    """Keep the account's stream open until ``stop`` is set (see the module); returns what it did."""
    from dandelion.assets.models import SocialAccount
    from dandelion.inbox import connect

    stats = StreamStats(account_pk)
    failures = 0
    while not stop.is_set():
        close_old_connections()
        account = SocialAccount.objects.select_related("owner_unit").filter(pk=account_pk).first()
        connector = streaming_connector(account) if account is not None else None
        if connector is None:
            logger.info("stream of account %s: nothing to stream (gone, archived or not a streaming connector)",
                        account_pk)
            return stats
        stats.connections += 1
        started = clock()
        delay: float
        try:
            for batch in connector.stream(connect.account_ref(account), stop=stop):
                if batch.events or batch.rejected or batch.poll:
                    handle_batch(account, batch, stats)
                if stop.is_set():
                    break
            else:
                if not stop.is_set():  # the network ended the stream: reconnect without counting it a failure
                    failures = 0
                    stop.wait(backoff_base_s)
                    continue
            return stats
        except ConnectorError as exc:
            stats.errors += 1
            stats.last_error = exc.message
            if exc.permanent:
                logger.warning("stream of account %s: permanent error: %s", account_pk, exc.message)
                _record_permanent(account, exc.message)
                stop.wait(permanent_retry_s)
                continue
            if clock() - started >= HEALTHY_AFTER_S:
                failures = 0
            failures += 1
            delay = min(backoff_cap_s, backoff_base_s * 2 ** min(failures - 1, 16))
            if exc.retry_after:
                delay = max(delay, min(float(exc.retry_after), 3600.0))
            logger.info("stream of account %s dropped (%s): reconnecting in %.1f s", account_pk, exc.message, delay)
        except Exception as exc:  # noqa: BLE001 - a connector's bug never kills the listener
            logger.exception("stream of account %s: unexpected error in the connector", account_pk)
            stats.errors += 1
            stats.last_error = f"unexpected {type(exc).__name__}"
            failures += 1
            delay = min(backoff_cap_s, backoff_base_s * 2 ** min(failures - 1, 16))
        stop.wait(delay * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not a secret
    return stats

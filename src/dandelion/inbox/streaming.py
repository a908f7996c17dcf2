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

Reconnecting is ``connectors.streams.keep_streaming``'s: a dropped connection reconnects after 2 s doubling up to
5 min, with jitter; a permanent error (credentials refused, the server cannot push) shows on the account's health
like a failed poll, and the stream tries again 10 min later (new credentials are read then).
"""

from __future__ import annotations

import json
import logging
import threading

from django.db import close_old_connections, connection
from django.utils import timezone

from dandelion.connectors import registry
from dandelion.connectors.base import StreamBatch, StreamingConnector
from dandelion.connectors.errors import ConnectorError, UnknownConnector
from dandelion.connectors.streams import (
    BACKOFF_BASE_S,
    BACKOFF_CAP_S,
    PERMANENT_RETRY_S,
    StreamStats,
    keep_streaming,
)
from dandelion.connectors.validation import partition_events

logger = logging.getLogger(__name__)


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


def listen(account_pk: int, *, stop: threading.Event, backoff_base_s: float = BACKOFF_BASE_S,
           backoff_cap_s: float = BACKOFF_CAP_S, permanent_retry_s: float = PERMANENT_RETRY_S) -> StreamStats:
    """Keep the account's stream open until ``stop`` is set (see the module); returns what it did."""
    from dandelion.assets.models import SocialAccount
    from dandelion.assets.services import record_poll_failure
    from dandelion.inbox import connect

    stats = StreamStats(f"stream of account {account_pk}")
    current: dict[str, object] = {}

    def open_stream():
        if not connection.in_atomic_block:  # a long-lived thread: drop a connection the database closed meanwhile
            close_old_connections()
        account = SocialAccount.objects.select_related("owner_unit").filter(pk=account_pk).first()
        connector = streaming_connector(account) if account is not None else None
        if connector is None:
            return None
        current["account"] = account
        return connector.stream(connect.account_ref(account), stop=stop)

    def on_permanent(exc: ConnectorError) -> None:
        account = current["account"]
        now = timezone.now()
        record_poll_failure(account, error=f"live connection: {exc.message}", permanent=True,
                            retry_at=account.next_poll_at or now, now=now)

    return keep_streaming(open_stream, lambda batch: handle_batch(current["account"], batch, stats), stop=stop,
                          stats=stats, on_permanent=on_permanent, base_s=backoff_base_s, cap_s=backoff_cap_s,
                          permanent_retry_s=permanent_retry_s)

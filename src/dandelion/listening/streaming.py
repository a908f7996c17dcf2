"""Live network search (listening): the query's terms followed through the connectors that stream a search.

``dandelion listening stream`` pairs every active ``network_search`` query with the accounts that search for it
(:func:`~dandelion.listening.search.searching_accounts`) whose connector also streams a search
(``SearchStreamingConnector``, e.g. a Mastodon hashtag stream) and can follow at least one of the query's terms
live, and runs :func:`listen_query` for each pair. What the stream brings goes through the same path as the
periodic search: :func:`~dandelion.listening.sources.mentions_from_events` and
:func:`~dandelion.listening.services.ingest_mentions` with the same ``source_ref`` (``<network>:<post id>``), so a
post seen live and by the next search is stored once, and the full query is matched locally (NOT, ``lang:``...).
The periodic search keeps running: it covers the terms a network does not stream and the gaps between connections.

Reconnecting is ``connectors.streams.keep_streaming``'s; a permanent error is written on the query's health like a
failed search. No network is named here.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connection
from django.utils import timezone

from dandelion.connectors import registry
from dandelion.connectors.base import SearchStreamingConnector, StreamBatch
from dandelion.connectors.errors import ConnectorError, UnknownConnector
from dandelion.connectors.streams import BACKOFF_BASE_S, PERMANENT_RETRY_S, StreamStats, keep_streaming
from dandelion.core.actors import SYSTEM
from dandelion.listening.choices import MentionSource
from dandelion.listening.models import ListeningQuery
from dandelion.listening.query import QuerySyntaxError, compile_query
from dandelion.listening.search import ERROR_PREFIX, NotSearchable, search_terms, searching_accounts

logger = logging.getLogger(__name__)


def _stream_plan(query: ListeningQuery, account) -> tuple[object, list[str]] | None:
    """The account's search-streaming connector and the query's terms it follows live, or None."""
    from dandelion.inbox.connect import account_ref

    try:
        terms = search_terms(compile_query(query.text))
        connector = registry.connector_for(account_ref(account))
    except (QuerySyntaxError, NotSearchable, UnknownConnector):
        return None
    if not isinstance(connector, SearchStreamingConnector):
        return None
    live = connector.stream_search_terms(terms)
    return (connector, terms) if live else None


def streamable_pairs() -> list[tuple[int, int]]:
    """``(query pk, account pk)`` for every active network-search query and account that can follow it live."""
    pairs = []
    for query in ListeningQuery.objects.filter(is_active=True, network_search=True).select_related("unit"):
        pairs += [(query.pk, account.pk) for account in searching_accounts(query)
                  if _stream_plan(query, account) is not None]
    return pairs


def handle_batch(query: ListeningQuery, account, batch: StreamBatch, stats: StreamStats) -> int:
    """Ingest one batch's posts as the query's mentions (deduplicated with the periodic search); returns how many
    were new."""
    from dandelion.listening.services import ingest_mentions
    from dandelion.listening.sources import mentions_from_events

    for item in batch.rejected:
        logger.warning("live search of query %s via %s: item %s rejected: %s", query.pk, account.pk, item.ref,
                       item.error)
    stats.rejected += len(batch.rejected)
    events = [e for e in batch.events if not e.from_account]
    if not events:
        return 0
    items = mentions_from_events(events, unit=query.unit, source=MentionSource.SEARCH, network=account.network)
    for item, event in zip(items, events, strict=True):
        item.source_ref = f"{account.network}:{event.external_id}"
    result = ingest_mentions(items, actor=SYSTEM)
    stats.events += len(events)
    return result.created


def listen_query(query_pk: int, account_pk: int, *, stop: threading.Event, backoff_base_s: float = BACKOFF_BASE_S,
                 permanent_retry_s: float = PERMANENT_RETRY_S) -> StreamStats:
    """Follow the query live through the account until ``stop`` is set (or the query is switched off)."""
    from dandelion.assets.models import SocialAccount
    from dandelion.inbox.connect import account_ref

    stats = StreamStats(f"live search of query {query_pk} via account {account_pk}")
    current: dict[str, object] = {}

    def open_stream():
        if not connection.in_atomic_block:  # a long-lived thread: drop a connection the database closed meanwhile
            close_old_connections()
        query = ListeningQuery.objects.select_related("unit").filter(
            pk=query_pk, is_active=True, network_search=True).first()
        account = SocialAccount.objects.live().filter(pk=account_pk).first()
        plan = _stream_plan(query, account) if query is not None and account is not None else None
        if plan is None:
            return None
        connector, terms = plan
        current.update(query=query, account=account)
        return connector.stream_search(account_ref(account), terms, stop=stop)  # type: ignore[attr-defined]

    def on_permanent(exc: ConnectorError) -> None:
        account = current["account"]
        ListeningQuery.objects.filter(pk=query_pk).update(
            last_error=f"{ERROR_PREFIX} (live) via {account.handle}: {exc.message}"[:500],  # type: ignore[attr-defined]
            last_error_at=timezone.now())

    return keep_streaming(open_stream, lambda batch: handle_batch(current["query"], current["account"], batch, stats),
                          stop=stop, stats=stats, on_permanent=on_permanent, base_s=backoff_base_s,
                          permanent_retry_s=permanent_retry_s)

"""Network search as a listening source: a query's terms searched through the connectors that can search.

For every active query with ``network_search`` set, :func:`poll_network_searches` asks the connector registry which
of the organisation's accounts can search (``Capability.SEARCH``, ``SearchConnector.search``), keeps one account per
connector and network (a public search answers the same whichever account asks), and for each of them:

1. translates the query into the network's search terms with :func:`search_terms` (below: the documented subset);
2. searches each term, newest first, page by page, until it reaches the newest post seen at the previous poll (the
   cursor, kept per query × account in :class:`~dandelion.listening.models.SearchCursor`, per term); the first poll
   reads one page only (no backfill of the network's history);
3. hands what it found to :func:`~dandelion.listening.services.ingest_mentions`, which dedups on ``(source,
   source_ref)`` (a post found by two terms, two queries or two polls is stored once), matches the full query
   locally (NOT, ``lang:``, ``country:`` and the rest of the query apply there) and rolls the matches up.

A search that fails is written on the cursor and on the query's health (``last_error``) and stops nothing else:
other accounts, terms and queries go on. No network is named here: what a connector does with a term is its own
business (full text, a hashtag timeline...).

The translation (``search_terms``): the query's *anchors* are the terms one of which is in every post it matches,
so searching each of them finds every post the query can match (as far as the network's search goes):

============================  ==================================================
query                         searched
============================  ==================================================
``acme``                      ``acme``
``"acme bank"``               ``"acme bank"`` (the phrase, quoted)
``#acme``                     ``#acme``
``@acme``                     ``@acme``
``a OR b``                    ``a`` and ``b`` (two searches)
``a AND b``, ``a b``          the side with fewer searches (``a``); ``b`` is checked locally
``x AND NOT y``, ``lang:fr``  ``x``; NOT and the fields are checked locally
``acme*``, ``author:x``       not searchable alone (a network search has no prefix nor author term in common):
                              refused with a reason on the query's health
============================  ==================================================

At most :data:`MAX_TERMS` searches per query and account per poll.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from dandelion.connectors import registry
from dandelion.connectors.base import Capability
from dandelion.connectors.errors import ConnectorError
from dandelion.core.actors import SYSTEM
from dandelion.core.permissions import require_perm
from dandelion.listening.choices import MentionSource
from dandelion.listening.models import ListeningQuery, SearchCursor
from dandelion.listening.query import Node, QuerySyntaxError, compile_query

logger = logging.getLogger(__name__)

MAX_TERMS = 10
PAGE = 50
MAX_PAGES = 5
ERROR_PREFIX = "search"


class NotSearchable(ValueError):
    """The query has no term a network search can look for."""


def search_terms(node: Node) -> list[str]:
    """The terms to search for ``node`` (see the module docstring), or :class:`NotSearchable` with the reason."""
    terms = _terms(node)
    if terms is None:
        raise NotSearchable(
            "the query has no word, phrase, #hashtag or @mention a network search can look for "
            "(prefix* and author: are matched locally only)"
        )
    out = sorted(terms)
    if len(out) > MAX_TERMS:
        raise NotSearchable(f"the query needs {len(out)} searches per network, more than {MAX_TERMS}")
    return out


def _terms(node: Node) -> set[str] | None:
    k = node.kind
    if k == "word":
        return {node.value}
    if k == "phrase":
        return {f'"{node.value}"'}
    if k == "hashtag":
        return {"#" + node.value}
    if k == "mention":
        return {"@" + node.value}
    if k == "and":
        best: set[str] | None = None
        for child in node.children:
            t = _terms(child)
            if t is not None and (best is None or len(t) < len(best)):
                best = t
        return best
    if k == "or":
        out: set[str] = set()
        for child in node.children:
            t = _terms(child)
            if t is None:
                return None
            out |= t
        return out
    return None  # not, prefix, fields


@dataclass
class SearchPollResult:
    queries: int = 0
    searches: int = 0
    found: int = 0
    created: int = 0
    errors: list[str] = field(default_factory=list)


def searching_accounts(query: ListeningQuery) -> list:
    """The live accounts that can search for ``query``: those of its unit's subtree and of the units above it
    (a hub's account searches for its spokes), whose connector offers search; one per connector and network."""
    from dandelion.assets.choices import AccountStatus
    from dandelion.assets.models import SocialAccount
    from dandelion.inbox.connect import supports

    path = query.unit.path
    ancestors = [path[:i] for i in range(1, len(path) + 1) if path[:i].endswith("/") or i == len(path)]
    candidates = SocialAccount.objects.live().filter(status=AccountStatus.ACTIVE).filter(
        owner_unit__path__startswith=path
    ) | SocialAccount.objects.live().filter(status=AccountStatus.ACTIVE, owner_unit__path__in=ancestors)
    chosen: dict[tuple[str, str], object] = {}
    for account in candidates.select_related("owner_unit").order_by("owner_unit__path", "pk"):
        key = (account.connector or "", account.network)
        if key in chosen or not supports(account, Capability.SEARCH):
            continue
        chosen[key] = account
    return list(chosen.values())


def poll_network_searches(
    *, actor=SYSTEM, now: dt.datetime | None = None, page: int = PAGE, max_pages: int = MAX_PAGES
) -> SearchPollResult:
    """One poll of every network-search query (the periodic job). Safe to rerun: cursors and the mentions'
    idempotency keys make a second run store nothing twice."""
    require_perm(actor, "listening.add_mention")
    now = now or timezone.now()
    result = SearchPollResult()
    for query in ListeningQuery.objects.filter(is_active=True, network_search=True).select_related("unit"):
        result.queries += 1
        try:
            _poll_query(query, actor=actor, now=now, page=page, max_pages=max_pages, result=result)
        except Exception as exc:  # one query's failure is its own, never the others'
            logger.exception("listening: network search of query %s failed", query.pk)
            _set_health(query, f"{ERROR_PREFIX}: {exc}", now)
            result.errors.append(f"{query}: {exc}")
    return result


def _set_health(query: ListeningQuery, error: str, now: dt.datetime) -> None:
    if error:
        ListeningQuery.objects.filter(pk=query.pk).update(last_error=error[:500], last_error_at=now)
    else:  # clear only what a search wrote: a detector's error stays until the detector clears it
        ListeningQuery.objects.filter(pk=query.pk, last_error__startswith=ERROR_PREFIX).update(last_error="")


def _poll_query(query: ListeningQuery, *, actor, now, page, max_pages, result: SearchPollResult) -> None:
    try:
        terms = search_terms(compile_query(query.text))
    except (QuerySyntaxError, NotSearchable) as exc:
        _set_health(query, f"{ERROR_PREFIX}: {exc}", now)
        return
    accounts = searching_accounts(query)
    if not accounts:
        _set_health(query, f"{ERROR_PREFIX}: no account of this unit (or above it) can search a network", now)
        return
    errors = []
    for account in accounts:
        error = _poll_account(
            query, account, terms, actor=actor, now=now, page=page, max_pages=max_pages, result=result
        )
        if error:
            errors.append(error)
    _set_health(query, "; ".join(errors), now)


def _poll_account(query, account, terms, *, actor, now, page, max_pages, result) -> str:
    from dandelion.inbox.connect import account_ref
    from dandelion.listening.services import ingest_mentions
    from dandelion.listening.sources import mentions_from_events

    with transaction.atomic():
        cursor, _ = SearchCursor.objects.get_or_create(query=query, account=account)
        cursor = SearchCursor.objects.select_for_update().get(pk=cursor.pk)
        ref = account_ref(account)
        connector = registry.connector_for(ref)
        state = dict(cursor.state or {})
        found: dict[str, object] = {}
        failed: list[str] = []
        for term in terms:
            mark_text = (state.get(term) or {}).get("newest")
            mark = dt.datetime.fromisoformat(mark_text) if mark_text else None
            newest = mark
            next_cursor: str | None = None
            try:
                for _ in range(max_pages):
                    answer = connector.search(ref, term, limit=page, cursor=next_cursor)
                    result.searches += 1
                    reached = False
                    for event in answer.events:
                        if mark is not None and event.created_at < mark:
                            reached = True
                            break
                        if newest is None or event.created_at > newest:
                            newest = event.created_at
                        if not event.from_account:
                            found.setdefault(event.external_id, event)
                    next_cursor = answer.cursor
                    if reached or mark is None or not next_cursor:
                        break
            except ConnectorError as exc:
                failed.append(f"{term!r}: {exc}")
                continue  # this term's cursor stays where it was: the next poll tries again
            if newest is not None:
                state[term] = {"newest": newest.isoformat()}
        events = list(found.values())
        items = mentions_from_events(
            events, unit=query.unit, source=MentionSource.SEARCH, network=account.network
        )
        for item, event in zip(items, events, strict=True):
            item.source_ref = f"{account.network}:{event.external_id}"
        ingested = ingest_mentions(items, actor=actor) if items else None
        result.found += len(items)
        result.created += ingested.created if ingested else 0
        cursor.state = {t: state[t] for t in terms if t in state}  # terms the query no longer has are dropped
        cursor.last_polled_at = now
        cursor.found += ingested.created if ingested else 0
        error = ""
        if failed:
            error = f"{ERROR_PREFIX} via {account.handle}: " + "; ".join(failed)
            cursor.last_error, cursor.last_error_at = error[:500], now
        else:
            cursor.last_error = ""
        cursor.save()
    return error

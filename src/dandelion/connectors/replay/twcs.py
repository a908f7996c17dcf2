"""Reader for the Customer Support on Twitter dataset (twcs CSV: brand customer-care threads, 2017).

Columns: ``tweet_id, author_id, inbound, created_at ("Tue Oct 31 22:10:47 +0000 2017"), text, response_tweet_id
(comma-separated), in_response_to_tweet_id``. Records come out in ``created_at`` order (ties by tweet id):

* a customer tweet (``inbound=True``) is a ``mention`` when it starts a thread and a ``reply`` when it answers one;
* a brand tweet (``inbound=False``) is a ``reply`` with ``from_account=True``: an answer made outside Dandelion.

External ids are ``twcs-<tweet_id>`` (``in_reply_to`` likewise), so they never clash with other sources.

``account_handle`` is the brand, '@'-prefixed. For a brand tweet it is its author. For a customer tweet it is, in
order: the nearest brand up its reply chain; else the brand that answered it; else the first @mention of a brand seen
in the file; else its first non-numeric @mention (customers are anonymised to numbers); else None.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Iterator

from dandelion.connectors.base import InboundAuthor, InboundEvent
from dandelion.connectors.replay.records import ReplayError, ReplayRecord, require_file, with_delays

DATE_FORMAT = "%a %b %d %H:%M:%S %z %Y"
ID_PREFIX = "twcs-"
_MENTION_RE = re.compile(r"@(\w{1,30})")
_MAX_CHAIN = 100


def _tweet_id(value: str) -> str:
    value = value.strip()
    return value.removesuffix(".0")  # ids exported as floats by some tools


def _brand_for(row: dict[str, str], rows: dict[str, dict[str, str]], brands: set[str]) -> str | None:
    parent_id = _tweet_id(row["in_response_to_tweet_id"])
    for _ in range(_MAX_CHAIN):
        parent = rows.get(parent_id)
        if parent is None:
            break
        if parent["inbound"] == "False":
            return parent["author_id"]
        parent_id = _tweet_id(parent["in_response_to_tweet_id"])
    for child_id in filter(None, (_tweet_id(x) for x in row["response_tweet_id"].split(","))):
        child = rows.get(child_id)
        if child is not None and child["inbound"] == "False":
            return child["author_id"]
    mentions = _MENTION_RE.findall(row["text"])
    by_lower = {b.lower(): b for b in brands}
    for handle in mentions:
        if handle.lower() in by_lower:
            return by_lower[handle.lower()]
    return next((h for h in mentions if not h.isdigit()), None)


def read_twcs(path: str | os.PathLike[str]) -> Iterator[ReplayRecord]:
    """Yield the file's tweets as records in ``created_at`` order (the whole file is read first, to sort it)."""
    source = require_file(path)
    with source.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"tweet_id", "author_id", "inbound", "created_at", "text"} - set(reader.fieldnames or ())
        if missing:
            raise ReplayError(f"{source}: not a twcs file, missing columns {sorted(missing)}")
        rows: dict[str, dict[str, str]] = {}
        for row in reader:
            row = {k: (v or "") for k, v in row.items() if k is not None}
            row.setdefault("response_tweet_id", "")
            row.setdefault("in_response_to_tweet_id", "")
            rows[_tweet_id(row["tweet_id"])] = row
    brands = {r["author_id"] for r in rows.values() if r["inbound"] == "False"}

    items: list[tuple[InboundEvent, str | None]] = []
    for tweet_id, row in rows.items():
        try:
            created_at = dt.datetime.strptime(row["created_at"].strip(), DATE_FORMAT)
        except ValueError:
            raise ReplayError(f"{source}: tweet {tweet_id}: bad created_at {row['created_at']!r}") from None
        from_brand = row["inbound"] == "False"
        parent = _tweet_id(row["in_response_to_tweet_id"]) or None
        author = row["author_id"]
        event = InboundEvent(
            external_id=ID_PREFIX + tweet_id,
            kind="reply" if from_brand or parent else "mention",
            text=row["text"],
            created_at=created_at,
            author=InboundAuthor(external_id=author, name=author, handle=f"@{author}"),
            in_reply_to=ID_PREFIX + parent if parent else None,
            from_account=from_brand,
            raw=row,
        )
        brand = author if from_brand else _brand_for(row, rows, brands)
        items.append((event, f"@{brand}" if brand else None))
    items.sort(key=_order)
    return with_delays(items)


def _order(item: tuple[InboundEvent, str | None]) -> tuple[dt.datetime, int, str]:
    """Time order; ties by numeric tweet id, then by id text."""
    tweet_id = item[0].external_id.removeprefix(ID_PREFIX)
    return item[0].created_at, int(tweet_id) if tweet_id.isdigit() else 0, tweet_id

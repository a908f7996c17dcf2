"""Reader for CrisisLexT26 (labelled tweets of 26 crisis events, 2012-13), as a burst of public mentions.

Uses ``CrisisLexT26_labeled_all_events_with_snowflake_time.csv`` (``event, tweet_id, created_at_utc_from_snowflake,
text, information_source, information_type, informativeness``). HTML entities in texts (``&amp;``, ``&gt;``, some twice) are
unescaped. The dataset has no authors: each tweet gets an anonymous author ``crisislex-author-<tweet_id>`` and its
``@handle`` when it is a retweet (``RT @name:``) is kept in ``raw`` only. Records come in time order, across events,
with ``account_handle=None``; the labels travel in ``raw`` for evaluating the listening/crisis features.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import os
from collections.abc import Iterator

from dandelion.connectors.base import InboundAuthor, InboundEvent
from dandelion.connectors.replay.records import ReplayError, ReplayRecord, require_file, with_delays

ID_PREFIX = "crisislex-"
FILE_NAME = "CrisisLexT26_labeled_all_events_with_snowflake_time.csv"


def unescape(text: str) -> str:
    """HTML-unescape, repeatedly: a few texts were escaped twice upstream (``&amp;amp;``)."""
    for _ in range(3):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return text


def _parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def read_crisislex(path: str | os.PathLike[str]) -> Iterator[ReplayRecord]:
    """Yield the labelled tweets of the file as ``mention`` records in time order."""
    source = require_file(path)
    items: list[tuple[InboundEvent, str | None]] = []
    with source.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.DictReader(fh)
        missing = {"tweet_id", "created_at_utc_from_snowflake", "text"} - set(reader.fieldnames or ())
        if missing:
            raise ReplayError(f"{source}: not a CrisisLex file, missing columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            tweet_id = (row["tweet_id"] or "").strip()
            try:
                created_at = _parse_time(row["created_at_utc_from_snowflake"] or "")
            except ValueError:
                raise ReplayError(
                    f"{source}:{line}: bad created_at {row['created_at_utc_from_snowflake']!r}"
                ) from None
            event = InboundEvent(
                external_id=ID_PREFIX + tweet_id,
                kind="mention",
                text=unescape(row["text"] or ""),
                created_at=created_at,
                author=InboundAuthor(external_id=f"crisislex-author-{tweet_id}", name="Anonymous"),
                raw=row,
            )
            items.append((event, None))
    items.sort(key=lambda item: item[0].created_at)
    return with_delays(items)

"""Charts of a query, answered from the hourly rollups (never a scan of the mentions).

:func:`series` returns the volume and sentiment mix by hour or day over any period, the top terms, hashtags,
authors, languages and countries of the period, and the share of voice of the unit's competitor queries.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from dandelion.listening.models import HourlyRollup, ListeningQuery

MAX_DAYS = 366


def parse_period(start: str | None, end: str | None, *, days: int = 7) -> tuple[dt.datetime, dt.datetime]:
    """A bounded ``[start, end)`` from ISO dates/times (default: the last ``days`` days). Raises ValueError."""
    now = timezone.now()
    end_at = _parse(end) if end else now
    start_at = _parse(start) if start else end_at - dt.timedelta(days=days)
    if start_at >= end_at:
        raise ValueError("The period's start must be before its end.")
    if end_at - start_at > dt.timedelta(days=MAX_DAYS):
        raise ValueError(f"The period may not be longer than {MAX_DAYS} days.")
    return start_at, end_at


def _parse(value: str) -> dt.datetime:
    value = value.strip()
    if len(value) > 40:
        raise ValueError("Not a date.")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD or an ISO date and time).") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if not (2000 <= parsed.year <= 2100):
        raise ValueError("The date is out of range.")
    return parsed


def series(query: ListeningQuery, start: dt.datetime, end: dt.datetime, *, bucket: str = "hour",
           top: int = 10) -> dict[str, Any]:
    if bucket not in ("hour", "day"):
        raise ValueError("bucket is 'hour' or 'day'.")
    rows = HourlyRollup.objects.filter(query=query, hour__gte=start, hour__lt=end).order_by("hour").values_list(
        "hour", "count", "positive", "neutral", "negative", "reach", "terms")
    points: dict[dt.datetime, list[int]] = {}
    terms: Counter = Counter()
    total = [0, 0, 0, 0, 0]
    for hour, count, pos, neu, neg, reach, hour_terms in rows:
        key = hour if bucket == "hour" else hour.replace(hour=0)
        p = points.setdefault(key, [0, 0, 0, 0])
        p[0] += count
        p[1] += pos
        p[2] += neu
        p[3] += neg
        for i, v in enumerate((count, pos, neu, neg, reach)):
            total[i] += v
        terms.update(hour_terms or {})
    step = dt.timedelta(hours=1) if bucket == "hour" else dt.timedelta(days=1)
    cursor = start.replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        cursor = cursor.replace(hour=0)
    labels, volume, positive, neutral, negative = [], [], [], [], []
    while cursor < end and len(labels) <= MAX_DAYS * 24:
        p = points.get(cursor, [0, 0, 0, 0])
        labels.append(cursor.isoformat())
        volume.append(p[0])
        positive.append(p[1])
        neutral.append(p[2])
        negative.append(p[3])
        cursor += step

    def pick(prefix: str | None) -> list[dict[str, Any]]:
        out = []
        for key, n in terms.most_common():
            kind = key.split(":", 1)[0] + ":" if ":" in key and key.split(":", 1)[0] in ("lang", "country") else \
                key[0] if key[0] in "#@" else None
            if kind == prefix:
                out.append({"term": key.split(":", 1)[1] if prefix and prefix.endswith(":") else key, "count": n})
                if len(out) >= top:
                    break
        return out

    return {
        "query": query.pk, "start": start.isoformat(), "end": end.isoformat(), "bucket": bucket,
        "labels": labels, "volume": volume, "positive": positive, "neutral": neutral, "negative": negative,
        "total": total[0], "sentiment": {"positive": total[1], "neutral": total[2], "negative": total[3]},
        "reach": total[4], "top_terms": pick(None), "top_hashtags": pick("#"), "top_authors": pick("@"),
        "languages": pick("lang:"), "countries": pick("country:"),
        "share_of_voice": share_of_voice(query, start, end),
    }


def share_of_voice(query: ListeningQuery, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """This query against the competitor queries of its unit, over the period."""
    ids = [query.pk, *ListeningQuery.objects.filter(unit_id=query.unit_id, is_competitor=True)
           .exclude(pk=query.pk).values_list("pk", flat=True)[:10]]
    totals = dict(HourlyRollup.objects.filter(query_id__in=ids, hour__gte=start, hour__lt=end)
                  .values_list("query_id").annotate(n=Sum("count")).values_list("query_id", "n"))
    names = dict(ListeningQuery.objects.filter(pk__in=ids).values_list("pk", "name"))
    whole = sum(totals.values()) or 1
    return [{"query": pk, "name": names.get(pk, ""), "count": totals.get(pk, 0),
             "share": round(totals.get(pk, 0) / whole, 4)} for pk in ids]

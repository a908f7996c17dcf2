"""The spike's timeline for the crisis room's chart: the query's matched mentions per interval around the spike.

Read from the matches' own index (query, posted_at) over a bounded window (at most 48 hours: 6 hours before the
spike, up to the close or now), in intervals of 5, 15 or 60 minutes so the chart has at most ~200 points."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.utils import timezone

BEFORE = dt.timedelta(hours=6)
MAX_SPAN = dt.timedelta(hours=48)


def window(incident, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    now = now or timezone.now()
    anchor = incident.spike_started_at or incident.detected_at or incident.opened_at
    start = anchor - BEFORE
    end = min(incident.closed_at or now, start + MAX_SPAN)
    end = max(end, anchor + dt.timedelta(hours=1))
    return start, end


def interval_minutes(start: dt.datetime, end: dt.datetime) -> int:
    span = (end - start).total_seconds() / 60
    for step in (5, 15, 60):
        if span / step <= 200:
            return step
    return 60


def series(incident, now: dt.datetime | None = None) -> dict[str, Any]:
    """``{"labels": [ISO times], "counts": [...], "interval_minutes": n, "marks": {...}}`` (empty without a
    query)."""
    from dandelion.listening.models import MentionMatch

    start, end = window(incident, now)
    step = interval_minutes(start, end)
    first = int(start.timestamp() // (step * 60))
    last = int(end.timestamp() // (step * 60))
    counts: Counter = Counter()
    if incident.query_id:
        for posted_at in MentionMatch.objects.filter(query_id=incident.query_id, posted_at__gte=start,
                                                     posted_at__lt=end).values_list("posted_at", flat=True):
            counts[int(posted_at.timestamp() // (step * 60))] += 1
    slots = range(first, last + 1)
    return {
        "interval_minutes": step,
        "labels": [dt.datetime.fromtimestamp(s * step * 60, dt.UTC).isoformat() for s in slots],
        "counts": [counts.get(s, 0) for s in slots],
        "marks": {k: v.isoformat() for k, v in (("spike_started", incident.spike_started_at),
                                                 ("detected", incident.detected_at),
                                                 ("opened", incident.opened_at),
                                                 ("closed", incident.closed_at)) if v is not None},
    }

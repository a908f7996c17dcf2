"""Inbox metrics, portable (plain aggregates fetched once, percentiles computed in Python; no window functions,
no PostgreSQL-only functions):

* **response rate**: of the inbound messages that needed a reply (visible, ``needs_reply``), the share answered;
  ``inbound_answered`` also counts every inbound message answered, whatever the classifier said;
* **first-response time**: per conversation, ``first_response_at - first_inbound_at`` (median and p90, seconds);
* **SLA hit rate**: response targets (first / next response) hit among those completed or missed.

Broken down by ``team``, ``unit`` (the account's owner unit), ``language`` or ``account``, over ``[since, until)``,
within what ``user`` may see.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import asdict, dataclass

from django.utils import timezone

from dandelion.inbox.choices import Direction, ModerationState
from dandelion.inbox.models import Conversation, Message

GROUPS = ("team", "unit", "language", "account")

# (key lookup, label lookup) from a Message row / from a Conversation row
_MESSAGE_KEYS = {
    "team": ("conversation__team_id", "conversation__team__name"),
    "unit": ("conversation__account__owner_unit_id", "conversation__account__owner_unit__name"),
    "language": ("language", "language"),
    "account": ("conversation__account_id", "conversation__account__handle"),
}
_CONVERSATION_KEYS = {
    "team": ("team_id", "team__name"),
    "unit": ("account__owner_unit_id", "account__owner_unit__name"),
    "language": ("language", "language"),
    "account": ("account_id", "account__handle"),
}


@dataclass
class MetricsRow:
    key: object
    label: str
    inbound: int = 0
    needing_reply: int = 0
    answered: int = 0
    inbound_answered: int = 0
    response_rate: float | None = None
    conversations_answered: int = 0
    first_response_median_s: float | None = None
    first_response_p90_s: float | None = None
    sla_hit: int = 0
    sla_missed: int = 0
    sla_hit_rate: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), ``q`` in [0, 1]."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _bounds(since, until) -> tuple[dt.datetime | None, dt.datetime | None]:
    def aware(value, end=False):
        if value is None or value == "":
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else dt.date.fromisoformat(value)
        if isinstance(value, dt.datetime):
            return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)
        day = dt.datetime.combine(value, dt.time.min, tzinfo=dt.UTC)
        return day + dt.timedelta(days=1) if end else day

    return aware(since), aware(until, end=True)


def inbox_metrics(*, user=None, since=None, until=None, group_by: str = "team") -> dict:
    """Figures in total and per group. ``since``/``until``: dates (``until`` inclusive) or datetimes (exclusive)."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    start, end = _bounds(since, until)
    conversations = Conversation.objects.restrict(user, "view") if user is not None else Conversation.objects.all()
    messages = Message.objects.restrict(user, "view") if user is not None else Message.objects.all()
    messages = messages.filter(direction=Direction.INBOUND)
    if start:
        messages = messages.filter(sent_at__gte=start)
    if end:
        messages = messages.filter(sent_at__lt=end)
    rows: dict[object, MetricsRow] = {}
    total = MetricsRow(key=None, label="All")

    def row(key, label) -> MetricsRow:
        if key not in rows:
            rows[key] = MetricsRow(key=key, label=str(label or ("—" if key in (None, "") else key)))
        return rows[key]

    key_field, label_field = _MESSAGE_KEYS[group_by]
    for key, label, needs_reply, replied, state in messages.values_list(
        key_field, label_field, "needs_reply", "replied", "moderation_state"
    ).iterator(chunk_size=2000):
        for r in (row(key, label), total):
            r.inbound += 1
            if replied:
                r.inbound_answered += 1
            if needs_reply and state == ModerationState.VISIBLE:
                r.needing_reply += 1
                if replied:
                    r.answered += 1

    ckey, clabel = _CONVERSATION_KEYS[group_by]
    convs = conversations.filter(first_inbound_at__isnull=False, first_response_at__isnull=False)
    if start:
        convs = convs.filter(first_inbound_at__gte=start)
    if end:
        convs = convs.filter(first_inbound_at__lt=end)
    frt: dict[object, list[float]] = defaultdict(list)
    for key, label, first_in, first_out in convs.values_list(ckey, clabel, "first_inbound_at", "first_response_at"
                                                            ).iterator(chunk_size=2000):
        seconds = max(0.0, (first_out - first_in).total_seconds())
        row(key, label).conversations_answered += 1
        total.conversations_answered += 1
        frt[key].append(seconds)
        frt["__all__"].append(seconds)

    from dandelion.routing.choices import SlaMetric, SlaStatus
    from dandelion.routing.models import AppliedSla

    slas = AppliedSla.objects.filter(
        conversation__in=conversations, metric__in=[SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE],
        status__in=[SlaStatus.HIT, SlaStatus.MISSED],
    )
    if start:
        slas = slas.filter(started_at__gte=start)
    if end:
        slas = slas.filter(started_at__lt=end)
    for key, label, status in slas.values_list(f"conversation__{ckey}", f"conversation__{clabel}", "status"):
        for r in (row(key, label), total):
            if status == SlaStatus.HIT:
                r.sla_hit += 1
            else:
                r.sla_missed += 1

    for key, r in list(rows.items()) + [("__all__", total)]:
        r.response_rate = r.answered / r.needing_reply if r.needing_reply else None
        r.first_response_median_s = percentile(frt.get(key, []), 0.5)
        r.first_response_p90_s = percentile(frt.get(key, []), 0.9)
        done = r.sla_hit + r.sla_missed
        r.sla_hit_rate = r.sla_hit / done if done else None
    ordered = sorted(rows.values(), key=lambda r: (-r.inbound, r.label))
    return {
        "since": start.isoformat() if start else None,
        "until": end.isoformat() if end else None,
        "group_by": group_by,
        "totals": total.as_dict(),
        "rows": [r.as_dict() for r in ordered],
    }


# ---- the feed of the analytics rollups (analytics sits above the inbox and reads it only through these) ----

ROLLUP_INBOUND_FIELDS = ("conversation__account_id", "conversation__team_id", "language", "sent_at", "needs_reply",
                         "moderation_state", "replied", "spam", "abuse", "sentiment")
ROLLUP_CONVERSATION_FIELDS = ("account_id", "team_id", "language", "first_inbound_at", "first_response_at",
                              "resolved_at")


def inbound_for_rollup(start: dt.datetime, end: dt.datetime):
    """Every inbound message sent in ``[start, end)``, as tuples of ``ROLLUP_INBOUND_FIELDS`` (``moderation_state``
    is True when visible). Unrestricted: the rollups are computed for the whole organisation and restricted when
    read."""
    return (Message.objects.filter(direction=Direction.INBOUND, sent_at__gte=start, sent_at__lt=end)
            .order_by().values_list(*ROLLUP_INBOUND_FIELDS))


def conversations_for_rollup(start: dt.datetime, end: dt.datetime):
    """Every conversation whose first inbound message is in ``[start, end)``, as tuples of
    ``ROLLUP_CONVERSATION_FIELDS``."""
    return (Conversation.objects.filter(first_inbound_at__gte=start, first_inbound_at__lt=end)
            .order_by().values_list(*ROLLUP_CONVERSATION_FIELDS))


"""Posting slots: a unit's weekly wall-clock times, and the next free one (the queue).

Pure: ``clean_slots`` validates the stored form, ``next_free_slot`` walks the slots day by day in the unit's zone.
A slot whose wall-clock time does not exist that day (the clocks go forward through it: 02:30 on the last Sunday
of March in Europe/Paris) is skipped that day; a slot in the repeated hour (autumn) is its first occurrence."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from zoneinfo import ZoneInfo

TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_SLOTS = 100
HORIZON_DAYS = 8 * 7  # the queue looks this far ahead for a free slot


def clean_slots(value) -> list[dict]:
    """``[{"weekday": 0..6, "time": "HH:MM"}]`` sorted, without repeats; ``ValueError`` naming what is wrong."""
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise ValueError("Slots are a list of {\"weekday\": 0-6, \"time\": \"HH:MM\"}.")  # noqa: TRY004
    if len(value) > MAX_SLOTS:
        raise ValueError(f"At most {MAX_SLOTS} slots a week.")
    out = set()
    for item in value:
        if not isinstance(item, dict):
            raise ValueError("Each slot is {\"weekday\": 0-6, \"time\": \"HH:MM\"}.")  # noqa: TRY004
        day, time = item.get("weekday"), item.get("time")
        if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
            raise ValueError("A slot's weekday is 0 (Monday) to 6 (Sunday).")
        if not isinstance(time, str) or not TIME_RE.match(time):
            raise ValueError(f"A slot's time is HH:MM (got {str(time)[:10]!r}).")
        out.add((day, time))
    return [{"weekday": d, "time": t} for d, t in sorted(out)]


def parse_slots_text(text: str) -> list[dict]:
    """The settings form's text, one slot a line: ``mon 09:00`` (English day abbreviations or 0-6)."""
    from django.utils.translation import gettext as _

    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    slots = []
    for raw in (text or "").splitlines():
        line = raw.strip().lower()
        if not line:
            continue
        parts = line.split()
        day = -1
        if len(parts) == 2 and parts[0][:3] in names:
            day = names.index(parts[0][:3])
        elif len(parts) == 2 and parts[0].isdigit() and int(parts[0]) <= 6:
            day = int(parts[0])
        if day < 0 or not TIME_RE.match(parts[1]):
            raise ValueError(_("“%(line)s”: write a day (mon to sun) and a time (HH:MM), e.g. “mon 09:00”.")
                             % {"line": raw.strip()[:30]})
        slots.append({"weekday": day, "time": parts[1]})
    return clean_slots(slots)


def slots_text(slots: Sequence[dict]) -> str:
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return "\n".join(f"{names[s['weekday']]} {s['time']}" for s in slots)


def occurrences(slots: Sequence[dict], tz_name: str, after: dt.datetime, *, days: int = HORIZON_DAYS):
    """Each slot's instants (aware, UTC) strictly after ``after``, in order, for ``days`` days of the zone's
    calendar; wall-clock times the clocks skip are left out."""
    zone = ZoneInfo(tz_name or "UTC")
    start_day = after.astimezone(zone).date()
    by_day: dict[int, list[tuple[int, int]]] = {}
    for s in slots:
        h, m = map(int, s["time"].split(":"))
        by_day.setdefault(s["weekday"], []).append((h, m))
    for offset in range(days + 1):
        day = start_day + dt.timedelta(days=offset)
        for h, m in sorted(by_day.get(day.weekday(), ())):
            local = dt.datetime(day.year, day.month, day.day, h, m, tzinfo=zone, fold=0)
            instant = local.astimezone(dt.UTC)
            if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
                continue  # in the DST gap: that slot does not exist today
            if instant > after:
                yield instant


def next_free_slot(slots: Sequence[dict], tz_name: str, after: dt.datetime, taken: Collection[dt.datetime], *,
                   not_before: dt.datetime | None = None, not_after: dt.datetime | None = None,
                   days: int = HORIZON_DAYS) -> dt.datetime | None:
    """The first slot instant after ``after`` (and within ``not_before``..``not_after``) not in ``taken``."""
    taken_set = {t.astimezone(dt.UTC).replace(second=0, microsecond=0) for t in taken}
    for instant in occurrences(slots, tz_name, after, days=days):
        if not_before is not None and instant < not_before:
            continue
        if not_after is not None and instant > not_after:
            return None
        if instant not in taken_set:
            return instant
    return None

"""Human durations for SLA targets: "1d 4h", "2h 30m", "45m" (and back), so that nobody reads "172800 s"."""

from __future__ import annotations

import itertools
import re

from django.utils.translation import gettext as _

UNITS = (("d", 86400), ("h", 3600), ("m", 60))
_PART = re.compile(r"(\d{1,6})\s*([dhm])", re.IGNORECASE)
MAX_SECONDS = 366 * 86400  # an SLA target of more than a year is a typo


def format_duration(seconds: int | None) -> str:
    """``172800`` → ``"2d"``, ``5400`` → ``"1h 30m"``; None or 0 → ``""``. Seconds below a minute are dropped."""
    if not seconds:
        return ""
    parts = []
    rest = int(seconds)
    for label, size in UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{label}")
    return " ".join(parts) or "0m"


def parse_duration(text: str) -> int | None:
    """``"1d 4h"``, ``"2h30m"``, ``"45 m"`` → seconds; blank → None. Raises ``ValueError`` with a message the form
    shows when the text is not a duration or is out of range."""
    text = (text or "").strip().lower()
    if not text:
        return None
    if not re.fullmatch(r"(\s*\d{1,6}\s*[dhm]\s*)+", text):
        raise ValueError(_("Write a duration like 45m, 2h 30m or 1d 4h."))
    seen: set[str] = set()
    total = 0
    for number, unit in _PART.findall(text):
        if unit in seen:
            raise ValueError(_("“%(unit)s” appears twice: write a duration like 2h 30m.") % {"unit": unit})
        seen.add(unit)
        total += int(number) * dict(UNITS)[unit]
    if total <= 0:
        raise ValueError(_("A target must be longer than zero."))
    if total > MAX_SECONDS:
        raise ValueError(_("A target longer than a year is not a target."))
    return total


# --- business hours typed as people write them: "09:00-12:00, 14:00-18:00" --------------------------------------
_RANGE = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*[-–—]\s*(\d{1,2})(?::(\d{2}))?$")
RANGES_PER_DAY_MAX = 6


def _minutes(hours: str, minutes: str | None) -> int:
    h, m = int(hours), int(minutes or 0)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(_("%(time)s is not a time of day.") % {"time": f"{hours}:{minutes or '00'}"})
    return h * 60 + m


def parse_day_ranges(text: str) -> list[list[str]]:
    """``"9-12, 14:00-18:30"`` → ``[["09:00", "12:00"], ["14:00", "18:30"]]`` (sorted); blank → ``[]`` (closed).
    Raises ``ValueError`` with the form's message when a range is malformed, ends before it starts or overlaps
    another."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if len(parts) > RANGES_PER_DAY_MAX:
        raise ValueError(_("At most %(count)d ranges a day.") % {"count": RANGES_PER_DAY_MAX})
    ranges = []
    for part in parts:
        match = _RANGE.match(part)
        if not match:
            raise ValueError(_("Write opening hours like 09:00-12:00, 14:00-18:00 (“%(part)s” is not).")
                             % {"part": part[:40]})
        start, end = _minutes(match[1], match[2]), _minutes(match[3], match[4])
        if end <= start:
            raise ValueError(_("%(range)s: the end must be after the start.") % {"range": part[:40]})
        ranges.append((start, end))
    ranges.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(ranges):
        if s2 < e1:
            raise ValueError(_("Opening hours overlap: %(first)s and %(second)s.") % {
                "first": _hhmm_range((_s1, e1)), "second": _hhmm_range((s2, _e2))})
    return [[_hhmm(s), _hhmm(e)] for s, e in ranges]


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _hhmm_range(pair: tuple[int, int]) -> str:
    return f"{_hhmm(pair[0])}-{_hhmm(pair[1])}"


def format_day_ranges(ranges) -> str:
    """The inverse of :func:`parse_day_ranges`."""
    return ", ".join(f"{a}-{b}" for a, b in ranges or [])

"""Human durations for SLA targets: "1d 4h", "2h 30m", "45m" (and back), so that nobody reads "172800 s"."""

from __future__ import annotations

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
